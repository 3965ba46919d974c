/**
 * INTERIM: the semantics of the ops translated Lambdas call, in tfjs. These belong in the one op table
 * shared with TFOpLambda and Keras 3 op nodes (DESIGN.md, "Ops: one table, three front-ends"); when that
 * table lands, each op here folds into it (same op names and argument names as aliases.ts binds) and
 * this module goes away.
 *
 * Each op takes its arguments by name (bound by `bindCall`, defaults filled in) and follows TensorFlow's /
 * Keras's documented semantics: Python axes (negative from the end), `keepdims`, broadcasting, Keras's
 * `dot` and `batch_dot` contraction rules.
 */
import * as tf from '@tensorflow/tfjs';
import {
  MAX_SEQUENCE,
  PySeq,
  checkSize,
  type Value,
  isTensor,
  lambdaError,
  normAxis,
  toAxes,
  toDType,
  toInt,
  toIntList,
  toTensor,
  toTensorList,
  typeName,
} from './values.js';

type Args = Record<string, Value>;
export type OpImpl = (a: Args) => Value;

const x = (a: Args, k = 'x') => toTensor(a[k], k);

/** Python arithmetic on two numbers. */
function numeric(op: string, l: number, r: number): number | boolean {
  switch (op) {
    case 'add':
      return l + r;
    case 'subtract':
      return l - r;
    case 'multiply':
      return l * r;
    case 'divide':
      if (r === 0) throw lambdaError('division by zero');
      return l / r;
    case 'floor_divide':
      if (r === 0) throw lambdaError('integer division by zero');
      return Math.floor(l / r);
    case 'mod':
      if (r === 0) throw lambdaError('modulo by zero');
      return l - Math.floor(l / r) * r;
    case 'power':
      return l ** r;
    case 'maximum':
      return Math.max(l, r);
    case 'minimum':
      return Math.min(l, r);
    case 'equal':
      return l === r;
    case 'not_equal':
      return l !== r;
    case 'less':
      return l < r;
    case 'less_equal':
      return l <= r;
    case 'greater':
      return l > r;
    default:
      return l >= r;
  }
}

const TENSOR_BINARY: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  add: tf.add,
  subtract: tf.sub,
  multiply: tf.mul,
  divide: tf.div,
  floor_divide: tf.floorDiv,
  mod: tf.mod,
  power: tf.pow,
  maximum: tf.maximum,
  minimum: tf.minimum,
  equal: tf.equal,
  not_equal: tf.notEqual,
  less: tf.less,
  less_equal: tf.lessEqual,
  greater: tf.greater,
  greater_equal: tf.greaterEqual,
};

/** NumPy broadcasting of two shapes (undefined when they do not broadcast; tfjs then says why). */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Operands of one dtype: a Python number takes the tensor's; int next to float computes in float. */
function operands(l: Value, r: Value): [tf.Tensor, tf.Tensor] {
  const lt = isTensor(l) ? l : undefined;
  const rt = isTensor(r) ? r : undefined;
  let a = toTensor(l, 'left operand', rt?.dtype);
  let b = toTensor(r, 'right operand', lt?.dtype);
  if (a.dtype !== b.dtype) {
    a = a.dtype === 'float32' ? a : a.toFloat();
    b = b.dtype === 'float32' ? b : b.toFloat();
  }
  return [a, b];
}

function binary(op: string): OpImpl {
  return (a) => {
    const l = a.x;
    const r = a.y;
    if ((typeof l === 'number' || typeof l === 'boolean') && (typeof r === 'number' || typeof r === 'boolean')) return numeric(op, Number(l), Number(r));
    if (l instanceof PySeq && r instanceof PySeq && op === 'add' && l.kind === r.kind) return new PySeq(l.kind, [...l.items, ...r.items]);
    if (l instanceof PySeq && typeof r === 'number' && op === 'multiply') {
      const times = Math.max(0, Math.floor(r));
      if (times * l.items.length > MAX_SEQUENCE) throw lambdaError(`a ${l.kind} of ${times * l.items.length} items (at most ${MAX_SEQUENCE})`);
      return new PySeq(l.kind, Array.from({ length: times }, () => l.items).flat());
    }
    let [p, q] = operands(l, r);
    const shape = broadcastShape(p.shape, q.shape);
    if (shape) checkSize(shape, op);
    // True division of integers gives floats in Python and TensorFlow.
    if (op === 'divide' && p.dtype === 'int32') [p, q] = [p.toFloat(), q.toFloat()];
    return TENSOR_BINARY[op](p, q);
  };
}

