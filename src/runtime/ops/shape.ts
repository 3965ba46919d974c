/**
 * Ops that move values without computing new ones: reshape, transpose, concat, stack, split, expand and
 * squeeze dimensions, tile, repeat, pad, reverse, and the shape-building ops (shape, range).
 */
import * as tf from '@tensorflow/tfjs';
import { type OpArgs, type OpSpec, alongAxis, checkElements, normAxis } from './spec.js';

/** A list of tensors in one dtype (float32 when they differ), as concatenating them needs. */
function sameDtype(ts: tf.Tensor[]): tf.Tensor[] {
  const dtypes = new Set(ts.map((t) => t.dtype));
  if (dtypes.size <= 1) return ts;
  const to: tf.DataType = dtypes.has('float32') ? 'float32' : 'int32';
  return ts.map((t) => (t.dtype === to ? t : tf.cast(t, to)));
}

function splitBySizes(a: OpArgs, x: tf.Tensor, sizes: number[], axis: number): tf.Tensor[] {
  const total = x.shape[axis];
  const unknown = sizes.filter((s) => s === -1).length;
  if (unknown > 1) throw a.fail('at most one split size may be -1');
  const known = sizes.filter((s) => s !== -1).reduce((p, q) => p + q, 0);
  const filled = sizes.map((s) => (s === -1 ? total - known : s));
  if (filled.reduce((p, q) => p + q, 0) !== total || filled.some((s) => s < 0)) {
    throw a.fail(`split sizes [${sizes.join(', ')}] do not add up to the axis length ${total}`);
  }
  return tf.split(x, filled, axis);
}

function padWidths(a: OpArgs, rank: number): [number, number][] {
  // TensorFlow: [[before, after], ...]; NumPy also takes one int or one pair for every axis.
  const raw = a.nested('paddings');
  const pairs = (v: unknown): [number, number][] | undefined => {
    if (typeof v === 'number') return Array.from({ length: rank }, () => [v, v]);
    if (!Array.isArray(v)) return undefined;
    if (v.length === 2 && v.every((x) => typeof x === 'number')) return Array.from({ length: rank }, () => [v[0] as number, v[1] as number]);
    if (v.length === 1 && Array.isArray(v[0])) return pairs(v[0]);
    if (v.length === rank && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number'))) {
      return v.map((p) => [(p as number[])[0], (p as number[])[1]]);
    }
    return undefined;
  };
  const out = pairs(raw);
  if (!out || out.some(([b, e]) => !Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0)) {
    throw a.fail(`paddings must be [[before, after], ...] with one pair per axis (${rank}) of non-negative integers`);
  }
  return out;
}

