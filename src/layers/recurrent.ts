/**
 * Keras's recurrent layers (`LSTM`, `GRU`, `SimpleRNN`, the generic `RNN`) and `Bidirectional`, replacing
 * tfjs's built-ins where they compute something else than Keras:
 * - GRU with `reset_after=True` (the default of tf.keras 2 and Keras 3: a (2, 3*units) bias, the recurrent
 *   part computed with its own bias and multiplied by the reset gate after the matmul), which tfjs refuses;
 * - `zero_output_for_mask`: Keras writes zeros at masked steps of the returned sequence (Bidirectional forces
 *   it whenever it returns sequences), tfjs repeats the previous output;
 * - `hard_sigmoid` is Keras 3's `relu6(x + 3) / 6` (keras-objects.ts), tfjs's is `clip(0.2 x + 0.5, 0, 1)`; files
 *   saved by Keras 1/2 say `hard_sigmoid_keras2` by the time they get here (normalize.ts), for Keras 2's formula.
 * The time loop follows Keras's NumPy/TF backends: a masked step keeps every state and outputs either zeros
 * or the previous output (`states[0]`); the sequence is returned in processing order (reversed with
 * `go_backwards`) and the last output is that of the last step processed.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import {
  configValue,
  deserializeLayer,
  resolveActivation,
  resolveInitializer,
  serializeLayer,
  weightSettings,
  type InitializerFallback,
  type SerializedLayer,
} from './keras-objects.js';
import type { ActivationFn, ConfigDict, ConfigDictValue, Initializer, Kwargs, LayerArgs, Shape } from './types.js';

/** tfjs's RNNCell type (the class itself is not exported). */
type RNNCell = tf.RNN['cell'];
type RNNArgs = ConstructorParameters<typeof tf.RNN>[0];

/** One step of a cell: the step's (already projected) input and the states → output and new states. */
type StepFn = (x: tf.Tensor, states: tf.Tensor[]) => [tf.Tensor, tf.Tensor[]];

// ---------------------------------------------------------------------------------------------------------
// Cells.

export interface RecurrentCellArgs extends LayerArgs {
  units: number;
  activation?: unknown;
  recurrentActivation?: unknown;
  useBias?: boolean;
  kernelInitializer?: unknown;
  recurrentInitializer?: unknown;
  biasInitializer?: unknown;
  kernelRegularizer?: unknown;
  recurrentRegularizer?: unknown;
  biasRegularizer?: unknown;
  kernelConstraint?: unknown;
  recurrentConstraint?: unknown;
  biasConstraint?: unknown;
  /** Training only: Keras ignores it at inference, and so does this implementation. */
  dropout?: number;
  /** Training only, as `dropout`. */
  recurrentDropout?: number;
  seed?: number | null;
  implementation?: number;
}

function clamp01(v: number | undefined): number {
  return Math.min(1, Math.max(0, v ?? 0));
}

/**
 * Common part of the three Keras cells. Besides tfjs's cell protocol (`call([x, ...states])` →
 * `[output, ...newStates]`, usable by tfjs's RNN and StackedRNNCells), a cell exposes `project` (the input
 * matmul for a whole sequence at once) and `stepFunction` (one step on a projected input), which the
 * layers below use so that the weights are read and sliced once per call rather than once per step.
 */
export abstract class KerasRecurrentCell extends tf.layers.Layer {
  abstract stateSize: number | number[];
  // tfjs's RNNCell members; dropout masks are never generated here.
  dropoutMask: tf.Tensor | tf.Tensor[] = null as unknown as tf.Tensor;
  recurrentDropoutMask: tf.Tensor | tf.Tensor[] = null as unknown as tf.Tensor;

  readonly units: number;
  readonly useBias: boolean;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly seed: number | null;
  protected readonly activationConfig: unknown;
  protected readonly recurrentActivationConfig: unknown;
  protected readonly activationFn: ActivationFn;
  protected readonly recurrentActivationFn: ActivationFn;
  protected readonly initializerConfigs: { kernel: unknown; recurrent: unknown; bias: unknown };
  protected readonly regularizerConfigs: { kernel: unknown; recurrent: unknown; bias: unknown };
  protected readonly constraintConfigs: { kernel: unknown; recurrent: unknown; bias: unknown };
  protected readonly implementation: number | undefined;
  kernel: tf.LayerVariable | null = null;
  recurrentKernel: tf.LayerVariable | null = null;
  bias: tf.LayerVariable | null = null;