function unary(fn: (t: tf.Tensor) => tf.Tensor, math: (v: number) => number): OpImpl {
  return (a) => (typeof a.x === 'number' ? math(a.x) : fn(floatIfInt(x(a))));
}

function floatIfInt(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : t.toFloat();
}

function reduction(fn: (t: tf.Tensor, axes: number[] | undefined, keep: boolean) => tf.Tensor): OpImpl {
  return (a) => {
    const t = x(a);
    return fn(t, toAxes(a.axis, t.rank), a.keepdims === true);
  };
}

function variance(t: tf.Tensor, axes: number[] | undefined, keep: boolean): tf.Tensor {
  const f = floatIfInt(t);
  const mean = tf.mean(f, axes, true);
  return tf.mean(tf.square(tf.sub(f, mean)), axes, keep);
}

/** `x` contracted over its last axis with `y`'s second-to-last (Keras `dot`, NumPy `dot`). */
function dot(a: Args): tf.Tensor {
  const p = x(a, 'x');
  const q = x(a, 'y');
  if (p.rank === 0 || q.rank === 0) return tf.mul(p, q);
  if (q.rank === 1) return tf.sum(tf.mul(p, q), -1);
  const k = p.shape[p.rank - 1];
  if (q.shape[q.rank - 2] !== k) throw lambdaError(`dot: shapes [${p.shape}] and [${q.shape}] do not contract`);
  if (p.rank <= 2 && q.rank === 2) return p.rank === 1 ? tf.squeeze(tf.matMul(p.expandDims(0), q), [0]) : tf.matMul(p, q);
  checkSize([...p.shape.slice(0, -1), ...q.shape.slice(0, -2), q.shape[q.rank - 1]], 'dot');
  const perm = [q.rank - 2, ...q.shape.map((_, i) => i).filter((i) => i !== q.rank - 2)];
  const qm = tf.reshape(tf.transpose(q, perm), [k, -1]);
  const out = tf.matMul(tf.reshape(p, [-1, k]), qm);
  return tf.reshape(out, [...p.shape.slice(0, -1), ...q.shape.slice(0, -2), q.shape[q.rank - 1]]);
}

/** `@` / matmul: batched, 1-D operands promoted and dropped again as NumPy does. */
function matmul(a: Args): tf.Tensor {
  let p = x(a, 'x');
  let q = x(a, 'y');
  const tp = a.transpose_x === true;
  const tq = a.transpose_y === true;
  const pv = p.rank === 1;
  const qv = q.rank === 1;
  if (pv) p = p.expandDims(0);
  if (qv) q = q.expandDims(1);
  const batch = broadcastShape(p.shape.slice(0, -2), q.shape.slice(0, -2)) ?? [];
  checkSize([...batch, p.shape[p.rank - (tp ? 1 : 2)], q.shape[q.rank - (tq ? 2 : 1)]], 'matmul');
  let out = tf.matMul(floatIfInt(p), floatIfInt(q), tp, tq);
  if (pv) out = tf.squeeze(out, [out.rank - 2]);
  if (qv) out = tf.squeeze(out, [out.rank - 1]);
  return out;
}

