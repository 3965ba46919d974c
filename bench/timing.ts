/** Timing helpers shared by the Node benchmarks and the browser benchmark page (no Node built-ins). */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface RepeatOptions {
  warmup: number;
  minRepeats: number;
  maxRepeats: number;
  budgetMs: number;
}

/**
 * Times `f` (which must finish its work before returning): `warmup` untimed calls, then at least
 * `minRepeats` and at most `maxRepeats` timed calls, stopping once `budgetMs` is spent.
 */
export async function timeRepeats(f: () => void | Promise<void>, opts: RepeatOptions): Promise<number[]> {
  for (let i = 0; i < opts.warmup; i++) await f();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < opts.maxRepeats && (times.length < opts.minRepeats || performance.now() - start < opts.budgetMs)) {
    const t = performance.now();
    await f();
    times.push(performance.now() - t);
  }
  return times;
}

/** The roofline probe's size: one n x n x n matrix product. */
export const ROOFLINE_N = 1024;

/** The roofline product's GFLOP/s at `ms` per product. */
export function rooflineGflops(ms: number): number {
  return (2 * ROOFLINE_N ** 3) / ms / 1e6;
}
