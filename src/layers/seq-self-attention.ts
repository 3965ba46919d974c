/**
 * `SeqSelfAttention` of keras-self-attention 0.51.0, in tfjs.
 *
 * For every timestep t it scores every timestep t' (additive: tanh(x_t Wt + x_t' Wx + bh) Wa + ba;
 * multiplicative: x_t Wa x_t'^T + ba), optionally applies `attention_activation`, pushes pairs outside the
 * local window (and pairs where both steps are masked) down by 10000, takes a max-shifted softmax over t'
 * and returns the attention-weighted sum of the inputs (and the attention when `return_attention`).
 * The arithmetic follows the Python layer step by step so that float32 results agree with Keras.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { tapAttention } from '../runtime/attention-taps.js';
import {
  configValue,
  resolveActivation,
  resolveConstraint,
  resolveInitializer,
  resolveRegularizer,
  type ActivationIdentifier,
  type ConstraintIdentifier,
  type InitializerIdentifier,
  type RegularizerIdentifier,
} from './keras-objects.js';
import type { ActivationFn, ConfigDict, Constraint, Initializer, Kwargs, LayerArgs, LayerVariable, Regularizer } from './types.js';

export interface SeqSelfAttentionArgs extends LayerArgs {
  /** Size of the hidden vectors of additive attention. Default 32. */
  units?: number;
  /** Width of the local window; null means the whole sequence (history_only without it: 1e9). */
  attentionWidth?: number | null;
  attentionType?: 'additive' | 'multiplicative';
  /** Return `[output, attention]` instead of `output`. */
  returnAttention?: boolean;
  /** Only attend to the current and earlier timesteps. */
  historyOnly?: boolean;
  kernelInitializer?: InitializerIdentifier | null;
  biasInitializer?: InitializerIdentifier | null;
  kernelRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
  kernelConstraint?: ConstraintIdentifier | null;
  biasConstraint?: ConstraintIdentifier | null;
  useAdditiveBias?: boolean;
  useAttentionBias?: boolean;
  /** Activation applied to the scores before the softmax; null is linear. */
  attentionActivation?: ActivationIdentifier | null;
  /** Weight of the attention regularizer (a training loss only; it never changes outputs). */
  attentionRegularizerWeight?: number;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers for the attention layers.

/** The one tensor of a layer called with `x` or `[x]`. */
export function singleTensor(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1 || inputs[0] == null) {
    throw new KerasInteropError('INPUT_MISMATCH', `layer "${layer}" expects one input tensor, got ${inputs.length}`);
  }
  return inputs[0];
}

/** The one input shape of `build`/`computeOutputShape`, which tfjs may wrap in a list. */
export function singleShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
  return (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
}

/** A mask passed as a tensor, `[tensor]`, or nothing. */
export function firstMask(mask: unknown): tf.Tensor | null {
  if (Array.isArray(mask)) return (mask[0] as tf.Tensor | null | undefined) ?? null;
  return (mask as tf.Tensor | null | undefined) ?? null;
}

/**
 * The (T, T) 0/1 matrix of pairs (t, t') outside the local window: t' < t - (w - 1) or t' > t when
 * `historyOnly`, else t' < t - floor(w / 2) or t' >= t - floor(w / 2) + w. A width of at least 2T + 2
 * covers every pair either way, so it is clamped there to keep the int32 arithmetic in range.
 */
export function outsideWindow(length: number, width: number, historyOnly: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const w = Math.min(width, 2 * length + 2);
    const rows = tf.range(0, length, 1, 'int32');
    const lower = tf.sub(rows, historyOnly ? w - 1 : Math.floor(w / 2)).expandDims(-1);
    const upper = tf.add(lower, w);
    const cols = tf.range(0, length, 1, 'int32').expandDims(0);
    const inside = tf.logicalAnd(tf.lessEqual(lower, cols), tf.less(cols, upper));
    return tf.sub(1, tf.cast(inside, 'float32')) as tf.Tensor2D;
  });
}