/** tf.keras 2 `batch_dot`: contracts `axes` of x and y, keeping the batch axis. */
function batchDot(a: Args): tf.Tensor {
  const p = x(a, 'x');
  const q = x(a, 'y');
  if (p.rank < 2 || q.rank < 2) throw lambdaError('batch_dot needs tensors of rank 2 or more');
  let axes: number[];
  if (a.axes === null) axes = [p.rank - 1, q.rank === 2 ? 1 : q.rank - 2];
  else {
    axes = toIntList(a.axes, 'axes');
    if (axes.length === 1) axes = [axes[0], axes[0]];
  }
  if (axes.length !== 2) throw lambdaError('batch_dot axes must be one or two ints');
  const ax = normAxis(axes[0], p.rank, 'axes[0]');
  const ay = normAxis(axes[1], q.rank, 'axes[1]');
  if (ax === 0 || ay === 0) throw lambdaError('batch_dot cannot contract the batch axis');
  if (p.shape[ax] !== q.shape[ay]) throw lambdaError(`batch_dot: axis ${ax} of [${p.shape}] and axis ${ay} of [${q.shape}] differ`);
  const pMoved = tf.transpose(p, [...p.shape.keys()].filter((i) => i !== ax).concat(ax));
  const qMoved = tf.transpose(q, [0, ay, ...[...q.shape.keys()].filter((i) => i !== 0 && i !== ay)]);
  const b = p.shape[0];
  const k = p.shape[ax];
  checkSize([b, p.size / b / k, q.size / b / k], 'batch_dot');
  const out = tf.matMul(tf.reshape(floatIfInt(pMoved), [b, -1, k]), tf.reshape(floatIfInt(qMoved), [b, k, -1]));
  const rest = [...p.shape.filter((_, i) => i !== 0 && i !== ax), ...q.shape.filter((_, i) => i !== 0 && i !== ay)];
  return rest.length === 0 ? tf.reshape(out, [b, 1]) : tf.reshape(out, [b, ...rest]);
}

function softmax(a: Args): tf.Tensor {
  const t = floatIfInt(x(a));
  const axis = normAxis(toInt(a.axis, 'axis'), t.rank);
  if (axis === t.rank - 1) return tf.softmax(t);
  const perm = [...t.shape.keys()].filter((i) => i !== axis).concat(axis);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return tf.transpose(tf.softmax(tf.transpose(t, perm)), inverse);
}

function l2Normalize(a: Args): tf.Tensor {
  const t = floatIfInt(x(a));
  // keras.backend.l2_normalize takes no epsilon: it calls tf.linalg.l2_normalize with its 1e-12.
  const eps = a.epsilon ?? 1e-12;
  if (typeof eps !== 'number') throw lambdaError(`epsilon must be a number, got ${typeName(eps)}`);
  const sq = tf.sum(tf.square(t), toAxes(a.axis, t.rank), true);
  return tf.mul(t, tf.rsqrt(tf.maximum(sq, eps)));
}

/** `x` repeated `repeats` times along `axis` (each element in turn), or flattened first when axis is None. */
function repeat(a: Args): tf.Tensor {
  let t = x(a);
  const r = toInt(a.repeats, 'repeats');
  if (r < 0) throw lambdaError('repeats must not be negative');
  if (a.axis === null) t = tf.reshape(t, [-1]);
  const axis = normAxis(a.axis === null ? 0 : toInt(a.axis, 'axis'), t.rank);
  checkSize([...t.shape, r], 'repeat');
  const reps = t.shape.map(() => 1);
  reps.splice(axis + 1, 0, r);
  const tiled = tf.tile(tf.expandDims(t, axis + 1), reps);
  const shape = [...t.shape];
  shape[axis] *= r;
  return tf.reshape(tiled, shape);
}

/** NumPy's tile: repeats shorter than the rank are padded with ones in front, longer ones add axes. */
function tile(a: Args): tf.Tensor {
  let t = x(a);
  const reps = toIntList(a.repeats, 'repeats');
  while (t.rank < reps.length) t = t.expandDims(0);
  const full = [...t.shape.slice(0, t.rank - reps.length).map(() => 1), ...reps];
  if (full.some((n) => n < 0)) throw lambdaError('tile repeats must not be negative');
  checkSize(t.shape.map((d, i) => d * full[i]), 'tile');
  return tf.tile(t, full);
}

function squeeze(a: Args): tf.Tensor {
  const t = x(a);
  const axes = toAxes(a.axis, t.rank);
  for (const ax of axes ?? []) if (t.shape[ax] !== 1) throw lambdaError(`cannot squeeze axis ${ax} of size ${t.shape[ax]}`);
  return tf.squeeze(t, axes);
}

