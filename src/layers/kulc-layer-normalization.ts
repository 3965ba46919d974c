/**
 * `LayerNormalization` of FlashTek's kulc (keras-layer-collection @9479647, `kulc/layer_normalization.py`),
 * registered as `Kulc>LayerNormalization` beside Keras's own (see src/runtime/class-resolution.ts):
 * `gain * (x - mean) / (std + epsilon) + bias` over the last axis, with the population std (ddof 0) and
 * epsilon added to the std, not the variance. Weights `gain`, `bias` (features,).
 *
 * kulc has no `get_config`, so Keras 2 files hold only `name` and `trainable` and epsilon is its default,
 * 1e-8; a config that names `epsilon` (Keras 3 archives) is honoured.
 *
 * kulc's code has two branches, both reproduced: rank 3 (the normalization above) and rank 2, where its
 * `std` is built from the mean (a slip in the source), so it computes `gain * (x - mean) / (mean +
 * epsilon) + bias`. Other ranks have no branch there (they fail to broadcast in Keras) and are refused.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import type { Kwargs, LayerArgs } from './types.js';

export const KULC_LAYER_NORMALIZATION = 'Kulc>LayerNormalization';

/** kulc's default epsilon. */
const KULC_EPSILON = 1e-8;

export interface KulcLayerNormalizationArgs extends LayerArgs {
  epsilon?: number;
}

export class KulcLayerNormalization extends tf.layers.Layer {
  static className = KULC_LAYER_NORMALIZATION;

  readonly epsilon: number;
  private gain: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: KulcLayerNormalizationArgs = {}) {
    super(args);
    const epsilon = args.epsilon ?? KULC_EPSILON;
    if (typeof epsilon !== 'number' || !Number.isFinite(epsilon)) {
      throw new KerasInteropError('CONFIG_INVALID', `kulc LayerNormalization "${this.name}": epsilon must be a number, got ${JSON.stringify(epsilon)}`);
    }
    this.epsilon = epsilon;
  }

  private checkRank(shape: tf.Shape): number {
    const features = shape[shape.length - 1];
    if ((shape.length !== 2 && shape.length !== 3) || features == null) {
      throw new KerasInteropError(
        'INPUT_MISMATCH',
        `kulc LayerNormalization "${this.name}" handles inputs of rank 2 or 3 with known features (its code has no other branch), got [${shape.join(', ')}]`,
      );
    }
    return features;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = this.checkRank(shape);
    this.gain = this.addWeight('gain', [features], 'float32', tf.initializers.ones(), undefined, true);
    this.bias = this.addWeight('bias', [features], 'float32', tf.initializers.zeros(), undefined, true);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    this.checkRank(x.shape);
    return tf.tidy(() => {
      const mean = tf.mean(x, -1, true);
      const centered = tf.sub(x, mean);
      // K.std: the square root of the mean squared deviation; the rank-2 branch uses the mean instead.
      const spread = x.rank === 3 ? tf.sqrt(tf.mean(tf.square(centered), -1, true)) : mean;
      const scaled = tf.div(tf.mul(this.gain!.read(), centered), tf.add(spread, this.epsilon));
      return tf.add(scaled, this.bias!.read());
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
