/**
 * What Keras's `Attention` (Luong) and `AdditiveAttention` (Bahdanau) share, as Keras's
 * `BaseDenseAttention` (tf.keras 2) and Keras 3's `Attention` base do: inputs `[query, value]` or
 * `[query, value, key]` (key defaults to value), a score per (query step, key step) computed by the
 * subclass, the value mask and the causal mask turned into `scores -= 1e9` at the masked keys, a
 * softmax over the keys, the weights applied to the value, and the output zeroed at masked query steps.
 * Output (batch, Tq, dim of value), plus the (batch, Tq, Tv) weights with `return_attention_scores`; the
 * output carries the query's mask. Dropout on the weights only acts in training: inert here. In the tfjs
 * graph an input equal to its default may be left out (`withoutDefaultedInputs`).
 *
 * The causal flag is tf.keras <= 2.9's constructor `causal` or the later call argument
 * `use_causal_mask`; call arguments come from the node's kwargs, which tfjs hands over when it wires the
 * graph (its `predict` passes none), so they are kept from then.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { refuseUnknownKeys } from './config-keys.js';
import { configValue } from './keras-objects.js';
import { type Kwargs, type LayerArgs, type MaskArg, type Shape, maskOfInput } from './types.js';
import { tapAttention } from '../runtime/attention-taps.js';

export interface DenseAttentionArgs extends LayerArgs {
  useScale?: boolean;
  dropout?: number;
  /** tf.keras <= 2.9: a constructor argument (later the call's `use_causal_mask`). */
  causal?: boolean;
  /** Keras 3 (dropout's seed). */
  seed?: number | null;
}

/** What Keras subtracts from the scores of masked keys (float32). */
const MASKED_SCORE = 1e9;

export abstract class DenseAttention extends tf.layers.Layer {
  readonly useScale: boolean;
  readonly dropout: number;
  /** The constructor's `causal`, when the config has it (tf.keras <= 2.9). */
  readonly causal: boolean | undefined;
  readonly seed: number | null | undefined;

  private callCausal: boolean | null = null;
  private callReturnScores: boolean | null = null;

  /** `keys`: the config keys this class takes besides the base ones (camelCase, as tfjs hands them). */
  constructor(args: DenseAttentionArgs, keys: readonly string[]) {
    super(args);
    refuseUnknownKeys(this.getClassName(), this.name, args, ['useScale', 'dropout', 'causal', 'seed', ...keys]);
    this.useScale = args.useScale ?? false;
    this.dropout = args.dropout ?? 0;
    this.causal = args.causal;
    this.seed = args.seed;
    this.supportsMasking = true;
  }

