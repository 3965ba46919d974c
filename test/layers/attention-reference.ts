/**
 * Plain-JS references for the keras-self-attention layers: nested loops over Float64 arrays, written from
 * the Python layers' math (keras-self-attention 0.51.0), independent of tfjs. Also a seeded RNG, a
 * tolerance check, and a small reader for the golden cases' Keras HDF5 weights.
 */
import { expect } from 'vitest';
import h5wasm from 'h5wasm/node';
import { mulberry32 } from '../../fuzz/lib/rng.js';

/** A dense float64 array with its shape, row-major. */
export interface Nd {
  data: Float64Array;
  shape: number[];
}

export function nd(shape: number[], data?: ArrayLike<number>): Nd {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  if (data) {
    if (data.length !== size) throw new Error(`nd: ${data.length} values for shape [${shape}]`);
    out.set(data);
  }
  return { data: out, shape };
}

/** mulberry32 with Box-Muller normals. */
export class Rng {
  private readonly draw: () => number;
  constructor(seed: number) {
    this.draw = mulberry32(seed);
  }
  uniform(): number {
    return this.draw();
  }
  normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  /** Normal values rounded to float32, so the reference sees exactly what tfjs sees. */
  randn(shape: number[], scale = 1): Nd {
    const a = nd(shape);
    for (let i = 0; i < a.data.length; i++) a.data[i] = Math.fround(this.normal() * scale);
    return a;
  }
}

/** mask[b][t] for trailing padding: lengths[b] valid steps. */
export function trailingMask(lengths: number[], len: number): boolean[][] {
  return lengths.map((n) => Array.from({ length: len }, (_, t) => t < n));
}

export type Act = (x: number) => number;
export const ACTS: Record<string, Act> = {
  linear: (x) => x,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
  relu: (x) => Math.max(0, x),
  hard_sigmoid: (x) => Math.min(6, Math.max(0, x + 3)) / 6,
};

export interface SelfAttentionWeights {
  Wt?: Nd;
  Wx?: Nd;
  bh?: Nd | null;
  Wa: Nd;
  ba?: Nd | null;
}

export interface SelfAttentionOptions {
  type: 'additive' | 'multiplicative';
  units: number;
  width: number | null;
  historyOnly: boolean;
  activation: Act;
}

export interface AttentionResult {
  out: Nd;
  att: Nd;
  /** rows [b][t] whose every score got a -10000 penalty: float32 rounding of e - 10000 decides them. */
  saturated: boolean[][];
}

/** softmax over a row after subtracting its max, as the Python layers write it. */
function softmaxRow(e: number[]): number[] {
  const m = Math.max(...e);
  const ex = e.map((v) => Math.exp(v - m));
  const s = ex.reduce((a, b) => a + b, 0);
  return ex.map((v) => v / s);
}

