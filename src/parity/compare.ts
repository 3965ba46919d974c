/**
 * Element-wise comparison of a computed output with a golden one, and a human-readable report.
 *
 * Rule: element passes when `|a - b| <= atol + rtol * |b|` (a actual, b expected), except that NaN
 * equals only NaN and an infinity equals only the same infinity.
 */
import { KerasInteropError } from '../errors.js';
import { formatShape } from '../model/shape.js';
import { float16BitsToNumber } from './npy.js';

/** Anything with a shape and row-major values: an NpyArray, or `{shape, data}` from a tensor. */
export interface ComparableArray {
  shape: readonly number[];
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
  /** Optional dtype name ('float32', 'int32', ...); 'float16' data is read as raw half bits. */
  dtype?: string;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface CompareReport {
  name: string;
  /** Shape of the actual (computed) array. */
  shape: number[];
  expectedShape: number[];
  /** dtype of the actual array (or of the expected one when the actual has none). */
  dtype: string;
  pass: boolean;
  /** Max |a-b| over elements where neither is NaN (equal infinities count 0, Inf vs finite is Infinity); NaN on shape mismatch. */
  maxAbsError: number;
  /** Max |a-b|/|b| over elements where neither is NaN and b is finite and non-zero; NaN on shape mismatch. */
  maxRelError: number;
  /** Elements failing the rule (NaN and Inf disagreements included). On shape mismatch: the expected element count. */
  mismatches: number;
  /** Total number of elements compared (the expected element count). */
  size: number;
  /** First failing element in row-major order. */
  firstMismatch?: { index: number[]; actual: number; expected: number };
  /** Elements where exactly one side is NaN. */
  nanMismatches: number;
  /** Elements where an infinity meets a finite value or the opposite infinity (neither NaN). */
  infMismatches: number;
  shapeMismatch: boolean;
  /** Set when the dtypes differ (values are still compared as float64). */
  dtypeNote?: string;
  /** Human-readable explanation for a shape mismatch or other problem. */
  note?: string;
  atol: number;
  rtol: number;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkArray(arr: ComparableArray, role: string, name: string): void {
  if (arr == null || !Array.isArray(arr.shape) || !arr.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new KerasInteropError('USAGE', `${role} array for output "${name}" has no valid shape (expected a list of non-negative integers)`);
  }
  const n = sizeOf(arr.shape);
  if (arr.data == null || arr.data.length !== n) {
    throw new KerasInteropError(
      'INTERNAL',
      `${role} array for output "${name}" has shape [${arr.shape.join(', ')}] (${n} elements) but ${arr.data?.length ?? 'no'} values`,
    );
  }
}

function valueAt(arr: ComparableArray, i: number): number {
  const v = arr.data[i]!;
  if (typeof v === 'bigint') return Number(v);
  if (arr.dtype === 'float16') return float16BitsToNumber(v);
  return v;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    idx[k] = i % d;
    i = Math.floor(i / d);
  }
  return idx;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function compareArrays(
  actual: ComparableArray,
  expected: ComparableArray,
  tolerance: Tolerance,
  name: string,
): CompareReport {
  const { atol, rtol } = tolerance ?? ({} as Tolerance);
  for (const [k, v] of [
    ['atol', atol],
    ['rtol', rtol],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new KerasInteropError('USAGE', `tolerance ${k} must be a finite non-negative number, got ${String(v)}`);
    }
  }
  checkArray(actual, 'actual', name);
  checkArray(expected, 'expected', name);

  const shape = [...actual.shape];
  const expectedShape = [...expected.shape];
  const dtype = actual.dtype ?? expected.dtype ?? 'unknown';
  let dtypeNote: string | undefined;
  if (actual.dtype && expected.dtype && actual.dtype !== expected.dtype) {
    dtypeNote = `actual dtype ${actual.dtype} differs from expected ${expected.dtype}; values compared as float64`;
  }
  const size = sizeOf(expectedShape);

  if (!sameShape(shape, expectedShape)) {
    const same = sizeOf(shape) === size ? ` (same element count ${size}, different layout)` : '';
    return {
      name,
      shape,
      expectedShape,
      dtype,
      pass: false,
      maxAbsError: NaN,
      maxRelError: NaN,
      mismatches: size,
      size,
      nanMismatches: 0,
      infMismatches: 0,
      shapeMismatch: true,
      ...(dtypeNote ? { dtypeNote } : {}),
      note: `shape mismatch: actual [${shape.join(', ')}], expected [${expectedShape.join(', ')}]${same}; values not compared`,
      atol,
      rtol,
    };
  }

  let maxAbs = 0;
  let maxRel = 0;
  let mismatches = 0;
  let nanMismatches = 0;
  let infMismatches = 0;
  let first = -1;
  let firstA = 0;
  let firstB = 0;
  for (let i = 0; i < size; i++) {
    const a = valueAt(actual, i);
    const b = valueAt(expected, i);
    let ok: boolean;
    const aNaN = Number.isNaN(a);
    const bNaN = Number.isNaN(b);
    if (aNaN || bNaN) {
      ok = aNaN && bNaN;
      if (!ok) nanMismatches++;
    } else if (!Number.isFinite(a) || !Number.isFinite(b)) {
      ok = a === b;
      if (!ok) {
        infMismatches++;
        maxAbs = Infinity;
        if (Number.isFinite(b) && b !== 0) maxRel = Infinity;
      }
    } else {
      const diff = Math.abs(a - b);
      if (diff > maxAbs) maxAbs = diff;
      if (b !== 0) {
        const rel = diff / Math.abs(b);
        if (rel > maxRel) maxRel = rel;
      }
      ok = diff <= atol + rtol * Math.abs(b);
    }
    if (!ok) {
      mismatches++;
      if (first < 0) {
        first = i;
        firstA = a;
        firstB = b;
      }
    }
  }
  const report: CompareReport = {
    name,
    shape,
    expectedShape,
    dtype,
    pass: mismatches === 0,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
    mismatches,
    size,
    nanMismatches,
    infMismatches,
    shapeMismatch: false,
    atol,
    rtol,
  };
  if (first >= 0) report.firstMismatch = { index: unravel(first, expectedShape), actual: firstA, expected: firstB };
  if (dtypeNote) report.dtypeNote = dtypeNote;
  return report;
}

// ---------------------------------------------------------------------------------------------
// report text
// ---------------------------------------------------------------------------------------------

export interface ReportContext {
  model?: string;
  backend?: string;
  /** The golden case (folder or case.json). */
  file?: string;
}

function fmtNum(x: number): string {
  if (Number.isNaN(x)) return '-';
  if (x === Infinity) return 'inf';
  if (x === 0) return '0';
  return x.toExponential(2);
}

function fmtValue(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return String(x);
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

/**
 * A table with one line per output (name, shape, max abs, max rel, mismatches, PASS/FAIL), the
 * details of every failure below it, and a summary line.
 */
export function formatReport(reports: readonly CompareReport[], context: ReportContext = {}): string {
  const lines: string[] = [];
  const head: string[] = [];
  if (context.model) head.push(`model ${context.model}`);
  if (context.backend) head.push(`backend ${context.backend}`);
  if (context.file) head.push(`golden ${context.file}`);
  lines.push(`Parity check${head.length ? ': ' + head.join(', ') : ''}`);

  const rows = reports.map((r) => [
    r.name,
    r.shapeMismatch ? `${formatShape(r.shape)} vs ${formatShape(r.expectedShape)}` : formatShape(r.shape),
    fmtNum(r.maxAbsError),
    fmtNum(r.maxRelError),
    r.shapeMismatch ? '-' : `${r.mismatches}/${r.size}`,
    r.pass ? 'PASS' : 'FAIL',
  ]);
  const header = ['output', 'shape', 'max abs', 'max rel', 'mismatches', 'result'];
  const right = [false, false, true, true, true, false];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => pad(cell, widths[c]!, right[c]))
      .join('  ')
      .trimEnd();
  lines.push(line(header));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) lines.push(line(row));

  const details: string[] = [];
  for (const r of reports) {
    const notes: string[] = [];
    if (r.note) notes.push(r.note);
    if (r.firstMismatch) {
      const f = r.firstMismatch;
      notes.push(
        `first mismatch at [${f.index.join(', ')}]: actual ${fmtValue(f.actual)}, expected ${fmtValue(f.expected)} (allowed |a-b| <= ${r.atol} + ${r.rtol}*|b|)`,
      );
    }
    if (r.nanMismatches) notes.push(`${r.nanMismatches} NaN mismatch${r.nanMismatches === 1 ? '' : 'es'}`);
    if (r.infMismatches) notes.push(`${r.infMismatches} Inf mismatch${r.infMismatches === 1 ? '' : 'es'}`);
    if (r.dtypeNote) notes.push(r.dtypeNote);
    for (const n of notes) details.push(`  ${r.name}: ${n}`);
  }
  if (details.length) {
    lines.push('');
    lines.push(...details);
  }

  const passed = reports.filter((r) => r.pass).length;
  const tols = [...new Set(reports.map((r) => `atol=${r.atol} rtol=${r.rtol}`))].join('; ');
  const ok = reports.length > 0 && passed === reports.length;
  lines.push('');
  lines.push(
    reports.length === 0
      ? 'FAIL: no outputs compared'
      : `${ok ? 'PASS' : 'FAIL'}: ${passed}/${reports.length} output${reports.length === 1 ? '' : 's'} within tolerance (${tols})`,
  );
  return lines.join('\n') + '\n';
}
