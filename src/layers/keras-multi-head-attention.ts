/**
 * Keras's own `MultiHeadAttention` (config keys `num_heads`, `key_dim`), with the weights of its four
 * EinsumDense projections in Keras's order and real shapes:
 * `query/kernel (d_q, heads, key_dim)`, `query/bias (heads, key_dim)`, `key/...`, `value/kernel
 * (d_v, heads, value_dim)`, `value/bias`, `attention_output/kernel (heads, value_dim, *output_shape)`,
 * `attention_output/bias (*output_shape)`; biases only with `use_bias`.
 *
 * Inputs: `[query, value, key?, attention_mask?]`, or in any order named by `kwargs.inputRoles`
 * (the node-call convention of the config normalizer); one input means self-attention. The attention
 * mask is Keras 3's `_compute_attention_mask`: the query's mask as (B, T, 1), the value's and key's
 * masks as (B, 1, S), the causal mask (1, T, S) and `attention_mask`, all ANDed, then broadcast over
 * heads. Rows whose keys are all masked follow the path Keras takes: the fused dot-product path
 * (3-D inputs, no scores returned, no training dropout) gives them uniform weights, the explicit
 * Softmax path gives zeros; a tf.keras 2 config (it carries `query_shape`) adds -1e9, i.e. uniform.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { tapAttention } from '../runtime/attention-taps.js';
import { configValue, weightSettings } from './keras-objects.js';
import { type Kwargs, type LayerArgs, type LayerVariable, type MaskArg, type Shape, isShapeList, maskOfInput } from './types.js';


export interface MultiHeadAttentionArgs extends LayerArgs {
  numHeads: number;
  keyDim: number;
  valueDim?: number | null;
  dropout?: number;
  useBias?: boolean;
  outputShape?: number | number[] | null;
  attentionAxes?: number | number[] | null;
  kernelInitializer?: unknown;
  biasInitializer?: unknown;
  kernelRegularizer?: unknown;
  biasRegularizer?: unknown;
  activityRegularizer?: unknown;
  kernelConstraint?: unknown;
  biasConstraint?: unknown;
  /** Keras 3 only. */
  seed?: number | null;
  flashAttention?: boolean | null;
  useGate?: boolean;
  /** Keras 3.15+: keys farther than `slidingWindow - 1` positions from the query are masked. */
  slidingWindow?: number | null;
  /** tf.keras 2 only (the shapes it was built with). */
  queryShape?: Shape | null;
  keyShape?: Shape | null;
  valueShape?: Shape | null;
}

/** Config keys that only one Keras dialect writes; kept exactly when present. */
const DIALECT_KEYS = ['useGate', 'slidingWindow', 'flashAttention', 'seed', 'queryShape', 'keyShape', 'valueShape'] as const;
type DialectKey = (typeof DIALECT_KEYS)[number];

export type InputRole = 'query' | 'value' | 'key' | 'attentionMask';

interface Resolved {
  query: tf.Tensor;
  value: tf.Tensor;
  key: tf.Tensor | null;
  attentionMask: tf.Tensor | null;
  queryMask: tf.Tensor | null;
  valueMask: tf.Tensor | null;
  keyMask: tf.Tensor | null;
}

/** What `jax.nn`-style dot_product_attention puts at masked logits (`-0.7 * float32 max`). */
const FUSED_MASK_VALUE = -0.7 * 3.38953e38;
const SOFTMAX_MASK_VALUE = -1e9;

function normalizeRole(role: unknown): InputRole | null {
  if (role === 'query' || role === 'value' || role === 'key') return role;
  if (role === 'attentionMask' || role === 'attention_mask') return 'attentionMask';
  return null;
}

/**
 * A bias as the rank-1 tensor a fused matMul takes. Reshaping keeps the data of the (heads, dim) weight,
 * whose recorded rank the wasm backend's fused kernel checks, so a rank-2 bias is copied (heads*dim values).
 */
