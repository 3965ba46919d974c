/**
 * Models with op calls through every conversion: a tf.keras 2 file to `.h5` keeps its TFOpLambda layers
 * verbatim, to `.keras` (and Keras 3 `.h5`) they become Keras 3 operations; a Keras 3 file to a tf.keras 2
 * `.h5` turns its operations into TFOpLambda layers. Each result reproduces the golden outputs; real files
 * with TFOpLambda layers compute the same after each conversion.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/model/types.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { verifyModelFile } from '../../src/parity/verify.js';
import { readModel } from '../../src/readers/index.js';
import { runModel } from '../../src/runtime/run.js';
import { type ConvertOptions, type ConvertTarget, convertModel } from '../../src/writers/index.js';
import { GOLDEN, requireWild } from '../helpers/paths.js';
import { itWild } from '../helpers/wild.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');

const CASES = ['ops_positional_encoding', 'ops_reduce_concat', 'ops_reshape_transpose_matmul', 'ops_slice_last_step'];

function layers(config: JsonObject | null): JsonObject[] {
  return ((config?.config as JsonObject).layers as JsonObject[]) ?? [];
}

async function convertAndVerify(name: string, source: string, to: ConvertTarget, out: string, opts: ConvertOptions = {}): Promise<JsonObject | null> {
  const dir = join(GOLDEN, name);
  const kase = readGoldenCase(dir);
  const target = join(tmp, out);
  await convertModel(await readModel(join(dir, source)), to, target, opts);
  const r = await verifyModelFile(target, kase.inputs.map((t) => t.path), kase.outputs.map((t) => t.path), { backend: 'cpu' });
  const f = r.files[0];
  expect(f.error, f.error?.message).toBeUndefined();
  expect(r.pass, f.outputs.map((o) => `${o.name} max abs ${o.maxAbsError}`).join('; ')).toBe(true);
  return (await readModel(target)).config;
}

describe('op calls survive conversion', () => {
  for (const name of CASES) {
    it(`${name}: tf.keras 2 → .h5 keeps the TFOpLambda layers verbatim`, async () => {
      const original = await readModel(join(GOLDEN, name, 'model.tfkeras2.h5'));
      const config = await convertAndVerify(name, 'model.tfkeras2.h5', 'h5', `${name}.k2.h5`);
      const ops = (c: JsonObject | null) => layers(c).filter((l) => l.class_name === 'TFOpLambda' || l.class_name === 'SlicingOpLambda');
      expect(ops(original.config).length).toBeGreaterThan(0);
      expect(ops(config)).toEqual(ops(original.config));
    });

    it(`${name}: tf.keras 2 → .keras writes Keras 3 operations`, async () => {
      const config = await convertAndVerify(name, 'model.tfkeras2.h5', 'keras', `${name}.k3.keras`);
      const ops = layers(config).filter((l) => typeof l.module === 'string' && l.module.startsWith('keras.src.ops.'));
      expect(ops.length).toBeGreaterThan(0);
      expect(layers(config).some((l) => l.class_name === 'TFOpLambda' || l.class_name === 'SlicingOpLambda')).toBe(false);
      // the same operations the Keras 3 file of the case holds
      const keras3 = await readModel(join(GOLDEN, name, 'model.keras'));
      const classes = (c: JsonObject | null) =>
        layers(c)
          .filter((l) => typeof l.module === 'string' && l.module.startsWith('keras.src.ops.'))
          .map((l) => l.class_name)
          .sort();
      expect(classes(config)).toEqual(classes(keras3.config));
    });

    it(`${name}: Keras 3 → tf.keras 2 .h5 writes TFOpLambda layers`, async () => {
      const config = await convertAndVerify(name, 'model.keras', 'h5', `${name}.to2.h5`, { generation: 'keras2' });
      expect(layers(config).some((l) => l.class_name === 'TFOpLambda' || l.class_name === 'SlicingOpLambda' || l.class_name === 'Add')).toBe(true);
    });
  }

  for (const rel of ['04_btc_transformer_mha_tfoplambda/transformer_BTC.h5', '31_szakdoga_mha_tfoplambda_reducemean/transformer_model.h5']) {
    itWild(`${rel}: → .keras and → tfjs compute what the original does`, async () => {
      const file = join(requireWild(), rel);
      const model = await readModel(file);
      const spec = (model.config!.config as JsonObject).layers as JsonObject[];
      const shape = ((spec[0].config as JsonObject).batch_input_shape as (number | null)[]).map((d) => d ?? 2);
      const n = shape.reduce((a, b) => a * b, 1);
      const input = [{ dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, k) => Math.cos(k)) }];
      const [expected] = await runModel(model, input, { backend: 'cpu' });
      for (const [to, out] of [['keras', 'm.keras'], ['tfjs', 'tfjs']] as const) {
        const target = join(tmp, rel.replace(/[/.]/g, '_') + out);
        await convertModel(await readModel(file), to, target);
        const [got] = await runModel(await readModel(target), input, { backend: 'cpu' });
        expect(got.shape).toEqual(expected.shape);
        expect(Array.from(got.data)).toEqual(Array.from(expected.data));
      }
    });
  }
});
