/**
 * What translated programs compute, op by op, against references written here from the documented
 * formulas with plain loops over flat arrays (no tfjs): NumPy basic indexing, Keras `dot` and
 * `batch_dot`, `repeat_elements`, `tile`, softmax over any axis, `l2_normalize`, `std`, and the Python
 * values around them (shape arithmetic, list concatenation, unpacking).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkProgram, runProgram } from '../../../src/runtime/lambda/execute.js';
import type { Expr, LambdaProgram } from '../../../src/runtime/lambda/ir.js';
import { PySeq } from '../../../src/runtime/lambda/values.js';
import { mulberry32 } from '../../../fuzz/lib/rng.js';

const X: Expr = { k: 'name', id: 'x' };
const int = (v: number): Expr => ({ k: 'int', v });
const none: Expr = { k: 'none' };
const tuple = (...items: Expr[]): Expr => ({ k: 'tuple', items });
const list = (...items: Expr[]): Expr => ({ k: 'list', items });
const slice = (start: Expr, stop: Expr, step: Expr = none): Expr => ({ k: 'slice', start, stop, step });
const sub = (value: Expr, index: Expr): Expr => ({ k: 'subscript', value, index });
const call = (fn: string, args: Expr[], kwargs: Record<string, Expr> = {}): Expr => ({
  k: 'call',
  fn,
  args,
  kwargs: Object.entries(kwargs).map(([name, value]) => ({ name, value })),
});
const program = (result: Expr): LambdaProgram => ({ input: 'x', bound: [], body: [], result });

interface Arr {
  shape: number[];
  data: number[];
}

function random(shape: number[], seed: number): Arr {
  const r = mulberry32(seed);
  return { shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 4 - 2) };
}

function strides(shape: number[]): number[] {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Calls `f` with every index of `shape`, in row-major order. */
function forEachIndex(shape: number[], f: (idx: number[]) => void): void {
  const n = shape.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < n; flat++) {
    const idx: number[] = [];
    let rest = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
    }
    f(idx);
  }
}

function get(a: Arr, idx: number[]): number {
  const s = strides(a.shape);
  return a.data[idx.reduce((acc, i, d) => acc + i * s[d], 0)];
}

function build(shape: number[], f: (idx: number[]) => number): Arr {
  const data: number[] = [];
  forEachIndex(shape, (idx) => data.push(f(idx)));
  return { shape, data };
}

function run(p: LambdaProgram, ...inputs: Arr[]): Arr {
  expect(checkProgram(p)).toBeUndefined();
  return tf.tidy(() => {
    const ts = inputs.map((a) => tf.tensor(a.data, a.shape));
    const out = runProgram(p, ts.length === 1 ? ts[0] : new PySeq('list', ts));
    if (Array.isArray(out)) throw new Error('one output expected');
    return { shape: out.shape, data: Array.from(out.dataSync()) };
  });
}

function expectClose(actual: Arr, expected: Arr): void {
  expect(actual.shape).toEqual(expected.shape);
  actual.data.forEach((v, i) => expect(Math.abs(v - expected.data[i])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(expected.data[i])));
}

/** Python's slice.indices, then the positions it selects. */
function positions(len: number, start: number | null, stop: number | null, step: number | null): number[] {
  const st = step ?? 1;
  const norm = (v: number | null, dflt: number, lo: number, hi: number) => (v == null ? dflt : Math.min(Math.max(v < 0 ? v + len : v, lo), hi));
  const [b, e] = st > 0 ? [norm(start, 0, 0, len), norm(stop, len, 0, len)] : [norm(start, len - 1, -1, len - 1), norm(stop, -1, -1, len - 1)];
  const out: number[] = [];
  for (let i = b; st > 0 ? i < e : i > e; i += st) out.push(i);
  return out;
}

