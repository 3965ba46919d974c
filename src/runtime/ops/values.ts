/**
 * The values an op call is made of, as Python passed them: tensors, numbers, booleans, strings, None,
 * lists/tuples, `slice` objects, `Ellipsis`, and array constants (NumPy arrays or constant tensors baked
 * into a saved graph). `T` is what stands for a tensor: a `tf.Tensor` when an op runs, an input slot or a
 * tensor reference while a config is read or written.
 *
 * No tfjs here: the writers and readers use these types without loading tfjs.
 */
import type { JsonValue } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';

/** Python's `slice(start, stop, step)`; `None` parts are null. */
export interface PySlice<T> {
  readonly kind: 'slice';
  readonly start: OpValue<T>;
  readonly stop: OpValue<T>;
  readonly step: OpValue<T>;
}

/** Python's `Ellipsis` (`...` in an index). */
export interface PyEllipsis {
  readonly kind: 'ellipsis';
}

/** An array constant: nested lists of numbers (or booleans) with the dtype it had, when known. */
export interface ArrayConstant {
  readonly kind: 'array';
  readonly value: JsonValue;
  readonly dtype?: string;
}

/** An argument value of an op call (Python `None` is null; a tuple is a list). */
export type OpValue<T> = T | number | boolean | string | null | PySlice<T> | PyEllipsis | ArrayConstant | OpValue<T>[];

export const ELLIPSIS: PyEllipsis = Object.freeze({ kind: 'ellipsis' });

export function pySlice<T>(start: OpValue<T>, stop: OpValue<T>, step: OpValue<T>): PySlice<T> {
  return { kind: 'slice', start, stop, step };
}

export function isPySlice<T>(v: unknown): v is PySlice<T> {
  return isJsonObject(v as JsonValue) && (v as { kind?: unknown }).kind === 'slice';
}

export function isEllipsis(v: unknown): v is PyEllipsis {
  return isJsonObject(v as JsonValue) && (v as { kind?: unknown }).kind === 'ellipsis';
}

export function isArrayConstant(v: unknown): v is ArrayConstant {
  return isJsonObject(v as JsonValue) && (v as { kind?: unknown }).kind === 'array';
}

/**
 * A constant's shape and values, row-major: a number or boolean, or nested lists of them that are
 * rectangular (every list at one depth as long as its siblings), as NumPy makes an array of. Undefined
 * for anything else (a ragged list, a string or an object among the items).
 */
export function constantArray(v: unknown): { shape: number[]; values: (number | boolean)[] } | undefined {
  const shape: number[] = [];
  for (let level: unknown = v; Array.isArray(level); level = level[0]) shape.push(level.length);
  const values: (number | boolean)[] = [];
  const walk = (x: unknown, depth: number): boolean => {
    if (depth === shape.length) {
      if (typeof x !== 'number' && typeof x !== 'boolean') return false;
      values.push(x);
      return true;
    }
    return Array.isArray(x) && x.length === shape[depth] && x.every((item) => walk(item, depth + 1));
  };
  return walk(v, 0) ? { shape, values } : undefined;
}

/**
 * Rebuilds a value with every tensor replaced (`f` decides what a tensor is by `isTensor`). Slices,
 * Ellipsis and constants keep their kind.
 */
export function mapTensors<A, B>(v: OpValue<A>, isTensor: (x: unknown) => x is A, f: (t: A) => OpValue<B>): OpValue<B> {
  if (isTensor(v)) return f(v);
  if (Array.isArray(v)) return v.map((x) => mapTensors(x, isTensor, f));
  if (isPySlice<A>(v)) {
    return pySlice(mapTensors(v.start, isTensor, f), mapTensors(v.stop, isTensor, f), mapTensors(v.step, isTensor, f));
  }
  return v as OpValue<B>;
}

/** Every tensor inside a value, depth first. */
export function tensorsIn<T>(v: OpValue<T>, isTensor: (x: unknown) => x is T): T[] {
  const out: T[] = [];
  mapTensors(v, isTensor, (t) => {
    out.push(t);
    return null;
  });
  return out;
}

/** Structural equality of tensor-free values (how a given argument is compared with its default). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isJsonObject(a as JsonValue) && isJsonObject(b as JsonValue)) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** Python's repr of a value, for messages (tensors as `<tensor>`). */
export function pyRepr(v: unknown, isTensor: (x: unknown) => boolean = () => false): string {
  if (isTensor(v)) return '<tensor>';
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    const text = `[${v.slice(0, 8).map((x) => pyRepr(x, isTensor)).join(', ')}${v.length > 8 ? ', ...' : ''}]`;
    return text.length > 200 ? `${text.slice(0, 200)}...` : text;
  }
  if (isPySlice(v)) return `slice(${pyRepr(v.start, isTensor)}, ${pyRepr(v.stop, isTensor)}, ${pyRepr(v.step, isTensor)})`;
  if (isEllipsis(v)) return 'Ellipsis';
  if (isArrayConstant(v)) return `array(${pyRepr(v.value)}${v.dtype ? `, dtype=${v.dtype}` : ''})`;
  return '<object>';
}