function reshape(a: Args): tf.Tensor {
  return tf.reshape(x(a), toIntList(a.shape, 'shape'));
}

function transpose(a: Args): tf.Tensor {
  const t = x(a);
  if (a.axes === null) return tf.transpose(t);
  return tf.transpose(t, toIntList(a.axes, 'axes').map((ax) => normAxis(ax, t.rank)));
}

function expandDims(a: Args): tf.Tensor {
  const t = x(a);
  return tf.expandDims(t, normAxis(toInt(a.axis, 'axis'), t.rank + 1));
}

/** The tensors of a list argument, refused when together they hold more than one op may make. */
function tensorList(a: Args, what: string): tf.Tensor[] {
  const ts = toTensorList(a.xs, 'tensors');
  if (ts.length === 0) throw lambdaError(`${what} needs at least one tensor`);
  checkSize([ts.reduce((n, t) => n + t.size, 0)], what);
  return ts;
}

function concatenate(a: Args): tf.Tensor {
  const ts = tensorList(a, 'concatenate');
  return tf.concat(ts, normAxis(toInt(a.axis, 'axis'), ts[0].rank));
}

function stack(a: Args): tf.Tensor {
  const ts = tensorList(a, 'stack');
  return tf.stack(ts, normAxis(toInt(a.axis, 'axis'), ts[0].rank + 1));
}

/** Keras `repeat`: (batch, dim) → (batch, n, dim). */
function repeatVector(a: Args): tf.Tensor {
  const t = x(a);
  if (t.rank !== 2) throw lambdaError(`repeat expects a 2-D tensor, got rank ${t.rank}`);
  const n = toInt(a.n, 'n');
  if (n < 0) throw lambdaError('repeat n must not be negative');
  checkSize([t.size * n], 'repeat');
  return tf.tile(tf.expandDims(t, 1), [1, n, 1]);
}

export const INTERIM_OPS: Readonly<Record<string, OpImpl>> = {
  sum: reduction((t, ax, k) => tf.sum(t, ax, k)),
  mean: reduction((t, ax, k) => tf.mean(floatIfInt(t), ax, k)),
  max: reduction((t, ax, k) => tf.max(t, ax, k)),
  min: reduction((t, ax, k) => tf.min(t, ax, k)),
  prod: reduction((t, ax, k) => tf.prod(t, ax, k)),
  var: reduction(variance),
  std: reduction((t, ax, k) => tf.sqrt(variance(t, ax, k))),
  expand_dims: expandDims,
  squeeze,
  reshape,
  transpose,
  repeat_vector: repeatVector,
  repeat,
  tile,
  concatenate,
  stack,
  dot,
  matmul,
  batch_dot: batchDot,
  softmax,
  l2_normalize: l2Normalize,
  sqrt: unary(tf.sqrt, Math.sqrt),
  square: unary(tf.square, (v) => v * v),
  exp: unary(tf.exp, Math.exp),
  log: unary(tf.log, Math.log),
  abs: (a) => (typeof a.x === 'number' ? Math.abs(a.x) : tf.abs(x(a))),
  tanh: unary(tf.tanh, Math.tanh),
  sigmoid: unary(tf.sigmoid, (v) => 1 / (1 + Math.exp(-v))),
  negative: (a) => (typeof a.x === 'number' ? -a.x : tf.neg(x(a))),
  positive: (a) => (typeof a.x === 'number' ? a.x : x(a)),
  cast: (a) => {
    const d = toDType(a.dtype, 'dtype');
    const v = a.x;
    return typeof v === 'number' || typeof v === 'boolean' ? toTensor(v, 'x', d) : tf.cast(x(a), d);
  },
  shape: (a) => tf.tensor1d(x(a).shape, 'int32'),
  shape_tuple: (a) => new PySeq('tuple', x(a).shape),
  floatx: () => 'float32',
  epsilon: () => 1e-7,
  ...Object.fromEntries(Object.keys(TENSOR_BINARY).map((op) => [op, binary(op)])),
};
