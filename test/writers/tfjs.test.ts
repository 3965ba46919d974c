/**
 * The tfjs writer: every golden case converts to a layers-model folder that plain tfjs (a fresh process
 * importing only @tensorflow/tfjs and our layers entry) loads and runs within the golden tolerance;
 * weights shard at 4 MiB (or any size) and may straddle shards; quantization is tfjs-converter's and stays
 * within the documented bounds.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModel } from '../../src/readers/index.js';
import { readTfjsFiles } from '../../src/readers/tfjs.js';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { readGoldenCase, type GoldenCase } from '../../src/parity/case.js';
import { compareArrays } from '../../src/parity/compare.js';
import type { NpyArray } from '../../src/parity/npy.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { normalizeConfigDetailed } from '../../src/runtime/normalize.js';
import { upgradeLegacyLayers } from '../../src/runtime/legacy-layers.js';
import { type InputArray } from '../../src/runtime/build.js';
import { runModel } from '../../src/runtime/run.js';
import { VERSION } from '../../src/version.js';
import { convertModel } from '../../src/writers/index.js';
import {
  DEFAULT_SHARD_SIZE,
  type QuantizationDType,
  dequantizeWeight,
  globToRegExp,
  parseQuantizeOption,
  quantizeWeight,
  writeTfjs,
} from '../../src/writers/tfjs.js';
import { GOLDEN, HAS_WILD, WILD_WITH_GOLDEN, goldenCases, requireWild, wildItems } from '../helpers/paths.js';
import { type PlainOutput, maxDiff, pool, predictInFreshProcess, writeFolder } from './tfjs-helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const temp = fileTempDir('keras-interop-tfjs-');

async function fullModelOf(kase: GoldenCase): Promise<KerasModel> {
  for (const f of kase.files) {
    const m = await readModel(f.path);
    if (m.config) return m;
  }
  throw new Error(`case ${kase.name} lists no full-model file`);
}

function asInputs(arrays: NpyArray[]): InputArray[] {
  return arrays as unknown as InputArray[];
}

function toFloat32(data: ArrayLike<number> | BigInt64Array | BigUint64Array): Float32Array {
  return Float32Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}

// ---------------------------------------------------------------------------------------------------------

interface GoldenRun {
  kase: GoldenCase;
  model: KerasModel;
  folder: string;
  written: string[];
  inputs: NpyArray[];
  plain: { outputs: PlainOutput[]; layers: string[] };
}

const runs = new Map<string, GoldenRun>();

describe('every golden case: convert → plain tf.loadLayersModel in a fresh process → golden outputs', () => {
  beforeAll(async () => {
    const jobs = goldenCases().map((name) => async () => {
      const kase = readGoldenCase(join(GOLDEN, name));
      const model = await fullModelOf(kase);
      const folder = join(temp, 'golden', name);
      const written = await convertModel(model, 'tfjs', folder);
      const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
      const plain = await predictInFreshProcess(folder, inputs);
      runs.set(name, { kase, model, folder, written, inputs, plain });
    });
    await pool(jobs, 4);
  }, 300_000);

  for (const name of goldenCases()) {
    it(name, async () => {
      const r = runs.get(name);
      expect(r, `the conversion or the fresh-process load of ${name} failed`).toBeDefined();
      const { kase, model, folder, written, plain } = r!;

      // The folder, as tensorflowjs_converter lays it out.
      expect(written[0]).toBe(join(folder, 'model.json'));
      const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as JsonObject;
      expect(json.format).toBe('layers-model');
      expect(json.generatedBy).toBe(`keras v${model.source.kerasVersion}`);
      expect(json.convertedBy).toBe(`keras-interop ${VERSION}`);
      const topology = json.modelTopology as JsonObject;
      expect(topology.keras_version).toBe(model.source.kerasVersion);
      const manifest = json.weightsManifest as { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
      expect(manifest).toHaveLength(1);
      const count = model.weights.reduce((a, l) => a + l.weights.length, 0);
      expect(manifest[0].weights).toHaveLength(count);
      const bytes = manifest[0].weights.reduce((a, w) => a + 4 * w.shape.reduce((x, y) => x * y, 1), 0);
      expect(manifest[0].paths).toEqual(bytes === 0 ? [] : ['group1-shard1of1.bin']);
      if (bytes > 0) expect(statSync(join(folder, 'group1-shard1of1.bin')).size).toBe(bytes);

      // Calls Keras ran without a mask are NoMask layers in the graph the fresh process loaded.
      const withoutMask = normalizeConfigDetailed(model.config!).callsWithoutMask;
      expect(plain.layers.filter((c) => c === 'KerasInterop>NoMask').length > 0).toBe(withoutMask.length > 0);

      expect(plain.outputs).toHaveLength(kase.outputs.length);
      kase.outputs.forEach((t, i) => {
        const expected = readNpyFileSync(t.path);
        const report = compareArrays({ shape: plain.outputs[i].shape, data: plain.outputs[i].data, dtype: 'float32' }, expected, kase.tolerance, t.name ?? t.file);
        expect(report.pass, `${name} output ${i}: max abs ${report.maxAbsError}, ${report.mismatches} mismatches`).toBe(true);
      });
    });
  }

  it('reading the folders back gives the same config and weights (CuDNN layers as the LSTM/GRU they ran as), and our runtime reproduces the goldens from them', async () => {
    expect(runs.size).toBe(goldenCases().length);
    for (const [name, r] of runs) {
      const back = await readModel(r.folder);
      expect(back.source.format).toBe('tfjs-layers');
      expect(back.source.kerasVersion).toBe(r.model.source.kerasVersion);
      const written = upgradeLegacyLayers(r.model);
      expect(written === r.model).toBe(!name.startsWith('cudnn_'));
      expect(back.config, name).toEqual(written.config);
      expect(back.weights.map((l) => l.layer)).toEqual(r.model.weights.map((l) => l.layer));
      back.weights.forEach((l, i) => {
        const orig = written.weights[i].weights;
        expect(l.weights.map((w) => w.shape)).toEqual(orig.map((w) => w.shape));
        l.weights.forEach((w, j) => expect(Buffer.from((w.data as Float32Array).buffer).equals(Buffer.from(toFloat32(orig[j].data).buffer)), `${name} ${w.name}`).toBe(true));
      });
      const outs = await runModel(back, asInputs(r.inputs), { backend: 'cpu' });
      r.kase.outputs.forEach((t, i) => {
        const report = compareArrays(outs[i], readNpyFileSync(t.path), r.kase.tolerance, t.name ?? t.file);
        expect(report.pass, `${name} output ${i} via readModel: max abs ${report.maxAbsError}`).toBe(true);
      });
    }
  }, 120_000);
});

describe('tf.keras 2 files and real files with goldens: convert → plain tfjs in a fresh process → golden outputs', () => {
  const sources: { label: string; dir: string; file?: string }[] = [
    ...goldenCases()
      .filter((c) => existsSync(join(GOLDEN, c, 'model.tfkeras2.h5')))
      .map((c) => ({ label: `${c}/model.tfkeras2.h5`, dir: join(GOLDEN, c), file: join(GOLDEN, c, 'model.tfkeras2.h5') })),
    ...wildItems(() => WILD_WITH_GOLDEN.map((id) => ({ label: `wild/${id}`, dir: join(requireWild(), id, 'golden') }))),
  ];
  const results = new Map<string, { pass: boolean; detail: string }>();
  beforeAll(async () => {
    await pool(
      sources.map((src) => async () => {
        const kase = readGoldenCase(src.dir);
        const model = await readModel(src.file ?? kase.files[0].path);
        const folder = join(temp, 'more', src.label.replace(/[/.]/g, '_'));
        await convertModel(model, 'tfjs', folder);
        const plain = await predictInFreshProcess(folder, kase.inputs.map((t) => readNpyFileSync(t.path)));
        const reports = kase.outputs.map((t, i) =>
          compareArrays({ shape: plain.outputs[i].shape, data: plain.outputs[i].data }, readNpyFileSync(t.path), kase.tolerance, t.name ?? t.file),
        );
        results.set(src.label, { pass: reports.every((r) => r.pass), detail: reports.map((r) => `max abs ${r.maxAbsError}, ${r.mismatches} mismatches`).join('; ') });
      }),
      6,
    );
  }, 300_000);
  it('has tf.keras 2 files and real files to check', () => {
    expect(sources.filter((s) => !s.label.startsWith('wild/')).length).toBeGreaterThanOrEqual(16);
    expect(sources.filter((s) => s.label.startsWith('wild/')).length).toBe(HAS_WILD ? WILD_WITH_GOLDEN.length : 0);
  });
  for (const src of sources) {
    it(src.label, () => {
      const r = results.get(src.label);
      expect(r, `${src.label} did not convert or load`).toBeDefined();
      expect(r!.pass, r!.detail).toBe(true);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------

/** Deterministic pseudo-random floats in [-scale, scale). */
function noise(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** A tf.keras 2 Sequential model with a 5.28 MB embedding: more than one 4 MiB shard. */
function bigModel(): KerasModel {
  const vocab = 33000;
  const dim = 40;
  return {
    source: { format: 'keras2-h5', file: 'big.h5', kerasVersion: '2.15.0', backend: 'tensorflow', extras: {} },
    config: {
      class_name: 'Sequential',
      config: {
        name: 'big',
        layers: [
          { class_name: 'InputLayer', config: { name: 'tokens', batch_input_shape: [null, 6], dtype: 'int32' } },
          { class_name: 'Embedding', config: { name: 'embedding', input_dim: vocab, output_dim: dim, dtype: 'float32' } },
          { class_name: 'GlobalAveragePooling1D', config: { name: 'pool' } },
          { class_name: 'Dense', config: { name: 'dense', units: 3, activation: 'tanh' } },
        ],
      },
    },
    weights: [
      { layer: 'embedding', weights: [{ name: 'embedding/embeddings:0', path: 'e', shape: [vocab, dim], dtype: 'float32', data: noise(vocab * dim, 1, 0.5) }] },
      { layer: 'pool', weights: [] },
      {
        layer: 'dense',
        weights: [
          { name: 'dense/kernel:0', path: 'k', shape: [dim, 3], dtype: 'float32', data: noise(dim * 3, 2, 0.7) },
          { name: 'dense/bias:0', path: 'b', shape: [3], dtype: 'float32', data: noise(3, 3, 0.1) },
        ],
      },
    ],
  };
}

describe('shards', () => {
  it('a model over 4 MiB of weights is cut into 4 MiB shards, a weight straddling two, and plain tfjs loads it', async () => {
    const model = bigModel();
    const folder = join(temp, 'big');
    await convertModel(model, 'tfjs', folder);
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    expect(json.weightsManifest[0].paths).toEqual(['group1-shard1of2.bin', 'group1-shard2of2.bin']);
    const total = (33000 * 40 + 40 * 3 + 3) * 4;
    expect(statSync(join(folder, 'group1-shard1of2.bin')).size).toBe(DEFAULT_SHARD_SIZE);
    expect(statSync(join(folder, 'group1-shard2of2.bin')).size).toBe(total - DEFAULT_SHARD_SIZE);
    expect(readdirSync(folder).sort()).toEqual(['group1-shard1of2.bin', 'group1-shard2of2.bin', 'model.json']);

    const tokens: NpyArray = { dtype: 'int32', shape: [4, 6], data: Int32Array.from({ length: 24 }, (_, i) => (i * 7919) % 33000), fortranOrder: false } as unknown as NpyArray;
    const plain = await predictInFreshProcess(folder, [tokens]);
    const ours = await runModel(model, asInputs([tokens]), { backend: 'cpu' });
    expect(plain.outputs[0].shape).toEqual([4, 3]);
    const d = maxDiff(plain.outputs[0].data, ours[0].data);
    expect(d.abs).toBeLessThanOrEqual(1e-6);
    expect(d.ref).toBeGreaterThan(0.01);

    const back = await readModel(folder);
    expect(Buffer.from((back.weights[1].weights[0].data as Float32Array).buffer).equals(Buffer.from((model.weights[0].weights[0].data as Float32Array).buffer))).toBe(true);
  }, 120_000);

  it('any shard size works: 777-byte shards, the last one short', async () => {
    const kase = readGoldenCase(join(GOLDEN, 'transformer_block'));
    const model = await fullModelOf(kase);
    const files = await writeTfjs(model, { shardSize: 777 });
    const total = model.weights.flatMap((l) => l.weights).reduce((a, w) => a + 4 * w.data.length, 0);
    const n = Math.ceil(total / 777);
    const names = [...files.keys()];
    expect(names[0]).toBe('model.json');
    expect(names.slice(1)).toEqual(Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`));
    names.slice(1, -1).forEach((s) => expect(files.get(s)!.length).toBe(777));
    expect(files.get(names[n])!.length).toBe(total - 777 * (n - 1));

    const folder = join(temp, 'small-shards');
    (await import('node:fs')).mkdirSync(folder, { recursive: true });
    writeFolder(folder, files);
    const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
    const plain = await predictInFreshProcess(folder, inputs);
    const report = compareArrays({ shape: plain.outputs[0].shape, data: plain.outputs[0].data }, readNpyFileSync(kase.outputs[0].path), kase.tolerance, 'out');
    expect(report.pass, `max abs ${report.maxAbsError}`).toBe(true);
  }, 60_000);

  it('refuses a shard size that is not a positive whole number', async () => {
    const model = await fullModelOf(readGoldenCase(join(GOLDEN, 'kmha_basic')));
    for (const s of [0, -1, 1.5, NaN]) await expect(writeTfjs(model, { shardSize: s })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

// ---------------------------------------------------------------------------------------------------------

function u16(bytes: Uint8Array): number[] {
  return Array.from(new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
}

describe('quantization, as tfjs-converter quantization.py computes it', () => {
  // Expected values computed with tensorflowjs's quantize_weights code under NumPy 2.4.
  it("reproduces the converter's own docstring example and NumPy's results", () => {
    const doc = Float32Array.from([0, -0.1, 1.2]);
    const q8 = quantizeWeight(doc, 'uint8');
    expect(Array.from(q8.bytes)).toEqual([20, 0, 255]);
    expect(q8.quantization).toEqual({ dtype: 'uint8', min: -0.10196078817049663, scale: 0.0050980394085248315, original_dtype: 'float32' });
    const q16 = quantizeWeight(doc, 'uint16');
    expect(u16(q16.bytes)).toEqual([5041, 0, 65535]);
    expect(q16.quantization).toMatchObject({ min: -0.09999695197810769, scale: 1.9836729216049928e-5 });

    const mixed = Float32Array.from([
      1.252039909362793, 0.30555689334869385, 0.0675482302904129, -1.3044449090957642, -0.194171741604805, -0.24833127856254578,
      -0.057919036597013474, -0.4389004707336426, -0.030672717839479446, -0.3340526223182678, -0.919705331325531, 0.6192356944084167,
    ]);
    const m8 = quantizeWeight(mixed, 'uint8');
    expect(Array.from(m8.bytes)).toEqual([255, 160, 137, 0, 111, 105, 124, 86, 127, 97, 38, 192]);
    expect(m8.quantization).toMatchObject({ min: -1.3033059858808331, scale: 0.010025430660621793 });
    const m16 = quantizeWeight(mixed, 'uint16');
    expect(u16(m16.bytes)).toEqual([65535, 41272, 35171, 0, 28461, 27073, 31954, 22188, 32653, 24876, 9863, 49313]);
    expect(m16.quantization).toMatchObject({ min: -1.3044372601577126, scale: 3.90094578234311e-5 });
    expect(u16(quantizeWeight(mixed, 'float16').bytes)).toEqual([15618, 13540, 11347, 48440, 45623, 46066, 43882, 46854, 42970, 46424, 47964, 14580]);

    // All positive: no nudging, min is the data's minimum.
    const positive = Float32Array.from([1.85250985622406, 1.6817256212234497, 0.5479637384414673, 1.6177082061767578, 1.0185048580169678, 1.330202341079712, 1.0670502185821533, 1.8862758874893188]);
    const p8 = quantizeWeight(positive, 'uint8');
    expect(Array.from(p8.bytes)).toEqual([249, 216, 0, 204, 90, 149, 99, 255]);
    expect(p8.quantization).toMatchObject({ min: 0.5479637384414673, scale: 0.005248282937442555 });
    expect(u16(quantizeWeight(positive, 'uint16').bytes)).toEqual([63882, 55519, 0, 52384, 23042, 38305, 25419, 65535]);
  });

  it('rounds halves to even, keeps zero exact, and writes a constant as zeros with scale 1', () => {
    const steps = quantizeWeight(Float32Array.from([-1, 0, 0.5, 1, 1.5, 254]), 'uint8');
    expect(Array.from(steps.bytes)).toEqual([0, 1, 2, 2, 2, 255]);
    expect(steps.quantization).toMatchObject({ min: -1, scale: 1 });
    const w = noise(1000, 9, 0.3);
    for (const dtype of ['uint8', 'uint16'] as const) {
      const q = quantizeWeight(Float32Array.from([...w, 0]), dtype);
      expect(dequantizeWeight(q.bytes, q.quantization, 1001)[1000]).toBe(0);
    }
    const c = quantizeWeight(Float32Array.from([0.25, 0.25, 0.25]), 'uint16');
    expect(u16(c.bytes)).toEqual([0, 0, 0]);
    expect(c.quantization).toEqual({ dtype: 'uint16', min: 0.25, scale: 1, original_dtype: 'float32' });
  });

  it('stays within the documented bound on every weight: scale/2 (affine), 2^-11 relative (float16)', () => {
    for (const [seed, scale] of [[1, 0.05], [2, 3], [3, 700]] as const) {
      const w = noise(5000, seed, scale);
      for (const dtype of ['uint8', 'uint16'] as const) {
        const q = quantizeWeight(w, dtype);
        const back = dequantizeWeight(q.bytes, q.quantization, w.length);
        const bound = q.quantization.scale! / 2 + 2 ** -23 * (scale + q.quantization.scale!);
        expect(maxDiff(back, w).abs).toBeLessThanOrEqual(bound);
        // And the bound is tight: rounding does use most of it.
        expect(maxDiff(back, w).abs).toBeGreaterThan(0.4 * q.quantization.scale!);
      }
      const h = quantizeWeight(w, 'float16');
      const back = dequantizeWeight(h.bytes, h.quantization, w.length);
      w.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(Math.max(2 ** -11 * Math.abs(v), 2 ** -25)));
    }
  });

  it('refuses values float16 cannot hold and non-finite values', () => {
    expect(() => quantizeWeight(Float32Array.from([1, 70000]), 'float16', 'w')).toThrow(/beyond float16's range/);
    expect(() => quantizeWeight(Float32Array.from([1, NaN]), 'uint8', 'w')).toThrow(/finite/);
  });

  it('matches weight names with fnmatch globs; the --quantize option names a dtype and optional globs', () => {
    expect(globToRegExp('*/kernel').test('dense/kernel')).toBe(true);
    expect(globToRegExp('*/kernel').test('bidirectional/forward_lstm/kernel')).toBe(true);
    expect(globToRegExp('dense_?/bias').test('dense_1/bias')).toBe(true);
    expect(globToRegExp('dense_?/bias').test('dense_12/bias')).toBe(false);
    expect(globToRegExp('dense_[!0]/*').test('dense_0/kernel')).toBe(false);
    expect(globToRegExp('dense_[!0]/*').test('dense_2/kernel')).toBe(true);
    expect(globToRegExp('a.b(c)+').test('a.b(c)+')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('x[').test('x[')).toBe(true);
    expect(parseQuantizeOption('uint8')).toEqual({ dtype: 'uint8' });
    expect(parseQuantizeOption('float16:*/kernel, embedding/*')).toEqual({ dtype: 'float16', patterns: ['*/kernel', 'embedding/*'] });
    expect(parseQuantizeOption(undefined)).toBeUndefined();
    expect(() => parseQuantizeOption('int4')).toThrow(/uint8, uint16 or float16/);
  });

  it('writes the manifest entries as the converter does, quantizing only float32 weights matching the globs', async () => {
    const model = await fullModelOf(readGoldenCase(join(GOLDEN, 'transformer_block')));
    const files = await writeTfjs(model, { quantize: { dtype: 'uint8', patterns: ['*/kernel'] } });
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as {
      weightsManifest: { weights: { name: string; shape: number[]; dtype: string; quantization?: Record<string, unknown> }[] }[];
    };
    const weights = json.weightsManifest[0].weights;
    let bytes = 0;
    for (const w of weights) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      expect(w.dtype).toBe('float32');
      if (w.name.endsWith('/kernel')) {
        expect(Object.keys(w.quantization!).sort()).toEqual(['dtype', 'min', 'original_dtype', 'scale']);
        expect(w.quantization).toMatchObject({ dtype: 'uint8', original_dtype: 'float32' });
        bytes += size;
      } else {
        expect(w.quantization).toBeUndefined();
        bytes += 4 * size;
      }
    }
    expect(weights.filter((w) => w.quantization).length).toBe(7);
    expect(files.get('group1-shard1of1.bin')!.length).toBe(bytes);
  });
});

// ---------------------------------------------------------------------------------------------------------

/**
 * Output bounds the README documents: the largest output change relative to the largest output
 * magnitude, over the 39 golden cases (measured: float16 1.3e-3, uint16 8.8e-5, uint8 2.6e-2).
 */
const OUTPUT_BOUND: Record<QuantizationDType, number> = { float16: 2e-3, uint16: 2e-4, uint8: 5e-2 };

describe('quantized golden cases stay within the documented bounds', () => {
  for (const dtype of ['float16', 'uint16', 'uint8'] as const) {
    it(`${dtype}: every weight within its bound, every output within ${OUTPUT_BOUND[dtype]} of the largest output`, async () => {
      for (const name of goldenCases()) {
        const kase = readGoldenCase(join(GOLDEN, name));
        // the weights written: CuDNN layers' converted to the LSTM/GRU layout
        const model = upgradeLegacyLayers(await fullModelOf(kase));
        const files = await writeTfjs(model, { quantize: { dtype } });
        const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as {
          weightsManifest: { weights: { name: string; quantization?: { scale?: number } }[] }[];
        };
        const specs = json.weightsManifest[0].weights;
        const back = await readTfjsFiles(files, { file: name });
        expect(back.source.extras.quantized_weights ?? []).toEqual(specs.map((s) => s.name));
        let k = 0;
        back.weights.forEach((l, li) =>
          l.weights.forEach((w, wi) => {
            const orig = toFloat32(model.weights[li].weights[wi].data);
            const got = w.data as Float32Array;
            const scale = specs[k++].quantization?.scale ?? 0;
            const peak = maxDiff(orig, orig.map(() => 0)).abs;
            orig.forEach((v, i) => {
              const bound = dtype === 'float16' ? Math.max(2 ** -11 * Math.abs(v), 2 ** -25) : scale / 2 + 2 ** -23 * (peak + scale);
              if (!(Math.abs(got[i] - v) <= bound)) expect.fail(`${name} ${w.name}[${i}]: ${got[i]} vs ${v} (bound ${bound})`);
            });
          }),
        );
        const inputs = asInputs(kase.inputs.map((t) => readNpyFileSync(t.path)));
        const base = await runModel(model, inputs, { backend: 'cpu' });
        const quant = await runModel(back, inputs, { backend: 'cpu' });
        base.forEach((o, i) => {
          const d = maxDiff(quant[i].data, o.data);
          expect(d.abs, `${name} output ${i}`).toBeLessThanOrEqual(OUTPUT_BOUND[dtype] * d.ref);
        });
      }
    }, 120_000);
  }

  it("plain tfjs decodes quantized folders exactly as our reader does (uint8, float16)", async () => {
    const kase = readGoldenCase(join(GOLDEN, 'sa_additive_basic'));
    const model = await fullModelOf(kase);
    const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
    for (const dtype of ['uint8', 'float16'] as const) {
      const files = await writeTfjs(model, { quantize: { dtype } });
      const folder = join(temp, `quantized-${dtype}`);
      (await import('node:fs')).mkdirSync(folder, { recursive: true });
      writeFolder(folder, files);
      const plain = await predictInFreshProcess(folder, inputs);
      const ours = await runModel(await readModel(folder), asInputs(inputs), { backend: 'cpu' });
      const d = maxDiff(plain.outputs[0].data, ours[0].data);
      expect(d.abs).toBeLessThanOrEqual(1e-6 * Math.max(1, d.ref));
    }
  }, 60_000);
});
