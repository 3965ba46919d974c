/**
 * `AttentionRNNWrapper(layer)` of FlashTek's kulc (`kulc/attention.py` @9479647): Luong-style
 * "input feeding" around an LSTM, GRU or SimpleRNN (or an `RNN` of one of their cells). Per step, with
 * `h` the previous output and X the whole input sequence (B, T, D):
 *   attention = softmax over t of ((X W1 + b2) + h W2) V          (B, T, 1)
 *   x_weighted = sum_t attention * X                              (B, D)
 *   cell input = [x_t; x_weighted] W3 + b3                        (B, D)
 * then one step of the wrapped layer's cell. Weights: its own `W1` (D, D), `W2` (U, D), `W3` (2D, D),
 * `b2`, `b3` (D,), `V` (D, 1), named `<layer>_W1` ..., then the cell's kernel (D, gates*U),
 * recurrent_kernel and bias (Keras 2.2.4's `trainable_weights` order).
 *
 * The time loop is Keras 2's `K.rnn`: `go_backwards` reverses the steps (X stays as it is: the attention
 * sums over all of it), a masked step keeps every state and repeats the previous output, sequences come
 * back in processing order, and the wrapped layer's return_sequences / return_state decide the outputs.
 * Its activations are the wrapped layer's (a Keras 2 file's `hard_sigmoid` is Keras 2's: normalize.ts).
 * Keras 2.2.4 builds the wrapper only with return_sequences == return_state (its build reads the wrapped
 * layer's output shape that way); the other combinations are computed the same way here.
 *
 * `AttentionWrapperBase` holds what `ExternalAttentionRNNWrapper` (external-attention-rnn-wrapper.ts)
 * shares: the wrapped layer, the six attention weights and the weights list.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { configValue, deserializeLayer, resolveInitializer, serializeLayer, type SerializedLayer } from './keras-objects.js';
import { KerasRecurrentCell, RNN } from './recurrent.js';
import type { Kwargs, LayerArgs, Shape } from './types.js';
import { attentionTapsOn, tapAttention } from '../runtime/attention-taps.js';

export interface AttentionRNNWrapperArgs extends LayerArgs {
  /** The wrapped recurrent layer: a layer object or `{className, config}`. */
  layer: tf.layers.Layer | SerializedLayer;
  weightInitializer?: unknown;
}

/** The six attention weights, read. */
export interface AttentionWeights {
  W1: tf.Tensor2D;
  W2: tf.Tensor2D;
  W3: tf.Tensor2D;
  b2: tf.Tensor1D;
  b3: tf.Tensor1D;
  V: tf.Tensor2D;
}

/** The step mask of a call: a tensor, or the first of a list. */
export function stepMask(mask: unknown): tf.Tensor | null {
  const m = Array.isArray(mask) ? mask[0] : mask;
  return m instanceof tf.Tensor ? m : null;
}

export abstract class AttentionWrapperBase extends tf.layers.Layer {
  /** The wrapped layer (its return_sequences, return_state and go_backwards apply). */
  readonly layer: RNN;
  readonly cell: KerasRecurrentCell;
  protected readonly weightInitializer: unknown;
  private attention: Partial<Record<keyof AttentionWeights, tf.LayerVariable>> = {};

  constructor(args: AttentionRNNWrapperArgs) {
    super(args);
    const layer = deserializeLayer(args.layer, 'layer');
    const cell = (layer as { cell?: unknown }).cell;
    if (!(layer instanceof RNN) || !(cell instanceof KerasRecurrentCell)) {
      throw new KerasInteropError(
        'UNSUPPORTED_LAYER',
        `${this.getClassName()} "${this.name}" wraps ${layer.getClassName()}: supported are LSTM, GRU, SimpleRNN and RNN of one of their cells`,
      );
    }
    this.layer = layer;
    this.cell = cell;
    this.weightInitializer = args.weightInitializer ?? 'glorotUniform';
    this.supportsMasking = true;
  }

