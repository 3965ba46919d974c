/**
 * Keras's `Attention` (Luong-style): `score_mode="dot"` scores `q · k` (times the scalar `scale` with
 * `use_scale`); `score_mode="concat"` scores `concat_score_weight * Σ_d tanh(scale * (q + k))_d` (no
 * `scale` without `use_scale`). Weights in Keras's order: `scale` (shape ()), then `concat_score_weight`
 * (shape (), concat only). Masks, causality and the rest: `DenseAttention`.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { DenseAttention, type DenseAttentionArgs } from './base-dense-attention.js';
import type { LayerVariable, Shape } from './types.js';

export interface AttentionArgs extends DenseAttentionArgs {
  scoreMode?: string;
}

export class Attention extends DenseAttention {
  static className = 'Attention';

  readonly scoreMode: 'dot' | 'concat';
  private scale: LayerVariable | null = null;
  private concatScoreWeight: LayerVariable | null = null;

  constructor(args: AttentionArgs = {}) {
    super(args, ['scoreMode']);
    const mode = args.scoreMode ?? 'dot';
    if (mode !== 'dot' && mode !== 'concat') {
      throw new KerasInteropError('CONFIG_INVALID', `Attention "${this.name}": score_mode must be "dot" or "concat", got ${JSON.stringify(mode)}`);
    }
    this.scoreMode = mode;
  }

  override build(inputShape: Shape | Shape[]): void {
    this.shapes(inputShape);
    if (this.useScale) this.scale = this.addWeight('scale', [], 'float32', tf.initializers.ones(), undefined, true);
    if (this.scoreMode === 'concat') {
      this.concatScoreWeight = this.addWeight('concat_score_weight', [], 'float32', tf.initializers.ones(), undefined, true);
    }
    this.built = true;
  }

  protected scores(query: tf.Tensor, key: tf.Tensor): tf.Tensor {
    const scale = this.scale?.read();
    if (this.scoreMode === 'dot') {
      const s = tf.matMul(query, key, false, true);
      return scale ? tf.mul(s, scale) : s;
    }
    let sum = tf.add(tf.expandDims(query, -2), tf.expandDims(key, -3));
    if (scale) sum = tf.mul(scale, sum);
    return tf.mul(this.concatScoreWeight!.read(), tf.sum(tf.tanh(sum), -1));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scoreMode: this.scoreMode };
  }
}