  constructor(args: RecurrentCellArgs, defaults: { activation: string; recurrentActivation: string | null }) {
    super(args);
    const units = args.units;
    if (!Number.isInteger(units) || units <= 0) {
      throw new KerasInteropError('CONFIG_INVALID', `${this.getClassName()} "${this.name}": units must be a positive integer, got ${JSON.stringify(units)}`);
    }
    this.units = units;
    this.useBias = args.useBias ?? true;
    this.activationConfig = args.activation === undefined ? defaults.activation : args.activation;
    this.recurrentActivationConfig = args.recurrentActivation === undefined ? defaults.recurrentActivation : args.recurrentActivation;
    this.activationFn = resolveActivation(this.activationConfig, this.name).fn;
    this.recurrentActivationFn = resolveActivation(this.recurrentActivationConfig, this.name, 'recurrent_activation').fn;
    this.initializerConfigs = {
      kernel: args.kernelInitializer ?? 'glorotUniform',
      recurrent: args.recurrentInitializer ?? 'orthogonal',
      bias: args.biasInitializer ?? 'zeros',
    };
    this.regularizerConfigs = { kernel: args.kernelRegularizer ?? null, recurrent: args.recurrentRegularizer ?? null, bias: args.biasRegularizer ?? null };
    this.constraintConfigs = { kernel: args.kernelConstraint ?? null, recurrent: args.recurrentConstraint ?? null, bias: args.biasConstraint ?? null };
    this.dropout = clamp01(args.dropout);
    this.recurrentDropout = clamp01(args.recurrentDropout);
    this.seed = args.seed ?? null;
    this.implementation = args.implementation;
  }

  /** Width of the input projection (gates × units). */
  protected abstract get gates(): number;
  /** Shape of the bias weight. */
  protected abstract get biasShape(): number[];
  /** The step function, with the weights read (and sliced) once. */
  abstract stepFunction(): StepFn;
  /**
   * The input projection `x · kernel (+ input bias)` of `x` with shape `[..., inputDim]`, for the whole
   * sequence: the bias is added once here rather than at every step (Keras adds it after `h·U`; the sums
   * differ by float32 rounding only), one kernel fewer per step. The whole bias is the input's unless a
   * cell splits it (GRU with reset_after).
   */
  project(x: tf.Tensor): tf.Tensor {
    const { kernel, bias } = this.weightsOrThrow();
    const xk = this.matmulLast(x, kernel);
    return bias == null ? xk : tf.add(xk, bias);
  }