/** SeqSelfAttention: scores, activation, local window, both-masked pairs, softmax, weighted sum. */
export function refSeqSelfAttention(x: Nd, w: SelfAttentionWeights, o: SelfAttentionOptions, mask?: boolean[][]): AttentionResult {
  const [B, T, F] = x.shape as [number, number, number];
  const U = o.units;
  const X = (b: number, t: number, f: number): number => x.data[(b * T + t) * F + f]!;
  const out = nd([B, T, F]);
  const att = nd([B, T, T]);
  const saturated: boolean[][] = [];
  // Python stores history_only without a width as 1e9.
  const width = o.width ?? (o.historyOnly ? 1e9 : null);
  for (let b = 0; b < B; b++) {
    saturated.push([]);
    // projections x Wt, x Wx for additive attention
    const q: number[][] = [];
    const k: number[][] = [];
    if (o.type === 'additive') {
      for (let t = 0; t < T; t++) {
        q.push([]);
        k.push([]);
        for (let u = 0; u < U; u++) {
          let sq = 0;
          let sk = 0;
          for (let f = 0; f < F; f++) {
            sq += X(b, t, f) * w.Wt!.data[f * U + u]!;
            sk += X(b, t, f) * w.Wx!.data[f * U + u]!;
          }
          q[t]!.push(sq);
          k[t]!.push(sk);
        }
      }
    }
    for (let i = 0; i < T; i++) {
      const e: number[] = [];
      let penalized = 0;
      for (let j = 0; j < T; j++) {
        let s = 0;
        if (o.type === 'additive') {
          for (let u = 0; u < U; u++) {
            const h = Math.tanh(q[i]![u]! + k[j]![u]! + (w.bh ? w.bh.data[u]! : 0));
            s += h * w.Wa.data[u]!;
          }
        } else {
          for (let f = 0; f < F; f++) {
            for (let g = 0; g < F; g++) s += X(b, i, f) * w.Wa.data[f * F + g]! * X(b, j, g);
          }
        }
        if (w.ba) s += w.ba.data[0]!;
        s = o.activation(s);
        let hit = false;
        if (width != null) {
          const lower = i - (o.historyOnly ? width - 1 : Math.floor(width / 2));
          const upper = lower + width;
          if (!(lower <= j && j < upper)) {
            s -= 10000;
            hit = true;
          }
        }
        if (mask && !mask[b]![i] && !mask[b]![j]) {
          s -= 10000;
          hit = true;
        }
        if (hit) penalized++;
        e.push(s);
      }
      saturated[b]!.push(penalized === T);
      const a = softmaxRow(e);
      for (let j = 0; j < T; j++) att.data[(b * T + i) * T + j] = a[j]!;
      for (let f = 0; f < F; f++) {
        let s = 0;
        for (let j = 0; j < T; j++) s += a[j]! * X(b, j, f);
        out.data[(b * T + i) * F + f] = s;
      }
    }
  }
  return { out, att, saturated };
}

/** weight * sum_b ||A_b A_b^T - I||^2 / batch. */
export function refAttentionRegularizer(att: Nd, weight: number): number {
  const [B, T] = att.shape as [number, number, number];
  let total = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let k = 0; k < T; k++) s += att.data[(b * T + i) * T + k]! * att.data[(b * T + j) * T + k]!;
        const d = s - (i === j ? 1 : 0);
        total += d * d;
      }
    }
  }
  return (weight * total) / B;
}

/** SeqWeightedAttention: logits x W + b, exp(l - max) zeroed where masked, / (sum + 1e-7), weighted sum. */
export function refSeqWeightedAttention(x: Nd, W: Nd, bias: Nd | null, mask?: boolean[][]): { out: Nd; att: Nd } {
  const [B, T, F] = x.shape as [number, number, number];
  const out = nd([B, F]);
  const att = nd([B, T]);
  for (let b = 0; b < B; b++) {
    const logits: number[] = [];
    for (let t = 0; t < T; t++) {
      let s = bias ? bias.data[0]! : 0;
      for (let f = 0; f < F; f++) s += x.data[(b * T + t) * F + f]! * W.data[f]!;
      logits.push(s);
    }
    const m = Math.max(...logits);
    const ai = logits.map((l, t) => Math.exp(l - m) * (mask && !mask[b]![t] ? 0 : 1));
    const sum = ai.reduce((a, c) => a + c, 0);
    for (let t = 0; t < T; t++) att.data[b * T + t] = ai[t]! / (sum + 1e-7);
    for (let f = 0; f < F; f++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += att.data[b * T + t]! * x.data[(b * T + t) * F + f]!;
      out.data[b * F + f] = s;
    }
  }
  return { out, att };
}

export interface DotAttentionResult extends AttentionResult {
  /** Q K^T / sqrt(d) (+ prev), before penalties. */
  logits: Nd;
}

