import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KerasInteropError, isKerasInteropError } from '../../src/errors.js';
import { float32ToFloat16Bits } from '../../src/model/float16.js';
import type { JsonObject, KerasModel, Weight } from '../../src/model/types.js';
import { readModel } from '../../src/readers/index.js';
import { TensorBundle } from '../../src/readers/savedmodel/bundle.js';
import { nodeFolder } from '../../src/readers/io/node.js';
import { crc32c, crc32cUpdate, maskCrc, unmaskCrc } from '../../src/readers/savedmodel/crc32c.js';
import { decodeKerasJson } from '../../src/readers/savedmodel/metadata.js';
import { encodeMessage } from '../../src/readers/savedmodel/protos.js';
import { snappyDecompress } from '../../src/readers/savedmodel/sstable.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel, predict } from '../../src/runtime/build.js';
import { requireWild } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { fileTempDir } from '../helpers/tmp.js';

const W15 = () => join(requireWild(), '15_nlx_stock_lstm_savedmodel', 'stock_model');
const W14 = () => join(requireWild(), '14_nlx_transformer_encoder_mha_savedmodel', 'transformer_model');

const tmpRoot = fileTempDir('keras-interop-savedmodel-');
let tmpCount = 0;
function tmpDir(): string {
  const d = join(tmpRoot, String(tmpCount++));
  mkdirSync(d, { recursive: true });
  return d;
}

async function errorOf(p: Promise<unknown>): Promise<KerasInteropError> {
  try {
    await p;
  } catch (e) {
    if (isKerasInteropError(e)) return e;
    throw new Error(`expected a KerasInteropError, got ${(e as Error).stack}`);
  }
  throw new Error('expected a rejection');
}

function flat(m: KerasModel): (Weight & { layer: string })[] {
  return m.weights.flatMap((l) => l.weights.map((w) => ({ layer: l.layer, ...w })));
}

const ascii = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  await useBackend('cpu');
});

// ------------------------------------------------------------------------------------------------
describe('crc32c', () => {
  it('matches the RFC 3720 (iSCSI) and common check vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(ascii('a'))).toBe(0xc1d04330);
  });

  it('continues across chunks, and masks as LevelDB does', () => {
    const bytes = ascii('The quick brown fox jumps over the lazy dog');
    expect(crc32c(bytes)).toBe(0x22620404);
    expect(crc32cUpdate(crc32cUpdate(0, bytes.subarray(0, 10)), bytes.subarray(10))).toBe(0x22620404);
    const crc = crc32c(ascii('foo'));
    expect(maskCrc(crc)).not.toBe(crc);
    expect(maskCrc(maskCrc(crc))).not.toBe(crc);
    expect(unmaskCrc(maskCrc(crc))).toBe(crc);
    expect(unmaskCrc(unmaskCrc(maskCrc(maskCrc(crc))))).toBe(crc);
    // ((0 >>> 15) | (0 << 17)) + 0xa282ead8
    expect(maskCrc(0)).toBe(0xa282ead8);
    expect(maskCrc(0xe3069283)).toBe((((0xe3069283 >>> 15) | (0xe3069283 << 17)) + 0xa282ead8) >>> 0);
  });
});

describe('snappy blocks', () => {
  const fail = (w: string): never => {
    throw new Error(w);
  };
  it('inflates literals and (overlapping) copies', () => {
    // 12 bytes: literal "abcd", copy-1 (len 4, offset 4), copy-2 (len 4, offset 8 → "abcd" of the first 8)
    const input = Uint8Array.from([12, (4 - 1) << 2, 97, 98, 99, 100, 0b000_000_01, 4, ((4 - 1) << 2) | 2, 8, 0]);
    expect(new TextDecoder().decode(snappyDecompress(input, 100, fail))).toBe('abcdabcdabcd');
    // run-length: "x" then copy len 7 offset 1
    const rle = Uint8Array.from([8, 0, 120, ((7 - 1) << 2) | 2, 1, 0]);
    expect(new TextDecoder().decode(snappyDecompress(rle, 100, fail))).toBe('xxxxxxxx');
  });
  it('refuses copies before the start, overruns and oversized declarations', () => {
    expect(() => snappyDecompress(Uint8Array.from([4, ((4 - 1) << 2) | 2, 9, 0]), 100, fail)).toThrow(/reaches back 9/);
    expect(() => snappyDecompress(Uint8Array.from([2, (4 - 1) << 2, 1, 2, 3, 4]), 100, fail)).toThrow(/past the declared length/);
    expect(() => snappyDecompress(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 1000, fail)).toThrow(/more than the 1000 accepted/);
  });
});