  protected biasInitializer(): Initializer {
    return resolveInitializer(this.initializerConfigs.bias, 'zeros');
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = Array.isArray(inputShape[0]) ? (inputShape as Shape[])[0] : (inputShape as Shape);
    const inputDim = shape[shape.length - 1];
    if (inputDim == null) {
      throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}": the last input dimension must be known`);
    }
    const width = this.gates * this.units;
    const weight = (name: string, shape: number[], role: 'kernel' | 'recurrent' | 'bias', fallback: InitializerFallback) => {
      const w = weightSettings(this.initializerConfigs[role], fallback, this.regularizerConfigs[role], this.constraintConfigs[role]);
      return this.addWeight(name, shape, 'float32', w.initializer, w.regularizer, true, w.constraint);
    };
    this.kernel = weight('kernel', [inputDim, width], 'kernel', 'glorotUniform');
    this.recurrentKernel = weight('recurrent_kernel', [this.units, width], 'recurrent', 'glorotUniform');
    if (this.useBias) this.bias = weight('bias', this.biasShape, 'bias', 'zeros');
    this.built = true;
  }

  /** `x · W` over the last axis of an input of any rank. */
  protected matmulLast(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
    if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
    const inner = x.shape[x.rank - 1];
    const flat = tf.reshape(x, [-1, inner]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(flat, w as tf.Tensor2D), [...x.shape.slice(0, -1), w.shape[w.rank - 1]]);
  }

  protected weightsOrThrow(): { kernel: tf.Tensor; recurrent: tf.Tensor; bias: tf.Tensor | null } {
    if (this.kernel == null || this.recurrentKernel == null) {
      throw new KerasInteropError('INTERNAL', `${this.getClassName()} "${this.name}" is used before it is built`);
    }
    return { kernel: this.kernel.read(), recurrent: this.recurrentKernel.read(), bias: this.bias ? this.bias.read() : null };
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const sizes = Array.isArray(this.stateSize) ? this.stateSize : [this.stateSize];
      if (list.length !== 1 + sizes.length) {
        throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}" expects the input and ${sizes.length} state(s), got ${list.length} tensors`);
      }
      const [out, states] = this.stepFunction()(this.project(list[0]), list.slice(1));
      return [out, ...states];
    });
  }

  override getConfig(): ConfigDict {
    const config: ConfigDict = {
      ...super.getConfig(),
      units: this.units,
      activation: configValue(this.activationConfig),
      recurrentActivation: configValue(this.recurrentActivationConfig),
      useBias: this.useBias,
      kernelInitializer: configValue(this.initializerConfigs.kernel),
      recurrentInitializer: configValue(this.initializerConfigs.recurrent),
      biasInitializer: configValue(this.initializerConfigs.bias),
      kernelRegularizer: configValue(this.regularizerConfigs.kernel),
      recurrentRegularizer: configValue(this.regularizerConfigs.recurrent),
      biasRegularizer: configValue(this.regularizerConfigs.bias),
      kernelConstraint: configValue(this.constraintConfigs.kernel),
      recurrentConstraint: configValue(this.constraintConfigs.recurrent),
      biasConstraint: configValue(this.constraintConfigs.bias),
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      seed: this.seed,
    };
    if (this.implementation !== undefined) config.implementation = this.implementation;
    return config;
  }
}

export interface LSTMCellArgs extends RecurrentCellArgs {
  unitForgetBias?: boolean;
}

/** Keras's LSTMCell: gates i, f, c, o; `z = x·W + h·U + b`, `c' = f*c + i*act(z_c)`, `h' = o*act(c')`. */
export class LSTMCell extends KerasRecurrentCell {
  static className = 'LSTMCell';
  override stateSize: number[];
  readonly unitForgetBias: boolean;

  constructor(args: LSTMCellArgs) {
    super(args, { activation: 'tanh', recurrentActivation: 'sigmoid' });
    this.unitForgetBias = args.unitForgetBias ?? true;
    this.stateSize = [this.units, this.units];
  }

  protected get gates(): number {
    return 4;
  }

  protected get biasShape(): number[] {
    return [4 * this.units];
  }

  override build(inputShape: Shape | Shape[]): void {
    super.build(inputShape);
    if (this.bias != null && this.unitForgetBias) {
      // Keras's unit_forget_bias initial value: [init(units), ones(units), init(2 units)].
      const u = this.units;
      const init = this.biasInitializer();
      const value = tf.tidy(() => tf.concat([init.apply([u]), tf.ones([u]), init.apply([2 * u])]));
      this.bias.write(value);
      value.dispose();
    }
  }

  stepFunction(): StepFn {
    const { recurrent } = this.weightsOrThrow();
    const u = this.units;
    return (xk, states) => {
      const [h, c] = states;
      const z = tf.add(xk, tf.matMul(h as tf.Tensor2D, recurrent as tf.Tensor2D));
      const [z0, z1, z2, z3] = tf.split(z, [u, u, u, u], -1);
      const i = this.recurrentActivationFn(z0);
      const f = this.recurrentActivationFn(z1);
      const cNew = tf.add(tf.mul(f, c), tf.mul(i, this.activationFn(z2)));
      const o = this.recurrentActivationFn(z3);
      const hNew = tf.mul(o, this.activationFn(cNew));
      return [hNew, [hNew, cNew]];
    };
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), unitForgetBias: this.unitForgetBias };
  }
}