/** (B, T, F) x (F, N) -> (B, T, N), Keras's `K.dot` on a 3-D tensor. */
function dot3(x: tf.Tensor, w: tf.Tensor): tf.Tensor3D {
  const [b, t, f] = x.shape as [number, number, number];
  return tf.reshape(tf.matMul(tf.reshape(x, [b * t, f]), w as tf.Tensor2D), [b, t, w.shape[1]!]) as tf.Tensor3D;
}

/**
 * Elements of the (B, rows, T, units) intermediate of `additiveEmission` per block: 2^21 floats (8 MiB),
 * so that long sequences do not build a (B, T, T, units) tensor of gigabytes. Smaller blocks cost more
 * kernel calls than they save in cache misses: on wasm, (32, 100, 128) with 32 units takes 20 ms whole
 * (10M elements), 22 ms in blocks of 2^21 and 34 ms in blocks of 2^18 (bench/README.md).
 */
export const ADDITIVE_BLOCK_ELEMENTS = 1 << 21;

/**
 * Additive scores e[b, t, t'] = tanh(q[b, t] + k[b, t'] + bh) . wa + ba, with q = x Wt and k = x Wx.
 *
 * Computed as sigmoid(2 (q + bh) + 2 k) . (2 wa) + (ba - sum(wa)), the same function since
 * tanh(h) = 2 sigmoid(2 h) - 1: the factors land on the small (B, T, units) operands, so the large
 * (B, rows, T, units) tensor takes one add, one sigmoid and one matmul (instead of two adds, a tanh and a
 * matmul), and sigmoid is vectorized on wasm (XNNPACK) where tanh is a scalar libm call, 5x slower.
 * It is as accurate as the tanh form: on the bench case (scores up to 4.7) both are within 9e-7 of a
 * float64 reference, and within 1.5e-6 of each other.
 * The intermediate is built for blocks of query rows of about `maxElements` elements; the result does
 * not depend on the block size.
 */
export function additiveEmission(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  bh: tf.Tensor | null,
  wa: tf.Tensor,
  ba: tf.Tensor | null,
  maxElements = ADDITIVE_BLOCK_ELEMENTS,
): tf.Tensor3D {
  const [batch, len, units] = q.shape;
  return tf.tidy(() => {
    const q2 = tf.mul(bh != null ? tf.add(q, bh) : q, 2) as tf.Tensor3D;
    const k2 = tf.expandDims(tf.mul(k, 2), 1);
    const wa2 = tf.mul(wa, 2) as tf.Tensor2D;
    const shift = ba != null ? tf.sub(ba, tf.sum(wa)) : tf.neg(tf.sum(wa));
    const block = (qRows: tf.Tensor3D): tf.Tensor3D => {
      const rows = qRows.shape[1];
      const s = tf.sigmoid(tf.add(tf.expandDims(qRows, 2), k2));
      const e = tf.add(tf.matMul(tf.reshape(s, [batch * rows * len, units]), wa2), shift);
      return tf.reshape(e, [batch, rows, len]) as tf.Tensor3D;
    };
    const rowsPerBlock = Math.max(1, Math.floor(maxElements / Math.max(1, batch * len * units)));
    if (rowsPerBlock >= len) return block(q2);
    const parts: tf.Tensor3D[] = [];
    for (let start = 0; start < len; start += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, len - start);
      parts.push(tf.tidy(() => block(tf.slice(q2, [0, start, 0], [batch, rows, units]) as tf.Tensor3D)));
    }
    return tf.concat(parts, 1) as tf.Tensor3D;
  });
}

/**
 * Python's `_attention_regularizer`: weight * sum((A A^T - I)^2) / batch_size, for attention A of
 * shape (batch, T, T). A training loss only.
 */
export function attentionRegularizer(attention: tf.Tensor, weight: number): tf.Scalar {
  return tf.tidy(() => {
    const a = attention as tf.Tensor3D;
    const [batch, , len] = a.shape;
    const gram = tf.matMul(a, a, false, true);
    const diff = tf.sub(gram, tf.eye(len));
    return tf.div(tf.mul(weight, tf.sum(tf.square(diff))), batch) as tf.Scalar;
  });
}

