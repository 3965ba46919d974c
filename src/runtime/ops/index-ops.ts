/**
 * Indexing: `x[key]` (TensorFlow's `__operators__.getitem` and Keras 3's `GetItem`, basic NumPy indexing:
 * ints, slices with negative bounds and steps, `...`, `None`/`tf.newaxis`), gather/take and one_hot.
 */
import * as tf from '@tensorflow/tfjs';
import { type OpArgs, type OpSpec, alongAxis, checkElements, isTensor, normAxis } from './spec.js';
import { type OpValue, isArrayConstant, pyRepr } from './values.js';

/** What one input axis keeps: `count` elements from `start` every `step` (negative: backwards), or one (`drop`). */
interface AxisPick {
  start: number;
  step: number;
  count: number;
  /** An int index: the axis leaves the result. */
  drop: boolean;
}

/** Python's `slice.indices(n)` and the number of elements it selects. */
export function sliceIndices(start: number | null, stop: number | null, step: number | null, n: number): { start: number; stop: number; step: number; count: number } {
  const st = step ?? 1;
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let b: number;
  let e: number;
  if (st > 0) {
    b = start === null ? 0 : clamp(start < 0 ? start + n : start, 0, n);
    e = stop === null ? n : clamp(stop < 0 ? stop + n : stop, 0, n);
  } else {
    b = start === null ? n - 1 : clamp(start < 0 ? start + n : start, -1, n - 1);
    e = stop === null ? -1 : clamp(stop < 0 ? stop + n : stop, -1, n - 1);
  }
  const count = Math.max(0, Math.ceil((e - b) / st));
  return { start: b, stop: e, step: st, count };
}

/** `x[key]` with NumPy's basic indexing rules (which TensorFlow's strided slice follows). */
export function getItem(a: OpArgs, x: tf.Tensor, key: OpValue<tf.Tensor>[]): tf.Tensor {
  const isIndex = (v: OpValue<tf.Tensor>) => typeof v === 'number' || (isTensor(v) && v.size === 1 && v.rank === 0) || (isArrayConstant(v) && !Array.isArray(v.value));
  for (const item of key) {
    if (!(item === null || a.isEllipsis(item) || a.isSlice(item) || isIndex(item))) {
      throw a.fail(`index item ${pyRepr(item, isTensor)} is not supported (ints, slices, ..., None/newaxis only; no boolean or integer-array indexing)`);
    }
  }
  const ellipses = key.filter((k) => a.isEllipsis(k)).length;
  if (ellipses > 1) throw a.fail('an index can only have a single ellipsis');
  const consuming = key.filter((k) => k !== null && !a.isEllipsis(k)).length;
  if (consuming > x.rank) throw a.fail(`too many indices (${consuming}) for a tensor of rank ${x.rank}`);
  const items = ellipses ? key : [...key, { kind: 'ellipsis' } as OpValue<tf.Tensor>];

  const picks: AxisPick[] = [];
  const outShape: number[] = [];
  let axis = 0;
  for (const item of items) {
    if (item === null) {
      outShape.push(1);
    } else if (a.isEllipsis(item)) {
      for (let k = 0; k < x.rank - consuming; k++, axis++) {
        const n = x.shape[axis];
        picks.push({ start: 0, step: 1, count: n, drop: false });
        outShape.push(n);
      }
    } else if (a.isSlice(item)) {
      const n = x.shape[axis++];
      const step = a.intOrNone(item.step, 'slice step');
      if (step === 0) throw a.fail('slice step cannot be zero');
      const s = sliceIndices(a.intOrNone(item.start, 'slice start'), a.intOrNone(item.stop, 'slice stop'), step, n);
      picks.push({ start: s.start, step: s.step, count: s.count, drop: false });
      outShape.push(s.count);
    } else {
      const n = x.shape[axis++];
      const i = a.intOrNone(item as OpValue<tf.Tensor>, 'index') as number;
      const j = i < 0 ? i + n : i;
      if (j < 0 || j >= n) throw a.fail(`index ${i} is out of bounds for an axis of length ${n}`);
      picks.push({ start: j, step: 1, count: 1, drop: true });
    }
  }

  // Backward steps: reverse those axes first, then every pick walks forward.
  const reversed = picks.map((p, i) => (p.step < 0 ? i : -1)).filter((i) => i >= 0);
  let t = reversed.length ? tf.reverse(x, reversed) : x;
  const begin = picks.map((p, i) => (p.step < 0 ? x.shape[i] - 1 - p.start : p.start));
  const strides = picks.map((p) => Math.abs(p.step));
  if (picks.some((p) => p.count === 0)) return tf.zeros(outShape, x.dtype);
  if (strides.every((s) => s === 1)) {
    t = tf.slice(t, begin, picks.map((p) => p.count));
  } else {
    const end = picks.map((p, i) => begin[i] + (p.count - 1) * strides[i] + 1);
    t = tf.stridedSlice(t, begin, end, strides);
  }
  return tf.reshape(t, outShape);
}