export interface GRUCellArgs extends RecurrentCellArgs {
  /** Keras's default (tf.keras 2 and Keras 3) is true. */
  resetAfter?: boolean;
}

/**
 * Keras's GRUCell, gate order z, r, h, both conventions:
 * - `reset_after=False`: bias (3u,); `hh = act(x·W_h + b_h + (r*h)·U_h)`;
 * - `reset_after=True`: bias (2, 3u) = [input bias, recurrent bias]; `hh = act(x·W_h + b_h + r*(h·U_h + rb_h))`.
 * Then `h' = z*h + (1-z)*hh`.
 */
export class GRUCell extends KerasRecurrentCell {
  static className = 'GRUCell';
  override stateSize: number;
  readonly resetAfter: boolean;

  constructor(args: GRUCellArgs) {
    super(args, { activation: 'tanh', recurrentActivation: 'sigmoid' });
    this.resetAfter = args.resetAfter ?? true;
    this.stateSize = this.units;
  }

  protected get gates(): number {
    return 3;
  }

  protected get biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }

  private biases(bias: tf.Tensor | null): { input: tf.Tensor | null; recurrent: tf.Tensor | null } {
    if (bias == null) return { input: null, recurrent: null };
    if (!this.resetAfter) return { input: bias, recurrent: null };
    const [input, recurrent] = tf.unstack(bias, 0);
    return { input, recurrent };
  }

  override project(x: tf.Tensor): tf.Tensor {
    const { kernel, bias } = this.weightsOrThrow();
    const input = this.biases(bias).input;
    const xk = this.matmulLast(x, kernel);
    return input == null ? xk : tf.add(xk, input);
  }

  stepFunction(): StepFn {
    const { recurrent, bias } = this.weightsOrThrow();
    const u = this.units;
    const recurrentBias = this.biases(bias).recurrent;
    if (this.resetAfter) {
      return (xk, states) => {
        const h = states[0];
        const [xz, xr, xh] = tf.split(xk, [u, u, u], -1);
        let inner = tf.matMul(h as tf.Tensor2D, recurrent as tf.Tensor2D) as tf.Tensor;
        if (recurrentBias != null) inner = tf.add(inner, recurrentBias);
        const [rz, rr, rh] = tf.split(inner, [u, u, u], -1);
        const z = this.recurrentActivationFn(tf.add(xz, rz));
        const r = this.recurrentActivationFn(tf.add(xr, rr));
        const hh = this.activationFn(tf.add(xh, tf.mul(r, rh)));
        const hNew = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh));
        return [hNew, [hNew]];
      };
    }
    const [uzr, uh] = tf.split(recurrent, [2 * u, u], -1);
    return (xk, states) => {
      const h = states[0];
      const [xz, xr, xh] = tf.split(xk, [u, u, u], -1);
      const inner = tf.matMul(h as tf.Tensor2D, uzr as tf.Tensor2D);
      const [rz, rr] = tf.split(inner, [u, u], -1);
      const z = this.recurrentActivationFn(tf.add(xz, rz));
      const r = this.recurrentActivationFn(tf.add(xr, rr));
      const hh = this.activationFn(tf.add(xh, tf.matMul(tf.mul(r, h) as tf.Tensor2D, uh as tf.Tensor2D)));
      const hNew = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh));
      return [hNew, [hNew]];
    };
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), resetAfter: this.resetAfter };
  }
}

/** Keras's SimpleRNNCell: `h' = act(x·W + b + h·U)`. */
export class SimpleRNNCell extends KerasRecurrentCell {
  static className = 'SimpleRNNCell';
  override stateSize: number;

  constructor(args: RecurrentCellArgs) {
    super({ ...args, recurrentActivation: null }, { activation: 'tanh', recurrentActivation: null });
    this.stateSize = this.units;
  }

  protected get gates(): number {
    return 1;
  }

  protected get biasShape(): number[] {
    return [this.units];
  }

