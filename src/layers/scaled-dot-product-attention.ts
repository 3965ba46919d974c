/**
 * `ScaledDotProductAttention` of keras-self-attention 0.51.0, in tfjs: softmax(Q K^T / sqrt(d)) V with
 * d the query's feature size. Called on one tensor (self-attention) or on [query, key, value]. With
 * `history_only`, keys after the query's position are pushed down by 10000; a key mask (the second mask
 * of a list, or the one mask) does the same for masked keys. No weights.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { tapAttention } from '../runtime/attention-taps.js';
import { type Kwargs, type LayerArgs, type MaskArg, maskOfInput } from './types.js';


export interface ScaledDotProductAttentionArgs extends LayerArgs {
  returnAttention?: boolean;
  historyOnly?: boolean;
}

/** The (Tq, Tk) 0/1 matrix of keys after the query position (k > q). */
export function futureKeys(queryLen: number, keyLen: number): tf.Tensor2D {
  return tf.tidy(() => {
    const keys = tf.range(0, keyLen, 1, 'int32').expandDims(0);
    const queries = tf.range(0, queryLen, 1, 'int32').expandDims(-1);
    return tf.cast(tf.greater(keys, queries), 'float32') as tf.Tensor2D;
  });
}

/** Q K^T / sqrt(d_q), d_q the query's feature size: the logits before history and mask penalties. */
export function scaledScores(query: tf.Tensor, key: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const featureDim = query.shape[query.shape.length - 1]!;
    return tf.div(tf.matMul(query as tf.Tensor3D, key as tf.Tensor3D, false, true), Math.sqrt(featureDim)) as tf.Tensor3D;
  });
}

/** Subtract 10000 where the key is in the future (history only) or masked, as the Python layers do. */
export function penalize(e: tf.Tensor, historyOnly: boolean, keyMask: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    let out = e;
    if (historyOnly) out = tf.sub(out, tf.mul(10000, futureKeys(e.shape[1]!, e.shape[2]!)));
    if (keyMask != null) out = tf.sub(out, tf.mul(10000, tf.sub(1, tf.expandDims(tf.cast(keyMask, 'float32'), -2))));
    return out;
  });
}

/**
 * softmax over the keys (tapped for the attention API) and the values it weights: `[output, attention]`.
 * The arithmetic every scaled-dot-product layer ends with, whatever its logits; call it inside tf.tidy.
 */
export function attendValues(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], logits: tf.Tensor, value: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const a = tf.softmax(logits, -1);
  tapAttention(layer, inputs, a);
  return [tf.matMul(a as tf.Tensor3D, value as tf.Tensor3D), a];
}

/** `[output, attention]` for a layer that returns its attention, else the output alone (the attention freed). */
export function withAttention(returnAttention: boolean, output: tf.Tensor, attention: tf.Tensor): tf.Tensor | tf.Tensor[] {
  if (returnAttention) return [output, attention];
  attention.dispose();
  return output;
}

/** The masks argument as a list when tfjs passed one (runInternalGraph), or the single mask. */
export function pickMask(mask: unknown, indexInList: number): tf.Tensor | null {
  if (Array.isArray(mask)) {
    const m = (mask[indexInList] ?? (mask.length <= indexInList ? mask[0] : null)) as tf.Tensor | null | undefined;
    return m ?? null;
  }
  return (mask as tf.Tensor | null | undefined) ?? null;
}

export function checkRank3(t: tf.Tensor | tf.SymbolicTensor | tf.Shape | undefined, layer: string, what: string): void {
  const shape = t == null ? undefined : Array.isArray(t) ? t : t.shape;
  if (shape == null || shape.length !== 3) {
    throw new KerasInteropError('INPUT_MISMATCH', `layer "${layer}": ${what} must have shape (batch, time, features), got ${shape == null ? 'nothing' : `[${shape.join(', ')}]`}`);
  }
}

export class ScaledDotProductAttention extends tf.layers.Layer {
  static className = 'ScaledDotProductAttention';

  readonly returnAttention: boolean;
  readonly historyOnly: boolean;

  constructor(args: ScaledDotProductAttentionArgs = {}) {
    super(args);
    this.supportsMasking = true;
    this.returnAttention = args.returnAttention ?? false;
    this.historyOnly = args.historyOnly ?? false;
  }

  private split<T>(inputs: T | T[]): [T, T, T] {
    if (!Array.isArray(inputs)) return [inputs, inputs, inputs];
    if (inputs.length === 1) return [inputs[0]!, inputs[0]!, inputs[0]!];
    if (inputs.length === 3) return [inputs[0]!, inputs[1]!, inputs[2]!];
    throw new KerasInteropError('INPUT_MISMATCH', `layer "${this.name}" expects one tensor or [query, key, value], got ${inputs.length} inputs`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const [query, key, value] = this.split(inputs);
    // Python: a list of masks means [query, key, value] masks and the key's (index 1) is used.
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const mask = list.length === 3 ? maskOfInput(list, 1, kwargs['mask'] as MaskArg) : pickMask(kwargs['mask'], 1);
    const [v, att] = tf.tidy(() => attendValues(this, inputs, penalize(scaledScores(query, key), this.historyOnly, mask), value));
    return withAttention(this.returnAttention, v, att);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shapes = Array.isArray(inputShape[0]) ? (inputShape as tf.Shape[]) : [inputShape as tf.Shape];
    const [q, k, v] = this.split(shapes);
    checkRank3(q, this.name, 'query');
    const out: tf.Shape = [...q.slice(0, -1), v[v.length - 1]!];
    if (this.returnAttention) return [out, [q[0]!, q[1]!, k[1]!]];
    return out;
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    // Python: the query's mask (index 0 of a list) carries over to the output.
    const m = pickMask(mask, 0);
    return (this.returnAttention ? [m, null] : m) as tf.Tensor | tf.Tensor[];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), returnAttention: this.returnAttention, historyOnly: this.historyOnly };
  }
}
