/**
 * The README's "Your own layers" example, run as written: examples/my-layers.js (a user-written
 * SimpleAttention) plugged into every command with --layers, on fixtures/custom-layer/simple_attention.keras;
 * its outputs against a plain-JS computation of the layer's formula from the file's weights.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runCliOnCpu as cli } from './helpers/cli.js';
import { readNpyFileSync } from '../src/parity/npy-file.js';
import { readModel } from '../src/readers/index.js';
import { ROOT } from './helpers/paths.js';
import { fileTempDir } from './helpers/tmp.js';

const MODEL = join(ROOT, 'fixtures', 'custom-layer', 'simple_attention.keras');
const INPUT = join(ROOT, 'fixtures', 'custom-layer', 'input_0.npy');
const LAYERS = join(ROOT, 'examples', 'my-layers.js');
const tmp = fileTempDir('ki-example-layers-');

/** out = Dense(Σ_t softmax_t(tanh(x_t·W + b_t)) x_t), in float64 from the file's weights. */
async function reference(): Promise<number[][]> {
  const m = await readModel(MODEL);
  const [w, b] = m.weights.find((l) => l.layer === 'attention')!.weights.map((v) => Array.from(v.data as Float32Array));
  const [k, bias] = m.weights.find((l) => l.layer === 'out')!.weights.map((v) => Array.from(v.data as Float32Array));
  const x = readNpyFileSync(INPUT);
  const [batch, steps, features] = x.shape;
  const xs = x.data as Float32Array;
  const at = (n: number, t: number, f: number) => xs[(n * steps + t) * features + f];
  const out: number[][] = [];
  for (let n = 0; n < batch; n++) {
    const e = Array.from({ length: steps }, (_, t) => Math.tanh([...Array(features).keys()].reduce((s, f) => s + at(n, t, f) * w[f], b[t])));
    const max = Math.max(...e);
    const z = e.reduce((s, v) => s + Math.exp(v - max), 0);
    const pooled = [...Array(features).keys()].map((f) => e.reduce((s, v, t) => s + (Math.exp(v - max) / z) * at(n, t, f), 0));
    out.push([0, 1].map((j) => pooled.reduce((s, p, f) => s + p * k[f * 2 + j], bias[j])));
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: number[][]): void {
  const flat = expected.flat();
  expect(actual.length).toBe(flat.length);
  flat.forEach((v, i) => expect(Math.abs(actual[i] - v), `value ${i}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(v)));
}

describe('--layers ./my-layers.js (README: Your own layers)', () => {
  it('without it, inspect names SimpleAttention as the layer in the way', async () => {
    const r = await cli('inspect', MODEL);
    expect(r.code).toBe(0);
    expect(r.out).toContain('  "attention" (SimpleAttention): no implementation registered');
  });

  it('inspect: the model runs, its input and output listed', async () => {
    const r = await cli('inspect', MODEL, '--layers', LAYERS, '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.blocking).toEqual([]);
    expect(s.inputs).toEqual([{ name: 'x', shape: [null, 5, 3], dtype: 'float32' }]);
    expect(s.outputs).toEqual([{ name: 'out', shape: [null, 2], dtype: 'float32' }]);
    expect(s.layers.find((l: { name: string }) => l.name === 'attention').outputShape).toEqual([null, 3]);
  });

  it("predict computes the layer's formula with the file's weights", async () => {
    const out = join(tmp, 'predicted');
    const r = await cli('predict', MODEL, '--layers', LAYERS, '--inputs', INPUT, '--out', out);
    expect(r.code, r.err).toBe(0);
    const y = readNpyFileSync(join(out, 'output_0.npy'));
    expect(y.shape).toEqual([4, 2]);
    expectClose(y.data as Float32Array, await reference());
  });

  it('convert --to tfjs writes a folder tfjs loads (with the class registered) and computes the same', async () => {
    const folder = join(tmp, 'web_model');
    const r = await cli('convert', MODEL, '--to', 'tfjs', folder, '--layers', LAYERS);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    const layers = json.modelTopology.model_config.config.layers as { class_name: string }[];
    expect(layers.map((l) => l.class_name)).toContain('SimpleAttention');
    const weights = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(folder, p))));
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights), weightData: new Uint8Array(Buffer.concat(weights)).buffer }),
    );
    const x = readNpyFileSync(INPUT);
    const y = loaded.predict(tf.tensor(x.data as Float32Array, x.shape)) as tf.Tensor;
    expectClose(y.dataSync(), await reference());
    tf.dispose(y);
    loaded.dispose();
  });

  it('a module that does not exist or fails to import is a clear error', async () => {
    const missing = await cli('inspect', MODEL, '--layers', join(tmp, 'nope.js'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^error \[FILE_NOT_FOUND\]: .*nope\.js: no such layers module/);
    const broken = join(tmp, 'broken.mjs');
    (await import('node:fs')).writeFileSync(broken, "throw new Error('oops in my layers');\n");
    const failed = await cli('inspect', MODEL, '--layers', broken);
    expect(failed.code).toBe(2);
    expect(failed.err).toMatch(/^error \[LAYER_FAILED\]: .*broken\.mjs: importing this layers module failed: Error: oops in my layers$/);
  });
});

describe('--layers warnings', () => {
  it('a module that registers nothing is said in one line; the same module given again is not', async () => {
    const quiet = join(tmp, 'quiet.mjs');
    (await import('node:fs')).writeFileSync(quiet, 'export const nothing = 1;\n');
    const first = await cli('inspect', MODEL, '--layers', `${LAYERS},${quiet}`);
    expect(first.err.split('\n')).toEqual([expect.stringMatching(/^warning: .*quiet\.mjs registered no layer class here \(nor an op or an ONNX lowering\); call registerLayer\(\)/)]);
    const again = await cli('inspect', MODEL, '--layers', LAYERS, '--layers', quiet);
    expect(again.code).toBe(0);
    expect(again.err).toBe('');
  });
});