  stepFunction(): StepFn {
    const { recurrent } = this.weightsOrThrow();
    return (xk, states) => {
      const h = this.activationFn(tf.add(xk, tf.matMul(states[0] as tf.Tensor2D, recurrent as tf.Tensor2D)));
      return [h, [h]];
    };
  }

  override getConfig(): ConfigDict {
    const config = super.getConfig();
    delete config.recurrentActivation;
    return config;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Layers.

export interface KerasRNNArgs extends LayerArgs {
  /** Only for the generic `RNN`: a cell (object or `{className, config}`) or a list of cells. */
  cell?: tf.layers.Layer | SerializedLayer | (tf.layers.Layer | SerializedLayer)[];
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  stateful?: boolean;
  /** Accepted and ignored (tfjs always runs an imperative loop). */
  unroll?: boolean;
  zeroOutputForMask?: boolean;
  timeMajor?: boolean;
}

function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

/** The step mask of an RNN call: tfjs hands masks as a tensor, or a list whose first entry is the input's. */
function firstMask(mask: unknown): tf.Tensor | null {
  if (Array.isArray(mask)) return mask.length > 0 && isTensor(mask[0]) ? mask[0] : null;
  return isTensor(mask) ? mask : null;
}

function checkArgs(className: string, args: KerasRNNArgs): void {
  const name = args.name ?? className;
  if (args.stateful === true) {
    throw new KerasInteropError(
      'UNSUPPORTED_LAYER',
      `${className} "${name}": stateful=True is not supported (states carried between predict calls); rebuild the model with stateful=False to run it`,
    );
  }
  if (args.timeMajor === true) {
    throw new KerasInteropError('UNSUPPORTED_LAYER', `${className} "${name}": time_major=True is not supported`);
  }
}

/**
 * Keras's `RNN` layer and the base of LSTM, GRU and SimpleRNN. It extends tfjs's RNN (so tfjs's wrappers,
 * `apply` with initial states, `computeMask` and `computeOutputShape` work unchanged) but runs its own time
 * loop with Keras's masking semantics and `zero_output_for_mask`.
 */
export class RNN extends tf.RNN {
  static override className = 'RNN';
  /** Keras's `zero_output_for_mask`: zeros instead of the previous output at masked steps. */
  zeroOutputForMask: boolean;

  constructor(args: KerasRNNArgs & { cell?: unknown }) {
    checkArgs(new.target.className ?? 'RNN', args);
    super(RNN.rnnArgs(args));
    this.zeroOutputForMask = args.zeroOutputForMask ?? false;
  }

  private static rnnArgs(args: KerasRNNArgs & { cell?: unknown }): RNNArgs {
    const cell = args.cell;
    if (cell == null) throw new KerasInteropError('CONFIG_MISSING', `RNN "${args.name ?? 'rnn'}": the config has no "cell"`);
    const resolve = (c: unknown, i?: number): RNNCell => deserializeLayer(c, i == null ? 'cell' : `cells/${i}`) as unknown as RNNCell;
    const cells = Array.isArray(cell) ? cell.map((c, i) => resolve(c, i)) : resolve(cell);
    return { ...(args as RNNArgs), cell: cells as RNNArgs['cell'], stateful: false, unroll: args.unroll ?? false };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const args = (kwargs ?? {}) as Record<string, unknown>;
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const x = list[0];
      if (x == null || x.rank < 3) {
        throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}" expects inputs of rank 3 (batch, timesteps, features), got ${x == null ? 'none' : `rank ${x.rank}`}`);
      }
      const sizes = this.stateSizes();
      let initial: tf.Tensor[] | null = null;
      const given = args.initialState;
      if (Array.isArray(given) && given.length > 0 && given.every(isTensor)) initial = given as tf.Tensor[];
      else if (isTensor(given)) initial = [given];
      else if (list.length > 1) initial = list.slice(1);
      const [batch, steps] = x.shape as number[];
      if (steps === 0) {
        throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}": the input has no time steps`);
      }
      if (initial != null && initial.length !== sizes.length) {
        throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}" has ${sizes.length} state(s) but was given ${initial.length} initial state(s)`);
      }
      let states = initial ?? sizes.map((s) => tf.zeros([batch, s]));

