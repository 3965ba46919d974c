/**
 * `ScaledDotProductAttention` of FlashTek's kulc (`kulc/attention.py` @9479647), registered as
 * `Kulc>ScaledDotProductAttention` beside keras-self-attention's layer of the same name (see
 * src/runtime/class-resolution.ts): inputs exactly `[q, k, v]`,
 * `softmax((q k^T + -1e10 * (1 - mask)) / sqrt(d_k)) v` with d_k the query's feature size, and with
 * `return_attention` also the attention weights, whose real shape is (batch, Tq, Tk) (kulc's
 * compute_output_shape declares (batch, Tq, d_k)). No weights.
 *
 * Masks: only a mask the call was given explicitly counts (kulc's MultiHeadAttention passes its own
 * `mask` argument; in a converted graph it is an input with role `mask`, see normalize.ts). Masks
 * propagated from the inputs never reach kulc's code in a model that ran in Python (handed a list of
 * masks, its call raises), so they are not used. The output keeps the query's propagated mask and the
 * attention the key's, as Keras 2's default `compute_mask` hands the input masks on by position.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { attendValues, checkRank3, pickMask, withAttention } from './scaled-dot-product-attention.js';
import type { Kwargs, LayerArgs } from './types.js';

export const KULC_SCALED_DOT_PRODUCT_ATTENTION = 'Kulc>ScaledDotProductAttention';

/** What kulc adds to the logits of masked positions, times (1 - mask). */
const MASK_PENALTY = -1e10;

export interface KulcScaledDotProductAttentionArgs extends LayerArgs {
  returnAttention?: boolean;
}

export class KulcScaledDotProductAttention extends tf.layers.Layer {
  static className = KULC_SCALED_DOT_PRODUCT_ATTENTION;

  readonly returnAttention: boolean;

  constructor(args: KulcScaledDotProductAttentionArgs = {}) {
    super(args);
    this.supportsMasking = true;
    this.returnAttention = args.returnAttention ?? false;
  }

  /** `[q, k, v]` and the explicit mask, from the inputs and their roles (`kwargs.inputRoles`). */
  private split(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): { qkv: tf.Tensor[]; mask: tf.Tensor | null } {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const roles = Array.isArray(kwargs?.['inputRoles']) ? (kwargs['inputRoles'] as unknown[]) : [];
    const qkv = list.filter((_, i) => roles[i] !== 'mask');
    const masks = list.filter((_, i) => roles[i] === 'mask');
    if (qkv.length !== 3 || masks.length > 1) {
      throw new KerasInteropError(
        'INPUT_MISMATCH',
        `kulc ScaledDotProductAttention "${this.name}" takes [q, k, v] (and at most one mask), got ${qkv.length} inputs and ${masks.length} masks`,
      );
    }
    return { qkv, mask: masks[0] ?? null };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const { qkv, mask } = this.split(inputs, kwargs);
    const [q, k, v] = qkv;
    const [out, att] = tf.tidy(() => {
      // kulc adds the mask's penalty before scaling (scaledScores scales first).
      let weights = tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true) as tf.Tensor;
      if (mask != null) weights = tf.add(weights, tf.mul(MASK_PENALTY, tf.sub(1, tf.cast(mask, 'float32'))));
      return attendValues(this, inputs, tf.div(weights, Math.sqrt(q.shape[2]!)), v);
    });
    return withAttention(this.returnAttention, out, att);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    if (shapes.length < 3) {
      throw new KerasInteropError('INPUT_MISMATCH', `kulc ScaledDotProductAttention "${this.name}" takes [q, k, v], got ${shapes.length} input(s)`);
    }
    const [q, k, v] = shapes;
    for (const [s, what] of [[q, 'q'], [k, 'k'], [v, 'v']] as const) checkRank3(s, this.name, what);
    const out: tf.Shape = [q[0]!, q[1]!, v[2]!];
    return this.returnAttention ? [out, [q[0]!, q[1]!, k[1]!]] : out;
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const out = pickMask(mask, 0);
    return (this.returnAttention ? [out, pickMask(mask, 1)] : out) as tf.Tensor | tf.Tensor[];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), returnAttention: this.returnAttention };
  }
}
