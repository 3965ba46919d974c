/**
 * The legacy `Merge` layer of Keras 1 and Keras 2.0 (`keras.legacy.layers.Merge`, the functional
 * `merge(...)`): one layer for every merge mode, `mode` in its config.
 * - `sum`, `mul`, `ave`, `max`: elementwise over all inputs (same shapes);
 * - `concat`: along `concat_axis` (counting the batch axis, negative from the end);
 * - `dot`: Keras's `batch_dot` of two inputs over `dot_axes` (an int for both, or a pair; negative
 *   counts from the end): 2-D inputs give (batch, 1), 3-D ones the matrix product (batch, m, n);
 * - `cos`: `batch_dot(a, b) / max(sqrt(batch_dot(a, a) * batch_dot(b, b)), 1e-7)` of two 2-D inputs,
 *   then, as Keras computes it, a new axis 1: (batch, 1, 1) (Keras's declared shape says (batch, 1), the
 *   tensor it returns has three axes, and the layers after it see those).
 * A `mode` that is a Python function (`mode_type` lambda/function) is code in the file: refused.
 * Masks as Keras's `compute_mask`: elementwise modes AND them, `concat` joins them along the axis, `dot`
 * and `cos` give none.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { refuseUnknownKeys } from './config-keys.js';
import { configValue } from './keras-objects.js';
import type { Kwargs, LayerArgs, Shape } from './types.js';

export type MergeMode = 'sum' | 'mul' | 'concat' | 'ave' | 'cos' | 'dot' | 'max';
const MODES: readonly MergeMode[] = ['sum', 'mul', 'concat', 'ave', 'cos', 'dot', 'max'];

export interface MergeArgs extends LayerArgs {
  mode?: string;
  modeType?: string;
  concatAxis?: number;
  dotAxes?: number | number[];
  outputShape?: unknown;
  outputShapeType?: string;
  outputMask?: unknown;
  outputMaskType?: string;
  arguments?: unknown;
}

/** `K.epsilon()`. */
const EPSILON = 1e-7;

export class Merge extends tf.layers.Layer {
  static className = 'Merge';

  readonly mode: MergeMode;
  readonly concatAxis: number;
  readonly dotAxes: number | number[];

  constructor(args: MergeArgs = {}) {
    super(args);
    refuseUnknownKeys('Merge', this.name, args, ['mode', 'modeType', 'concatAxis', 'dotAxes', 'outputShape', 'outputShapeType', 'outputMask', 'outputMaskType', 'arguments']);
    const where = `Merge "${this.name}"`;
    if ((args.modeType !== undefined && args.modeType !== 'raw') || !MODES.includes(args.mode as MergeMode)) {
      const code = args.modeType === 'lambda' || args.modeType === 'function' ? 'LAMBDA_LAYER' : 'UNSUPPORTED_LAYER';
      throw new KerasInteropError(
        code,
        `${where}: mode ${JSON.stringify(args.mode)}${args.modeType ? ` (mode_type ${args.modeType})` : ''} is not one of ${MODES.join(', ')}; a Python function as mode is never run here`,
      );
    }
    if (args.outputMask != null && args.outputMaskType !== undefined && args.outputMaskType !== 'raw') {
      throw new KerasInteropError('LAMBDA_LAYER', `${where}: output_mask is a Python function (${args.outputMaskType}); it is never run here`);
    }
    this.mode = args.mode as MergeMode;
    this.concatAxis = args.concatAxis ?? -1;
    const axes = args.dotAxes ?? -1;
    if (!(Number.isInteger(axes) || (Array.isArray(axes) && axes.length === 2 && axes.every(Number.isInteger)))) {
      throw new KerasInteropError('CONFIG_INVALID', `${where}: dot_axes must be an int or a pair of ints, got ${JSON.stringify(axes)}`);
    }
    this.dotAxes = axes;
    this.supportsMasking = true;
  }

  /** The two contracted axes, made non-negative for inputs of ranks `r1`, `r2`. */
  private axes(r1: number, r2: number): [number, number] {
    const [a, b] = Array.isArray(this.dotAxes) ? this.dotAxes : [this.dotAxes, this.dotAxes];
    return [a < 0 ? a + r1 : a, b < 0 ? b + r2 : b];
  }