describe('Keras metadata JSON', () => {
  it('decodes __tuple__ and TensorShape wrappers and keeps __proto__ as data', () => {
    const v = JSON.parse(
      '{"a": {"class_name": "__tuple__", "items": [null, {"class_name": "TensorShape", "items": [3, 4]}]}, "__proto__": {"polluted": 1}, ' +
        '"spec": {"class_name": "TypeSpec", "type_spec": "tf.TensorSpec", "serialized": []}}',
    );
    const d = decodeKerasJson(v) as JsonObject;
    expect(d.a).toEqual([null, [3, 4]]);
    expect(Object.prototype.hasOwnProperty.call(d, '__proto__')).toBe(true);
    expect((d as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(d.spec).toEqual({ class_name: 'TypeSpec', type_spec: 'tf.TensorSpec', serialized: [] });
  });
});

// ------------------------------------------------------------------------------------------------
// Real SavedModels (tf.keras 2.15), read in place.

/** Keras LSTM (gates i, f, c, o; sigmoid / tanh) in Float64, from the weights as read. */
function lstmRef(x: number[][], kernel: Float32Array, rec: Float32Array, bias: Float32Array, units: number): number[][] {
  const inDim = x[0].length;
  let h = new Array<number>(units).fill(0);
  let c = new Array<number>(units).fill(0);
  const out: number[][] = [];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  for (const xt of x) {
    const z = new Array<number>(4 * units).fill(0);
    for (let j = 0; j < 4 * units; j++) {
      let s = bias[j];
      for (let k = 0; k < inDim; k++) s += xt[k] * kernel[k * 4 * units + j];
      for (let k = 0; k < units; k++) s += h[k] * rec[k * 4 * units + j];
      z[j] = s;
    }
    const nc = c.map((cv, j) => sig(z[units + j]) * cv + sig(z[j]) * Math.tanh(z[2 * units + j]));
    h = nc.map((cv, j) => sig(z[3 * units + j]) * Math.tanh(cv));
    c = nc;
    out.push(h.slice());
  }
  return out;
}

function denseRef(x: number[], kernel: Float32Array, bias: Float32Array, units: number): number[] {
  return Array.from({ length: units }, (_, j) => x.reduce((s, v, k) => s + v * kernel[k * units + j], bias[j]));
}

describeWild('SavedModel reader on wild 15 (Sequential LSTM, TF 2.15)', () => {
  it('lists every variable with its shape and dtype, in layer.weights order', async () => {
    const m = await readModel(W15());
    expect(m.source.format).toBe('savedmodel');
    expect(m.source.kerasVersion).toBe('2.15.0');
    expect(m.source.backend).toBe('tensorflow');
    expect(m.source.extras.metadata_source).toBe('keras_metadata.pb');
    expect(m.weights.map((l) => l.layer)).toEqual(['lstm', 'lstm_1', 'dense', 'dense_1']);
    expect(flat(m).map((w) => [w.layer, w.name, w.path, w.shape, w.dtype])).toEqual([
      ['lstm', 'lstm/lstm_cell/kernel:0', 'variables/0/.ATTRIBUTES/VARIABLE_VALUE', [1, 200], 'float32'],
      ['lstm', 'lstm/lstm_cell/recurrent_kernel:0', 'variables/1/.ATTRIBUTES/VARIABLE_VALUE', [50, 200], 'float32'],
      ['lstm', 'lstm/lstm_cell/bias:0', 'variables/2/.ATTRIBUTES/VARIABLE_VALUE', [200], 'float32'],
      ['lstm_1', 'lstm_1/lstm_cell/kernel:0', 'variables/3/.ATTRIBUTES/VARIABLE_VALUE', [50, 200], 'float32'],
      ['lstm_1', 'lstm_1/lstm_cell/recurrent_kernel:0', 'variables/4/.ATTRIBUTES/VARIABLE_VALUE', [50, 200], 'float32'],
      ['lstm_1', 'lstm_1/lstm_cell/bias:0', 'variables/5/.ATTRIBUTES/VARIABLE_VALUE', [200], 'float32'],
      ['dense', 'dense/kernel:0', 'layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE', [50, 25], 'float32'],
      ['dense', 'dense/bias:0', 'layer_with_weights-2/bias/.ATTRIBUTES/VARIABLE_VALUE', [25], 'float32'],
      ['dense_1', 'dense_1/kernel:0', 'layer_with_weights-3/kernel/.ATTRIBUTES/VARIABLE_VALUE', [25, 1], 'float32'],
      ['dense_1', 'dense_1/bias:0', 'layer_with_weights-3/bias/.ATTRIBUTES/VARIABLE_VALUE', [1], 'float32'],
    ]);
    for (const w of flat(m)) expect(w.data.length).toBe(w.shape.reduce((a, b) => a * b, 1));
    const byName = new Map(flat(m).map((w) => [w.name, w]));
    expect(byName.get('lstm/lstm_cell/kernel:0')!.data[0]).toBe(Math.fround(-0.1637750118970871));
    expect(byName.get('dense_1/bias:0')!.data[0]).toBe(Math.fround(0.011808590963482857));
    expect(byName.get('dense_1/kernel:0')!.data[0]).toBe(Math.fround(0.3135458528995514));

    // Config: the root's class_name + config, tuples decoded.
    expect(m.config?.class_name).toBe('Sequential');
    const layers = (m.config?.config as JsonObject).layers as JsonObject[];
    expect(layers.map((l) => l.class_name)).toEqual(['InputLayer', 'LSTM', 'LSTM', 'Dense', 'Dense']);
    expect((layers[0].config as JsonObject).batch_input_shape).toEqual([null, 30, 1]);
    expect((layers[1].config as JsonObject).units).toBe(50);
    expect(m.source.extras.training_config).toMatchObject({ loss: 'mean_squared_error' });

    // Not model weights: the Adam state and the loss metric.
    const opt = m.source.extras.optimizer_variables as { name: string; path: string; shape: number[]; dtype: string }[];
    expect(opt).toHaveLength(22);
    expect(opt[0]).toEqual({ name: 'iteration', path: 'optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE', shape: [], dtype: 'int64' });
    expect(opt.find((v) => v.name === 'Adam/m/lstm_1/lstm_cell/recurrent_kernel')).toEqual({
      name: 'Adam/m/lstm_1/lstm_cell/recurrent_kernel',
      path: 'optimizer/_variables/9/.ATTRIBUTES/VARIABLE_VALUE',
      shape: [50, 200],
      dtype: 'float32',
    });
    expect(m.source.extras.metric_variables).toEqual([
      { name: 'total', path: 'keras_api/metrics/0/total/.ATTRIBUTES/VARIABLE_VALUE', shape: [], dtype: 'float32' },
      { name: 'count', path: 'keras_api/metrics/0/count/.ATTRIBUTES/VARIABLE_VALUE', shape: [], dtype: 'float32' },
    ]);
    expect(m.source.extras.other_checkpoint_values).toBeUndefined();
  });

  it('builds and predicts with the project runtime, matching a Float64 LSTM reference', async () => {
    const m = await readModel(W15());
    const tfModel = await buildModel(m);
    try {
      const series = Array.from({ length: 30 }, (_, t) => 0.4 + 0.3 * Math.sin(t / 4) + 0.01 * t);
      const [out] = predict(tfModel, [{ dtype: 'float32', shape: [1, 30, 1], data: Float32Array.from(series) }]);
      expect(out.shape).toEqual([1, 1]);
      const w = (name: string) => flat(m).find((x) => x.name === name)!.data as Float32Array;
      const h1 = lstmRef(series.map((v) => [v]), w('lstm/lstm_cell/kernel:0'), w('lstm/lstm_cell/recurrent_kernel:0'), w('lstm/lstm_cell/bias:0'), 50);
      const h2 = lstmRef(h1, w('lstm_1/lstm_cell/kernel:0'), w('lstm_1/lstm_cell/recurrent_kernel:0'), w('lstm_1/lstm_cell/bias:0'), 50);
      const d1 = denseRef(h2[29], w('dense/kernel:0'), w('dense/bias:0'), 25);
      const [expected] = denseRef(d1, w('dense_1/kernel:0'), w('dense_1/bias:0'), 1);
      expect(Math.abs(out.data[0] - expected)).toBeLessThan(1e-5);
      expect(Number.isFinite(expected) && Math.abs(expected) > 1e-3).toBe(true);
    } finally {
      tfModel.dispose();
    }
  });
});

describeWild('SavedModel reader on wild 14 (TransformerEncoder wrapping MultiHeadAttention)', () => {
  it('lists the full layer tree and every weight', async () => {
    const m = await readModel(W14());
    expect(m.config?.class_name).toBe('Functional');
    expect(m.weights.map((l) => [l.layer, l.weights.length])).toEqual([
      ['input_10', 0],
      ['transformer_encoder_9', 16],
      ['global_average_pooling1d_9', 0],
      ['dropout_29', 0],
      ['dense_43', 2],
    ]);
    const enc = m.weights[1].weights;
    expect(enc.map((w) => [w.name, w.shape])).toEqual([
      ['transformer_encoder_9/multi_head_attention_9/query/kernel:0', [16, 2, 32]],
      ['transformer_encoder_9/multi_head_attention_9/query/bias:0', [2, 32]],
      ['transformer_encoder_9/multi_head_attention_9/key/kernel:0', [16, 2, 32]],
      ['transformer_encoder_9/multi_head_attention_9/key/bias:0', [2, 32]],
      ['transformer_encoder_9/multi_head_attention_9/value/kernel:0', [16, 2, 32]],
      ['transformer_encoder_9/multi_head_attention_9/value/bias:0', [2, 32]],
      ['transformer_encoder_9/multi_head_attention_9/attention_output/kernel:0', [2, 32, 16]],
      ['transformer_encoder_9/multi_head_attention_9/attention_output/bias:0', [16]],
      ['dense_41/kernel:0', [16, 32]],
      ['dense_41/bias:0', [32]],
      ['dense_42/kernel:0', [32, 16]],
      ['dense_42/bias:0', [16]],
      ['transformer_encoder_9/layer_normalization_18/gamma:0', [16]],
      ['transformer_encoder_9/layer_normalization_18/beta:0', [16]],
      ['transformer_encoder_9/layer_normalization_19/gamma:0', [16]],
      ['transformer_encoder_9/layer_normalization_19/beta:0', [16]],
    ]);
    expect(enc.every((w) => w.dtype === 'float32' && w.data.length === w.shape.reduce((a, b) => a * b, 1))).toBe(true);
    expect(enc.map((w) => w.path)).toEqual(Array.from({ length: 16 }, (_, i) => `variables/${i}/.ATTRIBUTES/VARIABLE_VALUE`));
    expect(enc[12].data[0]).toBe(Math.fround(1.012690782546997));
    expect(m.weights[4].weights.map((w) => [w.name, w.path, w.shape])).toEqual([
      ['dense_43/kernel:0', 'layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE', [16, 1]],
      ['dense_43/bias:0', 'layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE', [1]],
    ]);

    const tree = m.source.extras.layer_tree as { node_path: string; class_name: string; name: string; weights: string[] }[];
    expect(tree.map((n) => [n.node_path, n.class_name, n.name])).toEqual([
      ['root', 'Functional', 'model_9'],
      ['root.layer-0', 'InputLayer', 'input_10'],
      ['root.layer_with_weights-0', 'TransformerEncoder', 'transformer_encoder_9'],
      ['root.layer-2', 'GlobalAveragePooling1D', 'global_average_pooling1d_9'],
      ['root.layer-3', 'Dropout', 'dropout_29'],
      ['root.layer_with_weights-1', 'Dense', 'dense_43'],
      ['root.layer_with_weights-0.att', 'MultiHeadAttention', 'multi_head_attention_9'],
      ['root.layer_with_weights-0.ffn', 'Sequential', 'sequential_16'],
      ['root.layer_with_weights-0.layernorm1', 'LayerNormalization', 'layer_normalization_18'],
      ['root.layer_with_weights-0.layernorm2', 'LayerNormalization', 'layer_normalization_19'],
      ['root.layer_with_weights-0.dropout1', 'Dropout', 'dropout_27'],
      ['root.layer_with_weights-0.dropout2', 'Dropout', 'dropout_28'],
      ['root.layer_with_weights-0.att._query_dense', 'EinsumDense', 'query'],
      ['root.layer_with_weights-0.att._key_dense', 'EinsumDense', 'key'],
      ['root.layer_with_weights-0.att._value_dense', 'EinsumDense', 'value'],
      ['root.layer_with_weights-0.att._softmax', 'Softmax', 'softmax'],
      ['root.layer_with_weights-0.att._dropout_layer', 'Dropout', 'dropout'],
      ['root.layer_with_weights-0.att._output_dense', 'EinsumDense', 'attention_output'],
      ['root.layer_with_weights-0.ffn.layer_with_weights-0', 'Dense', 'dense_41'],
      ['root.layer_with_weights-0.ffn.layer_with_weights-1', 'Dense', 'dense_42'],
      ['root.keras_api.metrics.0', 'Mean', 'loss'],
    ]);
    const byPath = new Map(tree.map((n) => [n.node_path, n.weights]));
    expect(byPath.get('root.layer_with_weights-0.att._output_dense')).toEqual([
      'transformer_encoder_9/multi_head_attention_9/attention_output/kernel:0',
      'transformer_encoder_9/multi_head_attention_9/attention_output/bias:0',
    ]);
    expect(byPath.get('root.layer_with_weights-0.ffn')).toEqual(['dense_41/kernel:0', 'dense_41/bias:0', 'dense_42/kernel:0', 'dense_42/bias:0']);
    expect(byPath.get('root.layer_with_weights-0.att')).toHaveLength(8);
    expect((m.source.extras.optimizer_variables as unknown[]).length).toBe(38);
  });

  it('refuses to build, naming the custom class TransformerEncoder and how to register it', async () => {
    const m = await readModel(W14());
    const e = await errorOf(buildModel(m));
    expect(e.code).toBe('UNSUPPORTED_LAYER');
    expect(e.message).toContain('TransformerEncoder');
    expect(e.message).toContain('transformer_encoder_9');
    expect(e.message).toContain("registerLayer('TransformerEncoder', MyLayer)");
    expect(e.message).toContain('transformer_encoder_9/multi_head_attention_9/query/kernel:0 [16,2,32] float32');
  });
});

describeWild('SavedModel reader: corrupt copies of wild 15', () => {
  it('reports a flipped byte in any tensor as CHECKSUM_MISMATCH naming the variable', async () => {
    const dir = tmpDir();
    cpSync(W15(), dir, { recursive: true });
    chmodSync(join(dir, 'variables'), 0o755);
    const dataFile = join(dir, 'variables', 'variables.data-00000-of-00001');
    chmodSync(dataFile, 0o644);
    const clean = await readModel(dir);
    const names = new Map<string, string>(flat(clean).map((w) => [w.path, w.name]));
    for (const group of ['optimizer_variables', 'metric_variables'] as const) {
      for (const v of clean.source.extras[group] as { name: string; path: string }[]) names.set(v.path, v.name);
    }
    names.set('_CHECKPOINTABLE_OBJECT_GRAPH', '_CHECKPOINTABLE_OBJECT_GRAPH');

    const bundle = new TensorBundle(nodeFolder(join(dir, 'variables')), { maxTensorBytes: 1 << 30, maxIndexBytes: 1 << 30 });
    const entries = [...bundle.entries.values()];
    bundle.close();
    expect(entries).toHaveLength(35);
    const original = readFileSync(dataFile);
    for (const e of entries) {
      const at = e.offset + Math.floor(e.size / 2);
      const bad = Buffer.from(original);
      bad[at] ^= 0x10;
      writeFileSync(dataFile, bad);
      const err = await errorOf(readModel(dir));
      expect(err.code, e.key).toBe('CHECKSUM_MISMATCH');
      expect(err.message, e.key).toContain(`"${names.get(e.key)}"`);
      expect(err.place, e.key).toBe(`key "${e.key}"`);
      expect(err.file, e.key).toBe(dataFile);
    }
    // Spot checks of the wording for the three kinds.
    const flipAt = async (key: string) => {
      const e = entries.find((x) => x.key === key)!;
      const bad = Buffer.from(original);
      bad[e.offset] ^= 0x01;
      writeFileSync(dataFile, bad);
      return (await errorOf(readModel(dir))).message;
    };
    expect(await flipAt('variables/1/.ATTRIBUTES/VARIABLE_VALUE')).toMatch(/weight "lstm\/lstm_cell\/recurrent_kernel:0" of layer "lstm" fails its checksum/);
    expect(await flipAt('optimizer/_variables/13/.ATTRIBUTES/VARIABLE_VALUE')).toMatch(/optimizer variable "Adam\/m\/dense\/kernel" fails its checksum/);
    expect(await flipAt('_CHECKPOINTABLE_OBJECT_GRAPH')).toMatch(/_CHECKPOINTABLE_OBJECT_GRAPH\) fails its checksum/);
    writeFileSync(dataFile, original);
    expect(flat(await readModel(dir))).toHaveLength(10);
  }, 60_000);

  it('refuses a truncated shard, a corrupt index block and a missing shard with clear errors', async () => {
    const dir = tmpDir();
    cpSync(W15(), dir, { recursive: true });
    chmodSync(join(dir, 'variables'), 0o755);
    const dataFile = join(dir, 'variables', 'variables.data-00000-of-00001');
    const indexFile = join(dir, 'variables', 'variables.index');
    chmodSync(dataFile, 0o644);
    chmodSync(indexFile, 0o644);

    truncateSync(dataFile, 100_000);
    let e = await errorOf(readModel(dir));
    expect(e.code).toBe('PROTO_INVALID');
    expect(e.message).toMatch(/needs bytes \[\d+, \d+\) but the shard has only 100000 bytes \(truncated file or bad offset\)/);

    rmSync(dataFile);
    e = await errorOf(readModel(dir));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain('data shard 0 of 1 is missing');
    cpSync(join(W15(), 'variables', 'variables.data-00000-of-00001'), dataFile);

    const index = readFileSync(indexFile);
    const bad = Buffer.from(index);
    bad[40] ^= 0x01; // inside the data block, whose trailer CRC no longer matches
    writeFileSync(indexFile, bad);
    e = await errorOf(readModel(dir));
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    expect(e.message).toContain('block checksum mismatch');
    expect(e.place).toMatch(/^data block 0/);

    writeFileSync(indexFile, index.subarray(0, index.length - 3));
    e = await errorOf(readModel(dir));
    expect(e.code).toBe('PROTO_INVALID');
    expect(e.message).toContain('magic number');
  });
});

// ------------------------------------------------------------------------------------------------
// SavedModels synthesized here: our own SSTable/bundle writer and protobuf messages.

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

function blockContents(entries: [Uint8Array, Uint8Array][], restartInterval: number): Uint8Array {
  const parts: (Uint8Array | number[])[] = [];
  const restarts: number[] = [];
  let size = 0;
  let prev: Uint8Array = new Uint8Array(0);
  entries.forEach(([k, v], i) => {
    let shared = 0;
    if (i % restartInterval === 0) restarts.push(size);
    else while (shared < prev.length && shared < k.length && prev[shared] === k[shared]) shared++;
    const head = [...varint(shared), ...varint(k.length - shared), ...varint(v.length)];
    parts.push(head, k.subarray(shared), v);
    size += head.length + k.length - shared + v.length;
    prev = k;
  });
  // LevelDB's block builder always records a restart at 0, even in an empty block.
  if (restarts.length === 0) restarts.push(0);
  return concat([...parts, restarts.flatMap((r) => u32(r)), u32(restarts.length)]);
}

/** Snappy with one literal (valid, if not small). */
function snappyLiteral(b: Uint8Array): Uint8Array {
  const n = b.length - 1;
  const tag = n < 60 ? [n << 2] : n < 256 ? [60 << 2, n] : n < 65536 ? [61 << 2, n & 0xff, n >>> 8] : [62 << 2, n & 0xff, (n >>> 8) & 0xff, n >>> 16];
  return concat([varint(b.length), tag, b]);
}

interface TableOptions {
  perBlock?: number;
  restartInterval?: number;
  snappy?: boolean;
}

function writeTable(entries: [string, Uint8Array][], opts: TableOptions = {}): Uint8Array {
  const sorted = entries.map(([k, v]) => [ascii(k), v] as [Uint8Array, Uint8Array]).sort(([a], [b]) => Buffer.compare(a, b));
  const perBlock = opts.perBlock ?? 1000;
  const parts: Uint8Array[] = [];
  let offset = 0;
  const writeBlock = (contents: Uint8Array, type: number): number[] => {
    const stored = type === 1 ? snappyLiteral(contents) : contents;
    const crc = maskCrc(crc32cUpdate(crc32c(stored), Uint8Array.of(type)));
    const handle = [...varint(offset), ...varint(stored.length)];
    parts.push(concat([stored, [type], u32(crc)]));
    offset += stored.length + 5;
    return handle;
  };
  const index: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < sorted.length; i += perBlock) {
    const chunk = sorted.slice(i, i + perBlock);
    const handle = writeBlock(blockContents(chunk, opts.restartInterval ?? 16), opts.snappy ? 1 : 0);
    index.push([chunk[chunk.length - 1][0], Uint8Array.from(handle)]);
  }
  const meta = writeBlock(blockContents([], 1), 0);
  const indexHandle = writeBlock(blockContents(index, 1), 0);
  const footer = new Uint8Array(48);
  footer.set([...meta, ...indexHandle]);
  footer.set([...u32(0x8b80fb57), ...u32(0xdb477524)], 40);
  return concat([...parts, footer]);
}

