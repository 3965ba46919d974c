/**
 * The op table's semantics, against values worked out by hand from NumPy's and TensorFlow's documented
 * rules (indexing, broadcasting, axes, splits) or computed here with plain loops from the formula.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { KerasInteropError } from '../../../src/errors.js';
import { useBackend } from '../../../src/runtime/backend.js';
import { bindOp, runOp } from '../../../src/runtime/ops/table.js';
import { ELLIPSIS, type OpValue, pySlice } from '../../../src/runtime/ops/values.js';

beforeAll(async () => {
  await useBackend('cpu');
});

type V = OpValue<tf.Tensor>;

function op(name: string, positional: V[], keywords: Record<string, V> = {}): tf.Tensor | tf.Tensor[] {
  return runOp(bindOp<tf.Tensor>(name, positional, keywords));
}

function one(name: string, positional: V[], keywords: Record<string, V> = {}): tf.Tensor {
  const r = op(name, positional, keywords);
  if (Array.isArray(r)) throw new Error('expected one tensor');
  return r;
}

function values(t: tf.Tensor): unknown {
  return t.arraySync();
}

function close(actual: tf.Tensor, expected: number[], atol = 1e-6): void {
  const a = Array.from(actual.dataSync());
  expect(a.length).toBe(expected.length);
  a.forEach((v, i) => expect(Math.abs(v - expected[i]), `index ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(atol));
}

function fails(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KerasInteropError);
    expect((e as KerasInteropError).code).toBe('UNSUPPORTED_OP');
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an UNSUPPORTED_OP error');
}

const S = (start: number | null = null, stop: number | null = null, step: number | null = null) => pySlice<tf.Tensor>(start, stop, step);

describe('getitem: NumPy basic indexing (TensorFlow strided slice)', () => {
  // x[i, j, k] = 12 i + 4 j + k
  const x = () => tf.range(0, 24, 1, 'int32').reshape([2, 3, 4]);
  const get = (key: V) => one('getitem', [x(), key]);

  it('ints drop axes, negative ints count from the end', () => {
    expect(values(get([0, 1]))).toEqual([4, 5, 6, 7]);
    expect(values(get([-1, -1, -1]))).toEqual(23);
    expect(get([-1, -1, -1]).shape).toEqual([]);
    expect(values(get(1))).toEqual([[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]]);
  });

  it('slices with steps, negative steps and out-of-range bounds (clamped as Python does)', () => {
    expect(values(get([S(), -1, S(null, null, 2)]))).toEqual([[8, 10], [20, 22]]);
    expect(values(get([S(null, null, -1), 1]))).toEqual([[16, 17, 18, 19], [4, 5, 6, 7]]);
    expect(values(get([1, S(null, null, -2), S(3, 0, -2)]))).toEqual([[23, 21], [15, 13]]);
    expect(values(get([0, S(), S(-10, 2)]))).toEqual([[0, 1], [4, 5], [8, 9]]);
    expect(values(get([S(), S(null, -1), S(-3, -1)]))).toEqual([[[1, 2], [5, 6]], [[13, 14], [17, 18]]]);
    const empty = get([S(), S(5)]);
    expect(empty.shape).toEqual([2, 0, 4]);
  });

  it('Ellipsis fills the axes the key leaves out; None adds a length-1 axis', () => {
    expect(values(get([ELLIPSIS, 1]))).toEqual([[1, 5, 9], [13, 17, 21]]);
    expect(values(get([S(), null, S(1), -1]))).toEqual([[[7, 11]], [[19, 23]]]);
    expect(get([null, ELLIPSIS, null]).shape).toEqual([1, 2, 3, 4, 1]);
    expect(values(get([1, ELLIPSIS, S(null, null, 3)]))).toEqual([[12, 15], [16, 19], [20, 23]]);
  });

  it('refuses what TensorFlow refuses', () => {
    fails(() => get([2]), /out of bounds/);
    fails(() => get([ELLIPSIS, ELLIPSIS]), /single ellipsis/);
    fails(() => get([S(null, null, 0)]), /step cannot be zero/);
    fails(() => get([0, 0, 0, 0]), /too many indices/);
    fails(() => get([[0, 1]]), /not supported/);
  });
});

describe('elementwise ops broadcast and take constants in the tensor\'s dtype', () => {
  it('arithmetic', () => {
    const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    expect(values(one('add', [a, tf.tensor1d([10, 20, 30])]))).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(values(one('multiply', [a, 0.5]))).toEqual([[0.5, 1, 1.5], [2, 2.5, 3]]);
    expect(values(one('subtract', [[[1], [2]], a]))).toEqual([[0, -1, -2], [-2, -3, -4]]);
    const i = tf.tensor1d([7, -7], 'int32');
    // true division of integers is a float division; floor division and % follow the divisor's sign
    close(one('divide', [i, 2]), [3.5, -3.5]);
    expect(values(one('floor_divide', [i, 2]))).toEqual([3, -4]);
    expect(values(one('floor_mod', [i, 3]))).toEqual([1, 2]);
    expect(values(one('floor_mod', [i, -3]))).toEqual([-2, -1]);
    expect(values(one('divide_no_nan', [tf.tensor1d([1, 2]), tf.tensor1d([0, 4])]))).toEqual([0, 0.5]);
    expect(one('equal', [i, 7]).dtype).toBe('bool');
  });

  it('activations from their formulas', () => {
    const x = tf.tensor1d([-2, -0.5, 0, 1, 3]);
    const xs = [-2, -0.5, 0, 1, 3];
    // Φ(1) = 0.8413447460685429, Φ(-2) = 0.0227501319481792, Φ(3) = 0.9986501019683699, Φ(-0.5) = 0.3085375387259869
    close(one('gelu', [x]), [-2 * 0.0227501319481792, -0.5 * 0.3085375387259869, 0, 0.8413447460685429, 3 * 0.9986501019683699], 2e-6);
    const tanhGelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    close(one('gelu', [x], { approximate: true }), xs.map(tanhGelu), 2e-6);
    close(one('leaky_relu', [x], { alpha: 0.1 }), xs.map((v) => (v >= 0 ? v : 0.1 * v)));
    close(one('elu', [x], { alpha: 2 }), xs.map((v) => (v > 0 ? v : 2 * Math.expm1(v))));
    close(one('silu', [x]), xs.map((v) => v / (1 + Math.exp(-v))));
    close(one('hard_sigmoid', [x]), xs.map((v) => Math.min(Math.max(v + 3, 0), 6) / 6));
    const wide = [-4, -2.5, -1, 0, 2, 2.5, 4];
    close(one('hard_sigmoid_keras2', [tf.tensor1d(wide)]), wide.map((v) => Math.min(Math.max(0.2 * v + 0.5, 0), 1)));
    close(one('softsign', [x]), xs.map((v) => v / (1 + Math.abs(v))));
  });

  it('constants are rectangular arrays of numbers: a ragged list is refused, never read with too few values', () => {
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    expect(values(one('add', [a, { kind: 'array', value: [[10, 20], [30, 40]] }]))).toEqual([[11, 22], [33, 44]]);
    expect(values(one('add', [a, [[true, false], [false, true]]]))).toEqual([[2, 2], [3, 5]]);
    fails(() => one('add', [a, { kind: 'array', value: [[10, 20], true] }]), /argument y=array\(\[\[10, 20\], True\]\) is not a tensor/);
    fails(() => one('add', [a, [[10, 20], [30]]]), /argument y=\[\[10, 20\], \[30\]\] is not a tensor/);
    fails(() => one('add', [a, [[10, 20], [30, 'x']]]), /is not a tensor/);
  });

  it('cast truncates toward zero; where broadcasts all three operands', () => {
    expect(values(one('cast', [tf.tensor1d([-1.7, 1.7, 2.5]), 'int32']))).toEqual([-1, 1, 2]);
    const b = one('cast', [tf.tensor1d([0, 2]), 'bool']);
    expect([b.dtype, values(b)]).toEqual(['bool', [0, 1]]);
    const r = one('where', [tf.tensor2d([[true], [false]], [2, 1], 'bool'), tf.tensor1d([1, 2, 3]), 0]);
    expect(values(r)).toEqual([[1, 2, 3], [0, 0, 0]]);
  });
});

describe('ops along axes', () => {
  const x = () => tf.tensor3d([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);

  it('reductions: None, an int, a list, negative axes, keepdims; axis=[] leaves x as it is', () => {
    expect(values(one('reduce_sum', [x()]))).toEqual(78);
    expect(values(one('reduce_sum', [x()], { axis: -1 }))).toEqual([[3, 7, 11], [15, 19, 23]]);
    expect(values(one('reduce_mean', [x()], { axis: [0, 2], keepdims: true }))).toEqual([[[4.5], [6.5], [8.5]]]);
    expect(values(one('reduce_max', [x(), 1]))).toEqual([[5, 6], [11, 12]]);
    expect(values(one('reduce_sum', [x(), []]))).toEqual(values(x()));
    // population variance of 1..12 is (12^2 - 1) / 12
    close(one('reduce_variance', [x()]), [143 / 12], 1e-5);
    close(one('reduce_std', [x(), [0, 1, 2]]), [Math.sqrt(143 / 12)], 1e-5);
    close(one('reduce_logsumexp', [tf.tensor1d([1000, 1000])]), [1000 + Math.log(2)], 1e-3);
  });

  it('argmax: None is the index into the flattened array (NumPy); TensorFlow\'s default axis is 0', () => {
    const t = tf.tensor2d([[1, 9, 3], [7, 2, 8]]);
    expect(values(one('argmax', [t]))).toEqual(1);
    expect(values(one('argmax', [t, 1], { keepdims: true }))).toEqual([[1], [2]]);
    expect(values(one('argmin', [t, 0]))).toEqual([0, 1, 0]);
  });

  it('softmax over a middle axis and over two axes, from exp(x) / sum(exp(x))', () => {
    const data = [0.1, -1, 2, 0.5, 3, -0.2, 1.5, 0.3, -2, 0.7, 1, 0];
    const t = tf.tensor3d(data, [2, 3, 2]);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        for (let k = 0; k < 2; k++) {
          let sum = 0;
          for (let jj = 0; jj < 3; jj++) sum += Math.exp(data[i * 6 + jj * 2 + k]);
          expected.push(Math.exp(data[i * 6 + j * 2 + k]) / sum);
        }
      }
    }
    close(one('softmax', [t], { axis: 1 }), expected);
    const two = Array.from(one('softmax', [t], { axis: [1, 2] }).dataSync());
    const first = data.slice(0, 6).map(Math.exp);
    const s = first.reduce((a, b) => a + b, 0);
    first.forEach((v, i) => expect(Math.abs(two[i] - v / s)).toBeLessThan(1e-6));
    close(one('log_softmax', [tf.tensor1d([1, 2])]), [1 - Math.log(Math.E + Math.E ** 2), 2 - Math.log(Math.E + Math.E ** 2)]);
    close(one('l2_normalize', [tf.tensor1d([3, 4])]), [0.6, 0.8]);
  });

  it('cumsum with exclusive and reverse; None flattens', () => {
    const t = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    expect(values(one('cumsum', [t], { axis: 1 }))).toEqual([[1, 3, 6], [4, 9, 15]]);
    expect(values(one('cumsum', [t], { axis: 1, exclusive: true, reverse: true }))).toEqual([[5, 3, 0], [11, 6, 0]]);
    expect(values(one('cumsum', [t], { axis: null }))).toEqual([1, 3, 6, 10, 15, 21]);
    expect(values(one('cumprod', [t, 0]))).toEqual([[1, 2, 3], [4, 10, 18]]);
  });
});

describe('shape ops', () => {
  const x = () => tf.tensor2d([[1, 2, 3], [4, 5, 6]]);

  it('reshape with -1, transpose with and without perm, swapaxes, moveaxis', () => {
    expect(values(one('reshape', [x(), [3, -1]]))).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(values(one('transpose', [x()]))).toEqual([[1, 4], [2, 5], [3, 6]]);
    const t = tf.zeros([2, 3, 4, 5]);
    expect(one('transpose', [t], { perm: [0, 2, 1, 3] }).shape).toEqual([2, 4, 3, 5]);
    expect(one('swapaxes', [t, 0, -1]).shape).toEqual([5, 3, 4, 2]);
    expect(one('moveaxis', [t, 0, -1]).shape).toEqual([3, 4, 5, 2]);
    expect(one('moveaxis', [t, [0, 1], [-1, -2]]).shape).toEqual([4, 5, 3, 2]);
  });

  it('concat, stack, unstack', () => {
    expect(values(one('concat', [[x(), x()], -1]))).toEqual([[1, 2, 3, 1, 2, 3], [4, 5, 6, 4, 5, 6]]);
    expect(one('stack', [[x(), x()]], { axis: -1 }).shape).toEqual([2, 3, 2]);
    const parts = op('unstack', [x()], { axis: 1 }) as tf.Tensor[];
    expect(parts.map(values)).toEqual([[1, 4], [2, 5], [3, 6]]);
  });

  it('expand_dims at several positions of the result; squeeze refuses a longer axis', () => {
    expect(one('expand_dims', [x(), [0, -1]]).shape).toEqual([1, 2, 3, 1]);
    expect(one('expand_dims', [x(), 1]).shape).toEqual([2, 1, 3]);
    expect(one('squeeze', [tf.zeros([1, 2, 1, 3])]).shape).toEqual([2, 3]);
    expect(one('squeeze', [tf.zeros([1, 2, 1, 3]), -2]).shape).toEqual([1, 2, 3]);
    fails(() => one('squeeze', [x(), 0]), /cannot squeeze axis 0 of length 2/);
  });

  it('tile (NumPy: fewer multiples apply to the last axes), repeat, broadcast_to, reverse', () => {
    expect(values(one('tile', [x(), [1, 2]]))).toEqual([[1, 2, 3, 1, 2, 3], [4, 5, 6, 4, 5, 6]]);
    expect(one('tile', [x(), [2]]).shape).toEqual([2, 6]);
    expect(one('tile', [x(), [2, 1, 1]]).shape).toEqual([2, 2, 3]);
    expect(values(one('repeat', [x(), 2], { axis: 0 }))).toEqual([[1, 2, 3], [1, 2, 3], [4, 5, 6], [4, 5, 6]]);
    expect(values(one('repeat', [x(), [1, 0, 2]], { axis: 1 }))).toEqual([[1, 3, 3], [4, 6, 6]]);
    expect(values(one('repeat', [x(), 2]))).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    expect(values(one('reverse', [x(), [-1]]))).toEqual([[3, 2, 1], [6, 5, 4]]);
  });

  it('split: TensorFlow sizes (one -1) and NumPy indices', () => {
    const t = tf.range(0, 10);
    expect((op('split', [t, [2, -1, 3]]) as tf.Tensor[]).map(values)).toEqual([[0, 1], [2, 3, 4, 5, 6], [7, 8, 9]]);
    expect((op('split', [t, 5]) as tf.Tensor[]).map((p) => p.shape[0])).toEqual([2, 2, 2, 2, 2]);
    expect((op('split_sections', [t, [3, -2]]) as tf.Tensor[]).map(values)).toEqual([[0, 1, 2], [3, 4, 5, 6, 7], [8, 9]]);
    fails(() => op('split', [t, 3]), /does not split into 3 equal parts/);
    fails(() => op('split', [t, [2, 2]]), /do not add up/);
  });

  it('pad: TensorFlow pairs and NumPy widths; constant, reflect, symmetric', () => {
    const t = tf.tensor1d([1, 2, 3]);
    expect(values(one('pad', [t, [[1, 2]]], { constant_values: 9 }))).toEqual([9, 1, 2, 3, 9, 9]);
    expect(values(one('pad', [t, [[2, 1]]], { mode: 'REFLECT' }))).toEqual([3, 2, 1, 2, 3, 2]);
    expect(values(one('pad', [t, 2], { mode: 'symmetric' }))).toEqual([2, 1, 1, 2, 3, 3, 2]);
    expect(one('pad', [x(), [1, 0]]).shape).toEqual([3, 4]);
  });

  it('shape and range', () => {
    expect(values(one('shape', [tf.zeros([2, 5])]))).toEqual([2, 5]);
    expect(values(one('range', [4]))).toEqual([0, 1, 2, 3]);
    expect(values(one('range', [1, 2, 0.25]))).toEqual([1, 1.25, 1.5, 1.75]);
    expect(values(one('range', [5, 0, -2]))).toEqual([5, 3, 1]);
  });
});

describe('indexing and matrices', () => {
  it('gather and take (negative indices from the end; None flattens)', () => {
    const t = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    expect(values(one('gather', [t, [1, 0]]))).toEqual([[4, 5, 6], [1, 2, 3]]);
    expect(values(one('gather', [t, [2]], { axis: 1 }))).toEqual([[3], [6]]);
    expect(values(one('take', [t, [-1, 0]], { axis: 1 }))).toEqual([[3, 1], [6, 4]]);
    expect(values(one('take', [t, [5, -6]]))).toEqual([6, 1]);
    fails(() => one('gather', [t, [2]]), /out of bounds/);
  });

  it('one_hot along the last or a given axis', () => {
    expect(values(one('one_hot', [[0, 2, 5], 3]))).toEqual([[1, 0, 0], [0, 0, 1], [0, 0, 0]]);
    expect(values(one('one_hot', [[0, 2], 3], { axis: 0, on_value: 5, off_value: -1 }))).toEqual([[5, -1], [-1, -1], [-1, 5]]);
  });

  it('matmul: transposes, broadcast batch axes, 1-D operands as vectors', () => {
    // a[b, i, k] = b + i - k, c[j, k, l] = k * l + j
    const a = tf.tensor(Array.from({ length: 2 * 2 * 3 }, (_, n) => Math.floor(n / 6) + (Math.floor(n / 3) % 2) - (n % 3)), [2, 1, 2, 3]);
    const c = tf.tensor(Array.from({ length: 4 * 3 * 2 }, (_, n) => (Math.floor(n / 2) % 3) * (n % 2) + Math.floor(n / 6)), [4, 3, 2]);
    const r = one('matmul', [a, c]);
    expect(r.shape).toEqual([2, 4, 2, 2]);
    const got = r.arraySync() as number[][][][];
    for (let b = 0; b < 2; b++) for (let j = 0; j < 4; j++) for (let i = 0; i < 2; i++) for (let l = 0; l < 2; l++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += (b + i - k) * (k * l + j);
      expect(got[b][j][i][l]).toBe(s);
    }
    const m = tf.tensor2d([[1, 2], [3, 4]]);
    expect(values(one('matmul', [m, m], { transpose_b: true }))).toEqual([[5, 11], [11, 25]]);
    expect(values(one('matmul', [m, m], { adjoint_a: true }))).toEqual([[10, 14], [14, 20]]);
    expect(values(one('matmul', [tf.tensor1d([1, 1]), m]))).toEqual([4, 6]);
    expect(values(one('matmul', [m, tf.tensor1d([1, 1])]))).toEqual([3, 7]);
    fails(() => one('matmul', [m, tf.zeros([3, 2])]), /inner dimensions differ/);
  });

  it('einsum', () => {
    const m = tf.tensor2d([[1, 2], [3, 4]]);
    expect(values(one('einsum', ['ij,jk->ik', m, m]))).toEqual([[7, 10], [15, 22]]);
  });
});

describe('the README lists the op table', () => {
  it('one row per op with its signature and every spelling each front-end reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { ROOT } = await import('../../helpers/paths.js');
    const { listOps } = await import('../../../src/runtime/ops/table.js');
    const { TF_FUNCTIONS } = await import('../../../src/runtime/ops/tf-functions.js');
    const { KERAS3_OPS } = await import('../../../src/runtime/ops/keras3-ops.js');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
    for (const spec of listOps()) {
      const row = rows.find((r) => r.startsWith(`| \`${spec.name}(${spec.signature})\` |`));
      expect(row, `README row for ${spec.name}`).toBeDefined();
      for (const [name, alias] of [...TF_FUNCTIONS, ...KERAS3_OPS]) if (alias.op === spec.name) expect(row, `${name} in the ${spec.name} row`).toContain(`\`${name}\``);
    }
  });
});
