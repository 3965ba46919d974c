/**
 * Test-only helpers for the multi-head layer tests: a seeded RNG, golden `.npy` files as tensors, and reading a
 * layer's weights from a golden `model.h5` in Keras's `weight_names` order (h5wasm).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
import { mulberry32 } from '../../fuzz/lib/rng.js';
import { readTestNpy } from '../helpers/npy.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The golden case folder: the project's fixtures copy when there is one, else the shared one. */
export function goldenDir(name: string): string {
  const local = join(ROOT, 'fixtures', 'golden', name);
  if (existsSync(join(local, 'case.json'))) return local;
  const shared = process.env.KERAS_INTEROP_GOLDEN ?? resolve(ROOT, '..', 'shared', 'golden');
  const dir = join(shared, name);
  if (!existsSync(join(dir, 'case.json'))) {
    throw new Error(`golden case ${name} not found under ${local} or ${dir}`);
  }
  return dir;
}

/** mulberry32: small, seeded, good enough for test data. */
export const rng = mulberry32;

/** A float32 or int32 `.npy` file as a tensor of its dtype. */
export function npyTensor(path: string): tf.Tensor {
  const { dtype, shape, data } = readTestNpy(path);
  if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`${path}: dtype ${dtype} is not supported here`);
  return tf.tensor(data as Float32Array | Int32Array, shape, dtype);
}

/** One layer's weights from a Keras `model.h5`, in the order of its `weight_names` attribute. */
export async function h5LayerWeights(path: string, layer: string): Promise<tf.Tensor[]> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'r');
  try {
    const group = file.get(`model_weights/${layer}`) as { attrs: Record<string, { value: unknown }> } | null;
    if (group == null) throw new Error(`${path}: no layer ${layer}`);
    const names = group.attrs['weight_names']?.value;
    const list = (Array.isArray(names) ? names : [names]).map(String);
    return list.map((name) => {
      const ds = file.get(`model_weights/${layer}/${name}`) as { value: Float32Array; shape: number[] } | null;
      if (ds == null) throw new Error(`${path}: no dataset ${name}`);
      return tf.tensor(Float32Array.from(ds.value), ds.shape, 'float32');
    });
  } finally {
    file.close();
  }
}

/** Largest |a - b| over two equally shaped arrays, after checking the tolerance rule per element. */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

/** Keras's golden tolerance: every element within atol + rtol * |expected|. */
export function withinTolerance(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) return false;
  }
  return true;
}

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * What the config normalizer hands tfjs for a nested Keras 3 config, enough for these tests: keys and
 * string values camelCased (a `name` string kept), DTypePolicy dicts to their name, `module`,
 * `registered_name` and `build_config` dropped.
 */
export function normalizeKerasConfig(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => normalizeKerasConfig(v));
  if (value != null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (obj.class_name === 'DTypePolicy' && obj.config != null) return (obj.config as { name: string }).name;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'module' || k === 'registered_name' || k === 'build_config' || k === 'compile_config') continue;
      out[camel(k)] = normalizeKerasConfig(v, k);
    }
    return out;
  }
  if (typeof value === 'string' && key !== 'name') return camel(value);
  return value;
}

/** The `config` of the layer named `layer` in a golden `model.h5`'s `model_config`. */
export async function h5LayerConfig(path: string, layer: string): Promise<{ className: string; config: Record<string, unknown> }> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'r');
  try {
    const text = String(file.attrs['model_config'].value);
    const model = JSON.parse(text) as { config: { layers: { class_name: string; name?: string; config: Record<string, unknown> }[] } };
    const found = model.config.layers.find((l) => (l.name ?? l.config.name) === layer);
    if (found == null) throw new Error(`${path}: no layer ${layer} in model_config`);
    return { className: found.class_name, config: normalizeKerasConfig(found.config) as Record<string, unknown> };
  } finally {
    file.close();
  }
}
