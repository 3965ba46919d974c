/** ONNX lowerings of the ops that move values (src/runtime/ops/shape.ts). */
import type { Dim, Value } from '../graph.js';
import { type ComputeType, type OnnxOpArgs, isOnnxTensor, registerOpLowering } from '../op-lowering.js';

/** Tensors in one dtype (float32 when they differ), as concatenating them needs. */
function sameType(a: OnnxOpArgs, ts: Value[]): Value[] {
  const types = new Set(ts.map((t) => t.dtype));
  if (types.size <= 1) return ts;
  const to: ComputeType = types.has('float32') ? 'float32' : 'int32';
  return ts.map((t) => a.cast(t, to));
}

/** A shape argument as an int64 tensor: constants as they are, a list holding tensors (tf.shape(x)[0]) joined. */
function shapeInput(a: OnnxOpArgs, name: string): { name: string; known: number[] | null } {
  try {
    const known = a.ints(name);
    return { name: a.g.ints(known), known };
  } catch {
    const t = a.tensor(name, 'int32');
    return { name: a.cast(t, 'int64').name, known: null };
  }
}

function permuted(x: Value, perm: number[]): Dim[] {
  return perm.map((p) => x.shape[p]);
}

registerOpLowering('reshape', (a) => {
  const x = a.tensor('x');
  const shape = shapeInput(a, 'shape');
  const dims: Dim[] = shape.known ? shape.known.map((d) => (d === -1 ? null : d)) : [];
  return { name: a.g.op('Reshape', [x.name, shape.name]), dtype: x.dtype, shape: dims };
});

registerOpLowering('transpose', (a) => {
  const x = a.tensor('x');
  const rank = x.shape.length;
  const perm = a.has('perm') ? a.ints('perm').map((p) => a.normAxis(p, rank)) : x.shape.map((_, i) => rank - 1 - i);
  return { name: a.g.op('Transpose', [x.name], { perm }), dtype: x.dtype, shape: permuted(x, perm) };
});

registerOpLowering('swapaxes', (a) => {
  const x = a.tensor('x');
  const p = x.shape.map((_, i) => i);
  const i = a.normAxis(a.int('axis1'), p.length);
  const j = a.normAxis(a.int('axis2'), p.length);
  [p[i], p[j]] = [p[j], p[i]];
  return { name: a.g.op('Transpose', [x.name], { perm: p }), dtype: x.dtype, shape: permuted(x, p) };
});

registerOpLowering('moveaxis', (a) => {
  const x = a.tensor('x');
  const rank = x.shape.length;
  const src = a.axes('source')!.map((s) => a.normAxis(s, rank));
  const dst = a.axes('destination')!.map((d) => a.normAxis(d, rank));
  if (src.length !== dst.length) throw a.fail('source and destination must have the same number of axes');
  const rest = x.shape.map((_, i) => i).filter((i) => !src.includes(i));
  const perm: number[] = new Array<number>(rank);
  dst.forEach((d, k) => (perm[d] = src[k]));
  for (let i = 0, r = 0; i < rank; i++) if (perm[i] === undefined) perm[i] = rest[r++];
  return { name: a.g.op('Transpose', [x.name], { perm }), dtype: x.dtype, shape: permuted(x, perm) };
});

registerOpLowering('concat', (a) => {
  const ts = sameType(a, a.tensors('values'));
  if (ts.length === 0) throw a.fail('nothing to concatenate');
  const axis = a.normAxis(a.int('axis'), ts[0].shape.length);
  const shape = ts[0].shape.map((d, i) => (i !== axis ? d : ts.every((t) => typeof t.shape[i] === 'number') ? ts.reduce((s, t) => s + (t.shape[i] as number), 0) : null));
  return { name: a.g.op('Concat', ts.map((t) => t.name), { axis }), dtype: ts[0].dtype, shape };
});