interface Tensor {
  key: string;
  dtype: number;
  shape: number[];
  bytes: Uint8Array;
  shard: number;
  crc?: number;
}

function stringTensor(strings: Uint8Array[]): { bytes: Uint8Array; crc: number } {
  const lens = strings.flatMap((s) => varint(s.length));
  const fixed = Uint8Array.from(strings.flatMap((s) => u32(s.length)));
  const lenCrc = u32(maskCrc(crc32c(fixed)));
  const body = concat(strings);
  let crc = crc32cUpdate(crc32cUpdate(crc32c(fixed), Uint8Array.from(lenCrc)), body);
  crc = maskCrc(crc);
  return { bytes: concat([lens, lenCrc, body]), crc };
}

function writeBundle(dir: string, tensors: Tensor[], numShards: number, opts: TableOptions = {}): void {
  mkdirSync(join(dir, 'variables'), { recursive: true });
  const shards: Uint8Array[][] = Array.from({ length: numShards }, () => []);
  const sizes = new Array<number>(numShards).fill(0);
  const entries: [string, Uint8Array][] = [['', encodeMessage('BundleHeaderProto', { numShards, version: { producer: 1 } })]];
  for (const t of tensors) {
    const offset = sizes[t.shard];
    shards[t.shard].push(t.bytes);
    sizes[t.shard] += t.bytes.length;
    entries.push([
      t.key,
      encodeMessage('BundleEntryProto', {
        dtype: t.dtype,
        shape: { dim: t.shape.map((size) => ({ size })) },
        shardId: t.shard,
        offset,
        size: t.bytes.length,
        crc32c: t.crc ?? maskCrc(crc32c(t.bytes)),
      }),
    ]);
  }
  writeFileSync(join(dir, 'variables', 'variables.index'), writeTable(entries, opts));
  shards.forEach((parts, i) => {
    const pad = (n: number) => String(n).padStart(5, '0');
    writeFileSync(join(dir, 'variables', `variables.data-${pad(i)}-of-${pad(numShards)}`), concat(parts));
  });
}

