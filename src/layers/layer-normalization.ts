/**
 * `LayerNormalization` computed with broadcasting ops, replacing tfjs's `call` (same class, weights,
 * config and serialization otherwise). tfjs tiles the mean, the variance, gamma and beta to the input's
 * full shape and then runs a BatchNorm kernel, which the wasm backend computes one scalar at a time: two
 * LayerNormalizations took 9 of the transformer benchmark's 68 ms. Here the full-size tensors only go
 * through vectorized elementwise kernels (XNNPACK on wasm), with tfjs's arithmetic:
 * (x - mean) * rsqrt(var + epsilon) * gamma + beta, the variance of the centered values.
 * Registered under Keras's class name, replacing tfjs's.
 */
import * as tf from '@tensorflow/tfjs';
import type { Kwargs } from './types.js';

interface TfjsLayerNormalization extends tf.layers.Layer {
  /** Non-negative after `build`. */
  axis: number | number[];
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
}

// tfjs does not export the class itself; its factory's product has it as constructor.
const TfjsLayerNormalizationClass = Object.getPrototypeOf(tf.layers.layerNormalization({})).constructor as new (
  args: Record<string, unknown>,
) => TfjsLayerNormalization;

export class LayerNormalization extends TfjsLayerNormalizationClass {
  static className = 'LayerNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      const axes = typeof this.axis === 'number' ? [this.axis] : this.axis;
      const mean = tf.mean(x, axes, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), axes, true);
      let y = tf.mul(centered, tf.rsqrt(tf.add(variance, this.epsilon)));
      // gamma and beta have the normalized axes' shape: reshaped to broadcast against the input.
      const paramShape = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
      if (this.scale && this.gamma) y = tf.mul(y, tf.reshape(this.gamma.read(), paramShape));
      if (this.center && this.beta) y = tf.add(y, tf.reshape(this.beta.read(), paramShape));
      return y;
    });
  }
}