registerOpLowering('stack', (a) => {
  const ts = sameType(a, a.tensors('values'));
  if (ts.length === 0) throw a.fail('nothing to stack');
  const axis = a.normAxis(a.int('axis'), ts[0].shape.length + 1);
  const parts = ts.map((t) => a.g.op('Unsqueeze', [t.name, a.g.ints([axis])]));
  const shape = [...ts[0].shape];
  shape.splice(axis, 0, ts.length);
  return { name: a.g.op('Concat', parts, { axis }), dtype: ts[0].dtype, shape };
});

registerOpLowering('unstack', (a) => {
  const x = a.tensor('x');
  const axis = a.normAxis(a.int('axis'), x.shape.length);
  const n = x.shape[axis];
  if (typeof n !== 'number') throw a.fail('unstacking an axis of unknown length');
  const parts = a.g.opN('Split', [x.name, a.g.ints(new Array<number>(n).fill(1))], n, { axis });
  const shape = x.shape.filter((_, i) => i !== axis);
  return parts.map((p) => ({ name: a.g.op('Squeeze', [p, a.g.ints([axis])]), dtype: x.dtype, shape }));
});

registerOpLowering('expand_dims', (a) => {
  const x = a.tensor('x');
  const axes = a.axes('axis');
  if (axes === null) throw a.fail('axis is required');
  const outRank = x.shape.length + axes.length;
  const at = axes.map((ax) => a.normAxis(ax, outRank)).sort((p, q) => p - q);
  const shape: Dim[] = [];
  for (let i = 0, k = 0; i < outRank; i++) shape.push(at.includes(i) ? 1 : x.shape[k++]);
  return { name: a.g.op('Unsqueeze', [x.name, a.g.ints(at)]), dtype: x.dtype, shape };
});

registerOpLowering('squeeze', (a) => {
  const x = a.tensor('x');
  const axes = a.axes('axis');
  const at = axes === null ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((ax) => a.normAxis(ax, x.shape.length));
  if (axes === null && x.shape.some((d) => d === null)) throw a.fail('squeezing every length-1 axis of a tensor with unknown sizes');
  if (at.length === 0) return x;
  return { name: a.g.op('Squeeze', [x.name, a.g.ints(at)]), dtype: x.dtype, shape: x.shape.filter((_, i) => !at.includes(i)) };
});

registerOpLowering('tile', (a) => {
  let x = a.tensor('x');
  let reps = a.ints('multiples');
  const rank = x.shape.length;
  if (reps.length < rank) reps = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  if (reps.length > rank) {
    const shape: Dim[] = [...new Array<number>(reps.length - rank).fill(1), ...x.shape];
    x = { name: a.g.op('Unsqueeze', [x.name, a.g.ints(Array.from({ length: reps.length - rank }, (_, i) => i))]), dtype: x.dtype, shape };
  }
  if (reps.some((r) => r < 0)) throw a.fail('multiples must not be negative');
  return { name: a.g.op('Tile', [x.name, a.g.ints(reps)]), dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d * reps[i] : null)) };
});

registerOpLowering('repeat', (a) => {
  const [x, ax] = a.alongAxis(a.tensor('x'));
  const n = x.shape[ax];
  if (typeof n !== 'number') throw a.fail('repeating along an axis of unknown length');
  const reps = a.ints('repeats');
  const each = reps.length === 1 ? new Array<number>(n).fill(reps[0]) : reps;
  if (each.length !== n || each.some((r) => r < 0)) throw a.fail(`repeats must be one non-negative int or ${n} of them`);
  const index: number[] = [];
  each.forEach((r, i) => {
    for (let k = 0; k < r; k++) index.push(i);
  });
  const shape = x.shape.map((d, i) => (i === ax ? index.length : d));
  return { name: a.g.op('Gather', [x.name, a.g.ints(index)], { axis: ax }), dtype: x.dtype, shape };
});

