/**
 * ONNX files the fuzzer (fuzz/, target `onnx`) found breaking the contract, kept in fixtures/fuzz/:
 * each now runs, or ends in a KerasInteropError with a stable code that names the file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { GOLDEN, ROOT } from '../helpers/paths.js';

const FUZZ = join(ROOT, 'fixtures', 'fuzz');
const ORT = ['--backend', 'onnxruntime', '--threads', '1'];

async function cli(...args: string[]) {
  const out: string[] = [];
  const code = await main([...args, '--json'], { out: (s) => out.push(s), err: () => {} });
  return { code, report: JSON.parse(out.join('\n')) };
}

describe('fuzz regressions: ONNX files', () => {
  it('a graph that lists one value as two outputs gives it twice (each output tensor was disposed as it was read: INTERNAL)', async () => {
    // sa_history_only_unbounded exported to ONNX, its graph output `dense` listed twice.
    const f = join(FUZZ, 'onnx-output-twice.onnx');
    const kase = join(GOLDEN, 'sa_history_only_unbounded');
    const expected = join(kase, 'output_0.npy');
    const v = await cli('verify', f, '--inputs', join(kase, 'input_0.npy'), '--expected', `${expected},${expected}`, ...ORT);
    expect(v.code, JSON.stringify(v.report)).toBe(0);
    expect(v.report.files[0].outputs).toHaveLength(2);
    const p = await cli('predict', f, '--inputs', join(kase, 'input_0.npy'), '--out', mkdtempSync(join(tmpdir(), 'ki-fuzz-onnx-')), ...ORT);
    expect(p.code, JSON.stringify(p.report)).toBe(0);
    expect(p.report.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape])).toEqual([['dense', [3, 8, 2]], ['dense', [3, 8, 2]]]);
  });
});
