/** The plain-JS references' arrays and masks (attention-reference.ts) as tfjs tensors, for the layer tests. */
import * as tf from '@tensorflow/tfjs';
import type { Nd } from './attention-reference.js';

/** An Nd array as a float32 tensor. */
export function ndTensor(a: Nd): tf.Tensor {
  return tf.tensor(Float32Array.from(a.data), a.shape);
}

/** A (batch, time) mask of booleans as a bool tensor. */
export function maskTensor(m: boolean[][]): tf.Tensor {
  return tf.tensor2d(m.map((r) => r.map((v) => (v ? 1 : 0))), undefined, 'bool');
}