registerOpLowering('repeat_vector', (a) => {
  const x = a.tensor('x');
  const n = a.int('n');
  const y = a.g.op('Expand', [a.g.op('Unsqueeze', [x.name, a.g.ints([1])]), a.g.ints([1, n, 1])]);
  return { name: y, dtype: x.dtype, shape: [x.shape[0], n, x.shape[1]] };
});

registerOpLowering('broadcast_to', (a) => {
  const x = a.tensor('x');
  const shape = shapeInput(a, 'shape');
  return { name: a.g.op('Expand', [x.name, shape.name]), dtype: x.dtype, shape: shape.known ?? [] };
});

registerOpLowering('reverse', (a) => {
  const x = a.tensor('x');
  const axes = (a.axes('axis') ?? x.shape.map((_, i) => i)).map((ax) => a.normAxis(ax, x.shape.length));
  let y = x.name;
  for (const ax of axes) y = a.g.op('Slice', [y, a.g.ints([-1]), a.g.ints([-(2 ** 53 - 1)]), a.g.ints([ax]), a.g.ints([-1])]);
  return { ...x, name: y };
});

function splitBy(a: OnnxOpArgs, x: Value, sizes: number[], axis: number): Value[] {
  const parts = a.g.opN('Split', [x.name, a.g.ints(sizes)], sizes.length, { axis });
  return parts.map((p, i) => ({ name: p, dtype: x.dtype, shape: x.shape.map((d, k) => (k === axis ? sizes[i] : d)) }));
}

/**
 * What both splits start from: `x`, the axis and its (known) length; an int `argument` cuts it into that
 * many equal parts, given as `equal`.
 */
function splitting(a: OnnxOpArgs, argument: string, parts: string): { x: Value; axis: number; total: number; equal?: Value[] } {
  const x = a.tensor('x');
  const axis = a.normAxis(a.int('axis'), x.shape.length);
  const total = x.shape[axis];
  if (typeof total !== 'number') throw a.fail('splitting an axis of unknown length');
  const v = a.raw(argument);
  if (typeof v !== 'number') return { x, axis, total };
  if (total % v !== 0) throw a.fail(`axis length ${total} does not split into ${v} equal ${parts}`);
  return { x, axis, total, equal: splitBy(a, x, new Array<number>(v).fill(total / v), axis) };
}

registerOpLowering('split', (a) => {
  const { x, axis, total, equal } = splitting(a, 'num_or_size_splits', 'parts');
  if (equal) return equal;
  const sizes = a.ints('num_or_size_splits');
  const known = sizes.filter((s) => s !== -1).reduce((p, q) => p + q, 0);
  const filled = sizes.map((s) => (s === -1 ? total - known : s));
  if (filled.reduce((p, q) => p + q, 0) !== total || filled.some((s) => s < 0)) throw a.fail(`split sizes [${sizes.join(', ')}] do not add up to the axis length ${total}`);
  return splitBy(a, x, filled, axis);
});

registerOpLowering('split_sections', (a) => {
  const { x, axis, total: n, equal } = splitting(a, 'indices_or_sections', 'sections');
  if (equal) return equal;
  const cuts = a.ints('indices_or_sections').map((c) => Math.min(Math.max(c < 0 ? c + n : c, 0), n));
  const bounds = [0, ...cuts, n];
  return bounds.slice(1).map((end, i) => {
    const begin = Math.min(bounds[i], end);
    const y = a.g.op('Slice', [x.name, a.g.ints([begin]), a.g.ints([end]), a.g.ints([axis])]);
    return { name: y, dtype: x.dtype, shape: x.shape.map((d, k) => (k === axis ? end - begin : d)) };
  });
});