const DT = { float: 1, int64: 9, string: 7, bfloat16: 14, half: 19 } as const;

function f32(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
function encodeAs(dtype: number, values: number[]): Uint8Array {
  if (dtype === DT.float) return f32(values);
  if (dtype === DT.half) return new Uint8Array(float32ToFloat16Bits(Float32Array.from(values)).buffer);
  if (dtype === DT.bfloat16) return new Uint8Array(Uint16Array.from(new Uint32Array(Float32Array.from(values).buffer), (x) => x >>> 16).buffer);
  if (dtype === DT.int64) return new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
  throw new Error(`dtype ${dtype}`);
}

interface SynthOptions {
  /** Where the Keras metadata goes: keras_metadata.pb (default), SavedUserObject.metadata (TF < 2.5), nowhere. */
  metadata?: 'keras' | 'legacy' | 'none';
  denseDtype?: number;
  table?: TableOptions;
}

const KERNEL = [1, 2, 3, 4, 5, 6]; // [2, 3]
const BIAS = [1, -1, 2];
const GAMMA = [1, 2, 0.5];
const BETA = [0, 1, -1];
const MEAN = [1, 1, 1];
const VAR = [4, 1, 0.25];
const EPS = 0.001;

/**
 * A Sequential (Dense(3) → BatchNormalization) as tf.keras 2 saves it. The checkpoint's object graph
 * numbers its nodes differently from saved_model.pb's (which also holds a function node), and its keys
 * put the BatchNormalization variables under the model's `variables/<i>`, as wild 15 does for LSTMs.
 */
function synthesize(dir: string, opts: SynthOptions = {}): void {
  const dt = opts.denseDtype ?? DT.float;
  const rootMeta =
    '{"name": "seq", "trainable": true, "class_name": "Sequential", "keras_version": "2.15.0", "backend": "tensorflow", ' +
    '"training_config": {"loss": "mse", "__proto__": {"polluted": true}}, "config": {"name": "seq", "layers": [' +
    '{"class_name": "InputLayer", "config": {"batch_input_shape": {"class_name": "__tuple__", "items": [null, 2]}, "dtype": "float32", "sparse": false, "ragged": false, "name": "x"}}, ' +
    '{"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 3, "activation": "linear", "use_bias": true, ' +
    '"kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}, "shared_object_id": 1}, "bias_initializer": {"class_name": "Zeros", "config": {}}, ' +
    '"kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}}, ' +
    '{"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "trainable": true, "dtype": "float32", "axis": {"class_name": "__tuple__", "items": [1]}, ' +
    `"momentum": 0.99, "epsilon": ${EPS}, "center": true, "scale": true}}]}}`;
  const layerMeta = (name: string, cls: string) => JSON.stringify({ name, class_name: cls, trainable: true, config: { name } });
  const metricMeta = JSON.stringify({ class_name: 'Mean', name: 'loss', config: { name: 'loss' } });
  const legacy = opts.metadata === 'legacy';
  const keras = opts.metadata === 'none' ? 'none' : 'keras';
  const user = (identifier: string, metadata?: string) => ({
    userObject: { identifier: keras === 'none' && identifier.startsWith('_tf_keras') ? '_generic_user_object' : identifier, version: { producer: 1, minConsumer: 1 }, ...(legacy && metadata ? { metadata } : {}) },
  });
  const ref = (localName: string, nodeId: number) => ({ localName, nodeId });
  const variable = (name: string, shape: number[], dtype: number = DT.float, trainable = true) => ({
    variable: { name, dtype, trainable, shape: { dim: shape.map((size) => ({ size })) } },
  });
  const list = (ids: number[]) => ({ children: ids.map((id, i) => ref(String(i), id)), ...user('trackable_list_wrapper') });

  const S = [
    /* 0 */ { children: [ref('layer_with_weights-0', 2), ref('layer-0', 2), ref('layer_with_weights-1', 3), ref('layer-1', 3), ref('variables', 4), ref('__call__', 1), ref('optimizer', 13), ref('keras_api', 16)], ...user('_tf_keras_sequential', rootMeta) },
    /* 1 */ { function: {} },
    /* 2 */ { children: [ref('kernel', 5), ref('bias', 6), ref('variables', 7)], ...user('_tf_keras_layer', layerMeta('dense', 'Dense')) },
    /* 3 */ { children: [ref('gamma', 8), ref('beta', 9), ref('moving_mean', 10), ref('moving_variance', 11), ref('variables', 12)], ...user('_tf_keras_layer', layerMeta('batch_normalization', 'BatchNormalization')) },
    /* 4 */ list([5, 6, 8, 9, 10, 11]),
    /* 5 */ variable('dense/kernel', [2, 3], dt),
    /* 6 */ variable('dense/bias', [3], dt),
    /* 7 */ list([5, 6]),
    /* 8 */ variable('batch_normalization/gamma', [3]),
    /* 9 */ variable('batch_normalization/beta', [3]),
    /* 10 */ variable('batch_normalization/moving_mean', [3], DT.float, false),
    /* 11 */ variable('batch_normalization/moving_variance', [3], DT.float, false),
    /* 12 */ list([8, 9, 10, 11]),
    /* 13 */ { children: [ref('iter', 14)], slotVariables: [{ originalVariableNodeId: 5, slotName: 'm', slotVariableNodeId: 15 }], ...user('optimizer') },
    /* 14 */ variable('Adam/iter', [], DT.int64),
    /* 15 */ variable('Adam/dense/kernel/m', [2, 3]),
    /* 16 */ { children: [ref('metrics', 17)], ...user('_generic_user_object') },
    /* 17 */ list([18]),
    /* 18 */ { children: [ref('total', 19)], ...user('_tf_keras_metric', metricMeta) },
    /* 19 */ variable('total', []),
  ];
  const attr = (fullName: string, checkpointKey: string) => ({ attributes: [{ name: 'VARIABLE_VALUE', fullName, checkpointKey }] });
  const tlist = (ids: number[]) => ({ children: ids.map((id, i) => ref(String(i), id)) });
  const K = (p: string) => `${p}/.ATTRIBUTES/VARIABLE_VALUE`;
  const T = [
    /* 0 */ { children: [ref('layer_with_weights-0', 5), ref('layer-0', 5), ref('layer_with_weights-1', 6), ref('layer-1', 6), ref('variables', 1), ref('optimizer', 2), ref('keras_api', 15)] },
    /* 1 */ tlist([7, 8, 9, 10, 11, 12]),
    /* 2 */ { children: [ref('iter', 3)], slotVariables: [{ originalVariableNodeId: 7, slotName: 'm', slotVariableNodeId: 4 }] },
    /* 3 */ attr('Adam/iter', K('optimizer/iter')),
    /* 4 */ attr('Adam/dense/kernel/m', 'layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE'),
    /* 5 */ { children: [ref('kernel', 7), ref('bias', 8), ref('variables', 13)] },
    /* 6 */ { children: [ref('gamma', 9), ref('beta', 10), ref('moving_mean', 11), ref('moving_variance', 12), ref('variables', 14)] },
    /* 7 */ attr('dense/kernel', K('layer_with_weights-0/kernel')),
    /* 8 */ attr('dense/bias', K('layer_with_weights-0/bias')),
    /* 9 */ attr('batch_normalization/gamma', K('variables/2')),
    /* 10 */ attr('batch_normalization/beta', K('variables/3')),
    /* 11 */ attr('batch_normalization/moving_mean', K('variables/4')),
    /* 12 */ attr('batch_normalization/moving_variance', K('variables/5')),
    /* 13 */ tlist([7, 8]),
    /* 14 */ tlist([9, 10, 11, 12]),
    /* 15 */ { children: [ref('metrics', 16)] },
    /* 16 */ tlist([17]),
    /* 17 */ { children: [ref('total', 18)] },
    /* 18 */ attr('total', K('keras_api/metrics/0/total')),
  ];
  writeFileSync(
    join(dir, 'saved_model.pb'),
    encodeMessage('SavedModel', {
      savedModelSchemaVersion: 1,
      metaGraphs: [{ metaInfoDef: { tags: ['serve'], tensorflowVersion: '2.15.0' }, objectGraphDef: { nodes: S } }],
    }),
  );
  if (keras === 'keras' && !legacy) {
    writeFileSync(
      join(dir, 'keras_metadata.pb'),
      encodeMessage('SavedMetadata', {
        nodes: [
          { nodeId: 0, nodePath: 'root', identifier: '_tf_keras_sequential', metadata: rootMeta, version: { producer: 2, minConsumer: 1 } },
          { nodeId: 2, nodePath: 'root.layer_with_weights-0', identifier: '_tf_keras_layer', metadata: layerMeta('dense', 'Dense') },
          { nodeId: 3, nodePath: 'root.layer_with_weights-1', identifier: '_tf_keras_layer', metadata: layerMeta('batch_normalization', 'BatchNormalization') },
          { nodeId: 18, nodePath: 'root.keras_api.metrics.0', identifier: '_tf_keras_metric', metadata: metricMeta },
        ],
      }),
    );
  }
  const graph = stringTensor([encodeMessage('TrackableObjectGraph', { nodes: T })]);
  const denseBytes = (values: number[]) =>
    dt === DT.string ? stringTensor(values.map((v) => ascii(String(v)))) : { bytes: encodeAs(dt, values), crc: undefined };
  const kernel = denseBytes(KERNEL);
  const bias = denseBytes(BIAS);
  writeBundle(
    dir,
    [
      { key: '_CHECKPOINTABLE_OBJECT_GRAPH', dtype: DT.string, shape: [], bytes: graph.bytes, crc: graph.crc, shard: 0 },
      { key: K('layer_with_weights-0/kernel'), dtype: dt, shape: [2, 3], bytes: kernel.bytes, crc: kernel.crc, shard: 0 },
      { key: K('layer_with_weights-0/bias'), dtype: dt, shape: [3], bytes: bias.bytes, crc: bias.crc, shard: 0 },
      { key: K('variables/2'), dtype: DT.float, shape: [3], bytes: f32(GAMMA), shard: 1 },
      { key: K('variables/3'), dtype: DT.float, shape: [3], bytes: f32(BETA), shard: 1 },
      { key: K('variables/4'), dtype: DT.float, shape: [3], bytes: f32(MEAN), shard: 1 },
      { key: K('variables/5'), dtype: DT.float, shape: [3], bytes: f32(VAR), shard: 1 },
      { key: K('optimizer/iter'), dtype: DT.int64, shape: [], bytes: encodeAs(DT.int64, [7]), shard: 1 },
      { key: 'layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE', dtype: DT.float, shape: [2, 3], bytes: f32([0, 0, 0, 0, 0, 0]), shard: 1 },
      { key: K('keras_api/metrics/0/total'), dtype: DT.float, shape: [], bytes: f32([2.5]), shard: 0 },
    ],
    2,
    opts.table,
  );
}

function expectedOutput(x: number[]): number[] {
  const d = denseRef(x, Float32Array.from(KERNEL), Float32Array.from(BIAS), 3);
  return d.map((v, j) => ((v - MEAN[j]) / Math.sqrt(VAR[j] + EPS)) * GAMMA[j] + BETA[j]);
}

describe('SavedModel reader on synthesized SavedModels', () => {
  it('maps weights through the object graphs (ids differ, two shards, several index blocks), builds and predicts', async () => {
    const dir = tmpDir();
    synthesize(dir, { table: { perBlock: 3, restartInterval: 2 } });
    const m = await readModel(dir);
    expect(m.source.kerasVersion).toBe('2.15.0');
    expect(m.weights.map((l) => [l.layer, l.weights.map((w) => [w.name, w.path, w.shape, w.dtype, Array.from(w.data as Float32Array)])])).toEqual([
      [
        'dense',
        [
          ['dense/kernel:0', 'layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE', [2, 3], 'float32', KERNEL],
          ['dense/bias:0', 'layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE', [3], 'float32', BIAS],
        ],
      ],
      [
        'batch_normalization',
        [
          ['batch_normalization/gamma:0', 'variables/2/.ATTRIBUTES/VARIABLE_VALUE', [3], 'float32', GAMMA],
          ['batch_normalization/beta:0', 'variables/3/.ATTRIBUTES/VARIABLE_VALUE', [3], 'float32', BETA],
          ['batch_normalization/moving_mean:0', 'variables/4/.ATTRIBUTES/VARIABLE_VALUE', [3], 'float32', MEAN],
          ['batch_normalization/moving_variance:0', 'variables/5/.ATTRIBUTES/VARIABLE_VALUE', [3], 'float32', VAR],
        ],
      ],
    ]);
    expect(m.source.extras.optimizer_variables).toEqual([
      { name: 'Adam/iter', path: 'optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE', shape: [], dtype: 'int64' },
      { name: 'Adam/dense/kernel/m', path: 'layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE', shape: [2, 3], dtype: 'float32' },
    ]);
    expect(m.source.extras.metric_variables).toEqual([{ name: 'total', path: 'keras_api/metrics/0/total/.ATTRIBUTES/VARIABLE_VALUE', shape: [], dtype: 'float32' }]);
    const layers = (m.config?.config as JsonObject).layers as JsonObject[];
    expect((layers[0].config as JsonObject).batch_input_shape).toEqual([null, 2]);
    expect((layers[2].config as JsonObject).axis).toEqual([1]);
    const tc = m.source.extras.training_config as JsonObject;
    expect(tc.loss).toBe('mse');
    expect(Object.prototype.hasOwnProperty.call(tc, '__proto__')).toBe(true);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();

    const tfModel = await buildModel(m);
    try {
      const [out] = predict(tfModel, [{ dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, -1, 0.5, 2]) }]);
      expect(out.shape).toEqual([2, 3]);
      const want = [...expectedOutput([1, -1]), ...expectedOutput([0.5, 2])];
      Array.from(out.data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    } finally {
      tfModel.dispose();
    }
  });

  it('reads Snappy-compressed index blocks', async () => {
    const dir = tmpDir();
    synthesize(dir, { table: { snappy: true, perBlock: 4 } });
    const m = await readModel(dir);
    expect(Array.from(m.weights[1].weights[3].data as Float32Array)).toEqual(VAR);
  });

  it('reads TF < 2.5 files, whose Keras metadata sits in saved_model.pb', async () => {
    const dir = tmpDir();
    synthesize(dir, { metadata: 'legacy' });
    const m = await readModel(dir);
    expect(m.source.extras.metadata_source).toBe('saved_model.pb');
    expect(m.config?.class_name).toBe('Sequential');
    expect(m.weights.map((l) => l.layer)).toEqual(['dense', 'batch_normalization']);
    expect(Array.from(m.weights[0].weights[0].data as Float32Array)).toEqual(KERNEL);
    const tree = m.source.extras.layer_tree as { node_path: string }[];
    expect(tree.map((n) => n.node_path)).toEqual(['root', 'root.layer_with_weights-0', 'root.layer_with_weights-1', 'root.keras_api.metrics.0']);
  });

  it('says "not a Keras model" (CONFIG_MISSING) for a SavedModel with an object graph but no Keras metadata', async () => {
    const dir = tmpDir();
    synthesize(dir, { metadata: 'none' });
    const e = await errorOf(readModel(dir));
    expect(e.code).toBe('CONFIG_MISSING');
    expect(e.message).toMatch(/not a Keras model: there is no keras_metadata\.pb and no Keras metadata in saved_model\.pb/);
    expect(e.file).toBe(dir);
  });

  it('decodes float16 (raw bits), bfloat16 (widened exactly) and int64 weights, and refuses string ones naming them', async () => {
    const half = tmpDir();
    synthesize(half, { denseDtype: DT.half });
    let m = await readModel(half);
    const [k, b] = m.weights[0].weights;
    expect(k.dtype).toBe('float16');
    expect(k.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(k.data as Uint16Array)).toEqual([0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600]);
    expect(Array.from(b.data as Uint16Array)).toEqual([0x3c00, 0xbc00, 0x4000]);
    // float16 weights run too (the runtime widens them).
    const tfModel = await buildModel(m);
    try {
      const [out] = predict(tfModel, [{ dtype: 'float32', shape: [1, 2], data: Float32Array.from([1, -1]) }]);
      Array.from(out.data).forEach((v, i) => expect(v).toBeCloseTo(expectedOutput([1, -1])[i], 4));
    } finally {
      tfModel.dispose();
    }

    const bf = tmpDir();
    synthesize(bf, { denseDtype: DT.bfloat16 });
    m = await readModel(bf);
    expect(m.weights[0].weights[0].dtype).toBe('float32');
    expect(Array.from(m.weights[0].weights[0].data as Float32Array)).toEqual(KERNEL);
    expect(m.source.extras.widened_dtypes).toEqual(['dense/kernel:0 (bfloat16)', 'dense/bias:0 (bfloat16)']);

    const i64 = tmpDir();
    synthesize(i64, { denseDtype: DT.int64 });
    m = await readModel(i64);
    expect(m.weights[0].weights[1].dtype).toBe('int64');
    expect(Array.from(m.weights[0].weights[1].data as BigInt64Array)).toEqual([1n, -1n, 2n]);

    const str = tmpDir();
    synthesize(str, { denseDtype: DT.string });
    const e = await errorOf(readModel(str));
    expect(e.code).toBe('UNSUPPORTED_DTYPE');
    expect(e.message).toContain('weight "dense/kernel:0" of layer "dense" has dtype string');
  });

  it('checks sizes against limits before allocating, and refuses bad offsets and shapes', async () => {
    const dir = tmpDir();
    synthesize(dir);
    let e = await errorOf(readModel(dir, { limits: { maxTensorBytes: 16 } }));
    expect(e.code).toBe('LIMIT_EXCEEDED');
    expect(e.message).toContain('weight "dense/kernel:0" of layer "dense" holds 24 bytes, more than the 16 accepted');
    e = await errorOf(readModel(dir, { limits: { maxTotalBytes: 40 } }));
    expect(e.code).toBe('LIMIT_EXCEEDED');

    // An entry pointing past its shard, and one whose shape does not match its size.
    const K = 'layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE';
    const index = join(dir, 'variables', 'variables.index');
    const rewrite = (patch: Record<string, unknown>) => {
      const bundle = new TensorBundle(nodeFolder(join(dir, 'variables')), { maxTensorBytes: 1 << 20, maxIndexBytes: 1 << 20 });
      const entries: [string, Uint8Array][] = [['', encodeMessage('BundleHeaderProto', { numShards: 2 })]];
      for (const en of bundle.entries.values()) {
        entries.push([
          en.key,
          encodeMessage('BundleEntryProto', {
            dtype: en.dtype,
            shape: { dim: en.shape.map((size) => ({ size })) },
            shardId: en.shardId,
            offset: en.offset,
            size: en.size,
            crc32c: en.crc32c,
            ...(en.key === K ? patch : {}),
          }),
        ]);
      }
      bundle.close();
      writeFileSync(index, writeTable(entries));
    };
    rewrite({ offset: 1_000_000 });
    e = await errorOf(readModel(dir));
    expect(e.code).toBe('PROTO_INVALID');
    expect(e.message).toContain('weight "dense/kernel:0" of layer "dense" needs bytes [1000000, 1000024) but the shard has only');
    rewrite({ offset: 0, shape: { dim: [{ size: 1e9 }, { size: 1e9 }] } });
    e = await errorOf(readModel(dir));
    expect(e.code).toBe('PROTO_INVALID');
    expect(e.message).toMatch(/needs 4000000000000000000 bytes but the entry holds 24|element count/);
  });

  it('never crashes on damaged files: every failure is a KerasInteropError', async () => {
    const dir = tmpDir();
    synthesize(dir, { table: { perBlock: 3, restartInterval: 2 } });
    let seed = 20240601;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const outcomes = new Map<string, number>();
    for (const f of ['saved_model.pb', 'keras_metadata.pb', 'variables/variables.index', 'variables/variables.data-00001-of-00002']) {
      const original = readFileSync(join(dir, f));
      for (let i = 0; i < 60; i++) {
        const b = Buffer.from(original);
        let damaged: Buffer = b;
        const mode = rnd();
        if (mode < 0.6) for (let j = 0; j < 3; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        else if (mode < 0.8) damaged = b.subarray(0, Math.floor(rnd() * b.length));
        else {
          const at = Math.floor(rnd() * b.length);
          damaged = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), b.subarray(at)]);
        }
        writeFileSync(join(dir, f), damaged);
        let outcome = 'ok';
        try {
          await readModel(dir);
        } catch (e) {
          if (!isKerasInteropError(e)) throw new Error(`${f} mutation ${i}: ${(e as Error).stack}`);
          outcome = e.code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      writeFileSync(join(dir, f), original);
    }
    expect(outcomes.get('PROTO_INVALID')).toBeGreaterThan(0);
    expect(outcomes.get('CHECKSUM_MISMATCH')).toBeGreaterThan(0);
  });
});