      let mask = firstMask(args.mask);
      if (mask != null) {
        if (mask.size !== batch * steps) {
          throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}": mask of shape [${mask.shape.join(', ')}] does not match inputs of shape [${x.shape.join(', ')}]`);
        }
        mask = tf.reshape(tf.cast(mask, 'bool'), [batch, steps]);
      }
      const stepMasks = mask == null ? null : tf.unstack(tf.expandDims(mask, -1), 1);

      const cell = this.cell as unknown;
      let step: StepFn;
      let stepInputs: tf.Tensor[];
      if (cell instanceof KerasRecurrentCell) {
        step = cell.stepFunction();
        stepInputs = tf.unstack(cell.project(x), 1);
      } else {
        // Any other tfjs cell (StackedRNNCells, a user's cell): its own call, one step at a time.
        const generic = this.cell;
        const training = args.training;
        step = (xt, st) => {
          const out = generic.call([xt, ...st], { training }) as tf.Tensor[];
          return [out[0], out.slice(1)];
        };
        stepInputs = tf.unstack(x, 1);
      }

      const outputs: tf.Tensor[] = [];
      for (let k = 0; k < steps; k++) {
        const t = this.goBackwards ? steps - 1 - k : k;
        const prev = states;
        const result = tf.tidy(() => {
          let [out, next] = step(stepInputs[t], prev);
          if (stepMasks != null) {
            const m = stepMasks[t];
            next = next.map((s, i) => tf.where(m, s, prev[i]));
            out = tf.where(m, out, this.zeroOutputForMask ? tf.zerosLike(out) : prev[0]);
          }
          return [out, ...next];
        });
        outputs.push(result[0]);
        states = result.slice(1);
      }
      const output = this.returnSequences ? tf.stack(outputs, 1) : outputs[outputs.length - 1];
      return this.returnState ? [output, ...states] : output;
    });
  }

  private stateSizes(): number[] {
    const s = this.cell.stateSize;
    return Array.isArray(s) ? s : [s];
  }

  override getConfig(): ConfigDict {
    return { ...super.getConfig(), zeroOutputForMask: this.zeroOutputForMask };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: ConfigDict): T {
    return new cls(config);
  }
}

export interface LSTMArgs extends LSTMCellArgs, Omit<KerasRNNArgs, 'cell'> {}
export interface GRUArgs extends GRUCellArgs, Omit<KerasRNNArgs, 'cell'> {}
export interface SimpleRNNArgs extends RecurrentCellArgs, Omit<KerasRNNArgs, 'cell'> {}

/** The cell's own config keys of a layer config; the layer keeps name, dtype, trainable and the RNN keys. */
function cellArgs<T extends RecurrentCellArgs>(args: T, cellName: string): T {
  const out = { ...args, name: cellName } as T & Record<string, unknown>;
  for (const k of ['batchInputShape', 'inputShape', 'batchSize', 'inputDType', 'weights', 'returnSequences', 'returnState', 'goBackwards', 'stateful', 'unroll', 'zeroOutputForMask', 'timeMajor']) {
    delete out[k];
  }
  return out;
}

/** Keras's LSTM layer (weights kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u,)). */
export class LSTM extends RNN {
  static override className = 'LSTM';

  constructor(args: LSTMArgs) {
    super({ ...args, cell: new LSTMCell(cellArgs(args, 'lstm_cell')) });
  }
}

/** Keras's GRU layer, both `reset_after` conventions (weights kernel (in, 3u), recurrent_kernel (u, 3u), bias). */
export class GRU extends RNN {
  static override className = 'GRU';

  constructor(args: GRUArgs) {
    super({ ...args, cell: new GRUCell(cellArgs(args, 'gru_cell')) });
  }
}

/** Keras's SimpleRNN layer (weights kernel (in, u), recurrent_kernel (u, u), bias (u,)). */
export class SimpleRNN extends RNN {
  static override className = 'SimpleRNN';

