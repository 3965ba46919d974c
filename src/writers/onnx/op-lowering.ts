/**
 * The ONNX side of the op table (src/runtime/ops): for each canonical op, by the same name, a lowering that
 * takes the call's bound arguments (tensors as ONNX values, Python constants as they are) and adds nodes.
 * The op layers (TFOpLambda, SlicingOpLambda, Keras 3 operations) and translated Lambdas lower through it,
 * so an op lowered once lowers in all three front-ends, as the tfjs table runs in all three.
 * `OnnxOpArgs` reads arguments the way the tfjs side's `OpArgs` does (constants take the dtype of the
 * tensor they meet, mixed tensors promote to float32), so both compute the same thing.
 */
import { KerasInteropError } from '../../errors.js';
import type { JsonValue } from '../../model/types.js';
import { ArgReader } from '../../runtime/ops/arg-reader.js';
import { type ComputeDtype, constantDtype, isInt, normAxis, tfjsDtype } from '../../runtime/ops/spec.js';
import { type OpValue, constantArray, isArrayConstant, isEllipsis, isPySlice } from '../../runtime/ops/values.js';
import type { Dim, ElemType, Graph, Value } from './graph.js';
import { cast } from './ops.js';

export type OnnxOpValue = OpValue<Value>;

/** A tensor value of the graph (as opposed to a Python constant). */
export function isOnnxTensor(v: unknown): v is Value {
  return typeof v === 'object' && v !== null && 'name' in v && 'dtype' in v && 'shape' in v && Array.isArray((v as Value).shape);
}

export type OpLowering = (a: OnnxOpArgs) => Value | Value[];

const OP_LOWERINGS = new Map<string, OpLowering>();

/** Registers the ONNX lowering of a canonical op (the name `registerOp` gave it). */
export function registerOpLowering(name: string, lowering: OpLowering): void {
  if (typeof lowering !== 'function') throw new TypeError(`registerOpLowering('${name}', ...): expected a function`);
  OP_LOWERINGS.set(name, lowering);
}

export function findOpLowering(name: string): OpLowering | undefined {
  return OP_LOWERINGS.get(name);
}

/** Every op with a lowering, sorted. */
export function loweredOps(): string[] {
  return [...OP_LOWERINGS.keys()].sort();
}

/** tfjs computes in three dtypes; ONNX values here are those (int64 only inside shape arithmetic). */
export type ComputeType = ComputeDtype;

/** The bound arguments of one call, read as the lowering needs them. */
export class OnnxOpArgs extends ArgReader<Value> {
  constructor(
    readonly g: Graph,
    what: string,
    values: ReadonlyMap<string, OnnxOpValue>,
  ) {
    super(what, values, isOnnxTensor);
  }

  fail(message: string): KerasInteropError {
    return new KerasInteropError('UNSUPPORTED_OP', `${this.what}: ${message} (in the ONNX export)`);
  }

  /** A constant tensor from a Python value (number, bool, nested list, array constant). */
  constant(v: unknown, type?: ComputeType): Value | undefined {
    let value: unknown = v;
    let declared: ComputeType | undefined;
    if (isArrayConstant(v)) {
      value = v.value;
      declared = v.dtype ? tfjsDtype(v.dtype) : undefined;
    }
    if (typeof value !== 'number' && typeof value !== 'boolean' && !Array.isArray(value)) return undefined;
    // A ragged list, or one holding other things, is no constant (the caller names what it expected).
    const array = constantArray(value);
    if (!array) return undefined;
    const { shape, values } = array;
    const t = type ?? declared ?? constantDtype(value as JsonValue);
    const numbers = values.map((x) => (typeof x === 'boolean' ? (x ? 1 : 0) : x));
    const name = t === 'bool' ? this.g.constant('bool', numbers.map((x) => x !== 0), shape) : this.g.constant(t, t === 'int32' ? numbers.map((x) => Math.trunc(x)) : numbers, shape);
    return { name, dtype: t, shape };
  }

  /** A value as a tensor of `type` (cast when it is one of another type; constants made in it). */
  toTensor(v: OnnxOpValue, type?: ComputeType): Value | undefined {
    if (isOnnxTensor(v)) return type && v.dtype !== type ? this.cast(v, type) : v;
    if (Array.isArray(v) && v.some(isOnnxTensor)) {
      // A list holding tensors: stacked, constants in the tensors' type.
      const like = v.find(isOnnxTensor) as Value;
      const parts = v.map((x) => this.toTensor(x, type ?? (like.dtype as ComputeType)));
      if (parts.some((p) => !p)) return undefined;
      const items = parts as Value[];
      const name = this.g.op('Concat', items.map((p) => this.g.op('Unsqueeze', [p.name, this.g.ints([0])])), { axis: 0 });
      return { name, dtype: items[0].dtype, shape: [items.length, ...items[0].shape] };
    }
    return this.constant(v, type);
  }

