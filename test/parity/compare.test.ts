import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KerasInteropError } from '../../src/errors.js';
import { compareArrays, formatReport, type ComparableArray } from '../../src/parity/compare.js';
import { npyFromValues } from '../../src/parity/npy.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { goldenCaseDirs } from './paths.js';

const f64 = (shape: number[], values: number[]): ComparableArray => ({ shape, data: Float64Array.from(values), dtype: 'float64' });
const tol = { atol: 1e-5, rtol: 1e-4 };

describe('compareArrays', () => {
  it('passes identical arrays with zero error', () => {
    const a = f64([2, 2], [1, 2, 3, 4]);
    const r = compareArrays(a, a, tol, 'out');
    expect(r).toMatchObject({
      name: 'out',
      shape: [2, 2],
      expectedShape: [2, 2],
      dtype: 'float64',
      pass: true,
      maxAbsError: 0,
      maxRelError: 0,
      mismatches: 0,
      size: 4,
      nanMismatches: 0,
      infMismatches: 0,
      shapeMismatch: false,
    });
    expect(r.firstMismatch).toBeUndefined();
    expect(r.dtypeNote).toBeUndefined();
  });

  it('applies |a-b| <= atol + rtol*|b| exactly at the boundary (b is the expected value)', () => {
    // values exactly representable in binary: atol 0.5, rtol 0.25, b = 2 -> allowed 1.0
    const t = { atol: 0.5, rtol: 0.25 };
    expect(compareArrays(f64([1], [3]), f64([1], [2]), t, 'x').pass).toBe(true); // diff 1.0 == limit
    expect(compareArrays(f64([1], [1]), f64([1], [2]), t, 'x').pass).toBe(true);
    expect(compareArrays(f64([1], [3.0000001]), f64([1], [2]), t, 'x').pass).toBe(false);
    expect(compareArrays(f64([1], [0.9999999]), f64([1], [2]), t, 'x').pass).toBe(false);
    // asymmetric: rtol scales with the expected value, not the actual one
    // a=2, b=3: diff 1 <= 0.5 + 0.75 -> pass; a=3, b=2 passes too (limit 1.0); a=4, b=2.5: 1.5 <= 1.125 fails
    expect(compareArrays(f64([1], [2]), f64([1], [3]), t, 'x').pass).toBe(true);
    expect(compareArrays(f64([1], [4]), f64([1], [2.5]), t, 'x').pass).toBe(false);
    expect(compareArrays(f64([1], [2.5]), f64([1], [4]), t, 'x').pass).toBe(true); // 1.5 <= 0.5 + 1.0
    // atol only
    const a = { atol: 0.125, rtol: 0 };
    expect(compareArrays(f64([2], [0.125, -0.125]), f64([2], [0, 0]), a, 'x').pass).toBe(true);
    expect(compareArrays(f64([2], [0.125, -0.1250001]), f64([2], [0, 0]), a, 'x').mismatches).toBe(1);
  });

  it('reports max abs, max rel, mismatch count and the first mismatch index', () => {
    const expected = f64([2, 3], [1, 2, 4, 0, 10, -8]);
    const actual = f64([2, 3], [1, 2.5, 4, 0.001, 10, -6]);
    const r = compareArrays(actual, expected, tol, 'dense');
    expect(r.pass).toBe(false);
    expect(r.maxAbsError).toBe(2);
    expect(r.maxRelError).toBe(0.25); // 0.5/2 and 2/8; b=0 is left out of the relative error
    expect(r.mismatches).toBe(3);
    expect(r.firstMismatch).toEqual({ index: [0, 1], actual: 2.5, expected: 2 });
  });

  it('treats NaN as equal only to NaN', () => {
    const r1 = compareArrays(f64([3], [NaN, 1, 2]), f64([3], [NaN, 1, 2]), tol, 'n');
    expect(r1.pass).toBe(true);
    expect(r1.nanMismatches).toBe(0);
    const r2 = compareArrays(f64([3], [NaN, 1, 2]), f64([3], [0, 1, NaN]), tol, 'n');
    expect(r2.pass).toBe(false);
    expect(r2.nanMismatches).toBe(2);
    expect(r2.mismatches).toBe(2);
    expect(r2.maxAbsError).toBe(0); // the agreeing element
    expect(r2.firstMismatch?.index).toEqual([0]);
    expect(Number.isNaN(r2.firstMismatch?.actual)).toBe(true);
    // a NaN never hides behind a huge tolerance
    expect(compareArrays(f64([1], [NaN]), f64([1], [1]), { atol: 1e300, rtol: 1e300 }, 'n').pass).toBe(false);
  });

  it('treats +Inf/-Inf as equal only to the same infinity', () => {
    expect(compareArrays(f64([2], [Infinity, -Infinity]), f64([2], [Infinity, -Infinity]), tol, 'i').pass).toBe(true);
    const r = compareArrays(f64([3], [Infinity, 1e308, -Infinity]), f64([3], [-Infinity, Infinity, 5]), { atol: 1, rtol: 1 }, 'i');
    expect(r.pass).toBe(false);
    expect(r.infMismatches).toBe(3);
    expect(r.mismatches).toBe(3);
    expect(r.maxAbsError).toBe(Infinity);
    expect(r.maxRelError).toBe(Infinity);
    // rtol*|Inf| would otherwise make any finite value "close" to infinity
    expect(compareArrays(f64([1], [1]), f64([1], [Infinity]), { atol: 0, rtol: 0.5 }, 'i').pass).toBe(false);
  });

  it('fails a shape mismatch with a clear note and does not compare values', () => {
    const r = compareArrays(f64([2, 3], [1, 2, 3, 4, 5, 6]), f64([3, 2], [1, 2, 3, 4, 5, 6]), tol, 'o');
    expect(r.pass).toBe(false);
    expect(r.shapeMismatch).toBe(true);
    expect(r.shape).toEqual([2, 3]);
    expect(r.expectedShape).toEqual([3, 2]);
    expect(r.note).toMatch(/shape mismatch: actual \[2, 3\], expected \[3, 2\] \(same element count 6/);
    expect(Number.isNaN(r.maxAbsError)).toBe(true);
    const r2 = compareArrays(f64([6], [1, 2, 3, 4, 5, 6]), f64([1, 6], [1, 2, 3, 4, 5, 6]), tol, 'o');
    expect(r2.pass).toBe(false);
    const r3 = compareArrays(f64([2], [1, 2]), f64([3], [1, 2, 3]), tol, 'o');
    expect(r3.note).toBe('shape mismatch: actual [2], expected [3]; values not compared');
  });

  it('notes dtype differences but compares values', () => {
    const actual = npyFromValues('float32', [3], [1, 2, 3]);
    const expected = npyFromValues('int32', [3], [1, 2, 3]);
    const r = compareArrays(actual, expected, tol, 'ids');
    expect(r.pass).toBe(true);
    expect(r.dtype).toBe('float32');
    expect(r.dtypeNote).toBe('actual dtype float32 differs from expected int32; values compared as float64');
  });

  it('decodes float16 and int64 values', () => {
    const h = npyFromValues('float16', [2], [1.5, -2]);
    const d = npyFromValues('float64', [2], [1.5, -2]);
    expect(compareArrays(h, d, { atol: 0, rtol: 0 }, 'h').pass).toBe(true);
    const i = npyFromValues('int64', [2], [7n, -9n]);
    expect(compareArrays(i, f64([2], [7, -9]), { atol: 0, rtol: 0 }, 'i').pass).toBe(true);
  });

  it('handles 0-d and empty arrays', () => {
    expect(compareArrays(f64([], [2]), f64([], [2]), tol, 's')).toMatchObject({ pass: true, size: 1 });
    const r = compareArrays(f64([], [2]), f64([], [3]), tol, 's');
    expect(r.firstMismatch).toEqual({ index: [], actual: 2, expected: 3 });
    expect(compareArrays(f64([0, 4], []), f64([0, 4], []), tol, 'e')).toMatchObject({ pass: true, size: 0, mismatches: 0 });
  });

  it('unravels the first mismatch index in row-major order', () => {
    const expected = f64([2, 3, 4], new Array(24).fill(0));
    const values = new Array(24).fill(0);
    values[17] = 1; // [1, 1, 1]
    values[23] = 1;
    const r = compareArrays(f64([2, 3, 4], values), expected, tol, 'x');
    expect(r.firstMismatch?.index).toEqual([1, 1, 1]);
    expect(r.mismatches).toBe(2);
  });

  it('rejects bad tolerances and inconsistent arrays', () => {
    expect(() => compareArrays(f64([1], [1]), f64([1], [1]), { atol: -1, rtol: 0 }, 'x')).toThrow(KerasInteropError);
    expect(() => compareArrays(f64([1], [1]), f64([1], [1]), { atol: NaN, rtol: 0 }, 'x')).toThrow(/atol must be a finite/);
    expect(() => compareArrays({ shape: [2], data: new Float32Array(3) }, f64([2], [1, 2]), tol, 'x')).toThrow(
      /shape \[2\] \(2 elements\) but 3 values/,
    );
  });

  it('matches every golden output against itself and detects a perturbation of 1e-3', () => {
    let n = 0;
    for (const dir of goldenCaseDirs()) {
      for (const f of readdirSync(dir).filter((x) => /^output_\d+\.npy$/.test(x))) {
        const arr = readNpyFileSync(join(dir, f));
        expect(compareArrays(arr, arr, tol, f).pass).toBe(true);
        const moved = Float32Array.from(arr.data as Float32Array);
        moved[moved.length - 1] = moved[moved.length - 1]! + 1e-3 * (1 + Math.abs(moved[moved.length - 1]!));
        const r = compareArrays({ ...arr, data: moved }, arr, tol, f);
        expect(r.pass).toBe(false);
        expect(r.mismatches).toBe(1);
        expect(r.firstMismatch!.index).toEqual(arr.shape.map((d) => d - 1));
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(20);
  });
});

describe('formatReport', () => {
  it('prints one line per output and a summary', () => {
    const good = compareArrays(f64([3, 5], new Array(15).fill(1)), f64([3, 5], new Array(15).fill(1)), tol, 'dense');
    const bad = compareArrays(f64([2], [1, NaN]), f64([2], [1.5, 2]), tol, 'seq_self_attention');
    const shape = compareArrays(f64([2], [1, 2]), f64([3], [1, 2, 3]), tol, 'scores');
    const text = formatReport([good, bad, shape], { model: 'model.keras', backend: 'cpu', file: 'golden/sa_basic' });
    const lines = text.split('\n');
    expect(lines[0]).toBe('Parity check: model model.keras, backend cpu, golden golden/sa_basic');
    expect(lines[1]).toMatch(/^output\s+shape\s+max abs\s+max rel\s+mismatches\s+result$/);
    expect(lines.find((l) => l.startsWith('dense '))).toMatch(/^dense\s+\(3, 5\)\s+0\s+0\s+0\/15\s+PASS$/);
    expect(lines.find((l) => l.startsWith('seq_self_attention '))).toMatch(
      /^seq_self_attention\s+\(2,\)\s+5\.00e-1\s+3\.33e-1\s+2\/2\s+FAIL$/,
    );
    expect(lines.find((l) => l.startsWith('scores '))).toMatch(/^scores\s+\(2,\) vs \(3,\)\s+-\s+-\s+-\s+FAIL$/);
    expect(text).toContain('seq_self_attention: first mismatch at [0]: actual 1, expected 1.5 (allowed |a-b| <= 0.00001 + 0.0001*|b|)');
    expect(text).toContain('seq_self_attention: 1 NaN mismatch');
    expect(text).toContain('scores: shape mismatch: actual [2], expected [3]; values not compared');
    expect(text.trimEnd().split('\n').at(-1)).toBe('FAIL: 1/3 outputs within tolerance (atol=0.00001 rtol=0.0001)');
    // columns line up
    const table = lines.slice(1, 6);
    const resultCol = table[0]!.indexOf('result');
    for (const l of table.slice(2)) expect(l.slice(resultCol, resultCol + 4)).toMatch(/PASS|FAIL/);
  });

  it('says PASS when every output passes, FAIL when none were compared', () => {
    const r = compareArrays(f64([1], [1]), f64([1], [1]), tol, 'a');
    expect(formatReport([r]).trimEnd().split('\n').at(-1)).toBe('PASS: 1/1 output within tolerance (atol=0.00001 rtol=0.0001)');
    expect(formatReport([]).trimEnd().split('\n').at(-1)).toBe('FAIL: no outputs compared');
  });
});