  /** kulc's own weights first, then the wrapped cell's: Keras 2.2.4's `trainable_weights` property. */
  override get trainableWeights(): tf.LayerVariable[] {
    return [...super.trainableWeights, ...(this.cell?.trainableWeights ?? [])];
  }

  override set trainableWeights(weights: tf.LayerVariable[]) {
    super.trainableWeights = weights;
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    return [...super.nonTrainableWeights, ...(this.cell?.nonTrainableWeights ?? [])];
  }

  override set nonTrainableWeights(weights: tf.LayerVariable[]) {
    super.nonTrainableWeights = weights;
  }

  /** Builds the cell on `cellInputDim` features and the six weights with kulc's shapes. */
  protected buildAttention(shapes: Record<keyof AttentionWeights, number[]>, cellInputDim: number): void {
    // Keras 2.2.4 builds the wrapped layer on the input shape: the cell takes D features.
    this.cell.build([null, cellInputDim]);
    this.cell.built = true;
    const init = resolveInitializer(this.weightInitializer, 'glorotUniform');
    for (const key of ['W1', 'W2', 'W3', 'b2', 'b3', 'V'] as const) {
      this.attention[key] = this.addWeight(`${this.name}_${key}`, shapes[key], 'float32', init, undefined, true);
    }
    this.built = true;
  }

  protected readAttention(): AttentionWeights {
    const read = (key: keyof AttentionWeights) => {
      const v = this.attention[key];
      if (!v) throw new KerasInteropError('INTERNAL', `${this.getClassName()} "${this.name}" is used before it is built`);
      return v.read();
    };
    return {
      W1: read('W1') as tf.Tensor2D, W2: read('W2') as tf.Tensor2D, W3: read('W3') as tf.Tensor2D,
      b2: read('b2') as tf.Tensor1D, b3: read('b3') as tf.Tensor1D, V: read('V') as tf.Tensor2D,
    };
  }

  protected get units(): number {
    return this.cell.units;
  }

  protected stateSizes(): number[] {
    const s = this.cell.stateSize;
    return Array.isArray(s) ? s : [s];
  }

  /** The outputs' shapes for a temporal input (B, T, D): the output, then each state. */
  protected rnnOutputShapes(input: Shape): Shape[] {
    const [batch, steps] = input;
    const out: Shape = this.layer.returnSequences ? [batch, steps, this.units] : [batch, this.units];
    return this.layer.returnState ? [out, ...this.stateSizes().map((s): Shape => [batch, s])] : [out];
  }