function checkIndices(a: OpArgs, indices: tf.Tensor, n: number, wrap: boolean): tf.Tensor {
  if (indices.dtype === 'float32') throw a.fail('indices must be integers');
  const values = indices.dataSync();
  let wrapped = false;
  for (const v of values) {
    if (v >= n || v < (wrap ? -n : 0)) throw a.fail(`index ${v} is out of bounds for an axis of length ${n}`);
    if (v < 0) wrapped = true;
  }
  if (!wrapped) return indices;
  return tf.tensor(Array.from(values, (v) => (v < 0 ? v + n : v)), indices.shape, 'int32');
}

export const INDEX_OPS: OpSpec[] = [
  {
    name: 'getitem',
    signature: 'x, key',
    doc: 'x[key]: ints (negative from the end) drop an axis, slices start:stop:step (negative bounds and steps), ..., None adds an axis',
    run: (a) => getItem(a, a.tensor('x'), a.index('key')),
  },
  {
    name: 'gather',
    signature: 'params, indices, axis=None, batch_dims=0',
    doc: 'TensorFlow gather: slices of params at indices along axis (None: batch_dims)',
    run: (a) => {
      const x = a.tensor('params');
      const batchDims = a.int('batch_dims');
      const axis = normAxis(a, a.optInt('axis') ?? batchDims, x.rank);
      const indices = checkIndices(a, a.tensor('indices', 'int32'), x.shape[axis], false);
      return tf.gather(x, indices, axis, batchDims);
    },
  },
  {
    name: 'take',
    signature: 'x, indices, axis=None',
    doc: 'NumPy take: like gather, negative indices count from the end, axis None takes from the flattened array',
    run: (a) => {
      const { x, axis } = alongAxis(a, a.tensor('x'), 'axis');
      return tf.gather(x, checkIndices(a, a.tensor('indices', 'int32'), x.shape[axis], true), axis);
    },
  },
  {
    name: 'one_hot',
    signature: 'indices, depth, on_value=None, off_value=None, axis=None, dtype=None',
    doc: 'one-hot vectors of length depth (out-of-range indices give all off_value)',
    run: (a) => {
      const indices = a.tensor('indices', 'int32');
      const on = a.has('on_value') ? a.num('on_value') : 1;
      const off = a.has('off_value') ? a.num('off_value') : 0;
      const dtype = a.dtype('dtype') ?? 'float32';
      checkElements(a, [indices.size, a.int('depth')]);
      let r = tf.cast(tf.oneHot(indices, a.int('depth'), on, off, 'float32'), dtype);
      const axis = a.optInt('axis');
      if (axis !== null && axis !== -1) {
        const at = normAxis(a, axis, r.rank);
        const perm = r.shape.map((_, i) => i);
        perm.splice(r.rank - 1, 1);
        perm.splice(at, 0, r.rank - 1);
        r = tf.transpose(r, perm);
      }
      return r;
    },
  },
];
