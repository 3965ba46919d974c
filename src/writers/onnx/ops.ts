/**
 * Small compositions of ONNX ops that several lowerings share (all opset 17): projections, reshapes
 * that keep dynamic dimensions, reversal along an axis, masks as float factors or additive penalties.
 * Values are names; shapes stay with the callers, who know them from the Keras layer.
 */
import { type Dim, type ElemType, type Graph, type Value } from './graph.js';

/** `x · W (+ b)` over the last axis (MatMul broadcasts over the leading ones). */
export function project(g: Graph, x: string, kernel: string, bias?: string | null): string {
  const y = g.op('MatMul', [x, kernel]);
  return bias ? g.op('Add', [y, bias]) : y;
}

/** Reshape to `dims`: 0 copies the input's dimension at that position, -1 is inferred (ONNX rules). */
export function reshape(g: Graph, x: string, dims: readonly number[]): string {
  return g.op('Reshape', [x, g.ints(dims)]);
}

export function transpose(g: Graph, x: string, perm: readonly number[]): string {
  return g.op('Transpose', [x], { perm: [...perm] });
}

export function unsqueeze(g: Graph, x: string, axes: readonly number[]): string {
  return g.op('Unsqueeze', [x, g.ints(axes)]);
}

export function squeeze(g: Graph, x: string, axes: readonly number[]): string {
  return g.op('Squeeze', [x, g.ints(axes)]);
}

const CAST_CODES: Readonly<Record<ElemType, number>> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13,
};

export function cast(g: Graph, x: string, to: ElemType): string {
  return g.op('Cast', [x], { to: CAST_CODES[to] });
}

/** Elements `start .. end-1` of one axis (negative values count from the end, as in ONNX Slice). */
export function sliceAxis(g: Graph, x: string, axis: number, start: number, end: number): string {
  return g.op('Slice', [x, g.ints([start]), g.ints([end]), g.ints([axis])]);
}

/** `x` reversed along `axis` (Slice with step -1 from the last element past the first). */
export function reverse(g: Graph, x: string, axis: number): string {
  return g.op('Slice', [x, g.ints([-1]), g.ints([-(2 ** 53 - 1)]), g.ints([axis]), g.ints([-1])]);
}

/** Softmax over the last axis. */
export function softmaxLast(g: Graph, x: string): string {
  return g.op('Softmax', [x], { axis: -1 });
}

/** The mask as float32 (1 kept, 0 masked). */
export function maskAsFloat(g: Graph, mask: Value): string {
  if (mask.dtype === 'float32') return mask.name;
  return cast(g, maskAsBool(g, mask), 'float32');
}

/** The mask as bool. */
export function maskAsBool(g: Graph, mask: Value): string {
  return mask.dtype === 'bool' ? mask.name : cast(g, mask.name, 'bool');
}

/**
 * The dimensions `from .. to-1` of `x`'s runtime shape as a 1-D int64 tensor (for reshapes whose
 * target keeps dynamic sizes, such as the batch and steps of TimeDistributed).
 */
export function shapeSlice(g: Graph, x: string, from: number, to?: number): string {
  return to === undefined ? g.op('Shape', [x], { start: from }) : g.op('Shape', [x], { start: from, end: to });
}

/** Concatenates 1-D int64 shape pieces: names of shape tensors, or literal dims. */
export function shapeOf(g: Graph, pieces: (string | number[])[]): string {
  const names = pieces.map((p) => (typeof p === 'string' ? p : g.ints(p)));
  return names.length === 1 ? names[0] : g.op('Concat', names, { axis: 0 });
}

/** A value with its shape, for lowerings that return layer outputs. */
export function value(name: string, shape: Dim[], dtype: ElemType = 'float32'): Value {
  return { name, dtype, shape };
}

/** Product of known dims (for reshapes); null when one is unknown. */
export function knownProduct(dims: readonly Dim[]): number | null {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}
