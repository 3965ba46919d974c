/**
 * Python values as a translated Lambda computes with them at run time: tensors, Python numbers, booleans,
 * strings, None, tuples and lists, slices, Ellipsis and dtypes. (Tensors meet constants inside the op
 * table, which converts them as TensorFlow does.) No Node built-ins: the layers entry point imports this.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../../errors.js';

export class PySeq<T = tf.Tensor> {
  constructor(
    readonly kind: 'tuple' | 'list',
    readonly items: PyValue<T>[],
  ) {}
}

export class PySlice<T = tf.Tensor> {
  constructor(
    readonly start: PyValue<T>,
    readonly stop: PyValue<T>,
    readonly step: PyValue<T>,
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

/** A Python value whose tensors are `T`: tfjs tensors at run time, graph values in the ONNX export. */
export type PyValue<T> = T | number | boolean | string | null | PySeq<T> | PySlice<T> | DType | PyEllipsis;

export type Value = PyValue<tf.Tensor>;

/** Most items of a Python sequence a program may build (`[x] * n`). */
export const MAX_SEQUENCE = 1_000_000;

/** A run-time failure of a translated Lambda: what Python would have raised, or what tfjs cannot do. */
export function lambdaError(message: string): KerasInteropError {
  return new KerasInteropError('LAMBDA_LAYER', `translated Lambda: ${message}`);
}

export function isTensor(v: Value): v is tf.Tensor {
  return v instanceof tf.Tensor;
}

/** What a tensor of either kind (tfjs's, the ONNX export's) has. */
export interface TensorLike {
  readonly dtype: string;
  readonly shape: readonly unknown[];
}

export function typeName<T extends TensorLike>(v: PyValue<T>): string {
  if (v === null) return 'None';
  if (v === ELLIPSIS) return 'Ellipsis';
  if (v instanceof PySeq) return `a ${v.kind}`;
  if (v instanceof PySlice) return 'a slice';
  if (v instanceof DType) return `the dtype ${v.name}`;
  // Every other object is a tensor.
  if (typeof v === 'object') return `a ${(v as T).dtype} tensor of shape [${(v as T).shape.join(', ')}]`;
  return typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a bool' : 'a str';
}

/** A Python int: a number, or a scalar int32 tensor (read back, as TensorFlow would in eager mode). */
export function toInt(v: Value, what: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (isTensor(v) && v.size === 1 && v.dtype === 'int32') return v.dataSync()[0];
  throw lambdaError(`${what} must be an integer, got ${typeName(v)}`);
}
