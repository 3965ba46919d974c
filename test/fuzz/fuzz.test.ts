/**
 * The short seeded fuzz run CI does on every `npm test` (the long one: `npm run fuzz -- --cases 100000
 * --seed 1`, summed up in fuzz/README.md). Every golden fixture of every format, mutated, through
 * inspect, predict and convert: each must end in success or a KerasInteropError that names the file,
 * within the time and memory limits, writing only into its output folder.
 */
import { describe, expect, it } from 'vitest';
import { describeViolation, formatSummary, runFuzz } from '../../fuzz/lib/pool.js';

describe('fuzz (seeded, 2,000 cases)', () => {
  it('every mutated input of every format keeps the contract', { timeout: 600_000 }, async () => {
    const summary = await runFuzz({ cases: 2000, seed: 20260101, workers: 2 });
    expect(summary.violations.map(describeViolation), formatSummary(summary)).toEqual([]);
    // Every format the project reads was fuzzed, each with its share of the cases.
    for (const t of ['keras3-h5', 'keras2-h5', 'weights-h5', 'keras', 'config-json', 'tfjs', 'savedmodel', 'npy-input', 'npy-output', 'case-json', 'lambda'] as const) {
      expect(summary.targets[t]?.cases ?? 0, `${t} cases`).toBeGreaterThanOrEqual(150);
    }
  });
});