registerOpLowering('pad', (a) => {
  const x = a.tensor('x');
  const rank = x.shape.length;
  const raw = a.raw('paddings');
  const nested = (v: unknown): unknown => (v && typeof v === 'object' && 'value' in (v as object) ? (v as { value: unknown }).value : v);
  const given = nested(raw);
  let widths: [number, number][] | undefined;
  if (typeof given === 'number') widths = Array.from({ length: rank }, () => [given, given]);
  else if (Array.isArray(given) && given.length === rank && given.every((p) => Array.isArray(p) && p.length === 2)) widths = given.map((p) => [Number(p[0]), Number(p[1])]);
  else if (Array.isArray(given) && given.length === 2 && given.every((p) => typeof p === 'number')) widths = Array.from({ length: rank }, () => [given[0] as number, given[1] as number]);
  if (!widths || widths.some(([b, e]) => !Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0)) {
    throw a.fail(`paddings must be [[before, after], ...] with one pair per axis (${rank}) of non-negative integer constants`);
  }
  const mode = (a.str('mode') ?? 'constant').toLowerCase();
  const pads = a.g.ints([...widths.map((w) => w[0]), ...widths.map((w) => w[1])]);
  const shape = x.shape.map((d, i) => (typeof d === 'number' ? d + widths![i][0] + widths![i][1] : null));
  if (mode === 'constant') {
    const value = a.constant(a.has('constant_values') ? a.num('constant_values') : 0, x.dtype as ComputeType)!;
    return { name: a.g.op('Pad', [x.name, pads, value.name], { mode: 'constant' }), dtype: x.dtype, shape };
  }
  // ONNX's reflect is NumPy's reflect; NumPy's symmetric has no ONNX mode.
  if (mode === 'reflect') return { name: a.g.op('Pad', [x.name, pads], { mode: 'reflect' }), dtype: x.dtype, shape };
  throw a.fail(`padding mode '${mode}' has no ONNX lowering (constant, reflect)`);
});

registerOpLowering('shape', (a) => {
  const x = a.tensor('x');
  return { name: a.cast({ name: a.g.op('Shape', [x.name]), dtype: 'int64', shape: [x.shape.length] }, 'int32').name, dtype: 'int32', shape: [x.shape.length] };
});

registerOpLowering('range', (a) => {
  const names = ['start', 'limit', 'delta'].filter((n) => a.has(n));
  if (names.some((n) => isOnnxTensor(a.raw(n)))) {
    // Bounds read from tensors (tf.range(tf.shape(x)[1])): ONNX's Range on scalars, the length known at run time.
    const tensors = names.map((n) => a.tensor(n));
    const type: ComputeType = a.dtype('dtype') ?? (tensors.every((t) => t.dtype !== 'float32') ? 'int32' : 'float32');
    const scalar = (n: string | null, dflt: number) => (n === null ? a.constant(dflt, type)!.name : a.g.op('Reshape', [a.tensor(n, type).name, a.g.ints([])]));
    const [start, limit] = a.has('limit') ? [scalar('start', 0), scalar('limit', 0)] : [scalar(null, 0), scalar('start', 0)];
    const delta = scalar(a.has('delta') ? 'delta' : null, 1);
    return { name: a.g.op('Range', [start, limit, delta]), dtype: type, shape: [null] };
  }
  let start = a.num('start');
  let limit: number | undefined = a.has('limit') ? a.num('limit') : undefined;
  const delta = a.has('delta') ? a.num('delta') : 1;
  if (limit === undefined) [start, limit] = [0, start];
  if (delta === 0) throw a.fail('delta must not be 0');
  const ints = [start, limit, delta].every(Number.isInteger);
  const type: ComputeType = (a.dtype('dtype') ?? (ints ? 'int32' : 'float32')) === 'int32' ? 'int32' : 'float32';
  const values: number[] = [];
  for (let v = start; delta > 0 ? v < limit : v > limit; v += delta) values.push(v);
  if (values.length > 1 << 20) throw a.fail(`a range of ${values.length} values`);
  return { name: a.g.constant(type, values, [values.length]), dtype: type, shape: [values.length] };
});