export const SHAPE_OPS: OpSpec[] = [
  {
    name: 'reshape',
    signature: 'x, shape',
    doc: 'x with a new shape (one dimension may be -1)',
    run: (a) => tf.reshape(a.tensor('x'), a.ints('shape')),
  },
  {
    name: 'transpose',
    signature: 'x, perm=None, conjugate=False',
    doc: 'axes permuted by perm (None: reversed); conjugate is a no-op on real tensors',
    run: (a) => {
      const x = a.tensor('x');
      const perm = a.has('perm') ? a.ints('perm').map((p) => normAxis(a, p, x.rank)) : undefined;
      return tf.transpose(x, perm);
    },
  },
  {
    name: 'swapaxes',
    signature: 'x, axis1, axis2',
    doc: 'x with two axes exchanged',
    run: (a) => {
      const x = a.tensor('x');
      const p = x.shape.map((_, i) => i);
      const i = normAxis(a, a.int('axis1'), x.rank);
      const j = normAxis(a, a.int('axis2'), x.rank);
      [p[i], p[j]] = [p[j], p[i]];
      return tf.transpose(x, p);
    },
  },
  {
    name: 'moveaxis',
    signature: 'x, source, destination',
    doc: 'x with axes moved from source to destination positions (NumPy)',
    run: (a) => {
      const x = a.tensor('x');
      const src = a.axes('source')!.map((s) => normAxis(a, s, x.rank));
      const dst = a.axes('destination')!.map((d) => normAxis(a, d, x.rank));
      if (src.length !== dst.length) throw a.fail('source and destination must have the same number of axes');
      const rest = x.shape.map((_, i) => i).filter((i) => !src.includes(i));
      const perm: number[] = new Array(x.rank);
      dst.forEach((d, k) => (perm[d] = src[k]));
      for (let i = 0, r = 0; i < x.rank; i++) if (perm[i] === undefined) perm[i] = rest[r++];
      return tf.transpose(x, perm);
    },
  },
  {
    name: 'concat',
    signature: 'values, axis=0',
    doc: 'tensors joined along an existing axis',
    run: (a) => {
      const ts = sameDtype(a.tensors('values'));
      if (ts.length === 0) throw a.fail('nothing to concatenate');
      return tf.concat(ts, normAxis(a, a.int('axis'), ts[0].rank));
    },
  },
  {
    name: 'stack',
    signature: 'values, axis=0',
    doc: 'tensors joined along a new axis',
    run: (a) => {
      const ts = sameDtype(a.tensors('values'));
      if (ts.length === 0) throw a.fail('nothing to stack');
      return tf.stack(ts, normAxis(a, a.int('axis'), ts[0].rank + 1));
    },
  },
  {
    name: 'unstack',
    signature: 'x, num=None, axis=0',
    doc: 'the slices of x along axis, as a list',
    run: (a) => {
      const x = a.tensor('x');
      const axis = normAxis(a, a.int('axis'), x.rank);
      const num = a.optInt('num');
      if (num !== null && num !== x.shape[axis]) throw a.fail(`num=${num} but the axis has length ${x.shape[axis]}`);
      return tf.unstack(x, axis);
    },
  },
  {
    name: 'expand_dims',
    signature: 'x, axis',
    doc: 'x with new length-1 axes at the given positions of the result',
    run: (a) => {
      const x = a.tensor('x');
      const axes = a.axes('axis');
      if (axes === null) throw a.fail('axis is required');
      const outRank = x.rank + axes.length;
      const at = axes.map((ax) => normAxis(a, ax, outRank)).sort((p, q) => p - q);
      const shape: number[] = [];
      for (let i = 0, k = 0; i < outRank; i++) shape.push(at.includes(i) ? 1 : x.shape[k++]);
      return tf.reshape(x, shape);
    },
  },
  {
    name: 'squeeze',
    signature: 'x, axis=None',
    doc: 'x without length-1 axes (all of them, or those given, which must have length 1)',
    run: (a) => {
      const x = a.tensor('x');
      const axes = a.axes('axis');
      if (axes === null) return tf.squeeze(x);
      const at = axes.map((ax) => normAxis(a, ax, x.rank));
      for (const ax of at) if (x.shape[ax] !== 1) throw a.fail(`cannot squeeze axis ${ax} of length ${x.shape[ax]}`);
      return tf.reshape(x, x.shape.filter((_, i) => !at.includes(i)));
    },
  },
  {
    name: 'tile',
    signature: 'x, multiples',
    doc: 'x repeated multiples[i] times along each axis (NumPy: fewer multiples apply to the last axes)',
    run: (a) => {
      let x = a.tensor('x');
      let reps = a.ints('multiples');
      if (reps.length < x.rank) reps = [...Array(x.rank - reps.length).fill(1), ...reps];
      if (reps.length > x.rank) x = tf.reshape(x, [...Array(reps.length - x.rank).fill(1), ...x.shape]);
      if (reps.some((r) => r < 0)) throw a.fail('multiples must not be negative');
      checkElements(a, x.shape.map((d, i) => d * reps[i]));
      return tf.tile(x, reps);
    },
  },
  {
    name: 'repeat',
    signature: 'x, repeats, axis=None',
    doc: 'each element repeated along axis (None: of the flattened array); repeats an int or one per element',
    run: (a) => {
      const { x, axis } = alongAxis(a, a.tensor('x'), 'axis');
      const n = x.shape[axis];
      const reps = a.ints('repeats');
      const each = reps.length === 1 ? Array(n).fill(reps[0]) : reps;
      if (each.length !== n || each.some((r) => r < 0)) throw a.fail(`repeats must be one non-negative int or ${n} of them`);
      const total = each.reduce((p, r) => p + r, 0);
      checkElements(a, [n === 0 ? 0 : (x.size / n) * total, total]);
      const index: number[] = [];
      each.forEach((r, i) => {
        for (let k = 0; k < r; k++) index.push(i);
      });
      return tf.gather(x, tf.tensor1d(index, 'int32'), axis);
    },
  },
  {
    name: 'broadcast_to',
    signature: 'x, shape',
    doc: 'x broadcast to shape',
    run: (a) => {
      const shape = a.ints('shape');
      checkElements(a, shape);
      return tf.broadcastTo(a.tensor('x'), shape);
    },
  },
  {
    name: 'reverse',
    signature: 'x, axis=None',
    doc: 'x with the order of elements reversed along the axes (None: all)',
    run: (a) => {
      const x = a.tensor('x');
      const axes = a.axes('axis');
      return tf.reverse(x, (axes ?? x.shape.map((_, i) => i)).map((ax) => normAxis(a, ax, x.rank)));
    },
  },
  {
    name: 'split',
    signature: 'x, num_or_size_splits, axis=0, num=None',
    doc: 'TensorFlow split: an int (equal parts) or a list of sizes (one may be -1); a list of tensors',
    run: (a) => {
      const x = a.tensor('x');
      const axis = normAxis(a, a.int('axis'), x.rank);
      const v = a.raw('num_or_size_splits');
      if (typeof v === 'number') {
        if (x.shape[axis] % v !== 0) throw a.fail(`axis length ${x.shape[axis]} does not split into ${v} equal parts`);
        return tf.split(x, v, axis);
      }
      return splitBySizes(a, x, a.ints('num_or_size_splits'), axis);
    },
  },
  {
    name: 'split_sections',
    signature: 'x, indices_or_sections, axis=0',
    doc: 'NumPy split: an int (equal sections) or the indices to cut at; a list of tensors',
    run: (a) => {
      const x = a.tensor('x');
      const axis = normAxis(a, a.int('axis'), x.rank);
      const n = x.shape[axis];
      const v = a.raw('indices_or_sections');
      if (typeof v === 'number') {
        if (n % v !== 0) throw a.fail(`axis length ${n} does not split into ${v} equal sections`);
        return tf.split(x, v, axis);
      }
      const cuts = a.ints('indices_or_sections').map((c) => Math.min(Math.max(c < 0 ? c + n : c, 0), n));
      const bounds = [0, ...cuts, n];
      return bounds.slice(1).map((end, i) => {
        const begin = Math.min(bounds[i], end);
        const b = x.shape.map((_, k) => (k === axis ? begin : 0));
        const s = x.shape.map((d, k) => (k === axis ? end - begin : d));
        return tf.slice(x, b, s);
      });
    },
  },
  {
    name: 'pad',
    signature: "x, paddings, mode='CONSTANT', constant_values=0",
    doc: 'x padded by [[before, after], ...] per axis; modes constant, reflect, symmetric',
    run: (a) => {
      const x = a.tensor('x');
      const widths = padWidths(a, x.rank);
      checkElements(a, x.shape.map((d, i) => d + widths[i][0] + widths[i][1]));
      const mode = (a.str('mode') ?? 'constant').toLowerCase();
      if (mode === 'constant') return tf.pad(x, widths, a.has('constant_values') ? a.num('constant_values') : 0);
      if (mode === 'reflect' || mode === 'symmetric') return tf.mirrorPad(x, widths, mode);
      throw a.fail(`padding mode '${mode}' is not supported (constant, reflect, symmetric)`);
    },
  },
  {
    name: 'shape',
    signature: "x, out_type='int32'",
    doc: 'the shape of x as a 1-D int32 tensor',
    run: (a) => tf.tensor1d(a.tensor('x').shape, 'int32'),
  },
  {
    name: 'range',
    signature: 'start, limit=None, delta=1, dtype=None',
    doc: 'start, start + delta, ... below limit (one argument: 0 ... start)',
    valueDependentShape: true,
    run: (a) => {
      let start = a.num('start');
      let limit = a.optNum('limit');
      if (limit === null) [start, limit] = [0, start];
      const delta = a.optNum('delta') ?? 1;
      if (delta === 0) throw a.fail('delta must not be 0');
      checkElements(a, [Math.max(0, Math.ceil((limit - start) / delta))]);
      const ints = [start, limit, delta].every(Number.isInteger);
      const dtype = a.dtype('dtype') ?? (ints ? 'int32' : 'float32');
      return tf.range(start, limit, delta, dtype === 'int32' ? 'int32' : 'float32');
    },
  },
];