  constructor(args: SimpleRNNArgs) {
    super({ ...args, cell: new SimpleRNNCell(cellArgs(args, 'simple_rnn_cell')) });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Bidirectional.

type TfBidirectional = ReturnType<typeof tf.layers.bidirectional>;
type TfBidirectionalArgs = Parameters<typeof tf.layers.bidirectional>[0];
type MergeMode = TfBidirectionalArgs['mergeMode'];

/** tfjs does not export its Bidirectional class; an instance gives it (no weights are made). */
const TfBidirectionalBase = Object.getPrototypeOf(
  tf.layers.bidirectional({ layer: tf.layers.simpleRNN({ units: 1 }) as unknown as TfBidirectionalArgs['layer'] }),
).constructor as new (args: TfBidirectionalArgs) => TfBidirectional;

export interface BidirectionalArgs extends LayerArgs {
  /** The forward layer: a layer object or `{className, config}`. */
  layer: tf.layers.Layer | SerializedLayer;
  mergeMode?: MergeMode | null;
  /** Keras's optional explicit backward layer; by default the mirror of `layer` (go_backwards flipped). */
  backwardLayer?: tf.layers.Layer | SerializedLayer | null;
}

interface BidirectionalInternals {
  forwardLayer: tf.layers.Layer;
  backwardLayer: tf.layers.Layer;
  returnSequences: boolean;
}

/**
 * Keras's Bidirectional: tfjs's wrapper (forward and backward sub-layers, backward output flipped along time
 * when returning sequences, merge modes concat/sum/ave/mul/None), plus what Keras adds: both sub-layers'
 * `zero_output_for_mask` is set to `return_sequences`, and an explicit `backward_layer` is honoured.
 */
export class Bidirectional extends TfBidirectionalBase {
  static className = 'Bidirectional';
  private readonly customBackward: boolean;

  constructor(args: BidirectionalArgs) {
    const layer = deserializeLayer(args.layer, 'layer');
    super({ ...(args as unknown as TfBidirectionalArgs), layer: layer as TfBidirectionalArgs['layer'], mergeMode: args.mergeMode as MergeMode });
    const self = this as unknown as BidirectionalInternals;
    this.customBackward = args.backwardLayer != null;
    if (args.backwardLayer != null) {
      const backward = deserializeLayer(args.backwardLayer, 'backward_layer');
      const goBackwards = (l: tf.layers.Layer) => (l as unknown as { goBackwards?: boolean }).goBackwards === true;
      if (goBackwards(backward) === goBackwards(self.forwardLayer)) {
        throw new KerasInteropError('CONFIG_INVALID', `Bidirectional "${this.name}": the forward and backward layers must have different go_backwards values`);
      }
      if (!backward.name.startsWith('backward_')) backward.name = 'backward_' + backward.name;
      self.backwardLayer = backward;
    }
    for (const sub of [self.forwardLayer, self.backwardLayer]) {
      const rnn = sub as unknown as { zeroOutputForMask?: boolean; returnSequences?: boolean };
      if (rnn.zeroOutputForMask !== undefined) rnn.zeroOutputForMask = rnn.returnSequences === true;
    }
  }

  /** The forward sub-layer (`forward_<name>`). */
  get forward(): tf.layers.Layer {
    return (this as unknown as BidirectionalInternals).forwardLayer;
  }

  /** The backward sub-layer (`backward_<name>`). */
  get backward(): tf.layers.Layer {
    return (this as unknown as BidirectionalInternals).backwardLayer;
  }

  override getConfig(): ConfigDict {
    const config = super.getConfig();
    if (this.customBackward) {
      const b = this.backward;
      config.backwardLayer = serializeLayer(b) as unknown as ConfigDictValue;
    }
    return config;
  }

  static fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: ConfigDict): T {
    if (config.numConstants != null) {
      throw new KerasInteropError('UNSUPPORTED_LAYER', 'Bidirectional with constants (num_constants) is not supported');
    }
    const args = { ...config } as Record<string, unknown>;
    args.layer = deserializeLayer(config.layer, 'layer');
    if (config.backwardLayer != null) args.backwardLayer = deserializeLayer(config.backwardLayer, 'backward_layer');
    return new cls(args);
  }
}
