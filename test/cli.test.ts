import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliOnCpu as run } from './helpers/cli.js';
import { readNpyFileSync } from '../src/parity/npy-file.js';
import { writeNpyFileSync } from '../src/parity/npy-file.js';
import { GOLDEN, requireWild } from './helpers/paths.js';
import { itWild } from './helpers/wild.js';

const basic = join(GOLDEN, 'sa_additive_basic');
const masking = join(GOLDEN, 'sa_additive_masking');

describe('keras-interop verify', () => {
  it('a case folder that matches exits 0 and reports every model file', async () => {
    const r = await run('verify', masking);
    expect(r.code, r.out + r.err).toBe(0);
    for (const f of ['model.keras', 'model.h5', 'model.weights.h5', 'model.tfkeras2.h5']) expect(r.out).toContain(f);
    expect(r.out).toContain('4/4 model files pass');
  });

  it('--json gives a machine-readable report', async () => {
    const r = await run('verify', masking, '--json');
    const report = JSON.parse(r.out);
    expect(report.exitCode).toBe(0);
    expect(report.pass).toBe(true);
    expect(report.files).toHaveLength(4);
    expect(report.files[0].outputs[0]).toMatchObject({ name: 'dense', pass: true, shape: [3, 7, 3] });
    expect(report.files[0].outputs[0].maxAbsError).toBeLessThan(1e-5);
  });

  it('a model with --inputs/--expected exits 0 when they match', async () => {
    const r = await run('verify', join(masking, 'model.h5'), '--inputs', join(masking, 'input_0.npy'), '--expected', join(masking, 'output_0.npy'));
    expect(r.code, r.out + r.err).toBe(0);
  });

  it('exits 1 when an output is out of tolerance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-cli-'));
    const expected = readNpyFileSync(join(masking, 'output_0.npy'));
    const data = Float32Array.from(expected.data as Float32Array);
    data[5] += 0.01;
    writeNpyFileSync(join(dir, 'wrong.npy'), { ...expected, data });
    const r = await run('verify', join(masking, 'model.h5'), '--inputs', join(masking, 'input_0.npy'), '--expected', join(dir, 'wrong.npy'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL/);
    expect(r.out).toMatch(/1\/63\s+FAIL/);
    expect(r.out).toContain('first mismatch at [0, 1, 2]');
  });

  it('exits 2 on an error (missing file), with one clear line and no stack trace', async () => {
    const r = await run('verify', '/nonexistent/model.h5', '--inputs', join(masking, 'input_0.npy'), '--expected', join(masking, 'output_0.npy'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error \[FILE_NOT_FOUND\]: \/nonexistent\/model.h5/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('exits 2 when a weights-only file has no config', async () => {
    const r = await run('verify', join(basic, 'model.weights.h5'), '--inputs', join(basic, 'input_0.npy'), '--expected', join(basic, 'output_0.npy'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('CONFIG_MISSING');
  });

  it('pairs a weights-only file with --config', async () => {
    const r = await run('verify', join(masking, 'model.weights.h5'), '--config', join(masking, 'model.h5'), '--inputs', join(masking, 'input_0.npy'), '--expected', join(masking, 'output_0.npy'));
    expect(r.code, r.out + r.err).toBe(0);
  });
});

describe('keras-interop predict and inspect', () => {
  it('predict writes output_0.npy equal to the golden output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-pred-'));
    const r = await run('predict', join(masking, 'model.keras'), '--inputs', join(masking, 'input_0.npy'), '--out', dir);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(dir)).toEqual(['output_0.npy']);
    const got = readNpyFileSync(join(dir, 'output_0.npy'));
    const want = readNpyFileSync(join(masking, 'output_0.npy'));
    expect(got.shape).toEqual(want.shape);
    const a = got.data as Float32Array;
    const b = want.data as Float32Array;
    for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(b[i]));
  });

  it('inspect --json lists layers, classes, output shapes and weights', async () => {
    const r = await run('inspect', join(GOLDEN, 'mha_self', 'model.h5'), '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.format).toBe('keras3-h5');
    expect(s.kerasVersion).toBe('3.16.0');
    expect(s.runtimeBackend).toBe('cpu');
    const mha = s.layers.find((l: { className: string }) => l.className === 'MultiHeadAttention');
    expect(mha.resolvedAs).toMatch(/KerasMultiHead>MultiHeadAttention/);
    expect(mha.weights.length).toBe(8);
    expect(s.totalWeights).toBe(s.layers.reduce((a: number, l: { weights: unknown[] }) => a + l.weights.length, 0));
  });

  it('inspect of a MultiHead model shows its sub-layers', async () => {
    const r = await run('inspect', join(GOLDEN, 'mh_list_conv1d', 'model.h5'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/└ conv_k3\s+Conv1D/);
    expect(r.out).toMatch(/multi_conv\/sub_2\/conv_k7\/kernel \[7,4,3\]/);
  });

  itWild('predict on a model with a Lambda layer it may not translate exits 2 naming the layer and how to register one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-lambda-'));
    const r = await run('predict', join(requireWild(), '06_ids_lstm_dot_attention/LSTM_model.h5'), '--inputs', join(masking, 'input_0.npy'), '--out', dir, '--refuse-lambdas');
    expect(r.code).toBe(2);
    expect(r.err).toContain('LAMBDA_LAYER');
    expect(r.err).toContain('"last_hidden_state"');
    expect(r.err).toContain('registerLayer(');
    expect(r.err.split('\n')).toHaveLength(1);
  });

  it('an output folder that cannot be made is WRITE_FAILED at once (Node\'s recursive mkdir never returns under /proc)', async () => {
    const p = await run('predict', join(basic, 'model.h5'), '--inputs', join(basic, 'input_0.npy'), '--out', '/proc/keras-interop/out');
    expect(p.code).toBe(2);
    expect(p.err).toContain('WRITE_FAILED');
    const c = await run('convert', join(basic, 'model.h5'), '--to', 'h5', '/proc/keras-interop/out.h5');
    expect(c.code).toBe(2);
    expect(c.err).toContain('WRITE_FAILED');
    expect(c.err).toContain('/proc/keras-interop/out.h5');
  });

  it('unknown commands and flags exit 2 with a usage error', async () => {
    expect((await run('frobnicate')).code).toBe(2);
    const r = await run('inspect', 'x', '--nope');
    expect(r.code).toBe(2);
    expect(r.err).toContain('USAGE');
  });
});
