/**
 * What a canonical op is (`OpSpec`), and the accessors its tfjs implementation reads its bound arguments
 * through (`OpArgs`): Python values turned into the tensors, integers, axes and dtypes the op needs, with
 * an `UNSUPPORTED_OP` error naming the op and the argument when a value does not fit.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../../errors.js';
import type { JsonValue } from '../../model/types.js';
import { ArgReader } from './arg-reader.js';
import { type OpValue, type PySlice, constantArray, isArrayConstant, isEllipsis, isPySlice, pyRepr } from './values.js';

/** An op's result: one tensor, or a list (tf.split, tf.unstack). */
export type OpResult = tf.Tensor | tf.Tensor[];

export interface OpSpec {
  /** Canonical name, snake_case (`reduce_mean`, `getitem`). */
  readonly name: string;
  /**
   * Canonical Python-style signature (see signature.ts): parameter names, order and defaults. Front-ends
   * bind their own spellings onto these names.
   */
  readonly signature: string;
  /** One line for the README's op table: what it computes. */
  readonly doc: string;
  /** The tfjs implementation, on the bound canonical arguments (defaults filled in). */
  readonly run: (args: OpArgs) => OpResult;
  /**
   * Output shapes depend on input values (e.g. `range` of a tensor): a built model reports those
   * dimensions as unknown.
   */
  readonly valueDependentShape?: boolean;
}

export function isTensor(v: unknown): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

/** Python/NumPy/Keras dtype names as tfjs computes them (tfjs has float32, int32 and bool only). */
/** The dtypes tfjs computes in. */
export type ComputeDtype = 'float32' | 'int32' | 'bool';

export function tfjsDtype(name: string): ComputeDtype | undefined {
  const n = name.replace(/^tf\./, '');
  if (n === 'bool') return 'bool';
  if (/^(float|bfloat|half|double|mixed_)/.test(n)) return 'float32';
  if (/^u?int\d*$/.test(n)) return 'int32';
  return undefined;
}

export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/**
 * A tfjs tensor of a constant; undefined when it is no rectangular array of numbers (tfjs would infer the
 * shape from the first items alone and keep too few values behind it).
 */
function constantTensor(v: unknown, dtype: tf.DataType): tf.Tensor | undefined {
  const array = constantArray(v);
  if (!array) return undefined;
  const values = array.values.map((x) => (typeof x === 'boolean' ? Number(x) : x));
  return dtype === 'bool' ? tf.tensor(values.map((x) => x !== 0), array.shape, 'bool') : tf.tensor(values, array.shape, dtype);
}

/** The dtype a Python constant becomes when nothing else decides it (ints int32, floats float32). */
export function constantDtype(v: JsonValue | OpValue<unknown>): ComputeDtype {
  let sawFloat = false;
  let sawBool = false;
  let sawInt = false;
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (typeof x === 'boolean') sawBool = true;
    else if (typeof x === 'number') {
      if (Number.isInteger(x)) sawInt = true;
      else sawFloat = true;
    }
  };
  walk(v);
  if (sawFloat) return 'float32';
  if (sawBool && !sawInt) return 'bool';
  return sawInt ? 'int32' : 'float32';
}

/** The bound arguments of one call, read the way the op needs them. */
export class OpArgs extends ArgReader<tf.Tensor> {
  constructor(what: string, values: ReadonlyMap<string, OpValue<tf.Tensor>>) {
    super(what, values, isTensor);
  }

  fail(message: string): KerasInteropError {
    return new KerasInteropError('UNSUPPORTED_OP', `${this.what}: ${message}`);
  }

  /** A scalar tensor's value is read. */
  protected scalar(v: OpValue<tf.Tensor>): unknown {
    return scalarValue(v);
  }

  /** A tensor argument; Python numbers, lists and arrays become tensors (of `dtype`, when given). */
  tensor(name: string, dtype?: tf.DataType): tf.Tensor {
    const v = this.raw(name);
    const t = this.toTensor(v, dtype);
    if (!t) throw this.bad(name, 'a tensor');
    return t;
  }

