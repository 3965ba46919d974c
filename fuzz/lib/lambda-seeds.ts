/**
 * Seed models for the Lambda target: one small tf.keras 2 model per Python 3.11 Lambda fixture that has
 * reference inputs (fixtures/lambda/py311.json): its inputs, then the Lambda, written as a `.h5` with the
 * project's HDF5 writer beside an input `.npy` per model input. No wild file is copied.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { writeNpyFileSync } from '../../src/parity/npy-file.js';
import { writeHdf5 } from '../../src/writers/hdf5.js';

interface Seed {
  name: string;
  code: string;
  defaults: JsonObject[keyof JsonObject];
  closure: JsonObject[keyof JsonObject];
  arguments: JsonObject;
  expression?: string;
  inputs?: { shape: number[]; data: number[] }[];
}

function seedModel(seed: Seed, file: string): KerasModel {
  const inputs = seed.inputs!.map((a, i) => ({
    class_name: 'InputLayer',
    config: { batch_input_shape: [null, ...a.shape.slice(1)], dtype: 'float32', sparse: false, ragged: false, name: `input_${i + 1}` },
    name: `input_${i + 1}`,
    inbound_nodes: [],
  }));
  const lambda = {
    class_name: 'Lambda',
    config: {
      name: 'lambda', trainable: true, dtype: 'float32', function: [seed.code, seed.defaults, seed.closure], function_type: 'lambda',
      module: '__main__', output_shape: null, output_shape_type: 'raw', output_shape_module: null, arguments: seed.arguments,
    },
    name: 'lambda',
    inbound_nodes: [inputs.map((l) => [l.name, 0, 0, {}])],
  };
  const config: JsonObject = {
    class_name: 'Functional',
    config: {
      name: `lambda_${seed.name}`,
      layers: [...inputs, lambda],
      input_layers: inputs.map((l) => [l.name, 0, 0]),
      output_layers: [['lambda', 0, 0]],
    },
  };
  return { source: { format: 'keras2-h5', file, kerasVersion: '2.13.1', backend: 'tensorflow', extras: {} }, config, weights: [] };
}

/** Writes the seed models under `dir`; returns, per seed, its folder, model file and input files. */
export async function writeLambdaSeeds(root: string, dir: string): Promise<{ name: string; dir: string; model: string; inputs: string[] }[]> {
  const doc = JSON.parse(readFileSync(join(root, 'fixtures', 'lambda', 'py311.json'), 'utf8')) as { cases: Seed[] };
  const out: { name: string; dir: string; model: string; inputs: string[] }[] = [];
  for (const seed of doc.cases.filter((c) => c.expression && c.inputs)) {
    const d = join(dir, `lambda_${seed.name}`);
    mkdirSync(d, { recursive: true });
    const model = join(d, 'model.h5');
    writeFileSync(model, await writeHdf5(seedModel(seed, model)));
    const inputs = seed.inputs!.map((a, i) => {
      const p = join(d, `input_${i}.npy`);
      writeNpyFileSync(p, { dtype: 'float32', shape: a.shape, data: Float32Array.from(a.data) });
      return p;
    });
    out.push({ name: `lambda_${seed.name}`, dir: d, model, inputs });
  }
  return out;
}