/** (Residual) scaled dot-product attention; `prev` makes it the RealFormer variant. */
export function refDotAttention(
  q: Nd,
  k: Nd,
  v: Nd,
  historyOnly: boolean,
  keyMask?: boolean[][],
  prev?: Nd,
): DotAttentionResult {
  const [B, Tq, D] = q.shape as [number, number, number];
  const Tk = k.shape[1]!;
  const Dv = v.shape[2]!;
  const out = nd([B, Tq, Dv]);
  const att = nd([B, Tq, Tk]);
  const logits = nd([B, Tq, Tk]);
  const saturated: boolean[][] = [];
  for (let b = 0; b < B; b++) {
    saturated.push([]);
    for (let i = 0; i < Tq; i++) {
      const e: number[] = [];
      let penalized = 0;
      for (let j = 0; j < Tk; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q.data[(b * Tq + i) * D + d]! * k.data[(b * Tk + j) * D + d]!;
        s /= Math.sqrt(D);
        if (prev) s += prev.data[(b * Tq + i) * Tk + j]!;
        logits.data[(b * Tq + i) * Tk + j] = s;
        let hit = false;
        if (historyOnly && j > i) {
          s -= 10000;
          hit = true;
        }
        if (keyMask && !keyMask[b]![j]) {
          s -= 10000;
          hit = true;
        }
        if (hit) penalized++;
        e.push(s);
      }
      saturated[b]!.push(penalized === Tk);
      const a = softmaxRow(e);
      for (let j = 0; j < Tk; j++) att.data[(b * Tq + i) * Tk + j] = a[j]!;
      for (let d = 0; d < Dv; d++) {
        let s = 0;
        for (let j = 0; j < Tk; j++) s += a[j]! * v.data[(b * Tk + j) * Dv + d]!;
        out.data[(b * Tq + i) * Dv + d] = s;
      }
    }
  }
  return { out, att, logits, saturated };
}

/**
 * |actual - expected| <= atol + rtol * |expected| everywhere, except the (b, t) rows listed in `skipRows`
 * (rows of a (B, T, ...) tensor). Reports the worst element.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: Nd,
  opts: { atol?: number; rtol?: number; skipRows?: boolean[][]; label?: string } = {},
): void {
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  expect(actual.length, `${opts.label ?? ''} size`).toBe(expected.data.length);
  const [B, T] = expected.shape as [number, number];
  const rowSize = expected.shape.length >= 2 ? expected.data.length / (B * T) : 1;
  let worst = 0;
  let worstAt = -1;
  let compared = 0;
  for (let i = 0; i < expected.data.length; i++) {
    if (opts.skipRows) {
      const row = Math.floor(i / rowSize);
      if (opts.skipRows[Math.floor(row / T)]?.[row % T]) continue;
    }
    compared++;
    const a = actual[i]!;
    const e = expected.data[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= worst) || Number.isNaN(a)) {
      worst = Number.isNaN(a) ? Infinity : excess;
      worstAt = i;
    }
  }
  expect(compared, `${opts.label ?? ''} compared nothing`).toBeGreaterThan(0);
  if (worstAt >= 0) {
    throw new Error(
      `${opts.label ?? 'values'} differ at flat index ${worstAt} of [${expected.shape}]: got ${actual[worstAt]}, expected ${expected.data[worstAt]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Golden-case reader (private to these tests).

export interface GoldenH5 {
  /** The `model_config` attribute, parsed. */
  config: { config: { layers: Array<{ class_name: string; name: string; config: Record<string, unknown> }> } };
  /** A weight under model_weights/<layer>/<layer>/<name> as float64. */
  weight(layer: string, name: string): Nd;
  close(): void;
}

export async function openGoldenH5(file: string): Promise<GoldenH5> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  const raw = f.attrs['model_config']?.value;
  const config = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw as Uint8Array)) as GoldenH5['config'];
  return {
    config,
    weight(layer: string, name: string): Nd {
      const ds = f.get(`model_weights/${layer}/${layer}/${name}`) as InstanceType<typeof h5wasm.Dataset> | null;
      if (ds == null) throw new Error(`${file}: no weight ${layer}/${name}`);
      const shape = (ds.shape ?? []) as number[];
      return nd(shape, Array.from(ds.value as ArrayLike<number>));
    },
    close: () => f.close(),
  };
}

/** tfjs's `convertPythonicToTs` for a layer config: snake_case keys and string values to camelCase. */
export function pythonicToTs(value: unknown, key?: string): unknown {
  const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  if (value == null) return null;
  if (typeof value === 'string') return camel(value);
  if (Array.isArray(value)) return value.map((v) => pythonicToTs(v, key));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k === 'name' && typeof v === 'string' ? k : camel(k)] = k === 'name' && typeof v === 'string' ? v : pythonicToTs(v, k);
    return out;
  }
  return value;
}
