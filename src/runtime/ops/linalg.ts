/** Matrix products: matmul (TensorFlow's transposes, NumPy's 1-D operands, broadcast batch axes) and einsum. */
import * as tf from '@tensorflow/tfjs';
import { type OpArgs, type OpSpec, broadcastShape, checkElements } from './spec.js';

function matmul(a: OpArgs): tf.Tensor {
  let [x, y] = a.pair('a', 'b');
  if (x.dtype === 'bool') [x, y] = [tf.cast(x, 'float32'), tf.cast(y, 'float32')];
  // On real tensors the adjoint is the transpose.
  if ((a.bool('transpose_a') && a.bool('adjoint_a')) || (a.bool('transpose_b') && a.bool('adjoint_b'))) {
    throw a.fail('transpose and adjoint of the same operand cannot both be set');
  }
  const ta = a.bool('transpose_a') || a.bool('adjoint_a');
  const tb = a.bool('transpose_b') || a.bool('adjoint_b');
  if (x.rank === 0 || y.rank === 0) throw a.fail('matmul needs operands of rank 1 or more');
  // NumPy: a 1-D operand is a row (left) or a column (right) vector, whose added axis then leaves the result.
  const vecA = x.rank === 1;
  const vecB = y.rank === 1;
  if (vecA) x = tf.reshape(x, [1, x.shape[0]]);
  if (vecB) y = tf.reshape(y, [y.shape[0], 1]);
  const batchA = x.shape.slice(0, -2);
  const batchB = y.shape.slice(0, -2);
  const batch = broadcastShape(a, batchA, batchB);
  const innerA = ta ? x.shape[x.rank - 2] : x.shape[x.rank - 1];
  const innerB = tb ? y.shape[y.rank - 1] : y.shape[y.rank - 2];
  if (innerA !== innerB) {
    throw a.fail(`matmul of shapes [${x.shape.join(', ')}] and [${y.shape.join(', ')}] (transpose_a=${ta}, transpose_b=${tb}): inner dimensions differ`);
  }
  if (batch.length > 0) {
    if (batchA.length !== batch.length || batchA.some((d, i) => d !== batch[i])) x = tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
    if (batchB.length !== batch.length || batchB.some((d, i) => d !== batch[i])) y = tf.broadcastTo(y, [...batch, ...y.shape.slice(-2)]);
  }
  checkElements(a, [...batch, ta ? x.shape[x.rank - 1] : x.shape[x.rank - 2], tb ? y.shape[y.rank - 2] : y.shape[y.rank - 1]]);
  let r = tf.matMul(x, y, ta, tb);
  if (vecA || vecB) {
    const shape = r.shape.slice();
    if (vecB) shape.splice(shape.length - 1, 1);
    if (vecA) shape.splice(shape.length - (vecB ? 1 : 2), 1);
    r = tf.reshape(r, shape);
  }
  return r;
}

export const LINALG_OPS: OpSpec[] = [
  {
    name: 'matmul',
    signature: 'a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False',
    doc: 'matrix product over the last two axes, batch axes broadcast; 1-D operands as vectors (NumPy)',
    run: matmul,
  },
  {
    name: 'einsum',
    signature: 'equation, *operands',
    doc: 'Einstein summation (what tfjs\'s einsum supports: no ellipsis, no repeated index within one operand)',
    run: (a) => {
      const eq = a.str('equation');
      if (eq === null) throw a.fail('equation is required');
      const ops = a.tensors('operands');
      try {
        return tf.einsum(eq, ...ops);
      } catch (e) {
        throw a.fail(`einsum '${eq}' is not supported by tfjs (${(e as Error).message})`);
      }
    },
  },
];
