/**
 * The tfjs reader: a real tensorflowjs_converter folder (wild 28) reads, predicts like plain tfjs loading
 * the same folder, and converts to h5 and back to tfjs; folders saved by tfjs itself read too; broken
 * folders fail with TFJS_INVALID (or LIMIT_EXCEEDED) naming the place, never with a crash.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import { KerasInteropError } from '../../src/errors.js';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { readModel } from '../../src/readers/index.js';
import { normalizeShardPath, parseTfjsModelJson, readTfjsFiles } from '../../src/readers/tfjs.js';
import type { InputArray } from '../../src/runtime/build.js';
import { runModel } from '../../src/runtime/run.js';
import { convertModel } from '../../src/writers/index.js';
import { writeTfjs } from '../../src/writers/tfjs.js';
import { GOLDEN, wildFile } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { maxDiff, predictInFreshProcess, writeFolder } from '../writers/tfjs-helpers.js';
import { fileTempDir } from '../helpers/tmp.js';
import { savedInMemory } from '../helpers/tfjs-memory.js';

const temp = fileTempDir('keras-interop-tfjs-');

const W28 = (): string => wildFile('28_emotion_embedding_lstm_tfjs', 'tfjs_model');

function tokens(rows: number, cols: number, vocab: number, seed: number): InputArray {
  return { dtype: 'int32', shape: [rows, cols], data: Int32Array.from({ length: rows * cols }, (_, i) => (i * 389 + seed * 7919) % vocab) };
}

describeWild('wild 28: a tensorflowjs_converter folder (tf.keras 2.13, Embedding + 2 LSTM + Dense)', () => {
  let model: KerasModel;
  beforeAll(async () => {
    model = await readModel(W28());
  });

  it('reads config, versions and every weight in Keras order, mapped from the converter’s alphabetical manifest', () => {
    expect(model.source.format).toBe('tfjs-layers');
    expect(model.source.kerasVersion).toBe('2.13.1');
    expect(model.source.backend).toBe('tensorflow');
    expect(model.source.extras.convertedBy).toBe('TensorFlow.js Converter v3.21.0');
    expect((model.source.extras.training_config as JsonObject).loss).toBe('categorical_crossentropy');
    expect(model.config?.class_name).toBe('Sequential');
    expect(model.weights.map((l) => [l.layer, l.weights.map((w) => `${w.name} ${w.shape.join('x')}`)])).toEqual([
      ['embedding_12_input', []],
      ['embedding_12', ['embedding_12/embeddings 5000x16']],
      ['lstm_30', ['lstm_30/lstm_cell/kernel 16x256', 'lstm_30/lstm_cell/recurrent_kernel 64x256', 'lstm_30/lstm_cell/bias 256']],
      ['lstm_31', ['lstm_31/lstm_cell/kernel 64x256', 'lstm_31/lstm_cell/recurrent_kernel 64x256', 'lstm_31/lstm_cell/bias 256']],
      ['dense_56', ['dense_56/kernel 64x128', 'dense_56/bias 128']],
      ['dense_57', ['dense_57/kernel 128x64', 'dense_57/bias 64']],
      ['dense_58', ['dense_58/kernel 64x6', 'dense_58/bias 6']],
    ]);
    // The shard holds exactly the manifest's bytes: 150726 float32 values.
    expect(model.weights.flatMap((l) => l.weights).reduce((a, w) => a + w.data.length, 0) * 4).toBe(602904);
    const emb = model.weights[1].weights[0].data as Float32Array;
    expect(emb).toBeInstanceOf(Float32Array);
    expect(emb.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('predicts what plain tf.loadLayersModel computes from the same folder', async () => {
    const inputs = [tokens(3, 12, 5000, 1)];
    const ours = await runModel(model, inputs, { backend: 'cpu' });
    const plain = await predictInFreshProcess(W28(), inputs as never);
    expect(ours[0].shape).toEqual([3, 6]);
    expect(plain.outputs[0].shape).toEqual([3, 6]);
    expect(maxDiff(ours[0].data, plain.outputs[0].data).abs).toBeLessThanOrEqual(1e-6);
    // Softmax rows.
    for (let r = 0; r < 3; r++) expect(Array.from(ours[0].data.slice(r * 6, r * 6 + 6)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 60_000);

  it('converts to h5 (same weights bit for bit, same outputs) and to our tfjs folder (plain tfjs agrees)', async () => {
    const [h5] = await convertModel(model, 'h5', join(temp, 'w28.h5'));
    const fromH5 = await readModel(h5);
    expect(fromH5.weights.map((l) => l.weights.length)).toEqual(model.weights.filter((l) => fromH5.weights.some((x) => x.layer === l.layer)).map((l) => l.weights.length));
    for (const lw of fromH5.weights) {
      const orig = model.weights.find((l) => l.layer === lw.layer)!.weights;
      lw.weights.forEach((w, i) => expect(Buffer.from((w.data as Float32Array).buffer).equals(Buffer.from((orig[i].data as Float32Array).buffer))).toBe(true));
    }
    const inputs = [tokens(2, 9, 5000, 2)];
    const a = await runModel(model, inputs, { backend: 'cpu' });
    const b = await runModel(fromH5, inputs, { backend: 'cpu' });
    expect(maxDiff(b[0].data, a[0].data).abs).toBe(0);

    const folder = join(temp, 'w28-tfjs');
    await convertModel(model, 'tfjs', folder);
    const plain = await predictInFreshProcess(folder, inputs as never);
    expect(maxDiff(plain.outputs[0].data, a[0].data).abs).toBeLessThanOrEqual(1e-6);
  }, 60_000);

  it('reads the folder through its model.json path too', async () => {
    const again = await readModel(join(W28(), 'model.json'));
    expect(again.weights.map((l) => l.layer)).toEqual(model.weights.map((l) => l.layer));
  });
});

describe('folders saved by tfjs itself (model.save: topology without model_config, one weights.bin)', () => {
  it('reads and predicts like the saving model', async () => {
    const input = tf.input({ shape: [5, 3] });
    // tfjs's default recurrent activation, hard_sigmoid, is tfjs's (Keras 2's) clip(0.2x + 0.5) in its own files.
    const lstm = tf.layers.lstm({ units: 4, returnSequences: true, name: 'lstm' }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'dense' }).apply(lstm) as tf.SymbolicTensor;
    const saved = tf.model({ inputs: input, outputs: out, name: 'js_model' });
    const artifacts = await savedInMemory(saved);
    const weightData = artifacts.weightData as ArrayBuffer;
    const json = {
      format: 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['./model.weights.bin'], weights: artifacts.weightSpecs }],
    };
    const files = new Map([
      ['model.json', new TextEncoder().encode(JSON.stringify(json))],
      ['model.weights.bin', new Uint8Array(weightData)],
    ]);
    const model = await readTfjsFiles(files, { file: 'js-saved' });
    expect(model.weights.map((l) => [l.layer, l.weights.length])).toEqual([
      ['input1', 0],
      ['lstm', 3],
      ['dense', 2],
    ].map(([n, c]) => [n === 'input1' ? saved.layers[0].name : n, c]));
    const x = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
    const ours = await runModel(model, [{ dtype: 'float32', shape: [2, 5, 3], data: x }], { backend: 'cpu' });
    const theirs = (saved.predict(tf.tensor(x, [2, 5, 3])) as tf.Tensor).dataSync();
    expect(maxDiff(ours[0].data, theirs).abs).toBeLessThanOrEqual(1e-6);
    saved.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('broken folders fail with clear errors', () => {
  let good: Map<string, Uint8Array>;
  let json: JsonObject;
  beforeAll(async () => {
    const kase = readGoldenCase(join(GOLDEN, 'kmha_basic'));
    good = await writeTfjs(await readModel(kase.files[0].path));
    json = JSON.parse(new TextDecoder().decode(good.get('model.json'))) as JsonObject;
  });

  function withJson(edit: (j: JsonObject) => void, files = good): Map<string, Uint8Array> {
    const j = structuredClone(json);
    edit(j);
    return new Map([...files, ['model.json', new TextEncoder().encode(JSON.stringify(j))]]);
  }
  function weights(j: JsonObject): JsonObject[] {
    return ((j.weightsManifest as JsonObject[])[0].weights as JsonObject[]);
  }
  async function failure(files: Map<string, Uint8Array>): Promise<KerasInteropError> {
    try {
      await readTfjsFiles(files, { file: 'broken' });
    } catch (e) {
      expect(e).toBeInstanceOf(KerasInteropError);
      return e as KerasInteropError;
    }
    throw new Error('expected the read to fail');
  }

  it('the intact folder reads (the baseline the mutations start from)', async () => {
    const m = await readTfjsFiles(good, { file: 'good' });
    expect(m.weights.find((l) => l.layer === 'multi_head_attention')!.weights).toHaveLength(8);
  });

  it('a truncated, an overlong or a missing shard', async () => {
    const shard = good.get('group1-shard1of1.bin')!;
    let e = await failure(new Map([...good, ['group1-shard1of1.bin', shard.subarray(0, shard.length - 3)]]));
    expect(e.code).toBe('TFJS_INVALID');
    expect(e.message).toMatch(new RegExp(`take ${shard.length} bytes but the shard files \\(group1-shard1of1.bin\\) hold ${shard.length - 3}: a shard is truncated`));
    expect(e.place).toBe('/weightsManifest/0');
    e = await failure(new Map([...good, ['group1-shard1of1.bin', new Uint8Array(shard.length + 4)]]));
    expect(e.message).toMatch(/bytes no weight accounts for/);
    const missing = new Map(good);
    missing.delete('group1-shard1of1.bin');
    e = await failure(missing);
    expect(e.code).toBe('TFJS_INVALID');
    expect(e.message).toMatch(/shard file "group1-shard1of1.bin" named by the manifest is missing/);
    expect(e.place).toBe('/weightsManifest/0/paths/0');
  });

  it('model.json that is not JSON, not a layers model, or lacks its parts', async () => {
    let e = await failure(new Map([...good, ['model.json', new TextEncoder().encode('{"format": "layers-model", ')]]));
    expect(e.code).toBe('TFJS_INVALID');
    expect(e.message).toMatch(/model.json is not valid JSON/);
    e = await failure(withJson((j) => (j.format = 'graph-model')));
    expect(e.message).toMatch(/not "layers-model": a graph model/);
    expect(e.place).toBe('/format');
    e = await failure(withJson((j) => delete j.weightsManifest));
    expect(e.place).toBe('/weightsManifest');
    e = await failure(withJson((j) => ((j.modelTopology as JsonObject).model_config = 3)));
    expect(e.message).toMatch(/holds no model config/);
    expect(e.place).toBe('/modelTopology');
    const noJson = new Map(good);
    noJson.delete('model.json');
    expect((await failure(noJson)).message).toMatch(/"model.json" is missing/);
  });

  it('shard paths that would leave the folder', async () => {
    for (const p of ['../secret.bin', '/etc/passwd', 'a/../../b.bin', 'http://example.com/w.bin', 'C:\\w.bin', 'a//b.bin']) {
      const e = await failure(withJson((j) => ((j.weightsManifest as JsonObject[])[0].paths = [p])));
      expect(e.code, p).toBe('TFJS_INVALID');
      expect(e.message).toMatch(/not a plain file name inside the model folder/);
    }
    expect(normalizeShardPath('./group1-shard1of1.bin')).toBe('group1-shard1of1.bin');
    expect(normalizeShardPath('weights/group1-shard1of1.bin')).toBe('weights/group1-shard1of1.bin');
  });

  it('bad weight entries: dtype, quantization, shape, names', async () => {
    let e = await failure(withJson((j) => (weights(j)[0].dtype = 'complex64')));
    expect(e.message).toMatch(/dtype "complex64" is not supported/);
    expect(e.place).toBe('/weightsManifest/0/weights/0/dtype');
    e = await failure(withJson((j) => (weights(j)[0].quantization = { dtype: 'int4', original_dtype: 'float32' })));
    expect(e.message).toMatch(/quantization dtype "int4"/);
    e = await failure(withJson((j) => (weights(j)[0].quantization = { dtype: 'uint8', original_dtype: 'float32' })));
    expect(e.message).toMatch(/needs finite numbers "min" and "scale"/);
    e = await failure(withJson((j) => (weights(j)[0].shape = [8, -2, 4])));
    expect(e.message).toMatch(/non-negative integers/);
    // Same byte count, other shape: the model's weight has [8, 2, 4].
    e = await failure(withJson((j) => (weights(j)[0].shape = [2, 8, 4])));
    expect(e.message).toMatch(/has shape \[2,8,4\] but the model's weight "multi_head_attention\/query\/kernel" has shape \[8,2,4\]/);
    e = await failure(withJson((j) => (weights(j)[0].name = 'somewhere/else')));
    expect(e.message).toMatch(/manifest weight "somewhere\/else" matches no weight of the model/);
    e = await failure(withJson((j) => (weights(j)[2].name = weights(j)[0].name)));
    expect(e.message).toMatch(/two manifest weights are named "multi_head_attention\/query\/kernel"/);
  });

  it('sizes are checked before anything is allocated', async () => {
    let e = await failure(withJson((j) => (weights(j)[0].shape = [1e9, 1e9, 1e9])));
    expect(e.code).toBe('TFJS_INVALID');
    expect(e.message).toMatch(/more values than can be addressed/);
    e = await failure(withJson((j) => (weights(j)[0].shape = [100000, 100000])));
    expect(e.code).toBe('LIMIT_EXCEEDED');
    e = await (async () => {
      try {
        await readTfjsFiles(good, { limits: { maxTotalBytes: 100 } });
      } catch (x) {
        return x as KerasInteropError;
      }
      throw new Error('expected a limit error');
    })();
    expect(e.code).toBe('LIMIT_EXCEEDED');
  });

  it('on disk: a missing shard file and a shard path leading out of the folder', async () => {
    const folder = join(temp, 'broken-disk');
    mkdirSync(folder, { recursive: true });
    writeFolder(folder, good);
    writeFileSync(join(folder, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ ...(json.weightsManifest as JsonObject[])[0], paths: ['nowhere.bin'] }] }));
    await expect(readModel(folder)).rejects.toMatchObject({ code: 'TFJS_INVALID', message: expect.stringMatching(/shard file "nowhere.bin" named by the manifest is missing/) });
    writeFileSync(join(folder, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ ...(json.weightsManifest as JsonObject[])[0], paths: ['../w28.h5'] }] }));
    await expect(readModel(folder)).rejects.toMatchObject({ code: 'TFJS_INVALID' });
  });

  it('never crashes: random byte damage to model.json and shards, random manifest edits', async () => {
    let state = 12345;
    const rand = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    const text = good.get('model.json')!;
    const manifestAt = new TextDecoder().decode(text).indexOf('"weightsManifest"');
    const values: unknown[] = [null, -1, 0, 1.5, 1e300, 'x', '', [], {}, [1, 2], true, { dtype: 'uint8' }];
    for (let round = 0; round < 150; round++) {
      let files: Map<string, Uint8Array>;
      if (round % 3 === 0) {
        const bytes = text.slice();
        for (let k = 0; k < 1 + rand(4); k++) bytes[manifestAt + rand(bytes.length - manifestAt)] = rand(256);
        files = new Map([...good, ['model.json', round % 2 ? bytes : bytes.subarray(0, rand(bytes.length))]]);
      } else {
        files = withJson((j) => {
          const group = (j.weightsManifest as JsonObject[])[0];
          const ws = group.weights as JsonObject[];
          const target = rand(3) === 0 ? group : ws[rand(ws.length)];
          const keys = Object.keys(target);
          (target as Record<string, unknown>)[keys[rand(keys.length)]] = values[rand(values.length)];
        });
      }
      try {
        await readTfjsFiles(files, { file: `fuzz-${round}` });
      } catch (e) {
        if (!(e instanceof KerasInteropError)) throw new Error(`round ${round}: ${String((e as Error).stack)}`);
        expect(['TFJS_INVALID', 'LIMIT_EXCEEDED', 'CONFIG_INVALID']).toContain(e.code);
      }
    }
  }, 60_000);

  it('parseTfjsModelJson reports what each weight takes in the shards', () => {
    const parsed = parseTfjsModelJson(good.get('model.json')!);
    expect(parsed.groups[0].weights.map((w) => [w.name, w.byteLength])).toEqual([
      ['multi_head_attention/query/kernel', 256],
      ['multi_head_attention/query/bias', 32],
      ['multi_head_attention/key/kernel', 256],
      ['multi_head_attention/key/bias', 32],
      ['multi_head_attention/value/kernel', 256],
      ['multi_head_attention/value/bias', 32],
      ['multi_head_attention/attention_output/kernel', 256],
      ['multi_head_attention/attention_output/bias', 32],
    ]);
    expect(parsed.groups[0].byteLength).toBe(good.get('group1-shard1of1.bin')!.length);
  });
});

describe('the verbatim config kept in userDefinedMetadata', () => {
  it('is used beside the model_config it was written with, and ignored once the topology changed', async () => {
    const kase = readGoldenCase(join(GOLDEN, 'sa_additive_basic'));
    const model = await readModel(kase.files[0].path);
    const files = await writeTfjs(model);
    const back = await readTfjsFiles(files);
    expect(back.config).toEqual(model.config);
    expect(back.source.kerasVersion).toBe('3.16.0');
    // The writer's model_config is the tfjs dialect with NoMask layers: not what the file held.
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as JsonObject;
    const written = (json.modelTopology as JsonObject).model_config as JsonObject;
    expect(JSON.stringify(written)).toContain('KerasInterop>NoMask');
    expect(JSON.stringify(model.config)).not.toContain('KerasInterop>NoMask');
    // tfjs's model.save() keeps user metadata but writes its own topology: then the topology is used.
    (written.config as JsonObject).name = 'renamed';
    const edited = await readTfjsFiles(new Map([...files, ['model.json', new TextEncoder().encode(JSON.stringify(json))]]));
    expect(edited.config).toEqual(written);
    expect(edited.weights.map((l) => l.layer)).toEqual(back.weights.map((l) => l.layer));
  });
});