describe('subscripts', () => {
  const a = random([4, 5, 6], 1);
  const cases: [string, Expr, (idx: number[]) => number, number[]][] = [];
  // x[:, -1, :]
  cases.push(['x[:, -1, :]', tuple(slice(none, none), int(-1), slice(none, none)), ([i, k]) => get(a, [i, 4, k]), [4, 6]]);
  // x[::-2, 1:4, -1]
  {
    const p0 = positions(4, null, null, -2);
    const p1 = positions(5, 1, 4, null);
    cases.push(['x[::-2, 1:4, -1]', tuple(slice(none, none, int(-2)), slice(int(1), int(4)), int(-1)), ([i, j]) => get(a, [p0[i], p1[j], 5]), [p0.length, p1.length]]);
  }
  // x[..., None, 5:0:-2]
  {
    const p = positions(6, 5, 0, -2);
    cases.push(['x[..., None, 5:0:-2]', tuple({ k: 'ellipsis' }, none, slice(int(5), int(0), int(-2))), ([i, j, , k]) => get(a, [i, j, p[k]]), [4, 5, 1, p.length]]);
  }
  // x[-3:, :100]
  {
    const p = positions(4, -3, null, null);
    cases.push(['x[-3:, :100]', tuple(slice(int(-3), none), slice(none, int(100))), ([i, j, k]) => get(a, [p[i], j, k]), [3, 5, 6]]);
  }
  for (const [text, index, ref, shape] of cases) {
    it(text, () => expectClose(run(program(sub(X, index)), a), build(shape, ref)));
  }

  it('an empty slice gives an empty tensor; an index past the end is an error', () => {
    expect(run(program(sub(X, tuple(slice(int(3), int(1))))), a).shape).toEqual([0, 5, 6]);
    expect(() => run(program(sub(X, int(4))), a)).toThrow(/out of bounds/);
  });

  it('indexes the list of inputs as Python does', () => {
    const b = random([4, 5, 6], 2);
    expectClose(run(program(sub(sub(X, int(-1)), int(0))), a, b), build([5, 6], ([j, k]) => get(b, [0, j, k])));
  });
});

describe('Keras ops', () => {
  it('K.dot contracts the last axis of x with the second-to-last of y (3-D by 3-D)', () => {
    const x = random([2, 3, 4], 3);
    const y = random([5, 4, 6], 4);
    const ref = build([2, 3, 5, 6], ([i, j, k, l]) => {
      let s = 0;
      for (let m = 0; m < 4; m++) s += get(x, [i, j, m]) * get(y, [k, m, l]);
      return s;
    });
    expectClose(run(program(call('K.dot', [sub(X, int(0)), sub(X, int(1))])), x, y), ref);
  });

  it('K.batch_dot with axes (2, 2) and the default axes, and 2-D by 2-D giving (batch, 1)', () => {
    const x = random([3, 4, 5], 5);
    const y = random([3, 6, 5], 6);
    const ref = build([3, 4, 6], ([b, i, j]) => {
      let s = 0;
      for (let m = 0; m < 5; m++) s += get(x, [b, i, m]) * get(y, [b, j, m]);
      return s;
    });
    expectClose(run(program(call('K.batch_dot', [sub(X, int(0)), sub(X, int(1))], { axes: tuple(int(2), int(2)) })), x, y), ref);
    const z = random([3, 5, 2], 7);
    const refDefault = build([3, 4, 2], ([b, i, j]) => {
      let s = 0;
      for (let m = 0; m < 5; m++) s += get(x, [b, i, m]) * get(z, [b, m, j]);
      return s;
    });
    expectClose(run(program(call('K.batch_dot', [sub(X, int(0)), sub(X, int(1))])), x, z), refDefault);
    const u = random([3, 5], 8);
    const v = random([3, 5], 9);
    const ref2 = build([3, 1], ([b]) => u.data.slice(b * 5, b * 5 + 5).reduce((s, w, m) => s + w * v.data[b * 5 + m], 0));
    expectClose(run(program(call('K.batch_dot', [sub(X, int(0)), sub(X, int(1))], { axes: int(1) })), u, v), ref2);
  });

  it('K.repeat_elements, K.repeat and K.tile', () => {
    const x = random([2, 3], 10);
    expectClose(run(program(call('K.repeat_elements', [X, int(2)], { axis: int(1) })), x), build([2, 6], ([i, j]) => get(x, [i, Math.floor(j / 2)])));
    expectClose(run(program(call('K.repeat', [X, int(4)])), x), build([2, 4, 3], ([i, , k]) => get(x, [i, k])));
    expectClose(run(program(call('K.tile', [X, list(int(2), int(3))])), x), build([4, 9], ([i, j]) => get(x, [i % 2, j % 3])));
    expectClose(run(program(call('np.repeat', [X, int(2)])), x), build([12], ([i]) => x.data[Math.floor(i / 2)]));
  });

  it('softmax over a middle axis, l2_normalize, std and mean', () => {
    const x = random([2, 3, 4], 11);
    const soft = build([2, 3, 4], ([i, j, k]) => {
      let z = 0;
      for (let m = 0; m < 3; m++) z += Math.exp(get(x, [i, m, k]));
      return Math.exp(get(x, [i, j, k])) / z;
    });
    expectClose(run(program(call('K.softmax', [X], { axis: int(1) })), x), soft);
    expectClose(run(program(call('tf.nn.softmax', [X], { axis: none })), x), build([2, 3, 4], ([i, j, k]) => {
      let z = 0;
      for (let m = 0; m < 4; m++) z += Math.exp(get(x, [i, j, m]));
      return Math.exp(get(x, [i, j, k])) / z;
    }));
    const l2 = build([2, 3, 4], ([i, j, k]) => {
      let s = 0;
      for (let m = 0; m < 4; m++) s += get(x, [i, j, m]) ** 2;
      return get(x, [i, j, k]) / Math.sqrt(Math.max(s, 1e-12));
    });
    expectClose(run(program(call('K.l2_normalize', [X], { axis: int(-1) })), x), l2);
    const std = build([2, 4], ([i, k]) => {
      const v = [0, 1, 2].map((j) => get(x, [i, j, k]));
      const mean = v.reduce((a, b) => a + b, 0) / 3;
      return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
    });
    expectClose(run(program(call('K.std', [X], { axis: int(1) })), x), std);
    expectClose(run(program(call('K.mean', [X, tuple(int(0), int(2))], { keepdims: { k: 'bool', v: true } })), x), build([1, 3, 1], ([, j]) => {
      let s = 0;
      forEachIndex([2, 4], ([i, k]) => (s += get(x, [i, j, k])));
      return s / 8;
    }));
  });

  it('tf.matmul with transposes, and scaling by the runtime shape (tf.shape, tf.cast, tf.sqrt)', () => {
    const q = random([2, 3, 4], 12);
    const k = random([2, 5, 4], 13);
    const scores = call('tf.matmul', [sub(X, int(0)), sub(X, int(1))], { transpose_b: { k: 'bool', v: true } });
    const scale = call('tf.sqrt', [call('tf.cast', [sub(call('tf.shape', [sub(X, int(0))]), int(-1)), { k: 'ref', path: 'tf.float32' }])]);
    const ref = build([2, 3, 5], ([b, i, j]) => {
      let s = 0;
      for (let m = 0; m < 4; m++) s += get(q, [b, i, m]) * get(k, [b, j, m]);
      return s / 2;
    });
    expectClose(run(program({ k: 'binop', op: '/', left: scores, right: scale }), q, k), ref);
  });
});

