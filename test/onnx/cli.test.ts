/**
 * The ONNX commands: `convert --to onnx` (inline and external data), `.onnx` files given to inspect,
 * predict and verify, `--backend onnxruntime`, the default backend order as inspect explains it, and a
 * dynamic batch.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../helpers/cli.js';
import { decodeOnnx } from '../../src/writers/onnx/proto.js';
import { readNpyFileSync, writeNpyFileSync } from '../../src/parity/npy-file.js';
import { GOLDEN, ROOT } from '../helpers/paths.js';
import { floats, runOrtNode, worstExcess } from './helpers.js';

const transformer = join(GOLDEN, 'transformer_block');
const masked = join(GOLDEN, 'sa_additive_basic');

describe('convert --to onnx', () => {
  it('writes one .onnx that verifies against the golden outputs, and inspect describes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const out = join(dir, 'tb.onnx');
    const c = await cli('convert', join(transformer, 'model.keras'), '--to', 'onnx', out);
    expect(c.code, c.err).toBe(0);
    expect(c.out.trim()).toBe(out);
    expect(existsSync(`${out}.data`)).toBe(false);

    const v = await cli('verify', out, '--inputs', join(transformer, 'input_0.npy'), '--expected', join(transformer, 'output_0.npy'), '--json');
    expect(v.code, v.out + v.err).toBe(0);
    const report = JSON.parse(v.out);
    expect(report.backend).toBe('onnxruntime');
    expect(report.files[0].format).toBe('onnx');

    const i = await cli('inspect', out, '--json');
    expect(i.code, i.err).toBe(0);
    const s = JSON.parse(i.out);
    expect(s).toMatchObject({ format: 'onnx', irVersion: 8, opsets: [{ domain: '', version: 17 }], runtimeBackend: 'onnxruntime' });
    expect(s.inputs).toEqual([{ name: 'input_layer', dtype: 'float32', shape: ['batch', 8, 6] }]);
    expect(s.outputs).toEqual([{ name: 'dense_2', dtype: 'float32', shape: ['batch', 3] }]);
    expect(s.ops.LayerNormalization).toBe(2);
    expect(Object.keys(s.ops).every((op) => !op.includes('.'))).toBe(true);
    expect(s.metadata['keras_interop.source_format']).toBe('keras3-archive');
    const text = await cli('inspect', out);
    expect(text.out).toContain('ONNX (IR 8; opsets ai.onnx 17)');
  });

  it('--external-data puts the weights in <file>.data at page-aligned offsets, and the pair runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const out = join(dir, 'sa.onnx');
    const c = await cli('convert', join(masked, 'model.h5'), '--to', 'onnx', out, '--external-data', '--json');
    expect(c.code, c.err).toBe(0);
    expect(JSON.parse(c.out).written).toEqual([out, `${out}.data`]);
    const model = decodeOnnx('ModelProto', readFileSync(out)) as { graph: { initializer: { name: string; data_location?: number; raw_data?: Uint8Array; external_data?: { key: string; value: string }[] }[] } };
    const external = model.graph.initializer.filter((t) => t.data_location === 1);
    expect(external.length).toBeGreaterThan(0);
    for (const t of external) {
      const kv = Object.fromEntries(t.external_data!.map((e) => [e.key, e.value]));
      expect(kv.location).toBe('sa.onnx.data');
      expect(Number(kv.offset) % 4096).toBe(0);
      expect(Number(kv.offset) + Number(kv.length)).toBeLessThanOrEqual(statSync(`${out}.data`).size);
    }
    const v = await cli('verify', out, '--inputs', join(masked, 'input_0.npy'), '--expected', join(masked, 'output_0.npy'));
    expect(v.code, v.out + v.err).toBe(0);
  });

  it('a damaged .onnx file is PROTO_INVALID for inspect and predict, in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const out = join(dir, 'm.onnx');
    expect((await cli('convert', join(masked, 'model.h5'), '--to', 'onnx', out)).code).toBe(0);
    const bytes = readFileSync(out);
    writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length / 2)));
    for (const args of [['inspect', out], ['predict', out, '--inputs', join(masked, 'input_0.npy'), '--out', dir]]) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^error \[PROTO_INVALID\]: .*m\.onnx: /);
    }
  });

  it('refuses options of other targets, and onnx options for other targets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const a = await cli('convert', join(masked, 'model.h5'), '--to', 'onnx', join(dir, 'a.onnx'), '--quantize', 'uint8');
    expect(a.code).toBe(2);
    expect(a.err).toContain('--quantize applies to tfjs output');
    const b = await cli('convert', join(masked, 'model.h5'), '--to', 'h5', join(dir, 'b.h5'), '--external-data');
    expect(b.code).toBe(2);
    expect(b.err).toContain('apply to onnx output');
  });
});

describe('the onnxruntime backend', () => {
  it('predict takes an .onnx file and writes the same outputs as the Keras file gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const onnx = join(dir, 'm.onnx');
    expect((await cli('convert', join(masked, 'model.keras'), '--to', 'onnx', onnx)).code).toBe(0);
    const p = await cli('predict', onnx, '--inputs', join(masked, 'input_0.npy'), '--out', join(dir, 'out'), '--threads', '1');
    expect(p.code, p.err).toBe(0);
    const got = readNpyFileSync(join(dir, 'out', 'output_0.npy'));
    const want = readNpyFileSync(join(masked, 'output_0.npy'));
    expect(got.shape).toEqual(want.shape);
    const worst = Math.max(...Array.from(got.data as Float32Array, (v, i) => Math.abs(v - (want.data as Float32Array)[i])));
    expect(worst).toBeLessThan(1e-5);
    const wrong = await cli('predict', onnx, '--inputs', join(masked, 'input_0.npy'), '--out', join(dir, 'out'), '--backend', 'wasm');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('runs on onnxruntime only');
  });

  it('is the default when installed and the model lowers; inspect says so and why', async () => {
    const r = await cli('inspect', join(masked, 'model.h5'), '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.runtimeBackend).toBe('onnxruntime');
    expect(s.runtimeBackendReason).toMatch(/onnxruntime-node \S+ is installed and every layer lowers to ONNX/);
    const v = await cli('verify', masked, '--json');
    expect(JSON.parse(v.out)).toMatchObject({ backend: 'onnxruntime', pass: true });
    const asked = await cli('inspect', join(masked, 'model.h5'), '--backend', 'cpu');
    expect(asked.out).toContain('run backend:   cpu (asked for)');
  });

  it('runs the exported graph at any batch size (a dynamic batch dimension)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const onnx = join(dir, 'tb.onnx');
    expect((await cli('convert', join(transformer, 'model.h5'), '--to', 'onnx', onnx)).code).toBe(0);
    const bytes = new Uint8Array(readFileSync(onnx));
    const five = floats([5, 8, 6], 3);
    const [all] = await runOrtNode(bytes, [five]);
    for (const r of [0, 4]) {
      const one = { ...five, shape: [1, 8, 6], data: (five.data as Float32Array).slice(r * 48, (r + 1) * 48) };
      const [single] = await runOrtNode(bytes, [one]);
      // The same numbers up to the summation order a different batch size gives the matmuls.
      expect(worstExcess(single, { shape: [1, 3], data: all.data.slice(r * 3, (r + 1) * 3) }, 1e-6, 1e-6)).toBeLessThanOrEqual(0);
    }
  });

  it('--backend onnxruntime with inputs of the wrong shape exits 2 naming the input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    writeNpyFileSync(join(dir, 'x.npy'), { dtype: 'float32', shape: [2, 7, 6], data: new Float32Array(84) });
    const r = await cli('predict', join(transformer, 'model.h5'), '--inputs', join(dir, 'x.npy'), '--out', dir, '--backend', 'onnxruntime');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[INPUT_MISMATCH\].*input 0 "input_layer" has shape \[2, 7, 6\]; the model expects \[None, 8, 6\]/);
  });
});

describe("the README's plug-in lowering (examples/my-lowering.js) for its own layer (examples/my-layers.js)", () => {
  const model = join(ROOT, 'fixtures', 'custom-layer', 'simple_attention.keras');
  const input = join(ROOT, 'fixtures', 'custom-layer', 'input_0.npy');
  const layers = join(ROOT, 'examples', 'my-layers.js');
  const lowering = join(ROOT, 'examples', 'my-lowering.js');

  // Registrations last for the process: the test without the lowering comes first.
  it('without it, convert --to onnx names the layer and registerLowering, and the default backend falls back to tfjs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const c = await cli('convert', model, '--to', 'onnx', join(dir, 'm.onnx'), '--layers', layers);
    expect(c.code).toBe(2);
    expect(c.err).toContain('layer "attention" (class SimpleAttention) cannot be lowered to ONNX');
    expect(c.err).toContain("registerLowering('SimpleAttention'");
    const i = await cli('inspect', model, '--layers', layers, '--json');
    expect(JSON.parse(i.out).runtimeBackendReason).toContain('SimpleAttention');
  });

  it('with it, the model converts, runs on onnxruntime, and gives what tfjs gives with the layer class', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const c = await cli('convert', model, '--to', 'onnx', join(dir, 'm.onnx'), '--layers', `${layers},${lowering}`);
    expect(c.code, c.err).toBe(0);
    // a module that registers only a lowering is a plug-in too: no "registered nothing" warning
    expect(c.err).not.toContain('registered no layer class');
    const i = await cli('inspect', model, '--layers', `${layers},${lowering}`, '--json');
    expect(JSON.parse(i.out).runtimeBackend).toBe('onnxruntime');
    const run = async (label: string, target: string, backend: string) => {
      const r = await cli('predict', target, '--inputs', input, '--out', join(dir, label), '--backend', backend, '--layers', `${layers},${lowering}`);
      expect(r.code, r.err).toBe(0);
      const out = readNpyFileSync(join(dir, label, 'output_0.npy'));
      return { shape: out.shape, data: out.data as Float32Array };
    };
    const want = await run('tfjs', model, 'cpu');
    expect(worstExcess(await run('lowered', model, 'onnxruntime'), want)).toBeLessThanOrEqual(0);
    expect(worstExcess(await run('exported', join(dir, 'm.onnx'), 'onnxruntime'), want)).toBeLessThanOrEqual(0);
  });
});
