/**
 * Running exported ONNX models in the tests: onnxruntime-node (the backend) and onnxruntime-web's wasm
 * backend in Node (what a browser runs), small Keras configs with seeded random weights, and the tfjs
 * runtime as the independent implementation the lowerings are compared with.
 */
import { createRequire } from 'node:module';
import type { JsonObject, JsonValue, KerasModel } from '../../src/model/types.js';
import type { InputArray } from '../../src/runtime/build.js';
import { buildModel, predict, toFloat32, toInt32 } from '../../src/runtime/build.js';
import { useBackend } from '../../src/runtime/backend.js';
import type { OrtModule } from '../../src/runtime/onnxruntime.js';
import { OnnxSession } from '../../src/runtime/onnxruntime.js';
import { mulberry32 } from '../../fuzz/lib/rng.js';
import { tfjsLayout } from '../../src/runtime/topology.js';

export interface Output {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Runs ONNX bytes on onnxruntime-node (two threads, as the backend would here). */
export async function runOrtNode(bytes: Uint8Array, inputs: InputArray[]): Promise<Output[]> {
  const session = await OnnxSession.create(bytes, { threads: 2 });
  try {
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}

let web: Promise<OrtModule> | undefined;

/** onnxruntime-web with its wasm backend, single-threaded (no worker threads in the test process). */
export function ortWeb(): Promise<OrtModule> {
  web ??= (async () => {
    const require = createRequire(import.meta.url);
    const path = require.resolve('onnxruntime-web');
    const ort = (await import(path)) as OrtModule & { env: { wasm: { numThreads: number } } };
    ort.env.wasm.numThreads = 1;
    return ort;
  })();
  return web;
}

/** Runs ONNX bytes on onnxruntime-web's wasm backend (inputs converted to the model's input types). */
export async function runOrtWeb(bytes: Uint8Array, inputs: InputArray[]): Promise<Output[]> {
  const ort = await ortWeb();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const feeds = Object.fromEntries(
      session.inputNames.map((name, i) => {
        const type = session.inputMetadata?.[i]?.type ?? 'float32';
        const data = type === 'int32' ? toInt32(inputs[i].data, inputs[i].dtype, {}, name) : toFloat32(inputs[i].data, inputs[i].dtype);
        return [name, new ort.Tensor(type, data, inputs[i].shape)];
      }),
    );
    const results = await session.run(feeds);
    return session.outputNames.map((name) => ({ shape: results[name].dims.slice(), data: results[name].data as Float32Array }));
  } finally {
    await session.release();
  }
}

/** The tfjs runtime's outputs (cpu backend unless told), the independent implementation. */
export async function runTfjs(model: KerasModel, inputs: InputArray[], backend = 'cpu'): Promise<Output[]> {
  await useBackend(backend);
  const tfModel = await buildModel(model, { backend });
  try {
    return predict(tfModel, inputs);
  } finally {
    tfModel.dispose();
  }
}

/** The largest |a - b| - (atol + rtol |b|) over all values (> 0 means out of tolerance); NaN where shapes differ. */
export function worstExcess(a: Output, b: { shape: number[]; data: ArrayLike<number> }, atol = 1e-5, rtol = 1e-4): number {
  if (a.shape.join() !== b.shape.join() || a.data.length !== b.data.length) return NaN;
  let worst = -Infinity;
  for (let i = 0; i < a.data.length; i++) {
    const excess = Math.abs(a.data[i] - b.data[i]) - (atol + rtol * Math.abs(b.data[i]));
    if (!(excess <= worst)) worst = excess;
  }
  return worst;
}

/** Seeded floats in [-scale, scale). */
export function floats(shape: number[], seed: number, scale = 1): InputArray {
  const next = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale) };
}

/** Token ids: row r holds `lengths[r]` ids in 1..vocab-1, padded with zeros before (`pre`) or after. */
export function tokens(lengths: number[], steps: number, vocab: number, seed: number, padding: 'pre' | 'post'): InputArray {
  const next = mulberry32(seed);
  const data = new Int32Array(lengths.length * steps);
  lengths.forEach((len, r) => {
    for (let k = 0; k < len; k++) {
      const t = padding === 'post' ? k : steps - len + k;
      data[r * steps + t] = 1 + Math.floor(next() * (vocab - 1));
    }
  });
  return { dtype: 'int32', shape: [lengths.length, steps], data };
}

/**
 * Seeded weights for every weight tfjs builds for the config, in Keras's order: uniform in
 * ±1/sqrt(fan-in), variances positive (in 0.5..1.5).
 */
export async function withRandomWeights(model: KerasModel, seed = 1): Promise<KerasModel> {
  const layout = await tfjsLayout(model);
  let s = seed;
  const weights = layout.layers
    .filter((l) => l.weights.length > 0)
    .map((l) => ({
      layer: l.layer,
      weights: l.weights.map((w) => {
        const next = mulberry32(s++);
        const size = w.shape.reduce((a, b) => a * b, 1);
        const fanIn = w.shape.length > 1 ? w.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
        const positive = /variance/.test(w.name);
        const data = Float32Array.from({ length: size }, () => (positive ? 0.5 + next() : (next() * 2 - 1) / Math.sqrt(fanIn)));
        return { name: w.name, path: w.name, shape: w.shape, dtype: 'float32' as const, data };
      }),
    }));
  return { ...model, weights };
}

/** A tf.keras 2 Sequential model (config dialect of `model.to_json()`), weights drawn at random. */
export async function sequential(layers: JsonObject[], seed = 1): Promise<KerasModel> {
  const config: JsonObject = { class_name: 'Sequential', config: { name: 'sequential', layers } };
  return withRandomWeights({ source: { format: 'keras2-h5', file: 'test:sequential', kerasVersion: '2.13.1', extras: {} }, config, weights: [] }, seed);
}

/** tf.keras 2 functional model from layer entries whose `inbound` names the layers they are called on. */
export async function functional(
  layers: { class_name: string; config: JsonObject; inbound?: (string | [string, number])[]; kwargs?: JsonObject; node?: JsonValue[] }[],
  inputs: string[],
  outputs: (string | [string, number])[],
  seed = 1,
): Promise<KerasModel> {
  const ref = (r: string | [string, number], kwargs: JsonObject = {}) => (typeof r === 'string' ? [r, 0, 0, kwargs] : [r[0], 0, r[1], kwargs]);
  const entries = layers.map((l) => ({
    class_name: l.class_name,
    name: l.config.name as string,
    config: l.config,
    // `node`: the inbound_nodes entry as written (an op layer called on one tensor: [name, 0, 0, kwargs]).
    inbound_nodes: l.node ? [l.node] : l.inbound ? [l.inbound.map((r) => ref(r, l.kwargs))] : [],
  }));
  const config: JsonObject = {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: entries as unknown as JsonObject[],
      input_layers: inputs.map((n) => [n, 0, 0]),
      output_layers: outputs.map((o) => (typeof o === 'string' ? [o, 0, 0] : [o[0], 0, o[1]])),
    },
  };
  return withRandomWeights({ source: { format: 'keras2-h5', file: 'test:functional', kerasVersion: '2.13.1', extras: {} }, config, weights: [] }, seed);
}

/** An InputLayer entry (tf.keras 2). */
export function input(name: string, shape: (number | null)[], dtype = 'float32'): { class_name: string; config: JsonObject } {
  return { class_name: 'InputLayer', config: { name, batch_input_shape: [null, ...shape], dtype } };
}