function flatBias(bias: tf.Tensor): tf.Tensor1D {
  const flat = tf.reshape(bias, [-1]) as tf.Tensor1D;
  return bias.rank === 1 ? flat : (tf.add(flat, 0) as tf.Tensor1D);
}

function prod(xs: number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

function dims(x: tf.Tensor): number[] {
  return x.shape as number[];
}

/** numpy `expand_dims` with a possibly negative axis. */
function expandDims(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.expandDims(x, axis < 0 ? x.rank + 1 + axis : axis);
}

export class MultiHeadAttention extends tf.layers.Layer {
  static className = 'MultiHeadAttention';

  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  /** The output projection's shape, or null for the query's last dimension. */
  readonly outputShapeSpec: number[] | null;
  private readonly outputShapeConfig: number | number[] | null;
  private readonly attentionAxesConfig: number | number[] | null;
  private readonly slidingWindow: number | null;
  /** tf.keras 2 configs carry the build shapes; their softmax adds -1e9 instead of Keras 3's masking. */
  private readonly kerasTwo: boolean;
  private readonly passthrough: Partial<Record<DialectKey, unknown>> = {};
  private readonly initializers: { kernel: unknown; bias: unknown };
  private readonly regularizers: { kernel: unknown; bias: unknown; activity: unknown };
  private readonly constraints: { kernel: unknown; bias: unknown };

  /** Call arguments seen when the layer was wired into a graph; tfjs's predict() does not pass node kwargs. */
  private callRoles: InputRole[] | null = null;
  private callReturnScores: boolean | null = null;
  private callCausal: boolean | null = null;
  /** Whether the latest call returned scores: tfjs asks computeMask right after call, without kwargs. */
  private lastReturnScores: boolean | null = null;
  private readonly dtypeConfig: unknown;

  private weightsByName: Record<string, LayerVariable | null> = {};

  constructor(args: MultiHeadAttentionArgs) {
    super(args);
    if (!Number.isInteger(args.numHeads) || args.numHeads < 1) {
      throw new KerasInteropError('CONFIG_INVALID', `MultiHeadAttention "${this.name}": num_heads must be a positive integer, got ${String(args.numHeads)}`);
    }
    if (!Number.isInteger(args.keyDim) || args.keyDim < 1) {
      throw new KerasInteropError('CONFIG_INVALID', `MultiHeadAttention "${this.name}": key_dim must be a positive integer, got ${String(args.keyDim)}`);
    }
    if (args.slidingWindow != null && !(Number.isInteger(args.slidingWindow) && args.slidingWindow >= 1)) {
      throw new KerasInteropError('CONFIG_INVALID', `MultiHeadAttention "${this.name}": sliding_window must be a positive integer or None, got ${typeof args.slidingWindow === 'number' ? String(args.slidingWindow) : JSON.stringify(args.slidingWindow)}`);
    }
    if (args.useGate) {
      throw new KerasInteropError(
        'UNSUPPORTED_LAYER',
        `MultiHeadAttention "${this.name}": use_gate=True (Keras 3.15+ gated attention) is not implemented; only use_gate=False runs`,
      );
    }
    this.numHeads = args.numHeads;
    this.keyDim = args.keyDim;
    this.valueDim = args.valueDim ? args.valueDim : args.keyDim;
    this.dropout = args.dropout ?? 0;
    this.useBias = args.useBias ?? true;
    this.outputShapeConfig = args.outputShape ?? null;
    const out = args.outputShape;
    this.outputShapeSpec = out == null || out === 0 || (Array.isArray(out) && out.length === 0) ? null : Array.isArray(out) ? [...out] : [out];
    this.attentionAxesConfig = args.attentionAxes ?? null;
    this.slidingWindow = args.slidingWindow ?? null;
    for (const key of DIALECT_KEYS) {
      if (key in args) this.passthrough[key] = args[key];
    }
    this.kerasTwo = 'queryShape' in args || 'keyShape' in args || 'valueShape' in args;
    if (!this.kerasTwo) {
      // A layer made in TypeScript writes Keras 3's keys.
      for (const key of ['useGate', 'slidingWindow', 'seed'] as const) {
        if (!(key in this.passthrough)) this.passthrough[key] = key === 'useGate' ? false : null;
      }
    }
    this.initializers = {
      kernel: args.kernelInitializer === undefined ? 'glorotUniform' : args.kernelInitializer,
      bias: args.biasInitializer === undefined ? 'zeros' : args.biasInitializer,
    };
    this.regularizers = {
      kernel: args.kernelRegularizer ?? null,
      bias: args.biasRegularizer ?? null,
      activity: args.activityRegularizer ?? null,
    };
    this.constraints = { kernel: args.kernelConstraint ?? null, bias: args.biasConstraint ?? null };
    this.dtypeConfig = args.dtype ?? 'float32';
    this.supportsMasking = true;
  }

  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[],
    kwargs?: Kwargs,
  ): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length > 0 && list[0] instanceof tf.SymbolicTensor && kwargs != null) {
      const roles = kwargs.inputRoles;
      if (Array.isArray(roles)) this.callRoles = this.parseRoles(roles, list.length);
      if ('returnAttentionScores' in kwargs) this.callReturnScores = Boolean(kwargs.returnAttentionScores);
      if ('useCausalMask' in kwargs) this.callCausal = Boolean(kwargs.useCausalMask);
    }
    return super.apply(inputs, kwargs);
  }

  private parseRoles(roles: unknown[], count: number): InputRole[] {
    const parsed = roles.map(normalizeRole);
    if (parsed.length !== count || parsed.some((r) => r == null) || !parsed.includes('query') || !parsed.includes('value')) {
      throw new KerasInteropError(
        'CONFIG_INVALID',
        `MultiHeadAttention "${this.name}": inputRoles ${JSON.stringify(roles)} must name query and value (and optionally key, attentionMask) for each of the ${count} inputs`,
      );
    }
    return parsed as InputRole[];
  }

  /** Roles of the inputs: named by the node, else positional `[query, value, key, attentionMask]`. */
  private rolesFor(count: number, kwargs?: Kwargs): InputRole[] {
    if (kwargs != null && Array.isArray(kwargs.inputRoles)) return this.parseRoles(kwargs.inputRoles, count);
    if (this.callRoles != null && this.callRoles.length === count) return this.callRoles;
    if (count === 1) return ['query'];
    if (count > 4) {
      throw new KerasInteropError('INPUT_MISMATCH', `MultiHeadAttention "${this.name}": expected at most 4 inputs (query, value, key, attention_mask), got ${count}`);
    }
    return (['query', 'value', 'key', 'attentionMask'] as InputRole[]).slice(0, count);
  }

  private shapesByRole(inputShape: Shape | Shape[]): { query: Shape; value: Shape; key: Shape } {
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape];
    const roles = this.rolesFor(shapes.length);
    const get = (role: InputRole): Shape | undefined => {
      const i = roles.indexOf(role);
      return i < 0 ? undefined : shapes[i];
    };
    const query = get('query')!;
    const value = get('value') ?? query;
    return { query, value, key: get('key') ?? value };
  }

  private lastDim(shape: Shape, what: string): number {
    const d = shape[shape.length - 1];
    if (d == null) throw new KerasInteropError('INPUT_MISMATCH', `MultiHeadAttention "${this.name}": the last dimension of ${what} must be known`);
    return d;
  }

  override build(inputShape: Shape | Shape[]): void {
    const { query, value, key } = this.shapesByRole(inputShape);
    const vs = value.slice(1, -1);
    const ks = key.slice(1, -1);
    if (vs.length !== ks.length || vs.some((d, i) => d != null && ks[i] != null && d !== ks[i])) {
      throw new KerasInteropError(
        'INPUT_MISMATCH',
        `MultiHeadAttention "${this.name}": all dimensions of value and key except the last must be equal, got value ${JSON.stringify(value)} and key ${JSON.stringify(key)}`,
      );
    }
    const kernel = weightSettings(this.initializers.kernel, 'glorotUniform', this.regularizers.kernel, this.constraints.kernel);
    const bias = weightSettings(this.initializers.bias, 'zeros', this.regularizers.bias, this.constraints.bias);
    const dense = (name: string, kernelShape: number[], biasShape: number[]) => {
      this.weightsByName[`${name}/kernel`] = this.addWeight(`${name}/kernel`, kernelShape, 'float32', kernel.initializer, kernel.regularizer, true, kernel.constraint);
      this.weightsByName[`${name}/bias`] = this.useBias
        ? this.addWeight(`${name}/bias`, biasShape, 'float32', bias.initializer, bias.regularizer, true, bias.constraint)
        : null;
    };
    const outShape = this.outputShapeSpec ?? [this.lastDim(query, 'query')];
    dense('query', [this.lastDim(query, 'query'), this.numHeads, this.keyDim], [this.numHeads, this.keyDim]);
    dense('key', [this.lastDim(key, 'key'), this.numHeads, this.keyDim], [this.numHeads, this.keyDim]);
    dense('value', [this.lastDim(value, 'value'), this.numHeads, this.valueDim], [this.numHeads, this.valueDim]);
    dense('attention_output', [this.numHeads, this.valueDim, ...outShape], outShape);
    this.built = true;
  }

  /** Attention axes in the rank of the projected tensors (B, ..., heads, dim), as `_build_attention`. */
  private attentionAxes(projectedRank: number): number[] {
    const cfg = this.attentionAxesConfig;
    if (cfg == null) return Array.from({ length: projectedRank - 3 }, (_, i) => i + 1);
    const axes = Array.isArray(cfg) ? cfg : [cfg];
    return axes.map((a) => (a >= 0 ? a : projectedRank - 1 + a));
  }

  private resolveInputs(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): Resolved {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const roles = this.rolesFor(list.length, kwargs);
    const at = (role: InputRole): number => roles.indexOf(role);
    const query = list[at('query')];
    const value = at('value') >= 0 ? list[at('value')] : query;
    const key = at('key') >= 0 ? list[at('key')] : null;
    let attentionMask = at('attentionMask') >= 0 ? list[at('attentionMask')] : null;
    if (attentionMask == null && kwargs?.attentionMask instanceof tf.Tensor) attentionMask = kwargs.attentionMask;

    const rawMask = kwargs?.mask as MaskArg;
    const maskOf = (i: number): tf.Tensor | null => (i >= 0 ? maskOfInput(list, i, rawMask) : null);
    const queryMask = maskOf(at('query'));
    const valueMask = at('value') >= 0 ? maskOf(at('value')) : queryMask;
    const keyMask = maskOf(at('key'));
    return { query, value, key, attentionMask, queryMask, valueMask, keyMask };
  }

  /** `_compute_attention_mask`: everything ANDed into one boolean mask, or null. */
  private combinedMask(r: Resolved, queryRank: number, causal: boolean): tf.Tensor | null {
    let auto: tf.Tensor | null = null;
    const and = (m: tf.Tensor) => {
      auto = auto == null ? m : tf.logicalAnd(auto, m);
    };
    if (r.queryMask != null) and(expandDims(tf.cast(r.queryMask, 'bool'), -1));
    if (r.valueMask != null) and(expandDims(tf.cast(r.valueMask, 'bool'), -2));
    if (r.keyMask != null) and(expandDims(tf.cast(r.keyMask, 'bool'), -2));
    const t = dims(r.query)[1];
    const s = dims(r.value)[1];
    if (causal || this.slidingWindow != null) {
      if (queryRank !== 3 && this.slidingWindow != null) {
        throw new KerasInteropError('UNSUPPORTED_LAYER', `MultiHeadAttention "${this.name}": sliding_window needs 3-D inputs`);
      }
      const rows = tf.reshape(tf.range(0, t, 1, 'int32'), [1, t, 1]);
      const cols = tf.reshape(tf.range(0, s, 1, 'int32'), [1, 1, s]);
      if (causal) and(tf.greaterEqual(rows, cols));
      if (this.slidingWindow != null) and(tf.lessEqual(tf.abs(tf.sub(rows, cols)), this.slidingWindow - 1));
    }
    let mask = r.attentionMask == null ? null : tf.cast(r.attentionMask, 'bool');
    if (auto != null) mask = mask == null ? auto : tf.logicalAnd(mask, auto);
    return mask;
  }

  /** EinsumDense `abc,cde->abde` (+ bias `de`): (..., d) -> (..., heads, dim). */
  private projectIn(x: tf.Tensor, name: 'query' | 'key' | 'value'): tf.Tensor {
    const kernel = this.weightsByName[`${name}/kernel`]!.read();
    const [d, n, h] = dims(kernel);
    const xs = dims(x);
    if (xs[xs.length - 1] !== d) {
      throw new KerasInteropError('INPUT_MISMATCH', `MultiHeadAttention "${this.name}": ${name} has last dimension ${xs[xs.length - 1]}, the layer was built for ${d}`);
    }
    // One (rows, d) x (d, heads*dim) product, the bias added in the same kernel (XNNPACK on wasm).
    const bias = this.weightsByName[`${name}/bias`]?.read();
    const y = tf.fused.matMul({ a: tf.reshape(x, [-1, d]) as tf.Tensor2D, b: tf.reshape(kernel, [d, n * h]) as tf.Tensor2D, bias: bias && flatBias(bias) });
    return tf.reshape(y, [...xs.slice(0, -1), n, h]);
  }

  /** EinsumDense `abcd,cde->abe` (+ bias): (..., heads, value_dim) -> (..., *output_shape). */
  private projectOut(x: tf.Tensor): tf.Tensor {
    const kernel = this.weightsByName['attention_output/kernel']!.read();
    const ks = dims(kernel);
    const out = ks.slice(2);
    const xs = dims(x);
    const bias = this.weightsByName['attention_output/bias']?.read();
    const y = tf.fused.matMul({
      a: tf.reshape(x, [-1, ks[0] * ks[1]]) as tf.Tensor2D,
      b: tf.reshape(kernel, [ks[0] * ks[1], prod(out)]) as tf.Tensor2D,
      bias: bias && flatBias(bias),
    });
    return tf.reshape(y, [...xs.slice(0, -2), ...out]);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const returnScores = Boolean(kwargs?.returnAttentionScores ?? this.callReturnScores ?? false);
      this.lastReturnScores = returnScores;
      const causal = Boolean(kwargs?.useCausalMask ?? this.callCausal ?? false);
      const training = Boolean(kwargs?.training ?? false);
      const r = this.resolveInputs(inputs, kwargs);
      const mask = this.combinedMask(r, r.query.rank, causal);

      const q = tf.mul(this.projectIn(r.query, 'query'), 1 / Math.sqrt(this.keyDim));
      const k = this.projectIn(r.key ?? r.value, 'key');
      const v = this.projectIn(r.value, 'value');

      const rank = q.rank;
      const attnAxes = this.attentionAxes(rank);
      const batchAxes = Array.from({ length: rank }, (_, i) => i).filter((i) => !attnAxes.includes(i) && i !== rank - 1);
      const perm = [...batchAxes, ...attnAxes, rank - 1];
      const qs = dims(q);
      const ks = dims(k);
      const batchSizes = batchAxes.map((i) => qs[i]);
      const qAttn = attnAxes.map((i) => qs[i]);
      const kAttn = attnAxes.map((i) => ks[i]);
      const bFlat = prod(batchSizes);
      const tq = prod(qAttn);
      const tk = prod(kAttn);
      const flat = (x: tf.Tensor, t: number) => tf.reshape(tf.transpose(x, perm), [bFlat, t, dims(x)[rank - 1]]);

      let scores = tf.matMul(flat(q, tq), flat(k, tk), false, true);
      let boolMask: tf.Tensor | null = null;
      if (mask != null) {
        let m = mask;
        const scoresRank = batchAxes.length + 2 * attnAxes.length;
        while (m.rank < scoresRank) m = expandDims(m, -attnAxes.length * 2 - 1);
        boolMask = tf.reshape(tf.broadcastTo(m, [...batchSizes, ...qAttn, ...kAttn]), [bFlat, tq, tk]);
      }
      const fused = !this.kerasTwo && !returnScores && !(training && this.dropout > 0) && rank === 4;
      let probs: tf.Tensor;
      if (boolMask == null) {
        probs = tf.softmax(scores, -1);
      } else if (this.kerasTwo) {
        scores = tf.add(scores, tf.mul(tf.sub(1, tf.cast(boolMask, 'float32')), SOFTMAX_MASK_VALUE));
        probs = tf.softmax(scores, -1);
      } else if (fused) {
        probs = tf.softmax(tf.where(boolMask, scores, tf.fill(scores.shape, FUSED_MASK_VALUE)), -1);
      } else {
        probs = tf.softmax(tf.where(boolMask, scores, tf.fill(scores.shape, SOFTMAX_MASK_VALUE)), -1);
        probs = tf.where(boolMask, probs, tf.zerosLike(probs));
      }
      // As return_attention_scores gives them; read as (batch, the other batch axes (heads), queries, keys).
      tapAttention(this, inputs, tf.reshape(probs, [...batchSizes, ...qAttn, ...kAttn]), [batchSizes[0], prod(batchSizes.slice(1)), tq, tk]);
      const dropped = training && this.dropout > 0 ? tf.dropout(probs, this.dropout) : probs;
      const vFlat = flat(v, tk);
      const hv = dims(v)[rank - 1];
      const context = tf.reshape(tf.matMul(dropped, vFlat), [...batchSizes, ...qAttn, hv]);
      const inverse = perm.map((_, i) => perm.indexOf(i));
      const output = this.projectOut(tf.transpose(context, inverse));
      if (returnScores) return [output, tf.reshape(probs, [...batchSizes, ...qAttn, ...kAttn])];
      return output;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const { query, key } = this.shapesByRole(inputShape);
    const out = this.outputShapeSpec ?? [query[query.length - 1]];
    const output = [...query.slice(0, -1), ...out];
    if (!(this.callReturnScores ?? false)) return output;
    const rank = query.length + 1;
    const projQ = [...query.slice(0, -1), this.numHeads, this.keyDim];
    const projK = [...key.slice(0, -1), this.numHeads, this.keyDim];
    const attnAxes = this.attentionAxes(rank);
    const batchAxes = Array.from({ length: rank }, (_, i) => i).filter((i) => !attnAxes.includes(i) && i !== rank - 1);
    const scores = [...batchAxes.map((i) => projQ[i]), ...attnAxes.map((i) => projQ[i]), ...attnAxes.map((i) => projK[i])];
    return [output, scores];
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    let queryMask: tf.Tensor | null = null;
    if (Array.isArray(mask)) {
      const roles = this.rolesFor(Array.isArray(inputs) ? inputs.length : 1);
      queryMask = mask[Math.max(0, roles.indexOf('query'))] ?? null;
    } else {
      queryMask = mask ?? null;
    }
    if (this.lastReturnScores ?? this.callReturnScores) return [queryMask, null] as unknown as tf.Tensor[];
    return queryMask as tf.Tensor;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      ...super.getConfig(),
      dtype: configValue(this.dtypeConfig),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      dropout: this.dropout,
      useBias: this.useBias,
      outputShape: configValue(this.outputShapeConfig),
      attentionAxes: configValue(this.attentionAxesConfig),
      kernelInitializer: configValue(this.initializers.kernel),
      biasInitializer: configValue(this.initializers.bias),
      kernelRegularizer: configValue(this.regularizers.kernel),
      biasRegularizer: configValue(this.regularizers.bias),
      activityRegularizer: configValue(this.regularizers.activity),
      kernelConstraint: configValue(this.constraints.kernel),
      biasConstraint: configValue(this.constraints.bias),
    };
    for (const key of DIALECT_KEYS) {
      if (key in this.passthrough) config[key] = configValue(this.passthrough[key]);
    }
    return config;
  }
}