  private checkPair(shapes: Shape[]): [Shape, Shape] {
    const where = `Merge "${this.name}" (mode ${this.mode})`;
    if (shapes.length !== 2) throw new KerasInteropError('INPUT_MISMATCH', `${where} takes exactly 2 inputs, got ${shapes.length}`);
    const [s1, s2] = shapes;
    const rank = s1.length;
    if (rank !== s2.length || rank < 2 || rank > 3 || (this.mode === 'cos' && rank !== 2)) {
      throw new KerasInteropError(
        'UNSUPPORTED_LAYER',
        `${where}: inputs of shapes ${JSON.stringify(s1)} and ${JSON.stringify(s2)} are not supported (two 2-D or 3-D inputs${this.mode === 'cos' ? '; cos: 2-D' : ''})`,
      );
    }
    const [a, b] = this.axes(rank, rank);
    if (a < 1 || b < 1 || a >= rank || b >= rank) {
      throw new KerasInteropError('CONFIG_INVALID', `${where}: dot_axes ${JSON.stringify(this.dotAxes)} do not name non-batch axes of rank-${rank} inputs`);
    }
    if (s1[a] != null && s2[b] != null && s1[a] !== s2[b]) {
      throw new KerasInteropError('INPUT_MISMATCH', `${where}: axis ${a} of ${JSON.stringify(s1)} and axis ${b} of ${JSON.stringify(s2)} differ`);
    }
    return [s1, s2];
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = toShapes(inputShape);
    if (shapes.length < 2) throw new KerasInteropError('INPUT_MISMATCH', `Merge "${this.name}" takes a list of at least 2 inputs`);
    if (this.mode === 'dot' || this.mode === 'cos') this.checkPair(shapes);
    this.built = true;
  }

  /** Keras's `batch_dot` for two inputs of rank 2 or 3. */
  private batchDot(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    const [a, b] = this.axes(x.rank, y.rank);
    if (x.rank === 2) return tf.sum(tf.mul(x, y), 1, true);
    return tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, a === 1, b === 2);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    return tf.tidy(() => {
      switch (this.mode) {
        case 'sum':
          return list.slice(1).reduce((s, x) => tf.add(s, x), list[0]);
        case 'ave':
          return tf.div(list.slice(1).reduce((s, x) => tf.add(s, x), list[0]), list.length);
        case 'mul':
          return list.slice(1).reduce((s, x) => tf.mul(s, x), list[0]);
        case 'max':
          return list.slice(1).reduce((s, x) => tf.maximum(s, x), list[0]);
        case 'concat':
          return tf.concat(list, this.concatAxis < 0 ? list[0].rank + this.concatAxis : this.concatAxis);
        case 'dot':
          return this.batchDot(list[0], list[1]);
        case 'cos': {
          const [x, y] = list;
          const denominator = tf.maximum(tf.sqrt(tf.mul(this.batchDot(x, x), this.batchDot(y, y))), EPSILON);
          return tf.expandDims(tf.div(this.batchDot(x, y), denominator), 1);
        }
      }
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = toShapes(inputShape);
    const first = shapes[0];
    if (this.mode === 'concat') {
      const axis = this.concatAxis < 0 ? first.length + this.concatAxis : this.concatAxis;
      const out = first.slice();
      out[axis] = shapes.some((s) => s[axis] == null) ? null : shapes.reduce((n, s) => n + (s[axis] as number), 0);
      return out;
    }
    if (this.mode === 'dot' || this.mode === 'cos') {
      const [s1, s2] = this.checkPair(shapes);
      if (this.mode === 'cos') return [s1[0], 1, 1];
      if (s1.length === 2) return [s1[0], 1];
      const [a, b] = this.axes(3, 3);
      return [s1[0], s1[3 - a], s2[3 - b]];
    }
    return first.slice();
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const masks = (Array.isArray(mask) ? mask : [mask]).map((m) => m ?? null);
    // tfjs types computeMask as never returning null, but null is how its graph code spells "no mask".
    const none = null as unknown as tf.Tensor;
    if (masks.every((m) => m == null) || this.mode === 'dot' || this.mode === 'cos') return none;
    return tf.tidy(() => {
      // each mask (or all-true for an unmasked input) over the input's axes but the last
      const full = list.map((x, i) => (masks[i] != null ? tf.cast(masks[i] as tf.Tensor, 'bool') : tf.ones(x.shape.slice(0, -1), 'bool')));
      if (this.mode !== 'concat') return full.slice(1).reduce((m, x) => tf.logicalAnd(m, x), full[0]);
      const rank = list[0].rank;
      const axis = this.concatAxis < 0 ? rank + this.concatAxis : this.concatAxis;
      // joining features keeps the steps (all must be unmasked); joining steps joins their masks
      if (axis === rank - 1) return full.slice(1).reduce((m, x) => tf.logicalAnd(m, x), full[0]);
      return tf.concat(full, axis);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      mode: this.mode,
      modeType: 'raw',
      concatAxis: this.concatAxis,
      dotAxes: configValue(this.dotAxes),
      outputShape: null,
      outputShapeType: 'raw',
      outputMask: null,
      outputMaskType: 'raw',
      arguments: {},
    };
  }
}

function toShapes(inputShape: Shape | Shape[]): Shape[] {
  return (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
}