  /** Scores (batch, Tq, Tv) of every query step against every key step. */
  protected abstract scores(query: tf.Tensor, key: tf.Tensor): tf.Tensor;

  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[],
    kwargs?: Kwargs,
  ): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list[0] instanceof tf.SymbolicTensor) {
      if (kwargs != null && 'useCausalMask' in kwargs) this.callCausal = Boolean(kwargs.useCausalMask);
      if (kwargs != null && 'returnAttentionScores' in kwargs) this.callReturnScores = Boolean(kwargs.returnAttentionScores);
      // tfjs's predict counts a tensor's consumers once but releases it once per input slot, so a node
      // reading one tensor twice ([x, x]) frees it before its other consumers run. The node records
      // the shortest list that means the same: a missing key is the value, a missing value the query.
      return super.apply(withoutDefaultedInputs(list as tf.SymbolicTensor[]), kwargs);
    }
    return super.apply(inputs, kwargs);
  }

  protected returnsScores(kwargs?: Kwargs): boolean {
    return Boolean(kwargs?.returnAttentionScores ?? this.callReturnScores ?? false);
  }

  private isCausal(kwargs?: Kwargs): boolean {
    return Boolean(kwargs?.useCausalMask ?? this.callCausal ?? this.causal ?? false);
  }

  /** `[query, value?, key?]` shapes (see `withoutDefaultedInputs`). */
  protected shapes(inputShape: Shape | Shape[]): { query: Shape; value: Shape; key: Shape } {
    const list = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
    if (list.length > 3) {
      throw new KerasInteropError(
        'INPUT_MISMATCH',
        `${this.getClassName()} "${this.name}" takes a list [query, value] or [query, value, key], got ${JSON.stringify(inputShape)}`,
      );
    }
    const [query, value, key] = list;
    // Keras transposes the key with axes [0, 2, 1]: every input is (batch, steps, features).
    list.forEach((shape, i) => {
      if (!Array.isArray(shape) || shape.length !== 3) {
        const what = ['query', 'value', 'key'][i];
        throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}": the ${what} must have shape (batch, steps, features), got ${JSON.stringify(shape)}`);
      }
    });
    return { query, value: value ?? query, key: key ?? value ?? query };
  }

  protected lastDim(shape: Shape, what: string): number {
    const d = shape[shape.length - 1];
    if (d == null) throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}": the last dimension of the ${what} must be known`);
    return d;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length > 3) {
      throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}" takes [query, value] or [query, value, key], got ${list.length} inputs`);
    }
    const [query] = list;
    const value = list[1] ?? query;
    const key = list[2] ?? value;
    const [queryMask, valueMask] = inputMasks(list, kwargs?.mask as MaskArg);
    const returnScores = this.returnsScores(kwargs);
    const causal = this.isCausal(kwargs);
    const out = tf.tidy(() => {
      let scores = this.scores(query, key);
      const [, tq, tv] = scores.shape;
      let keep: tf.Tensor | null = valueMask == null ? null : tf.expandDims(tf.cast(valueMask, 'bool'), -2);
      if (causal) {
        const rows = tf.reshape(tf.range(0, tq, 1, 'int32'), [1, tq, 1]);
        const cols = tf.reshape(tf.range(0, tv, 1, 'int32'), [1, 1, tv]);
        const lower = tf.greaterEqual(rows, cols);
        keep = keep == null ? lower : tf.logicalAnd(keep, lower);
      }
      // As Keras: a subtraction, not a replacement, so a row with every key masked stays a softmax of its scores.
      if (keep != null) scores = tf.sub(scores, tf.mul(tf.cast(tf.logicalNot(keep), 'float32'), MASKED_SCORE));
      const weights = tf.softmax(scores, -1);
      tapAttention(this, inputs, weights);
      let output = tf.matMul(weights, value);
      if (queryMask != null) output = tf.mul(output, tf.expandDims(tf.cast(queryMask, 'float32'), -1));
      return returnScores ? [output, weights] : [output];
    });
    return returnScores ? out : out[0];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const { query, value, key } = this.shapes(inputShape);
    const output: Shape = [...query.slice(0, -1), value[value.length - 1]];
    if (!(this.callReturnScores ?? false)) return output;
    return [output, [...query.slice(0, -1), key[key.length - 2]]];
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const queryMask = inputMasks(list, mask as MaskArg)[0];
    // tfjs types computeMask as never returning null, but null is how its graph code spells "no mask".
    const out = (this.callReturnScores ?? false) ? [queryMask, null] : queryMask;
    return out as unknown as tf.Tensor | tf.Tensor[];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), useScale: this.useScale, dropout: this.dropout };
    if (this.causal !== undefined) config.causal = this.causal;
    if (this.seed !== undefined) config.seed = configValue(this.seed);
    return config;
  }
}

/** The query's and the value's masks (a one-input call is self-attention: the value is the query). */
function inputMasks(inputs: tf.Tensor[], mask: MaskArg): [tf.Tensor | null, tf.Tensor | null] {
  const query = maskOfInput(inputs, 0, mask);
  return [query, inputs.length > 1 ? maskOfInput(inputs, 1, mask) : query];
}

/**
 * `[query, value, key]` without the trailing inputs that equal their default: the key when it is the
 * value, then the value when it is the query. `[x, x]` is `[x]`: one input is self-attention (a form
 * only our tfjs graphs use; Keras always takes a list of two or three).
 */
export function withoutDefaultedInputs<T>(inputs: T[]): T[] {
  const out = inputs.slice();
  if (out.length === 3 && out[2] === out[1]) out.pop();
  if (out.length === 2 && out[1] === out[0]) out.pop();
  return out;
}
