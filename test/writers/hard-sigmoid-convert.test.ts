/**
 * Converting between Keras generations keeps what `hard_sigmoid` computed where the file was saved
 * (src/runtime/versioned-activations.ts): Keras 2's becomes the Python function `hard_sigmoid_keras2` in
 * Keras 3's configs (`.keras`, Keras 3's legacy `.h5`), as the golden model.keras holds it; Keras 3's becomes
 * `hard_sigmoid_keras3` in a tf.keras 2 `.h5`; each is the plain name again in its own generation. Checked by
 * the numbers after each conversion: the golden outputs (kulc's LSTM wrapper, from model.h5 and
 * model.keras), the real Keras 2.1.6 file's own outputs (wild 24, no golden), and the formulas (the
 * built models of helpers/hard-sigmoid.ts); and a Keras 3 model's tfjs folder through plain tfjs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import type { JsonObject, JsonValue, KerasModel } from '../../src/model/types.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { compareArrays } from '../../src/parity/compare.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import type { InputArray } from '../../src/runtime/build.js';
import { runModel } from '../../src/runtime/run.js';
import { writeHdf5 } from '../../src/writers/hdf5.js';
import { writeKerasArchive } from '../../src/writers/keras-archive.js';
import { writeTfjs } from '../../src/writers/tfjs.js';
import { HARD_SIGMOID, INPUT, keras2Model, keras3Model, maxAbsDiff, reference } from '../helpers/hard-sigmoid.js';
import { GOLDEN, wildFile } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { writeTemp } from './helpers.js';
import { loadTfjsFiles } from './tfjs-helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');

beforeAll(async () => {
  await useBackend('cpu');
});

/** What Keras 3 writes for a plain Python function `hard_sigmoid_keras2` (the golden model.keras holds it). */
const KERAS2_FUNCTION = { module: 'builtins', class_name: 'function', config: 'hard_sigmoid_keras2', registered_name: 'function' };

type Target = '.keras' | 'Keras 3 .h5' | 'tf.keras 2 .h5';

let written = 0;
async function convert(model: KerasModel, to: Target): Promise<KerasModel> {
  const bytes = to === '.keras' ? await writeKerasArchive(model) : await writeHdf5(model, { generation: to === 'Keras 3 .h5' ? 'keras3' : 'keras2' });
  return readModel(writeTemp(tmp, `m${++written}${to === '.keras' ? '.keras' : '.h5'}`, bytes));
}

/** Every activation-keyed value of a config, in order. */
function activations(v: JsonValue | undefined, out: JsonValue[] = []): JsonValue[] {
  if (Array.isArray(v)) v.forEach((x) => activations(x, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'activation' || k.endsWith('_activation')) out.push(x);
      else activations(x, out);
    }
  }
  return out;
}

async function outputs(model: KerasModel, inputs: InputArray[]): Promise<Float32Array[]> {
  return (await runModel(model, inputs, { backend: 'cpu' })).map((o) => o.data as Float32Array);
}

describe('built models: each generation\'s hard_sigmoid through every conversion', () => {
  const k2 = reference(HARD_SIGMOID.keras2);
  const k3 = reference(HARD_SIGMOID.keras3);

  for (const to of ['.keras', 'Keras 3 .h5'] as const) {
    it(`tf.keras 2 → ${to}: the function hard_sigmoid_keras2, read back as clip(0.2x + 0.5, 0, 1)`, async () => {
      const back = await convert(keras2Model(), to);
      expect(back.source.kerasVersion).toMatch(/^3\./);
      expect(activations(back.config)).toEqual([KERAS2_FUNCTION, KERAS2_FUNCTION, KERAS2_FUNCTION]);
      const [out] = await outputs(back, [INPUT]);
      expect(maxAbsDiff(out, k2)).toBeLessThan(1e-5);
      // and back to tf.keras 2: its own plain name
      const again = await convert(back, 'tf.keras 2 .h5');
      expect(activations(again.config)).toEqual(['hard_sigmoid', 'hard_sigmoid', 'hard_sigmoid']);
      expect(maxAbsDiff((await outputs(again, [INPUT]))[0], k2)).toBeLessThan(1e-5);
    });
  }

  it('Keras 3 → tf.keras 2 .h5: hard_sigmoid_keras3, read back as relu6(x + 3) / 6; back to .keras the plain name', async () => {
    const back = await convert(keras3Model(), 'tf.keras 2 .h5');
    expect(back.source.kerasVersion).toMatch(/^2\./);
    expect(activations(back.config)).toEqual(['hard_sigmoid_keras3', 'hard_sigmoid_keras3', 'hard_sigmoid_keras3']);
    expect(maxAbsDiff((await outputs(back, [INPUT]))[0], k3)).toBeLessThan(1e-5);
    const again = await convert(back, '.keras');
    expect(activations(again.config)).toEqual(['hard_sigmoid', 'hard_sigmoid', 'hard_sigmoid']);
    expect(maxAbsDiff((await outputs(again, [INPUT]))[0], k3)).toBeLessThan(1e-5);
  });

  it('Keras 3 → tfjs folder: model.json names hard_sigmoid_keras3, and plain tf.loadLayersModel computes relu6(x + 3) / 6', async () => {
    const files = await writeTfjs(keras3Model());
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as JsonObject;
    const topology = json.modelTopology as JsonObject;
    expect(activations(topology.model_config)).toEqual(['hard_sigmoid_keras3', 'hard_sigmoid_keras3', 'hard_sigmoid_keras3']);
    const loaded = await loadTfjsFiles(files);
    try {
      const y = tf.tidy(() => (loaded.predict(tf.tensor(INPUT.data as Float32Array, INPUT.shape)) as tf.Tensor).dataSync());
      expect(maxAbsDiff(y, k3)).toBeLessThan(1e-5);
    } finally {
      loaded.dispose();
    }
  });
});