  /**
   * kulc's step around the cell for a whole sequence: `context` (B, S, Dc) is what the attention looks
   * at (the input itself, or the external input), `contextProjection` = context W1 + b2. Returns the
   * outputs in processing order, each step's attention (B, S), and the final states.
   */
  protected runSteps(
    x: tf.Tensor3D,
    context: tf.Tensor3D,
    initial: tf.Tensor[] | null,
    mask: tf.Tensor | null,
  ): { outputs: tf.Tensor2D[]; attentions: tf.Tensor2D[]; states: tf.Tensor[] } {
    const w = this.readAttention();
    const [batch, steps] = x.shape;
    const sizes = this.stateSizes();
    if (initial != null && initial.length !== sizes.length) {
      throw new KerasInteropError('INPUT_MISMATCH', `${this.getClassName()} "${this.name}" has ${sizes.length} state(s) but was given ${initial.length} initial state(s)`);
    }
    const projection = tf.add(matmulLast(context, w.W1), w.b2);
    const step = this.cell.stepFunction();
    const inputs = tf.unstack(x, 1) as tf.Tensor2D[];
    const stepMasks = mask == null ? null : tf.unstack(tf.expandDims(tf.reshape(tf.cast(mask, 'bool'), [batch, steps]), -1), 1);
    let states = initial ?? sizes.map((s) => tf.zeros([batch, s]));
    const outputs: tf.Tensor2D[] = [];
    const attentions: tf.Tensor2D[] = [];
    for (let k = 0; k < steps; k++) {
      const t = this.layer.goBackwards ? steps - 1 - k : k;
      const prev = states;
      const [out, att, ...next] = tf.tidy(() => {
        const hw = tf.expandDims(tf.matMul(prev[0] as tf.Tensor2D, w.W2), 1);
        const logits = tf.squeeze(matmulLast(tf.add(projection, hw), w.V), [2]);
        const attention = tf.softmax(logits, -1) as tf.Tensor2D;
        const weighted = tf.sum(tf.mul(tf.expandDims(attention, -1), context), 1) as tf.Tensor2D;
        const cellInput = tf.add(tf.matMul(tf.concat([inputs[t], weighted], 1), w.W3), w.b3);
        let [output, newStates] = step(this.cell.project(cellInput), prev);
        if (stepMasks != null) {
          const m = stepMasks[t];
          newStates = newStates.map((s, i) => tf.where(m, s, prev[i]));
          output = tf.where(m, output, prev[0]);
        }
        return [output, attention, ...newStates];
      });
      outputs.push(out as tf.Tensor2D);
      attentions.push(att as tf.Tensor2D);
      states = next;
    }
    return { outputs, attentions, states };
  }

  /** The wrapped layer's outputs from the steps: the sequence or the last output, then the states. */
  protected rnnOutputs(outputs: tf.Tensor2D[], states: tf.Tensor[]): tf.Tensor[] {
    const output = this.layer.returnSequences ? tf.stack(outputs, 1) : outputs[outputs.length - 1];
    return this.layer.returnState ? [output, ...states] : [output];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), layer: serializeLayer(this.layer) as unknown as tf.serialization.ConfigDictValue, weightInitializer: configValue(this.weightInitializer) };
  }
}

/** `x · W` over the last axis of a rank-3 tensor. */
function matmulLast(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor3D {
  const [b, t, d] = x.shape as number[];
  return tf.reshape(tf.matMul(tf.reshape(x, [b * t, d]) as tf.Tensor2D, w), [b, t, w.shape[1]]) as tf.Tensor3D;
}

export class AttentionRNNWrapper extends AttentionWrapperBase {
  static className = 'AttentionRNNWrapper';

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const d = shape[2];
    if (shape.length !== 3 || d == null) {
      throw new KerasInteropError('INPUT_MISMATCH', `AttentionRNNWrapper "${this.name}" expects (batch, time, features) with known features, got [${shape.join(', ')}]`);
    }
    const u = this.units;
    this.buildAttention({ W1: [d, d], W2: [u, d], W3: [2 * d, d], b2: [d], b3: [d], V: [d, 1] }, d);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const x = list[0] as tf.Tensor3D;
    if (x == null || x.rank !== 3) {
      throw new KerasInteropError('INPUT_MISMATCH', `AttentionRNNWrapper "${this.name}" expects inputs of rank 3 (batch, time, features)`);
    }
    const initial = list.length > 1 ? list.slice(1) : null;
    const result = tf.tidy(() => {
      const { outputs, attentions, states } = this.runSteps(x, x, initial, stepMask(kwargs?.['mask']));
      // One row per step, in the order the steps ran: (batch, steps, timesteps attended to).
      if (attentionTapsOn()) tapAttention(this, inputs, tf.stack(attentions, 1));
      return this.rnnOutputs(outputs, states);
    });
    return result.length === 1 ? result[0] : result;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const shapes = this.rnnOutputShapes(shape);
    return shapes.length === 1 ? shapes[0] : shapes;
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const m = this.layer.returnSequences ? stepMask(mask) : null;
    return (this.layer.returnState ? [m, ...this.stateSizes().map(() => null)] : m) as tf.Tensor | tf.Tensor[];
  }
}
