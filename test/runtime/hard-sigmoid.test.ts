/**
 * `hard_sigmoid` means what the Keras version that saved the file meant: clip(0.2x + 0.5, 0, 1) up to
 * Keras 2 (and in tfjs's own files), relu6(x + 3) / 6 in Keras 3. The normalizer writes the meaning into
 * each layer's config (`hard_sigmoid_keras2` / `hard_sigmoid_keras3`), so that tfjs's built-in layers and
 * ours compute the same and converted tfjs models carry it; and an explicit `mask=None` of a Keras 2 call
 * means no mask, as in Keras 3 files.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import type { JsonObject } from '../../src/model/types.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { compareArrays } from '../../src/parity/compare.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { normalizeConfigDetailed } from '../../src/runtime/normalize.js';
import { runModel } from '../../src/runtime/run.js';
import { GOLDEN } from '../helpers/paths.js';
import { HARD_SIGMOID, INPUT, keras2Model, keras3Model, maxAbsDiff, reference } from '../helpers/hard-sigmoid.js';
import { input, keras224Model, layer } from '../layers/kulc-helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const dense = (kerasVersion: string, activation = 'hard_sigmoid') =>
  keras224Model(
    [input('input_1', [3]), layer('dense_1', 'Dense', { units: 3, activation, use_bias: false, kernel_initializer: 'glorot_uniform' }, ['input_1'])],
    [['dense_1', 0]],
    { dense_1: [['kernel', [3, 3], Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1)]] },
    kerasVersion,
  );

function activationOf(config: JsonObject, name: string): unknown {
  const l = ((config.config as JsonObject).layers as JsonObject[]).find((x) => (x.name ?? (x.config as JsonObject).name) === name)!;
  return (l.config as JsonObject).activation;
}

describe('hard_sigmoid by the saving Keras version', () => {
  it('every file gets the explicit name: Keras 1/2 and tfjs-saved files hard_sigmoid_keras2, Keras 3 hard_sigmoid_keras3, no version the dialect\'s', () => {
    for (const [version, expected] of [
      ['2.2.4', 'hard_sigmoid_keras2'],
      ['2.13.1', 'hard_sigmoid_keras2'],
      ['1.2.2', 'hard_sigmoid_keras2'],
      ['tfjs-layers 4.22.0', 'hard_sigmoid_keras2'],
      ['3.16.0', 'hard_sigmoid_keras3'],
      // Keras 1.0 recorded no version; its configs are in the tf.keras 2 dialect.
      [undefined, 'hard_sigmoid_keras2'],
    ] as const) {
      const m = dense('2.2.4');
      const out = normalizeConfigDetailed(m.config!, { kerasVersion: version }).config;
      expect(activationOf(out, 'dense_1'), String(version)).toBe(expected);
    }
    const k3 = normalizeConfigDetailed(keras3Model().config!, {}).config;
    expect(activationOf(k3, 'dense'), 'a Keras 3 config without a version').toBe('hard_sigmoid_keras3');
  });

  it('explicit names keep their meaning whatever the version; other activations are left alone', () => {
    for (const version of ['2.2.4', '3.16.0']) {
      for (const name of ['hard_sigmoid_keras2', 'hard_sigmoid_keras3']) {
        expect(activationOf(normalizeConfigDetailed(dense('2.2.4', name).config!, { kerasVersion: version }).config, 'dense_1')).toBe(name);
      }
      expect(activationOf(normalizeConfigDetailed(dense('2.2.4', 'sigmoid').config!, { kerasVersion: version }).config, 'dense_1')).toBe('sigmoid');
    }
  });

  for (const [label, model, generation] of [
    ['tf.keras 2.15', keras2Model(), 'keras2'],
    ['tfjs-saved', keras2Model('hard_sigmoid', 'tfjs-layers 4.22.0'), 'keras2'],
    ['Keras 3.16', keras3Model(), 'keras3'],
    // how a Keras 2 model keeps its numbers in Keras 3: the Python function hard_sigmoid_keras2
    ['Keras 3.16 with the function hard_sigmoid_keras2', keras3Model({ module: 'builtins', class_name: 'function', config: 'hard_sigmoid_keras2', registered_name: 'function' }), 'keras2'],
    ['tf.keras 2.15 naming hard_sigmoid_keras3', keras2Model('hard_sigmoid_keras3'), 'keras3'],
  ] as const) {
    it(`${label}: Activation and Dense (tfjs's layers) and SimpleRNN (ours) compute ${generation === 'keras2' ? 'clip(0.2x + 0.5, 0, 1)' : 'relu6(x + 3) / 6'}`, async () => {
      const [out] = await runModel(model, [INPUT], { backend: 'cpu' });
      expect(out.shape).toEqual([2, 3, 2]);
      expect(maxAbsDiff(out.data, reference(HARD_SIGMOID[generation]))).toBeLessThan(1e-5);
      // the other formula is far off: the model tells them apart
      expect(maxAbsDiff(out.data, reference(HARD_SIGMOID[generation === 'keras2' ? 'keras3' : 'keras2']))).toBeGreaterThan(0.05);
    });
  }

  it('the kulc LSTM golden needs the Keras 2 meaning: read as a Keras 3 file it is more than 0.05 off', async () => {
    const dir = join(GOLDEN, 'kulc_attention_rnn_wrapper_lstm');
    const kase = readGoldenCase(dir);
    const inputs = kase.inputs.map((t) => readNpyFileSync(t.path)) as never;
    const m = await readModel(join(dir, 'model.h5'));
    for (const [version, pass] of [['2.2.4', true], ['3.16.0', false]] as const) {
      const outs = await runModel({ ...m, source: { ...m.source, kerasVersion: version } }, inputs, { backend: 'cpu' });
      const r = compareArrays(outs[0], readNpyFileSync(kase.outputs[0].path), kase.tolerance, 'sequence');
      expect(r.pass, version).toBe(pass);
      if (!pass) expect(r.maxAbsError).toBeGreaterThan(0.05);
    }
  });
});

describe('an explicit mask=None in a Keras 2 call', () => {
  it('runs the call without a mask, as kulc\'s MultiHeadAttention calls its ScaledDotProductAttention', async () => {
    const m = await readModel(join(GOLDEN, 'kulc_multi_head', 'model.h5'));
    const r = normalizeConfigDetailed(m.config!, { weights: m.weights, kerasVersion: m.source.kerasVersion });
    expect(r.callsWithoutMask).toEqual(['scaled_dot_product_attention_1']);
  });
});
