/**
 * Ops along axes: reductions (`axis` None for all axes, an int or a list; `keepdims`), arg-max/min,
 * cumulative sums and products, and the normalizing activations (softmax, log-softmax, L2 normalization).
 */
import * as tf from '@tensorflow/tfjs';
import { type OpSpec, alongAxis, asBool, asFloat, normAxis, reducedAxes } from './spec.js';

function reduction(name: string, doc: string, fn: (x: tf.Tensor, axes: number[] | null, keepdims: boolean) => tf.Tensor): OpSpec {
  return {
    name,
    signature: 'x, axis=None, keepdims=False',
    doc,
    run: (a) => {
      const x = a.tensor('x');
      const axes = reducedAxes(a, 'axis', x.rank);
      const keepdims = a.bool('keepdims');
      // Reducing over no axes (axis=[]) leaves x as it is, in TensorFlow and NumPy alike.
      if (axes !== null && axes.length === 0) return tf.clone(x);
      return fn(x, axes, keepdims);
    },
  };
}

function moments(x: tf.Tensor, axes: number[] | null, keepdims: boolean): tf.Tensor {
  const f = asFloat(x);
  const all = axes ?? f.shape.map((_, i) => i);
  const mean = tf.mean(f, all, true);
  return tf.mean(tf.square(tf.sub(f, mean)), all, keepdims);
}

function argReduce(name: string, doc: string, fn: (x: tf.Tensor, axis: number) => tf.Tensor): OpSpec {
  return {
    name,
    signature: 'x, axis=None, keepdims=False',
    doc,
    run: (a) => {
      let x = a.tensor('x');
      const axis = a.optInt('axis');
      const keepdims = a.bool('keepdims');
      if (axis === null) {
        // NumPy: the index into the flattened array.
        const r = fn(tf.reshape(x, [-1]), 0);
        return keepdims ? tf.reshape(r, x.shape.map(() => 1)) : r;
      }
      const ax = normAxis(a, axis, x.rank);
      if (x.dtype === 'bool') x = tf.cast(x, 'int32');
      const r = fn(x, ax);
      return keepdims ? tf.expandDims(r, ax) : r;
    },
  };
}

function cumulative(name: string, doc: string, fn: (x: tf.Tensor, axis: number, exclusive: boolean, reverse: boolean) => tf.Tensor): OpSpec {
  return {
    name,
    signature: 'x, axis=0, exclusive=False, reverse=False',
    doc,
    run: (a) => {
      const { x, axis } = alongAxis(a, a.tensor('x'), 'axis');
      return fn(x, axis, a.bool('exclusive'), a.bool('reverse'));
    },
  };
}

/** exp(x - max) / sum over the axes; tfjs's own softmax (vectorized on wasm) when it is the last axis alone. */
function softmaxOver(x: tf.Tensor, axes: number[]): tf.Tensor {
  const f = asFloat(x);
  if (axes.length === 1 && axes[0] === f.rank - 1) return tf.softmax(f);
  const e = tf.exp(tf.sub(f, tf.max(f, axes, true)));
  return tf.div(e, tf.sum(e, axes, true));
}

function logSumExpOver(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
  return tf.logSumExp(asFloat(x), axes, keepdims);
}

export const REDUCE_OPS: OpSpec[] = [
  reduction('reduce_sum', 'sum over the axes', (x, axes, k) => tf.sum(x.dtype === 'bool' ? tf.cast(x, 'int32') : x, axes ?? undefined, k)),
  reduction('reduce_mean', 'mean over the axes', (x, axes, k) => tf.mean(asFloat(x), axes ?? undefined, k)),
  reduction('reduce_max', 'max over the axes', (x, axes, k) => tf.max(x, axes ?? undefined, k)),
  reduction('reduce_min', 'min over the axes', (x, axes, k) => tf.min(x, axes ?? undefined, k)),
  reduction('reduce_prod', 'product over the axes', (x, axes, k) => tf.prod(x, axes ?? undefined, k)),
  reduction('reduce_any', 'logical or over the axes', (x, axes, k) => tf.any(asBool(x), axes ?? undefined, k)),
  reduction('reduce_all', 'logical and over the axes', (x, axes, k) => tf.all(asBool(x), axes ?? undefined, k)),
  reduction('reduce_logsumexp', 'log(sum(exp(x))) over the axes, computed stably', (x, axes, k) => logSumExpOver(x, axes ?? x.shape.map((_, i) => i), k)),
  reduction('reduce_variance', 'population variance over the axes', moments),
  reduction('reduce_std', 'population standard deviation over the axes', (x, axes, k) => tf.sqrt(moments(x, axes, k))),
  argReduce('argmax', 'index of the max along axis (None: of the flattened array; int32)', (x, axis) => tf.argMax(x, axis)),
  argReduce('argmin', 'index of the min along axis (None: of the flattened array; int32)', (x, axis) => tf.argMin(x, axis)),
  cumulative('cumsum', 'running sum along axis (None: flattened); exclusive, reverse', (x, axis, e, r) => tf.cumsum(x, axis, e, r)),
  cumulative('cumprod', 'running product along axis (None: flattened); exclusive, reverse', (x, axis, e, r) => tf.cumprod(x, axis, e, r)),
  {
    name: 'softmax',
    signature: 'x, axis=-1',
    doc: 'exp(x) / sum(exp(x)) along axis (an int or a list)',
    run: (a) => {
      const x = a.tensor('x');
      return softmaxOver(x, reducedAxes(a, 'axis', x.rank) ?? [x.rank - 1]);
    },
  },
  {
    name: 'log_softmax',
    signature: 'x, axis=-1',
    doc: 'x - logsumexp(x) along axis',
    run: (a) => {
      const x = asFloat(a.tensor('x'));
      return tf.sub(x, logSumExpOver(x, reducedAxes(a, 'axis', x.rank) ?? [x.rank - 1], true));
    },
  },
  {
    name: 'l2_normalize',
    signature: 'x, axis=None, epsilon=1e-12',
    doc: 'x / sqrt(max(sum(x ** 2, axis), epsilon))',
    run: (a) => {
      const x = asFloat(a.tensor('x'));
      const axes = reducedAxes(a, 'axis', x.rank) ?? x.shape.map((_, i) => i);
      return tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), axes, true), a.num('epsilon'))));
    },
  },
];
