/**
 * `ResidualScaledDotProductAttention` (RealFormer) of keras-self-attention 0.51.0, in tfjs.
 *
 * Inputs: [x, prev] (self-attention) or [query, key, value, prev], where prev (batch, Tq, Tk) holds the
 * previous layer's attention logits. The new logits are Q K^T / sqrt(d_q) + prev; they are returned as the
 * second output *before* the history/mask penalties, so the next layer can add them in turn. Outputs:
 * [attended values, new logits] and, with `return_attention`, the attention as a third output.
 * The mask used is the first input's in [x, prev] mode and the key's (second) in four-input mode.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { attendValues, checkRank3, penalize, pickMask, scaledScores } from './scaled-dot-product-attention.js';
import { type Kwargs, type LayerArgs, type MaskArg, maskOfInput } from './types.js';


export interface ResidualScaledDotProductAttentionArgs extends LayerArgs {
  returnAttention?: boolean;
  historyOnly?: boolean;
}

export class ResidualScaledDotProductAttention extends tf.layers.Layer {
  static className = 'ResidualScaledDotProductAttention';

  readonly returnAttention: boolean;
  readonly historyOnly: boolean;

  constructor(args: ResidualScaledDotProductAttentionArgs = {}) {
    super(args);
    this.supportsMasking = true;
    this.returnAttention = args.returnAttention ?? false;
    this.historyOnly = args.historyOnly ?? false;
  }

  private split<T>(inputs: T | T[]): { query: T; key: T; value: T; prev: T; maskIndex: number } {
    if (Array.isArray(inputs) && inputs.length === 4) {
      return { query: inputs[0]!, key: inputs[1]!, value: inputs[2]!, prev: inputs[3]!, maskIndex: 1 };
    }
    if (Array.isArray(inputs) && inputs.length === 2) {
      return { query: inputs[0]!, key: inputs[0]!, value: inputs[0]!, prev: inputs[1]!, maskIndex: 0 };
    }
    const count = Array.isArray(inputs) ? inputs.length : 1;
    throw new KerasInteropError('INPUT_MISMATCH', `layer "${this.name}" expects [x, prev] or [query, key, value, prev], got ${count} input(s)`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const { query, key, value, prev, maskIndex } = this.split(inputs);
    const mask = Array.isArray(inputs) && inputs.length === 4 ? maskOfInput(inputs, maskIndex, kwargs['mask'] as MaskArg) : pickMask(kwargs['mask'], maskIndex);
    const [v, newPrev, att] = tf.tidy(() => {
      const logits = tf.add(scaledScores(query, key), prev);
      const [out, a] = attendValues(this, inputs, penalize(logits, this.historyOnly, mask), value);
      return [out, logits, a];
    });
    if (this.returnAttention) return [v!, newPrev!, att!];
    att!.dispose();
    return [v!, newPrev!];
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    if (!Array.isArray(inputShape[0])) {
      throw new KerasInteropError('INPUT_MISMATCH', `layer "${this.name}" expects [x, prev] or [query, key, value, prev]`);
    }
    const { query: q, key: k, value: v } = this.split(inputShape as tf.Shape[]);
    checkRank3(q, this.name, 'query');
    const out: tf.Shape = [...q.slice(0, -1), v[v.length - 1]!];
    const logits: tf.Shape = [q[0]!, q[1]!, k[1]!];
    return this.returnAttention ? [out, logits, logits] : [out, logits];
  }

  /**
   * The output carries the first input's mask; the logits and attention carry none. (Python returns
   * `mask[0][-1]`, one sample's mask row, for the logits, which no later layer can use meaningfully.)
   */
  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const m = pickMask(mask, 0);
    return (this.returnAttention ? [m, null, null] : [m, null]) as tf.Tensor[];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), returnAttention: this.returnAttention, historyOnly: this.historyOnly };
  }
}
