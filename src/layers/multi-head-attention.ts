/**
 * keras-multi-head's `MultiHeadAttention` (config key `head_num`), registered as
 * `KerasMultiHead>MultiHeadAttention` because Keras's own layer owns the plain class name.
 *
 * One input is self-attention; `[query, key, value]` may differ in length and width. Every projection
 * maps to the value's width F (`Wq: (q_dim, F)`, `Wk: (k_dim, F)`, `Wv, Wo: (F, F)`), the activation
 * (relu by default) follows each projection and the output projection, and the heads run keras-self-
 * attention's ScaledDotProductAttention: scores `q·kᵀ/√(F/head_num)`, minus 10000 where the key is
 * masked (the key's mask, `mask[1]`) and, with `history_only`, where the key lies in the query's future.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { tapAttention } from '../runtime/attention-taps.js';
import { configValue, resolveActivation, weightSettings } from './keras-objects.js';
import { type ActivationFn, type Kwargs, type LayerArgs, type LayerVariable, type MaskArg, type Shape, isShapeList, maskOfInput } from './types.js';
import { validWeightName } from './weight-name.js';


export interface KmhMultiHeadAttentionArgs extends LayerArgs {
  headNum: number;
  activation?: unknown;
  useBias?: boolean;
  kernelInitializer?: unknown;
  biasInitializer?: unknown;
  kernelRegularizer?: unknown;
  biasRegularizer?: unknown;
  kernelConstraint?: unknown;
  biasConstraint?: unknown;
  historyOnly?: boolean;
}

/** `K.dot` of an n-D tensor with a 2-D kernel. */
function dot(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const xs = x.shape as number[];
  const features = xs[xs.length - 1];
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, features]), w as tf.Tensor2D), [...xs.slice(0, -1), (w.shape as number[])[1]]);
}

export class KmhMultiHeadAttention extends tf.layers.Layer {
  static className = 'KerasMultiHead>MultiHeadAttention';

  readonly headNum: number;
  readonly useBias: boolean;
  readonly historyOnly: boolean;
  private readonly activationConfig: unknown;
  private readonly activationFn: ActivationFn;
  private readonly initializers: { kernel: unknown; bias: unknown };
  private readonly regularizers: { kernel: unknown; bias: unknown };
  private readonly constraints: { kernel: unknown; bias: unknown };
  private Wq: LayerVariable | null = null;
  private bq: LayerVariable | null = null;
  private Wk: LayerVariable | null = null;
  private bk: LayerVariable | null = null;
  private Wv: LayerVariable | null = null;
  private bv: LayerVariable | null = null;
  private Wo: LayerVariable | null = null;
  private bo: LayerVariable | null = null;
  private readonly dtypeConfig: unknown;

  constructor(args: KmhMultiHeadAttentionArgs) {
    super(args);
    if (!Number.isInteger(args.headNum) || args.headNum < 1) {
      throw new KerasInteropError('CONFIG_INVALID', `MultiHeadAttention "${this.name}": head_num must be a positive integer, got ${String(args.headNum)}`);
    }
    this.headNum = args.headNum;
    this.activationConfig = args.activation === undefined ? 'relu' : args.activation;
    this.activationFn = resolveActivation(this.activationConfig, this.name).fn;
    this.useBias = args.useBias ?? true;
    this.historyOnly = args.historyOnly ?? false;
    this.initializers = {
      kernel: args.kernelInitializer === undefined ? 'glorotNormal' : args.kernelInitializer,
      bias: args.biasInitializer === undefined ? 'zeros' : args.biasInitializer,
    };
    this.regularizers = { kernel: args.kernelRegularizer ?? null, bias: args.biasRegularizer ?? null };
    this.constraints = { kernel: args.kernelConstraint ?? null, bias: args.biasConstraint ?? null };
    this.dtypeConfig = args.dtype ?? 'float32';
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    let q: Shape, k: Shape, v: Shape;
    if (isShapeList(inputShape)) {
      if (inputShape.length === 1) q = k = v = inputShape[0];
      else if (inputShape.length === 3) [q, k, v] = inputShape;
      else throw new KerasInteropError('INPUT_MISMATCH', `MultiHeadAttention "${this.name}": expected one input or [query, key, value], got ${inputShape.length} inputs`);
    } else {
      q = k = v = inputShape;
    }
    const last = (s: Shape): number => {
      const d = s[s.length - 1];
      if (d == null) throw new KerasInteropError('INPUT_MISMATCH', `MultiHeadAttention "${this.name}": the last input dimension must be known`);
      return d;
    };
    const feature = last(v);
    if (feature % this.headNum !== 0) {
      throw new KerasInteropError('CONFIG_INVALID', `MultiHeadAttention "${this.name}": invalid head number ${this.headNum} with the given input dim ${feature}`);
    }
    const kernelSettings = weightSettings(this.initializers.kernel, 'glorotNormal', this.regularizers.kernel, this.constraints.kernel);
    const biasSettings = weightSettings(this.initializers.bias, 'zeros', this.regularizers.bias, this.constraints.bias);
    const kernel = (suffix: string, rows: number) =>
      this.addWeight(validWeightName(this.name, suffix), [rows, feature], 'float32', kernelSettings.initializer, kernelSettings.regularizer, true, kernelSettings.constraint);
    const bias = (suffix: string) =>
      this.useBias ? this.addWeight(validWeightName(this.name, suffix), [feature], 'float32', biasSettings.initializer, biasSettings.regularizer, true, biasSettings.constraint) : null;
    // Python's order: Wq, bq, Wk, bk, Wv, bv, Wo, bo.
    this.Wq = kernel('Wq', last(q));
    this.bq = bias('bq');
    this.Wk = kernel('Wk', last(k));
    this.bk = bias('bk');
    this.Wv = kernel('Wv', feature);
    this.bv = bias('bv');
    this.Wo = kernel('Wo', feature);
    this.bo = bias('bo');
    this.built = true;
  }