  tensor(name: string, type?: ComputeType): Value {
    const t = this.toTensor(this.raw(name), type);
    if (!t) throw this.bad(name, 'a tensor');
    return t;
  }

  /** A list of tensors (concat's values), constants in the first tensor's type. */
  tensors(name: string): Value[] {
    const v = this.raw(name);
    if (!Array.isArray(v)) throw this.bad(name, 'a list of tensors');
    const like = v.find(isOnnxTensor) as Value | undefined;
    return v.map((x) => {
      const t = this.toTensor(x, like?.dtype as ComputeType | undefined);
      if (!t) throw this.bad(name, 'a list of tensors');
      return t;
    });
  }

  cast(v: Value, type: ElemType): Value {
    return v.dtype === type ? v : { name: cast(this.g, v.name, type), dtype: type, shape: v.shape };
  }

  /** Two operands of an elementwise op in one type: constants take the tensor's, mixed tensors promote. */
  pair(a: string, b: string): [Value, Value] {
    const va = this.raw(a);
    const vb = this.raw(b);
    const ta = isOnnxTensor(va) ? va : undefined;
    const tb = isOnnxTensor(vb) ? vb : undefined;
    let x = ta ?? this.toTensor(va, tb?.dtype as ComputeType | undefined);
    let y = tb ?? this.toTensor(vb, x?.dtype as ComputeType | undefined);
    if (!x) throw this.bad(a, 'a tensor');
    if (!y) throw this.bad(b, 'a tensor');
    if (x.dtype !== y.dtype) {
      const to: ComputeType = x.dtype === 'float32' || y.dtype === 'float32' ? 'float32' : 'int32';
      x = this.cast(x, to);
      y = this.cast(y, to);
    }
    return [x, y];
  }

  /** Only constants: a tensor is not read when the model is written. */
  protected scalar(v: OnnxOpValue): unknown {
    if (isArrayConstant(v) && !Array.isArray(v.value)) return v.value;
    return v;
  }

  int(name: string): number {
    const n = this.optInt(name);
    if (n === null) throw this.bad(name, 'an integer (a constant: the ONNX export needs it when the model is written)');
    return n;
  }

  optInt(name: string): number | null {
    const v = this.scalar(this.raw(name));
    if (v === null) return null;
    if (!isInt(v)) throw this.bad(name, 'an integer constant');
    return v;
  }

  num(name: string): number {
    const v = this.scalar(this.raw(name));
    if (typeof v !== 'number') throw this.bad(name, 'a number constant');
    return v;
  }

  /** A list of int constants (one int is a list of one). */
  ints(name: string): number[] {
    const one = this.scalar(this.raw(name));
    if (isInt(one)) return [one];
    const v = this.raw(name);
    const items = isArrayConstant(v) ? v.value : v;
    if (!Array.isArray(items) || !items.every((x) => isInt(this.scalar(x as OnnxOpValue)))) throw this.bad(name, 'a list of integer constants');
    return items.map((x) => this.scalar(x as OnnxOpValue) as number);
  }

  /** None (all axes), an int or a list of ints. */
  axes(name: string): number[] | null {
    if (!this.has(name)) return null;
    return this.ints(name);
  }

  dtype(name: string): ComputeType | null {
    const v = this.raw(name);
    if (v === null) return null;
    const d = typeof v === 'string' ? tfjsDtype(v) : undefined;
    if (!d) throw this.bad(name, 'a dtype (float*, int*, uint*, bool)');
    return d;
  }

  /** A NumPy/TF index: a single item or a tuple of them. */
  index(name: string): OnnxOpValue[] {
    const v = this.raw(name);
    return Array.isArray(v) ? v : [v];
  }

  isSlice = isPySlice;
  isEllipsis = isEllipsis;

  /** `x` and its axis argument, normalized; None (NumPy's "over the flattened array") flattens `x`, axis 0. */
  alongAxis(x: Value, name = 'axis'): [Value, number] {
    const axis = this.optInt(name);
    if (axis !== null) return [x, this.normAxis(axis, x.shape.length)];
    return [{ name: this.g.op('Reshape', [x.name, this.g.ints([-1])]), dtype: x.dtype, shape: [null] }, 0];
  }

  normAxis(axis: number, rank: number): number {
    return normAxis(this, axis, rank);
  }
}

/** NumPy broadcasting of two partly known shapes (unknown where either is unknown and not 1). */
export function broadcastDims(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === 1) return db;
    if (db === 1) return da;
    return typeof da === 'number' ? da : db;
  });
}