describe('Python values', () => {
  it('concatenates lists, does shape arithmetic in ints, and unpacks a list into names', () => {
    const a = random([2, 3, 4], 14);
    const b = random([2, 3, 2], 15);
    const p: LambdaProgram = {
      input: 'inputs',
      bound: [{ name: 'extra', value: list(), from: 'default' }],
      body: [{ targets: ['u', 'v'], unpack: true, value: { k: 'name', id: 'inputs' } }],
      // K.concatenate([u] + [v] + extra, axis=-1) reshaped to (-1, u.shape[1] * 6)
      result: call('K.reshape', [
        call('K.concatenate', [{ k: 'binop', op: '+', left: { k: 'binop', op: '+', left: list({ k: 'name', id: 'u' }), right: list({ k: 'name', id: 'v' }) }, right: { k: 'name', id: 'extra' } }], { axis: int(-1) }),
        tuple(int(-1), { k: 'binop', op: '*', left: sub({ k: 'attr', value: { k: 'name', id: 'u' }, name: 'shape' }, int(1)), right: int(6) }),
      ]),
    };
    const ref = build([2, 18], ([i, f]) => {
      const j = Math.floor(f / 6);
      const c = f % 6;
      return c < 4 ? get(a, [i, j, c]) : get(b, [i, j, c - 4]);
    });
    expectClose(run(p, a, b), ref);
  });

  it('refuses what Python would refuse', () => {
    const x = random([2, 3], 16);
    const bad = (e: Expr) => () => run(program(e), x);
    expect(bad(sub(X, list(int(0))))).toThrow(/gather/);
    expect(bad({ k: 'binop', op: '//', left: int(1), right: int(0) })).toThrow(/division by zero/);
    expect(bad(call('K.squeeze', [X, int(0)]))).toThrow(/cannot squeeze/);
    expect(bad(call('K.sum', [X], { axis: int(5) }))).toThrow(/UNSUPPORTED_OP|out of range/);
    expect(checkProgram(program(call('K.cast', [X, { k: 'str', v: 'complex64' }])))).toMatch(/not one tfjs computes in/);
    expect(checkProgram(program(call('tf.matmul', [X, X], { adjoint_a: { k: 'bool', v: true }, a_is_sparse: { k: 'bool', v: true } })))).toMatch(/a_is_sparse=True is not supported/);
    expect(checkProgram(program(call('tf.signal.fft', [X])))).toMatch(/not a whitelisted function/);
    expect(checkProgram(program({ k: 'name', id: 'y' }))).toMatch(/used before it is assigned/);
  });
});

