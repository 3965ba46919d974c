/**
 * `hard_sigmoid` means what the Keras version that saved the file meant: clip(0.2x + 0.5, 0, 1) up to
 * Keras 2 (and in tfjs's own files), relu6(x + 3) / 6 in Keras 3. The normalizer writes the Keras 2 meaning
 * into each layer's config, so converted tfjs models carry it; and an explicit `mask=None` of a Keras 2
 * call means no mask, as in Keras 3 files.
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
import { input, keras224Model, layer } from '../layers/kulc-helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const dense = (kerasVersion: string) =>
  keras224Model(
    [input('input_1', [3]), layer('dense_1', 'Dense', { units: 3, activation: 'hard_sigmoid', use_bias: false, kernel_initializer: 'glorot_uniform' }, ['input_1'])],
    [['dense_1', 0]],
    { dense_1: [['kernel', [3, 3], Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1)]] },
    kerasVersion,
  );

function activationOf(config: JsonObject, name: string): unknown {
  const l = ((config.config as JsonObject).layers as JsonObject[]).find((x) => x.name === name)!;
  return (l.config as JsonObject).activation;
}

describe('hard_sigmoid by the saving Keras version', () => {
  it('Keras 1/2 and tfjs-saved files get hard_sigmoid_keras2; Keras 3 and unknown versions keep hard_sigmoid', () => {
    for (const [version, expected] of [
      ['2.2.4', 'hard_sigmoid_keras2'],
      ['2.13.1', 'hard_sigmoid_keras2'],
      ['1.2.2', 'hard_sigmoid_keras2'],
      ['tfjs-layers 4.22.0', 'hard_sigmoid_keras2'],
      ['3.16.0', 'hard_sigmoid'],
      [undefined, 'hard_sigmoid'],
    ] as const) {
      const m = dense('2.2.4');
      const out = normalizeConfigDetailed(m.config!, { kerasVersion: version }).config;
      expect(activationOf(out, 'dense_1'), String(version)).toBe(expected);
    }
  });

  it("tfjs's own layers (Dense here) compute Keras 2's formula for a Keras 2 file", async () => {
    const x = Float32Array.of(-3, 1, 2);
    const [out] = await runModel(dense('2.2.4'), [{ shape: [1, 3], data: x, dtype: 'float32' }], { backend: 'cpu' });
    expect(Array.from(out.data)).toEqual(Array.from(x, (v) => Math.fround(Math.min(1, Math.max(0, 0.2 * v + 0.5)))));
  });

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
