/** Seeded test data for the layer tests: values rounded to float32, and a built layer's weights set from them. */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../fuzz/lib/rng.js';

/** Values in [-scale, scale), rounded to float32 so references and tfjs see the same numbers. */
export function randomArray(next: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

/** Seeded values in [-scale, scale) for every weight of a built layer, set on it and returned (float32-exact). */
export function seedWeights(layer: tf.layers.Layer, seed: number, scale = 0.6): Float32Array[] {
  const next = mulberry32(seed);
  const values = layer.weights.map((w) => randomArray(next, (w.shape as number[]).reduce((a, b) => a * b, 1), scale));
  layer.setWeights(values.map((v, i) => tf.tensor(v, layer.weights[i].shape as number[])));
  return values;
}