describe('kulc_attention_rnn_wrapper_lstm (Keras 2.2.4 LSTM, recurrent hard_sigmoid) after each conversion', () => {
  const dir = join(GOLDEN, 'kulc_attention_rnn_wrapper_lstm');
  const kase = readGoldenCase(dir);
  const inputs = kase.inputs.map((t) => readNpyFileSync(t.path)) as InputArray[];

  async function expectGoldens(model: KerasModel, what: string): Promise<void> {
    const outs = await runModel(model, inputs, { backend: 'cpu' });
    kase.outputs.forEach((t, i) => {
      const r = compareArrays(outs[i], readNpyFileSync(t.path), kase.tolerance, t.name ?? t.file);
      expect(r.pass, `${what}, output ${i}: max abs ${r.maxAbsError}`).toBe(true);
    });
  }

  // The golden archive's own value, without the id Keras numbers shared objects by.
  const golden = unzipSync(readFileSync(join(dir, 'model.keras')));
  const goldenValue = activations(JSON.parse(new TextDecoder().decode(golden['config.json'])) as JsonObject).find((a) => typeof a === 'object') as JsonObject;
  const { shared_object_id: _id, ...goldenFunction } = goldenValue;
  void _id;

  for (const to of ['.keras', 'Keras 3 .h5'] as const) {
    it(`model.h5 → ${to}: the recurrent activation is written as the golden model.keras writes it, and gives the goldens`, async () => {
      const back = await convert(await readModel(join(dir, 'model.h5')), to);
      expect(goldenFunction).toEqual(KERAS2_FUNCTION);
      expect(activations(back.config)).toContainEqual(goldenFunction);
      expect(activations(back.config)).not.toContain('hard_sigmoid');
      await expectGoldens(back, to);
    });
  }

  it('model.keras → tf.keras 2 .h5: the plain hard_sigmoid of a Keras 2 file, and the goldens', async () => {
    const back = await convert(await readModel(join(dir, 'model.keras')), 'tf.keras 2 .h5');
    expect(activations(back.config)).toContain('hard_sigmoid');
    await expectGoldens(back, 'tf.keras 2 .h5');
  });
});

describeWild('wild 24 (Keras 2.1.6 Sequential of LSTMs with the default hard_sigmoid) converted to Keras 3', () => {
  // (2, 5, 1): the file's input is (batch, steps, 1) with any number of steps.
  const input: InputArray = { dtype: 'float32', shape: [2, 5, 1], data: Float32Array.from({ length: 10 }, (_, i) => 3 * Math.sin(i + 1)) };

  for (const to of ['.keras', 'Keras 3 .h5'] as const) {
    it(`→ ${to} computes what the original computes`, async () => {
      const original = await readModel(wildFile('24_thesis_k216_legacy_sequential', 'lstm_model.h5'));
      const [want] = await outputs(original, [input]);
      // the meaning matters here: read as Keras 3's formula the model is far off
      const [misread] = await outputs({ ...original, source: { ...original.source, kerasVersion: '3.16.0' } }, [input]);
      expect(maxAbsDiff(misread, want)).toBeGreaterThan(0.05);
      const back = await convert(original, to);
      expect(activations(back.config).filter((a) => typeof a === 'object')).toEqual([KERAS2_FUNCTION, KERAS2_FUNCTION]);
      const [got] = await outputs(back, [input]);
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-5);
    });
  }
});
