/**
 * Small standalone-Keras-2.2.4 models built in memory for the kulc tests: configs as Keras 2.2.4's
 * `model.save` writes them (class `Model`, `[[layer, node, tensor, kwargs]]` inbound nodes, weights named
 * `<layer>/<variable>:0`), so they go through the same normalization as the golden files.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { JsonObject, JsonValue, KerasModel, Weight } from '../../src/model/types.js';

export interface LayerSpec {
  name: string;
  class_name: string;
  config: JsonObject;
  /** Names of the layers whose (first) output this layer's one call reads. */
  inputs: string[];
  /** The call's kwargs, as the file records them. */
  kwargs?: JsonObject;
}

export function input(name: string, shape: (number | null)[]): LayerSpec {
  return { name, class_name: 'InputLayer', config: { batch_input_shape: [null, ...shape], dtype: 'float32', sparse: false, name }, inputs: [] };
}

export function layer(name: string, className: string, config: JsonObject, inputs: string[], kwargs?: JsonObject): LayerSpec {
  return { name, class_name: className, config: { name, trainable: true, ...config }, inputs, kwargs };
}

/** A Keras 2.2.4 functional model; `outputs` as `[layer, tensor index]`. */
export function keras224Model(
  layers: LayerSpec[],
  outputs: [string, number][],
  weights: Record<string, [string, number[], Float32Array][]> = {},
  kerasVersion = '2.2.4',
): KerasModel {
  const config: JsonObject = {
    class_name: 'Model',
    config: {
      name: 'model_1',
      layers: layers.map((l) => ({
        name: l.name,
        class_name: l.class_name,
        config: l.config,
        inbound_nodes: l.inputs.length ? [l.inputs.map((src): JsonValue => [src, 0, 0, l.kwargs ?? {}])] : [],
      })),
      input_layers: layers.filter((l) => l.class_name === 'InputLayer').map((l) => [l.name, 0, 0]),
      output_layers: outputs.map(([l, t]) => [l, 0, t]),
    },
  };
  return {
    source: { format: 'keras2-h5', file: 'memory.h5', kerasVersion, backend: 'tensorflow', extras: {} },
    config,
    weights: layers.map((l) => ({
      layer: l.name,
      weights: (weights[l.name] ?? []).map(([name, shape, data]): Weight => ({ name: `${l.name}/${name}:0`, path: `/model_weights/${l.name}/${l.name}/${name}:0`, shape, dtype: 'float32', data })),
    })),
  };
}

/** `|actual - expected| <= atol + rtol |expected|` everywhere, with the shape checked. */
export function expectClose(actual: { shape: number[]; data: ArrayLike<number> } | tf.Tensor, expected: ArrayLike<number>, shape: number[], atol = 1e-5, rtol = 1e-4): void {
  const a = actual instanceof tf.Tensor ? { shape: actual.shape, data: actual.dataSync() } : actual;
  expect(a.shape).toEqual(shape);
  expect(a.data.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - expected[i]) - rtol * Math.abs(expected[i]));
  expect(worst).toBeLessThanOrEqual(atol);
}

/** Row-major (rows, cols) matrix product of float arrays, in float64. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, inner: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let k = 0; k < inner; k++) s += a[r * inner + k] * b[k * cols + c];
    out[r * cols + c] = s;
  }
  return out;
}

/** Softmax of a vector, in float64. */
export function softmax(v: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) max = Math.max(max, v[i]);
  const e = Float64Array.from(v, (x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}