  toTensor(v: OpValue<tf.Tensor>, dtype?: tf.DataType): tf.Tensor | undefined {
    if (isTensor(v)) return dtype && v.dtype !== dtype ? tf.cast(v, dtype) : v;
    if (isArrayConstant(v)) {
      const want = dtype ?? (v.dtype ? tfjsDtype(v.dtype) : undefined) ?? constantDtype(v.value);
      return constantTensor(v.value, want);
    }
    if (typeof v === 'number' || typeof v === 'boolean') return tf.scalar(v as number, dtype ?? constantDtype(v));
    if (Array.isArray(v)) {
      if (v.some((x) => isTensor(x))) {
        // A list holding tensors (tf.convert_to_tensor of [t, 1.0]): stacked, constants in the tensors' dtype.
        const like = v.find(isTensor) as tf.Tensor;
        const parts = v.map((x) => this.toTensor(x, dtype ?? like.dtype));
        if (parts.some((p) => !p)) return undefined;
        return tf.stack(parts as tf.Tensor[]);
      }
      return constantTensor(v, dtype ?? constantDtype(v));
    }
    return undefined;
  }

  /** A list of tensors (`tf.concat`'s values). */
  tensors(name: string): tf.Tensor[] {
    const v = this.raw(name);
    if (!Array.isArray(v)) throw this.bad(name, 'a list of tensors');
    const like = v.find(isTensor);
    return v.map((x) => {
      const t = this.toTensor(x, like?.dtype);
      if (!t) throw this.bad(name, 'a list of tensors');
      return t;
    });
  }

  /** Two operands of an elementwise op, in one dtype: constants take the tensor's, mixed tensors are promoted. */
  pair(a: string, b: string): [tf.Tensor, tf.Tensor] {
    const va = this.raw(a);
    const vb = this.raw(b);
    const ta = isTensor(va) ? va : undefined;
    const tb = isTensor(vb) ? vb : undefined;
    let x = ta ?? this.toTensor(va, tb?.dtype);
    let y = tb ?? this.toTensor(vb, x?.dtype);
    if (!x) throw this.bad(a, 'a tensor');
    if (!y) throw this.bad(b, 'a tensor');
    const n = Math.max(x.rank, y.rank);
    const shape = Array.from({ length: n }, (_, i) => Math.max(x!.shape[x!.rank - n + i] ?? 1, y!.shape[y!.rank - n + i] ?? 1));
    checkElements(this, shape);
    if (x.dtype !== y.dtype) {
      const to: tf.DataType = x.dtype === 'float32' || y.dtype === 'float32' ? 'float32' : 'int32';
      x = tf.cast(x, to);
      y = tf.cast(y, to);
    }
    return [x, y];
  }

  /** A Python int (a scalar tensor's value is read). */
  int(name: string): number {
    const n = this.optInt(name);
    if (n === null) throw this.bad(name, 'an integer');
    return n;
  }

  optInt(name: string): number | null {
    const v = this.raw(name);
    if (v === null) return null;
    const n = scalarValue(v);
    if (!isInt(n)) throw this.bad(name, 'an integer');
    return n;
  }

  num(name: string): number {
    const n = scalarValue(this.raw(name));
    if (typeof n !== 'number') throw this.bad(name, 'a number');
    return n;
  }

  optNum(name: string): number | null {
    return this.has(name) ? this.num(name) : null;
  }

  /** A nested list of numbers as given: a list, an array constant's value, or a tensor's values. */
  nested(name: string): unknown {
    const v = this.raw(name);
    if (isTensor(v)) return v.arraySync();
    if (isArrayConstant(v)) return v.value;
    return v;
  }

  /**
   * A list of ints: a Python list/tuple, an int array constant or a 1-D int tensor (its values are read);
   * one int is a list of one, as NumPy takes it (`np.tile(x, 2)`, `np.reshape(x, 6)`).
   */
  ints(name: string): number[] {
    const one = scalarValue(this.raw(name));
    if (isInt(one)) return [one];
    const v = intList(this.raw(name));
    if (!v) throw this.bad(name, 'a list of integers');
    return v;
  }

  /** An axis argument: None (all axes), an int or a list of ints. */
  axes(name: string): number[] | null {
    const v = this.raw(name);
    if (v === null) return null;
    const one = scalarValue(v);
    if (isInt(one)) return [one];
    return this.ints(name);
  }

  /** A dtype argument (`'float32'`, `tf.int64` as saved: `'int64'`) as tfjs's dtype. */
  dtype(name: string): ComputeDtype | null {
    const v = this.raw(name);
    if (v === null) return null;
    const d = typeof v === 'string' ? tfjsDtype(v) : undefined;
    if (!d) throw this.bad(name, 'a dtype tfjs computes in (float*, int*, uint*, bool)');
    return d;
  }

