/**
 * Python values as a translated Lambda computes with them at run time: tensors, Python numbers, booleans,
 * strings, None, tuples and lists, slices, Ellipsis and dtypes, and the conversions between them that
 * TensorFlow applies (a Python number next to a tensor takes the tensor's dtype; a list of numbers becomes
 * a tensor). No Node built-ins: the layers entry point imports this.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../../errors.js';

export class PySeq {
  constructor(
    readonly kind: 'tuple' | 'list',
    readonly items: Value[],
  ) {}
}

export class PySlice {
  constructor(
    readonly start: Value,
    readonly stop: Value,
    readonly step: Value,
  ) {}
}

export class DType {
  constructor(readonly name: string) {}
}

/** Python's `...` (one instance). */
export class PyEllipsis {
  private constructor() {}
  static readonly instance = new PyEllipsis();
}

export const ELLIPSIS = PyEllipsis.instance;

export type Value = tf.Tensor | number | boolean | string | null | PySeq | PySlice | DType | PyEllipsis;

/**
 * Most elements one op may produce, and most items of a Python sequence: an op that multiplies sizes
 * (tile, repeat, broadcasting, products) is refused past it rather than let a stored constant allocate
 * without bound. 2^27 float32 values are 512 MiB.
 */
export const MAX_ELEMENTS = 2 ** 27;
export const MAX_SEQUENCE = 1_000_000;

/** Refuses a result shape past MAX_ELEMENTS. */
export function checkSize(shape: readonly number[], what: string): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (!(n <= MAX_ELEMENTS)) throw lambdaError(`${what} would hold ${n} elements (at most ${MAX_ELEMENTS})`);
}

/** A run-time failure of a translated Lambda: what Python would have raised, or what tfjs cannot do. */
export function lambdaError(message: string): KerasInteropError {
  return new KerasInteropError('LAMBDA_LAYER', `translated Lambda: ${message}`);
}

export function isTensor(v: Value): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

export function typeName(v: Value): string {
  if (v === null) return 'None';
  if (v === ELLIPSIS) return 'Ellipsis';
  if (isTensor(v)) return `a ${v.dtype} tensor of shape [${v.shape.join(', ')}]`;
  if (v instanceof PySeq) return `a ${v.kind}`;
  if (v instanceof PySlice) return 'a slice';
  if (v instanceof DType) return `the dtype ${v.name}`;
  return typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a bool' : 'a str';
}

/** A Python int: a number, or a scalar int32 tensor (read back, as TensorFlow would in eager mode). */
export function toInt(v: Value, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (isTensor(v) && v.size === 1 && v.dtype === 'int32') return v.dataSync()[0];
  throw lambdaError(`${what} must be an integer, got ${typeName(v)}`);
}

/** A list of ints: a tuple or list of ints, one int, or a 1-D int32 tensor. */
export function toIntList(v: Value, what: string): number[] {
  if (v instanceof PySeq) return v.items.map((x, i) => toInt(x, `${what}[${i}]`));
  if (isTensor(v) && v.dtype === 'int32' && v.rank <= 1) return Array.from(v.dataSync());
  return [toInt(v, what)];
}

/** Nested lists of numbers as data and shape. */
function flatten(v: Value, shape: number[], out: number[], depth: number, what: string): void {
  if (v instanceof PySeq) {
    if (shape.length === depth) shape.push(v.items.length);
    else if (shape[depth] !== v.items.length) throw lambdaError(`${what} is a ragged list`);
    for (const x of v.items) flatten(x, shape, out, depth + 1, what);
    return;
  }
  if (shape.length !== depth) throw lambdaError(`${what} is a ragged list`);
  if (typeof v === 'number') out.push(v);
  else if (typeof v === 'boolean') out.push(v ? 1 : 0);
  else if (isTensor(v) && v.size === 1) out.push(v.dataSync()[0]);
  else throw lambdaError(`${what} holds ${typeName(v)}, not a number`);
}

/**
 * A value as a tensor. Python numbers and lists of numbers take `dtype` when given (TensorFlow converts
 * an operand to the other operand's dtype), else int32 when every value is an integer, else float32.
 */
export function toTensor(v: Value, what: string, dtype?: tf.DataType): tf.Tensor {
  if (isTensor(v)) return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v instanceof PySeq) {
    const shape: number[] = [];
    const data: number[] = [];
    flatten(v, shape, data, 0, what);
    const d: tf.DataType = dtype ?? (typeof v === 'boolean' ? 'bool' : data.every(Number.isInteger) ? 'int32' : 'float32');
    if (d === 'int32' && !data.every(Number.isInteger)) return tf.tensor(data, shape, 'float32');
    return tf.tensor(data, shape, d);
  }
  throw lambdaError(`${what} is ${typeName(v)}, not a tensor`);
}

/** Every tensor of a list or tuple of tensors. */
export function toTensorList(v: Value, what: string): tf.Tensor[] {
  if (!(v instanceof PySeq)) throw lambdaError(`${what} must be a list or tuple of tensors, got ${typeName(v)}`);
  return v.items.map((x, i) => toTensor(x, `${what}[${i}]`));
}

/** A dtype argument: a dtype object or its name. */
export function toDType(v: Value, what: string): tf.DataType {
  const name = v instanceof DType ? v.name : typeof v === 'string' ? v : undefined;
  switch (name) {
    case 'float32':
    case 'float64':
      // tfjs computes in float32 only; float64 is read as float32 (see README: translated Lambdas).
      return 'float32';
    case 'int32':
    case 'int64':
      return 'int32';
    case 'bool':
      return 'bool';
    default:
      throw lambdaError(`${what} ${name === undefined ? `is ${typeName(v)}` : `"${name}"`} is not a dtype tfjs computes in`);
  }
}

/** A Python axis (negative counts from the end) as a non-negative one, checked against the rank. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw lambdaError(`${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

/** An axis argument: None (every axis), an int or a list of ints. */
export function toAxes(v: Value, rank: number): number[] | undefined {
  if (v === null) return undefined;
  return toIntList(v, 'axis').map((a) => normAxis(a, rank));
}