export class SeqSelfAttention extends tf.layers.Layer {
  static className = 'SeqSelfAttention';

  readonly units: number;
  readonly attentionWidth: number | null;
  readonly attentionType: 'additive' | 'multiplicative';
  readonly returnAttention: boolean;
  readonly historyOnly: boolean;
  readonly useAdditiveBias: boolean;
  readonly useAttentionBias: boolean;
  readonly attentionRegularizerWeight: number;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  readonly biasConstraint: Constraint | null;
  readonly attentionActivationName: string;
  private readonly attentionActivationFn: ActivationFn;

  private Wt: LayerVariable | null = null;
  private Wx: LayerVariable | null = null;
  private bh: LayerVariable | null = null;
  private Wa: LayerVariable | null = null;
  private ba: LayerVariable | null = null;
  /** The attention loss of the latest training call, read by the loss registered in `build`. */
  private attentionLoss: tf.Scalar | null = null;

  constructor(args: SeqSelfAttentionArgs = {}) {
    super(args);
    this.supportsMasking = true;
    const where = this.name;
    this.units = args.units ?? 32;
    const type = args.attentionType ?? 'additive';
    if (type !== 'additive' && type !== 'multiplicative') {
      throw new KerasInteropError('CONFIG_INVALID', `layer "${where}": attention_type must be 'additive' or 'multiplicative', got ${JSON.stringify(type)}`);
    }
    this.attentionType = type;
    this.returnAttention = args.returnAttention ?? false;
    this.historyOnly = args.historyOnly ?? false;
    let width = args.attentionWidth ?? null;
    if (this.historyOnly && width == null) width = 1e9;
    if (width != null && (!Number.isFinite(width) || width < 1)) {
      throw new KerasInteropError('CONFIG_INVALID', `layer "${where}": attention_width must be a positive integer, got ${width}`);
    }
    this.attentionWidth = width;
    if (!Number.isInteger(this.units) || this.units < 1) {
      throw new KerasInteropError('CONFIG_INVALID', `layer "${where}": units must be a positive integer, got ${this.units}`);
    }
    this.useAdditiveBias = args.useAdditiveBias ?? true;
    this.useAttentionBias = args.useAttentionBias ?? true;
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, 'glorotNormal');
    this.biasInitializer = resolveInitializer(args.biasInitializer, 'zeros');
    // Strict: an identifier tfjs cannot build is an error here, not a silently dropped regularizer.
    const strict = { layer: where, strict: true };
    this.kernelRegularizer = resolveRegularizer(args.kernelRegularizer, strict) ?? null;
    this.biasRegularizer = resolveRegularizer(args.biasRegularizer, strict) ?? null;
    this.kernelConstraint = resolveConstraint(args.kernelConstraint, strict) ?? null;
    this.biasConstraint = resolveConstraint(args.biasConstraint, strict) ?? null;
    const activation = resolveActivation(args.attentionActivation, where, 'attention_activation');
    this.attentionActivationName = activation.name;
    this.attentionActivationFn = activation.fn;
    this.attentionRegularizerWeight = args.attentionRegularizerWeight ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const featureDim = shape[2];
    if (shape.length !== 3 || featureDim == null) {
      throw new KerasInteropError('INPUT_MISMATCH', `layer "${this.name}" expects input (batch, time, features) with known features, got [${shape.join(', ')}]`);
    }
    const kernel = (suffix: string, shape: number[]): LayerVariable =>
      this.addWeight(`${this.name}_${suffix}`, shape, 'float32', this.kernelInitializer, this.kernelRegularizer ?? undefined, true, this.kernelConstraint ?? undefined);
    const bias = (suffix: string, shape: number[]): LayerVariable =>
      this.addWeight(`${this.name}_${suffix}`, shape, 'float32', this.biasInitializer, this.biasRegularizer ?? undefined, true, this.biasConstraint ?? undefined);
    if (this.attentionType === 'additive') {
      this.Wt = kernel('Add_Wt', [featureDim, this.units]);
      this.Wx = kernel('Add_Wx', [featureDim, this.units]);
      if (this.useAdditiveBias) this.bh = bias('Add_bh', [this.units]);
      this.Wa = kernel('Add_Wa', [this.units, 1]);
      if (this.useAttentionBias) this.ba = bias('Add_ba', [1]);
    } else {
      this.Wa = kernel('Mul_Wa', [featureDim, featureDim]);
      if (this.useAttentionBias) this.ba = bias('Mul_ba', [1]);
    }
    if (this.attentionRegularizerWeight > 0) {
      this.addLoss(() => {
        const loss = this.attentionLoss;
        return loss != null && !loss.isDisposed ? loss : tf.scalar(0);
      });
    }
    this.built = true;
  }

  /** Raw scores e (batch, T, T) before activation, window and mask. */
  private emission(x: tf.Tensor3D): tf.Tensor3D {
    if (this.attentionType === 'additive') {
      const q = dot3(x, this.Wt!.read());
      const k = dot3(x, this.Wx!.read());
      return additiveEmission(q, k, this.bh?.read() ?? null, this.Wa!.read(), this.ba?.read() ?? null);
    }
    let e: tf.Tensor3D = tf.matMul(dot3(x, this.Wa!.read()), x, false, true);
    if (this.ba != null) e = tf.add(e, this.ba.read());
    return e;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = singleTensor(inputs, this.name) as tf.Tensor3D;
    const mask = firstMask(kwargs['mask']);
    const training = kwargs['training'] === true;
    const [v, a, loss] = tf.tidy(() => {
      const len = x.shape[1];
      let e = this.attentionActivationFn(this.emission(x));
      if (this.attentionWidth != null) {
        e = tf.sub(e, tf.mul(10000, outsideWindow(len, this.attentionWidth, this.historyOnly)));
      }
      if (mask != null) {
        // 0.51.0 penalizes only pairs where *both* steps are masked: unmasked steps still attend to
        // padded ones. Keras outputs depend on it, so it is kept.
        const m = tf.expandDims(tf.cast(mask, 'float32'), -1);
        const bothMasked = tf.mul(tf.sub(1, m), tf.sub(1, tf.transpose(m, [0, 2, 1])));
        e = tf.sub(e, tf.mul(10000, bothMasked));
      }
      // exp(e - max) / sum over t': softmax, which the wasm backend vectorizes (XNNPACK) where exp is a
      // scalar libm call.
      const att = tf.softmax(e, -1);
      tapAttention(this, inputs, att);
      const out = tf.matMul(att as tf.Tensor3D, x);
      const reg = training && this.attentionRegularizerWeight > 0 ? attentionRegularizer(att, this.attentionRegularizerWeight) : tf.scalar(0);
      return [out, att, reg] as [tf.Tensor, tf.Tensor, tf.Scalar];
    });
    if (training && this.attentionRegularizerWeight > 0) this.attentionLoss = loss;
    else loss.dispose();
    if (this.returnAttention) return [v, a];
    a.dispose();
    return v;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = singleShape(inputShape);
    if (this.returnAttention) return [shape, [shape[0]!, shape[1]!, shape[1]!]];
    return shape;
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const m = firstMask(mask);
    return (this.returnAttention ? [m, null] : m) as tf.Tensor | tf.Tensor[];
  }

  override getConfig(): ConfigDict {
    const config: ConfigDict = {
      units: this.units,
      attentionWidth: this.attentionWidth,
      attentionType: this.attentionType,
      returnAttention: this.returnAttention,
      historyOnly: this.historyOnly,
      useAdditiveBias: this.useAdditiveBias,
      useAttentionBias: this.useAttentionBias,
      kernelInitializer: configValue(this.kernelInitializer),
      biasInitializer: configValue(this.biasInitializer),
      kernelRegularizer: configValue(this.kernelRegularizer),
      biasRegularizer: configValue(this.biasRegularizer),
      kernelConstraint: configValue(this.kernelConstraint),
      biasConstraint: configValue(this.biasConstraint),
      attentionActivation: this.attentionActivationName,
      attentionRegularizerWeight: this.attentionRegularizerWeight,
    };
    return { ...super.getConfig(), ...config };
  }
}
