/**
 * Keras's `AdditiveAttention` (Bahdanau-style): scores `Σ_d scale_d * tanh(q + k)_d`, `scale` a vector
 * over the features (shape (dim,), only with `use_scale`, the default; without it the plain sum).
 * Masks, causality and the rest: `DenseAttention`.
 */
import * as tf from '@tensorflow/tfjs';
import { DenseAttention, type DenseAttentionArgs } from './base-dense-attention.js';
import type { LayerVariable, Shape } from './types.js';

export class AdditiveAttention extends DenseAttention {
  static className = 'AdditiveAttention';

  private scale: LayerVariable | null = null;

  constructor(args: DenseAttentionArgs = {}) {
    super({ ...args, useScale: args.useScale ?? true }, []);
  }

  override build(inputShape: Shape | Shape[]): void {
    // tf.keras 2 sizes it from the value, Keras 3 from the query: the scores need both equal anyway.
    const { query } = this.shapes(inputShape);
    if (this.useScale) {
      this.scale = this.addWeight('scale', [this.lastDim(query, 'query')], 'float32', tf.initializers.glorotUniform({}), undefined, true);
    }
    this.built = true;
  }

  protected scores(query: tf.Tensor, key: tf.Tensor): tf.Tensor {
    const t = tf.tanh(tf.add(tf.expandDims(query, -2), tf.expandDims(key, -3)));
    return tf.sum(this.scale ? tf.mul(this.scale.read(), t) : t, -1);
  }
}