  /** A NumPy/TF index: a single item or a tuple of them. */
  index(name: string): OpValue<tf.Tensor>[] {
    const v = this.raw(name);
    return Array.isArray(v) ? v : [v];
  }

  isSlice(v: unknown): v is PySlice<tf.Tensor> {
    return isPySlice(v);
  }

  isEllipsis(v: unknown): boolean {
    return isEllipsis(v);
  }

  /** A value that must be an integer or None (a slice bound). */
  intOrNone(v: OpValue<tf.Tensor>, what: string): number | null {
    if (v === null) return null;
    const n = scalarValue(v);
    if (!isInt(n)) throw this.fail(`${what} ${pyRepr(v, isTensor)} is not an integer`);
    return n;
  }
}

/** A Python scalar, or the value of a scalar tensor / one-element constant. */
function scalarValue(v: OpValue<tf.Tensor>): OpValue<tf.Tensor> {
  if (isTensor(v) && v.size === 1 && v.rank <= 1) {
    const x = v.dataSync()[0];
    return v.dtype === 'bool' ? x === 1 : x;
  }
  if (isArrayConstant(v) && !Array.isArray(v.value)) return v.value as number;
  return v;
}

function intList(v: OpValue<tf.Tensor>): number[] | undefined {
  if (isTensor(v)) {
    if (v.rank > 1 || v.dtype === 'float32') return undefined;
    return Array.from(v.dataSync());
  }
  const items = isArrayConstant(v) ? v.value : v;
  if (!Array.isArray(items)) return undefined;
  const out: number[] = [];
  for (const x of items) {
    const n = scalarValue(x as OpValue<tf.Tensor>);
    if (!isInt(n)) return undefined;
    out.push(n);
  }
  return out;
}

/**
 * Most elements an op that multiplies sizes (tile, repeat, broadcasting, products, padding, ranges) may
 * make: its arguments come from files (constants in configs, in Lambda bytecode), so a result past this is
 * refused before tfjs allocates it. 2^27 float32 values are 512 MiB.
 */
export const MAX_OP_ELEMENTS = 2 ** 27;

/** Refuses a result of `shape` past MAX_OP_ELEMENTS, naming the op. */
export function checkElements(args: OpArgs, shape: readonly number[]): void {
  const n = shape.reduce((p, d) => p * d, 1);
  if (!(n <= MAX_OP_ELEMENTS)) throw args.fail(`its result would hold ${n} elements (at most ${MAX_OP_ELEMENTS})`);
}

/**
 * What the axis helpers need of an argument reader: tfjs's (OpArgs) or the ONNX export's
 * (src/writers/onnx/op-lowering.ts), which read axes alike.
 */
export interface AxisArgs {
  fail(message: string): Error;
  /** None (all axes), an int or a list of ints. */
  axes(name: string): number[] | null;
}

/** Normalizes a possibly negative axis against a rank; out of range is an error naming the op. */
export function normAxis(args: Pick<AxisArgs, 'fail'>, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw args.fail(`axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

/** A reduction's axes, normalized and deduplicated; null for all of them. */
export function reducedAxes(args: AxisArgs, name: string, rank: number): number[] | null {
  const axes = args.axes(name);
  if (axes === null) return null;
  return [...new Set(axes.map((ax) => normAxis(args, ax, Math.max(rank, 1))))].sort((p, q) => p - q);
}

/** NumPy's broadcast of two shapes; shapes that do not broadcast are an error naming the op. */
export function broadcastShape(args: OpArgs, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw args.fail(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * The tensor an op works along `axis` on: NumPy's `axis=None` means the flattened array (along its only
 * axis); otherwise x itself along the normalized axis.
 */
export function alongAxis(a: OpArgs, x: tf.Tensor, axisName: string): { x: tf.Tensor; axis: number } {
  const axis = a.optInt(axisName);
  if (axis === null) return { x: tf.reshape(x, [-1]), axis: 0 };
  return { x, axis: normAxis(a, axis, x.rank) };
}

/** x as float32 (functions TensorFlow defines on floats only compute integers as floats, as Keras 3 does). */
export function asFloat(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

/** x as bool: non-zero is true. */
export function asBool(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'bool' ? x : tf.notEqual(x, tf.scalar(0, x.dtype));
}