  /** (B, L, F) -> (B*h, L, F/h), heads major within each batch item, as `_reshape_to_batches`. */
  private toBatches(x: tf.Tensor): tf.Tensor {
    const [b, l, f] = x.shape as number[];
    const d = f / this.headNum;
    return tf.reshape(tf.transpose(tf.reshape(x, [b, l, this.headNum, d]), [0, 2, 1, 3]), [b * this.headNum, l, d]);
  }

  private fromBatches(x: tf.Tensor): tf.Tensor {
    const [bh, l, d] = x.shape as number[];
    const b = bh / this.headNum;
    return tf.reshape(tf.transpose(tf.reshape(x, [b, this.headNum, l, d]), [0, 2, 1, 3]), [b, l, d * this.headNum]);
  }

  private splitInputs(inputs: tf.Tensor | tf.Tensor[]): [tf.Tensor, tf.Tensor, tf.Tensor] {
    if (!Array.isArray(inputs)) return [inputs, inputs, inputs];
    if (inputs.length === 1) return [inputs[0], inputs[0], inputs[0]];
    if (inputs.length === 3) return [inputs[0], inputs[1], inputs[2]];
    throw new KerasInteropError('INPUT_MISMATCH', `MultiHeadAttention "${this.name}": expected one input or [query, key, value], got ${inputs.length}`);
  }

  /**
   * Python: a list mask is `[q_mask, k_mask, v_mask]` (what Keras passes for `[q, k, v]`); any other mask
   * is used for all three.
   */
  private splitMasks(inputs: tf.Tensor | tf.Tensor[], mask: MaskArg): [tf.Tensor | null, tf.Tensor | null, tf.Tensor | null] {
    if (Array.isArray(mask) && mask.length === 1) return [mask[0] ?? null, mask[0] ?? null, mask[0] ?? null];
    if (Array.isArray(inputs) && inputs.length === 3) return [maskOfInput(inputs, 0, mask), maskOfInput(inputs, 1, mask), maskOfInput(inputs, 2, mask)];
    if (Array.isArray(mask)) return [mask[0] ?? null, mask[1] ?? null, mask[2] ?? null];
    return [mask ?? null, mask ?? null, mask ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [qIn, kIn, vIn] = this.splitInputs(inputs);
      const [, keyMask] = this.splitMasks(inputs, kwargs?.mask as MaskArg);
      const project = (x: tf.Tensor, w: LayerVariable | null, b: LayerVariable | null): tf.Tensor => {
        let y = dot(x, w!.read());
        if (b != null) y = tf.add(y, b.read());
        return this.activationFn(y);
      };
      const q = this.toBatches(project(qIn, this.Wq, this.bq));
      const k = this.toBatches(project(kIn, this.Wk, this.bk));
      const v = this.toBatches(project(vIn, this.Wv, this.bv));
      const headDim = (q.shape as number[])[2];
      let e = tf.div(tf.matMul(q, k, false, true), tf.sqrt(tf.scalar(headDim, 'float32')));
      if (this.historyOnly) {
        const qLen = (q.shape as number[])[1];
        const kLen = (k.shape as number[])[1];
        const future = tf.cast(tf.greater(tf.reshape(tf.range(0, kLen, 1, 'int32'), [1, kLen]), tf.reshape(tf.range(0, qLen, 1, 'int32'), [qLen, 1])), 'float32');
        e = tf.sub(e, tf.mul(10000.0, tf.expandDims(future, 0)));
      }
      if (keyMask != null) {
        // `_reshape_mask`: (B, Lk) -> (B*h, Lk), then expanded over the query axis.
        const m = tf.cast(keyMask, 'float32');
        const lk = (m.shape as number[])[1];
        const tiled = tf.reshape(tf.tile(tf.expandDims(m, 1), [1, this.headNum, 1]), [-1, lk]);
        e = tf.sub(e, tf.mul(10000.0, tf.sub(1.0, tf.expandDims(tiled, 1))));
      }
      // exp(e - max) / sum: softmax (vectorized on wasm).
      const attention = tf.softmax(e, -1);
      // (batch × heads, Tq, Tk), heads major within each batch item: (batch, heads, Tq, Tk).
      tapAttention(this, inputs, tf.reshape(attention, [-1, this.headNum, ...(attention.shape as number[]).slice(1)]));
      let y = this.fromBatches(tf.matMul(attention, v));
      y = dot(y, this.Wo!.read());
      if (this.bo != null) y = tf.add(y, this.bo.read());
      return this.activationFn(y);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    if (isShapeList(inputShape)) {
      if (inputShape.length === 1) return inputShape[0];
      const [q, , v] = inputShape;
      return [...q.slice(0, -1), v[v.length - 1]];
    }
    return inputShape;
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (Array.isArray(mask)) return (mask[0] ?? null) as tf.Tensor;
    return (mask ?? null) as tf.Tensor;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dtype: configValue(this.dtypeConfig),
      headNum: this.headNum,
      activation: configValue(this.activationConfig),
      useBias: this.useBias,
      kernelInitializer: configValue(this.initializers.kernel),
      biasInitializer: configValue(this.initializers.bias),
      kernelRegularizer: configValue(this.regularizers.kernel),
      biasRegularizer: configValue(this.regularizers.bias),
      kernelConstraint: configValue(this.constraints.kernel),
      biasConstraint: configValue(this.constraints.bias),
      historyOnly: this.historyOnly,
    };
  }
}
