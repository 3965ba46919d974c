/**
 * Keras backend products and repeats that TensorFlow spells as several ops: `keras.backend.dot` (and
 * NumPy's `dot`, which contracts the same axes), tf.keras's `batch_dot`, and `keras.backend.repeat`
 * (RepeatVector's op). Translated Lambda bytecode calls them by these names (src/runtime/lambda/aliases.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { type OpArgs, type OpSpec, asFloat, checkElements, normAxis } from './spec.js';

/** x's last axis contracted with y's second-to-last (y's only one when y is 1-D); scalars multiply. */
function dot(a: OpArgs): tf.Tensor {
  let [x, y] = a.pair('x', 'y');
  if (x.dtype === 'bool') [x, y] = [asFloat(x), asFloat(y)];
  if (x.rank === 0 || y.rank === 0) return tf.mul(x, y);
  const k = x.shape[x.rank - 1];
  const ky = y.shape[y.rank === 1 ? 0 : y.rank - 2];
  if (k !== ky) throw a.fail(`dot of shapes [${x.shape.join(', ')}] and [${y.shape.join(', ')}]: the contracted axes differ (${k}, ${ky})`);
  if (y.rank === 1) return tf.sum(tf.mul(x, y), -1);
  const out = [...x.shape.slice(0, -1), ...y.shape.slice(0, -2), y.shape[y.rank - 1]];
  checkElements(a, out);
  // y's contracted axis to the front, the rest flattened behind it: one matrix product.
  const perm = [y.rank - 2, ...[...y.shape.keys()].filter((i) => i !== y.rank - 2)];
  const ym = tf.reshape(tf.transpose(y, perm), [k, -1]);
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, k]), ym), out);
}

/**
 * tf.keras 2 `batch_dot`: per batch entry, x's axis `axes[0]` contracted with y's `axes[1]` (default: x's
 * last and y's second-to-last, or last when y is 2-D; an int means that axis of both). The result keeps x's
 * other axes then y's; 2-D by 2-D gives (batch, 1).
 */
function batchDot(a: OpArgs): tf.Tensor {
  let [x, y] = a.pair('x', 'y');
  if (x.dtype !== 'float32') [x, y] = [asFloat(x), asFloat(y)];
  if (x.rank < 2 || y.rank < 2) throw a.fail('batch_dot needs tensors of rank 2 or more');
  let axes = a.has('axes') ? a.ints('axes') : [x.rank - 1, y.rank === 2 ? 1 : y.rank - 2];
  if (axes.length === 1) axes = [axes[0], axes[0]];
  if (axes.length !== 2) throw a.fail('axes must be one int or two');
  const ax = normAxis(a, axes[0], x.rank);
  const ay = normAxis(a, axes[1], y.rank);
  if (ax === 0 || ay === 0) throw a.fail('batch_dot cannot contract the batch axis');
  const b = x.shape[0];
  const k = x.shape[ax];
  if (y.shape[0] !== b || y.shape[ay] !== k) throw a.fail(`batch_dot of shapes [${x.shape.join(', ')}] and [${y.shape.join(', ')}] along axes ${ax}, ${ay}: sizes differ`);
  const restX = x.shape.filter((_, i) => i !== 0 && i !== ax);
  const restY = y.shape.filter((_, i) => i !== 0 && i !== ay);
  checkElements(a, [b, ...restX, ...restY]);
  const xm = tf.reshape(tf.transpose(x, [...x.shape.keys()].filter((i) => i !== ax).concat(ax)), [b, -1, k]);
  const ym = tf.reshape(tf.transpose(y, [0, ay, ...[...y.shape.keys()].filter((i) => i !== 0 && i !== ay)]), [b, k, -1]);
  const out = tf.matMul(xm, ym);
  return tf.reshape(out, restX.length + restY.length === 0 ? [b, 1] : [b, ...restX, ...restY]);
}

/** (batch, features) → (batch, n, features). */
function repeatVector(a: OpArgs): tf.Tensor {
  const x = a.tensor('x');
  const n = a.int('n');
  if (x.rank !== 2) throw a.fail(`repeat_vector needs a 2-D tensor, got rank ${x.rank}`);
  if (n < 0) throw a.fail(`n=${n} is negative`);
  checkElements(a, [x.size, n]);
  return tf.tile(tf.expandDims(x, 1), [1, n, 1]);
}

export const KERAS_BACKEND_OPS: OpSpec[] = [
  { name: 'dot', signature: 'x, y', doc: "x's last axis contracted with y's second-to-last (Keras/NumPy dot)", run: dot },
  { name: 'batch_dot', signature: 'x, y, axes=None', doc: "per batch entry, x's axes[0] contracted with y's axes[1] (tf.keras batch_dot)", run: batchDot },
  { name: 'repeat_vector', signature: 'x, n', doc: '(batch, features) repeated n times: (batch, n, features)', run: repeatVector },
];
