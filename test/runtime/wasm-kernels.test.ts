/**
 * The wasm backend's replacement BatchMatMul, Tile, Slice, Unpack, SplitV, Tanh and Reverse kernels give the original kernels' results
 * (BatchMatMul up to float32 summation order, Tanh within 2.5e-7), and every golden case verifies on wasm with them.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/runtime/backend.js';
import { installWasmKernels, sliceInto, tileInto, uninstallWasmKernels } from '../../src/runtime/wasm-kernels.js';
import { verifyCase } from '../../src/parity/verify.js';
import { GOLDEN, goldenCases } from '../helpers/paths.js';

// The wasm backend is a dependency, so it loads wherever the package installs: failing to load it is a failure.
beforeAll(async () => {
  expect(await useBackend('wasm')).toBe('wasm');
});

function withOriginals<T>(f: () => T): T {
  uninstallWasmKernels();
  try {
    return f();
  } finally {
    installWasmKernels();
  }
}

function seeded(shape: number[], seed: number): tf.Tensor {
  let s = seed;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
  return tf.tensor(data, shape);
}

describe('wasm BatchMatMul', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[6, 8, 4], [6, 8, 4], false, true], // attention scores: q k^T
    [[6, 8, 8], [6, 8, 4], false, false], // attention x values
    [[4, 3, 5, 7], [4, 3, 7, 2], false, false],
    [[4, 3, 7, 5], [4, 3, 2, 7], true, true],
    [[4, 7, 5], [4, 7, 2], true, false],
    [[6, 5, 7], [7, 3], false, false], // shared right-hand side: one product
    [[6, 7, 5], [1, 7, 3], true, false],
    [[5, 7], [6, 7, 3], false, false], // shared left-hand side
    [[1, 5, 7], [1, 3, 7], false, true],
    [[5, 7], [7, 3], false, false], // the original's own fast path
  ];
  for (const [sa, sb, ta, tb] of cases) {
    it(`${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} x ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`, () => {
      const a = seeded(sa, 1);
      const b = seeded(sb, 2);
      const expected = withOriginals(() => tf.matMul(a, b, ta, tb));
      const got = tf.matMul(a, b, ta, tb);
      expect(got.shape).toEqual(expected.shape);
      const e = expected.dataSync();
      const g = got.dataSync();
      for (let i = 0; i < e.length; i++) expect(Math.abs(g[i]! - e[i]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(e[i]!)));
      tf.dispose([a, b, expected, got]);
    });
  }

  it('leaves no tensors or heap views behind', () => {
    const a = seeded([5, 6, 7], 3);
    const b = seeded([5, 8, 7], 4);
    tf.matMul(a, b, false, true).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.matMul(a, b, false, true).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});

describe('wasm Tile', () => {
  const cases: [number[], number[]][] = [
    [[4, 6, 1], [1, 1, 5]],
    [[1, 1, 6], [4, 3, 1]],
    [[2, 3, 4], [3, 2, 2]],
    [[3], [4]],
    [[2, 1], [1, 5]],
    [[2, 0, 3], [2, 2, 2]],
  ];
  for (const [shape, reps] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`${JSON.stringify(shape)} x ${JSON.stringify(reps)} ${dtype}`, () => {
          const x = tf.cast(tf.mul(seeded(shape, 5), 3), dtype);
        const expected = withOriginals(() => tf.tile(x, reps));
        const got = tf.tile(x, reps);
        expect(got.shape).toEqual(expected.shape);
        expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
        tf.dispose([x, expected, got]);
      });
    }
  }

  it('tileInto fills like a plain index loop', () => {
    const shape = [2, 3, 2];
    const reps = [2, 1, 3];
    const src = Float32Array.from({ length: 12 }, (_, i) => i);
    const out = new Float32Array(12 * 6);
    tileInto(src, shape, reps, out);
    const outShape = shape.map((d, i) => d * reps[i]!);
    let at = 0;
    for (let i = 0; i < outShape[0]!; i++)
      for (let j = 0; j < outShape[1]!; j++)
        for (let k = 0; k < outShape[2]!; k++) expect(out[at++]).toBe(src[((i % 2) * 3 + (j % 3)) * 2 + (k % 2)]);
  });
});

describe('wasm Slice, Unpack, SplitV', () => {
  const same = (got: tf.Tensor | tf.Tensor[], expected: tf.Tensor | tf.Tensor[]) => {
    const g = Array.isArray(got) ? got : [got];
    const e = Array.isArray(expected) ? expected : [expected];
    expect(g.length).toBe(e.length);
    g.forEach((t, i) => {
      expect(t.shape).toEqual(e[i]!.shape);
      expect(Array.from(t.dataSync())).toEqual(Array.from(e[i]!.dataSync()));
    });
  };
  const x = seeded([3, 5, 4, 2], 9);
  const slices: [number[], number[]][] = [
    [[0, 0, 0, 0], [3, 5, 4, 2]],
    [[1, 0, 0, 0], [2, 5, 4, 2]],
    [[0, 2, 0, 0], [3, 1, 4, 2]],
    [[1, 1, 1, 1], [2, 3, 2, 1]],
    [[0, 0, 0, 1], [-1, -1, -1, 1]],
    [[2, 4, 3, 1], [1, 1, 1, 1]],
    [[0, 1, 0, 0], [3, 0, 4, 2]],
  ];
  for (const [begin, size] of slices) {
    it(`slice ${JSON.stringify(begin)} ${JSON.stringify(size)}`, () => {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const xt = tf.cast(tf.mul(x, 3), dtype);
        same(tf.slice(xt, begin, size), withOriginals(() => tf.slice(xt, begin, size)));
      }
    });
  }
  for (const axis of [0, 1, 2, 3, -1]) {
    it(`unstack and split along ${axis}`, () => {
      same(tf.unstack(x, axis), withOriginals(() => tf.unstack(x, axis)));
      const n = x.shape.at(axis)!;
      same(tf.split(x, n, axis), withOriginals(() => tf.split(x, n, axis)));
      if (n > 2) same(tf.split(x, [1, -1], axis), withOriginals(() => tf.split(x, [1, -1], axis)));
    });
  }

  it('sliceInto copies the box row by row', () => {
    const src = Float32Array.from({ length: 24 }, (_, i) => i);
    const out = new Float32Array(4);
    sliceInto(src, [2, 3, 4], [1, 1, 1], [1, 2, 2], out);
    expect(Array.from(out)).toEqual([17, 18, 21, 22]);
  });
});

describe('wasm Reverse', () => {
  for (const [shape, dims] of [
    [[4, 5, 3], 1],
    [[4, 5, 3], 0],
    [[4, 5, 3], -1],
    [[7], 0],
    [[2, 3, 4], [0, 2]],
  ] as [number[], number | number[]][]) {
    it(`${JSON.stringify(shape)} along ${JSON.stringify(dims)}`, () => {
      const x = seeded(shape, 5);
      expect(Array.from(tf.reverse(x, dims).dataSync())).toEqual(Array.from(withOriginals(() => tf.reverse(x, dims).dataSync())));
      const ints = tf.cast(tf.mul(x, 100), 'int32');
      expect(Array.from(tf.reverse(ints, dims).dataSync())).toEqual(Array.from(withOriginals(() => tf.reverse(ints, dims).dataSync())));
    });
  }
});

describe('wasm Tanh', () => {
  it('is tanh within 2.5e-7 over the whole range, infinities and NaN included, and leaves no tensors behind', () => {
    const values = new Float32Array(20011);
    for (let i = 0; i < values.length - 5; i++) values[i] = (i - 10000) / 500; // -20 .. 20 in steps of 0.002
    values.set([Infinity, -Infinity, NaN, 1e-30, -0], values.length - 5);
    const x = tf.tensor(values);
    const before = tf.memory().numTensors;
    const got = tf.tanh(x).dataSync();
    expect(tf.memory().numTensors).toBe(before + 1);
    const original = withOriginals(() => tf.tanh(x).dataSync());
    let worst = 0;
    let worstVsOriginal = 0;
    for (let i = 0; i < values.length - 3; i++) {
      worst = Math.max(worst, Math.abs(got[i] - Math.tanh(values[i])));
      worstVsOriginal = Math.max(worstVsOriginal, Math.abs(got[i] - original[i]));
    }
    // 2 sigmoid(2x) - 1: sigmoid's own error (1-2 ulp) doubled, and the rounding of 2s - 1 (1 ulp of 1).
    expect(worst).toBeLessThanOrEqual(2.5e-7);
    expect(worstVsOriginal).toBeLessThanOrEqual(2.5e-7);
    expect([got[values.length - 5], got[values.length - 4]]).toEqual([1, -1]);
    expect(Number.isNaN(got[values.length - 3])).toBe(true);
  });
});

describe('golden cases verify on wasm', () => {
  for (const name of goldenCases()) {
    it(name, async () => {
      const r = await verifyCase(join(GOLDEN, name), { backend: 'wasm' });
      expect(r.pass, JSON.stringify(r.files.map((f) => f.error ?? f.outputs.map((o) => [o.name, o.maxAbsError])))).toBe(true);
    });
  }
});
