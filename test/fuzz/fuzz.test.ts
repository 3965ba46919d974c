/**
 * The short seeded fuzz run CI does on every `npm test` (the long ones: fuzz/README.md). Every golden
 * fixture of every format, mutated, through inspect, predict, convert (to h5, keras or tfjs, and to onnx)
 * and attention, and ONNX files through inspect, predict and verify on onnxruntime: each must end in
 * success or a KerasInteropError that names the file, within the time and memory limits, writing only
 * into its output folder.
 */
import { describe, expect, it } from 'vitest';
import { describeViolation, formatSummary, runFuzz } from '../../fuzz/lib/pool.js';

describe('fuzz (seeded, 2,000 cases)', () => {
  it('every mutated input of every format keeps the contract', { timeout: 600_000 }, async () => {
    const summary = await runFuzz({ cases: 2000, seed: 20260101, workers: 2 });
    expect(summary.violations.map(describeViolation), formatSummary(summary)).toEqual([]);
    // Every format the project reads was fuzzed, each with its share of the cases.
    const targets = ['keras3-h5', 'keras2-h5', 'weights-h5', 'keras', 'config-json', 'tfjs', 'savedmodel', 'npy-input', 'npy-output', 'case-json', 'lambda', 'onnx'] as const;
    for (const t of targets) expect(summary.targets[t]?.cases ?? 0, `${t} cases`).toBeGreaterThanOrEqual(150);
    // The commands kept for mutants that read ran, and some of them got through.
    for (const cmd of ['predict', 'convert-onnx', 'attention']) expect(summary.targets.keras?.outcomes[cmd]?.ok ?? 0, `keras: ${cmd} ok`).toBeGreaterThan(0);
    expect(summary.targets.onnx?.outcomes.predict?.ok ?? 0, 'onnx: predict ok').toBeGreaterThan(0);
  });
});
