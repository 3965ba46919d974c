/**
 * `SeqWeightedAttention` of keras-self-attention 0.51.0, in tfjs: one score per timestep
 * (x_t W + b), a max-shifted exponential zeroed at masked steps, normalised with Keras's epsilon,
 * and the weighted sum over time. Output (batch, features), plus the (batch, time) weights when
 * `return_attention`. Masks stop here (the output has no time axis).
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { tapAttention } from '../runtime/attention-taps.js';
import { firstMask, singleShape, singleTensor } from './seq-self-attention.js';
import type { Kwargs, LayerArgs } from './types.js';


/** `K.epsilon()` of Keras. */
const EPSILON = 1e-7;

export interface SeqWeightedAttentionArgs extends LayerArgs {
  useBias?: boolean;
  returnAttention?: boolean;
}

export class SeqWeightedAttention extends tf.layers.Layer {
  static className = 'SeqWeightedAttention';

  readonly useBias: boolean;
  readonly returnAttention: boolean;
  private W: tf.LayerVariable | null = null;
  private b: tf.LayerVariable | null = null;

  constructor(args: SeqWeightedAttentionArgs = {}) {
    super(args);
    this.supportsMasking = true;
    this.useBias = args.useBias ?? true;
    this.returnAttention = args.returnAttention ?? false;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const featureDim = shape[2];
    if (shape.length !== 3 || featureDim == null) {
      throw new KerasInteropError('INPUT_MISMATCH', `layer "${this.name}" expects input (batch, time, features) with known features, got [${shape.join(', ')}]`);
    }
    // Keras's 'uniform' initializer: RandomUniform(-0.05, 0.05).
    this.W = this.addWeight(`${this.name}_W`, [featureDim, 1], 'float32', tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 }), undefined, true);
    if (this.useBias) this.b = this.addWeight(`${this.name}_b`, [1], 'float32', tf.initializers.zeros(), undefined, true);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = singleTensor(inputs, this.name) as tf.Tensor3D;
    const mask = firstMask(kwargs['mask']);
    const [result, weights] = tf.tidy(() => {
      const [batch, len, features] = x.shape;
      let logits = tf.matMul(tf.reshape(x, [batch * len, features]), this.W!.read() as tf.Tensor2D) as tf.Tensor;
      if (this.b != null) logits = tf.add(logits, this.b.read());
      logits = tf.reshape(logits, [batch, len]);
      let ai = tf.exp(tf.sub(logits, tf.max(logits, -1, true)));
      if (mask != null) ai = tf.mul(ai, tf.cast(mask, 'float32'));
      const att = tf.div(ai, tf.add(tf.sum(ai, 1, true), EPSILON));
      tapAttention(this, inputs, att);
      const out = tf.sum(tf.mul(x, tf.expandDims(att, -1)), 1);
      return [out, att];
    });
    if (this.returnAttention) return [result!, weights!];
    weights!.dispose();
    return result!;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = singleShape(inputShape);
    const out: tf.Shape = [shape[0]!, shape[2]!];
    if (this.returnAttention) return [out, [shape[0]!, shape[1]!]];
    return out;
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], _mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return (this.returnAttention ? [null, null] : null) as unknown as tf.Tensor | tf.Tensor[];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), useBias: this.useBias, returnAttention: this.returnAttention };
  }
}
