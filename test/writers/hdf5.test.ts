import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigSource, readModel } from '../../src/readers/index.js';
import { HDF5_OBJECT_HEADER_LIMIT, writeHdf5, writeWeightsHdf5 } from '../../src/writers/hdf5.js';
import { KerasInteropError } from '../../src/errors.js';
import type { JsonObject, KerasModel, LayerWeights } from '../../src/model/types.js';
import { GOLDEN, goldenCases, keras3GoldenCases, requireWild } from '../helpers/paths.js';
import { describeWild, itWild } from '../helpers/wild.js';
import { type H5Attribute, type H5GroupNode, type H5Node, h5DatasetBytes, h5Header, h5List, h5StringAttr, withoutMember } from './h5-inspect.js';
import { bytesOf, expectSameWeights, writeTemp } from './helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');
let n = 0;
const out = (bytes: Uint8Array, ext = '.h5') => writeTemp(tmp, `out_${n++}${ext}`, bytes);

/** A variable-length ASCII string, as h5py 3 writes Keras 2's name lists. */
const VLEN_ASCII = { class: 'string', vlen: true, cset: 'ascii', strpad: 'nullterm' };

/** The member at a slash-separated path below a group. */
function member(root: H5GroupNode, path: string): H5Node {
  let node: H5Node = root;
  for (const name of path.split('/')) {
    expect(node.kind, path).toBe('group');
    node = (node as H5GroupNode).members[name];
    expect(node, path).toBeDefined();
  }
  return node;
}

function group(root: H5GroupNode, path: string): H5GroupNode {
  const node = member(root, path);
  expect(node.kind, path).toBe('group');
  return node as H5GroupNode;
}

function expectSameSource(back: KerasModel, m: KerasModel): void {
  expect(back.source.format).toBe(m.source.format);
  expect(back.source.kerasVersion).toBe(m.source.kerasVersion);
  expect(back.source.backend).toBe(m.source.backend);
  expect(back.source.extras).toEqual(m.source.extras);
}

describe('writeHdf5 on the golden cases', () => {
  const keras3 = new Set(keras3GoldenCases());
  for (const name of goldenCases()) {
    const dir = join(GOLDEN, name);

    it(`${name}: model.h5 → write → read gives the same config, root attributes and weights, and Keras's structure`, async () => {
      const m = await readModel(join(dir, 'model.h5'));
      const file = out(await writeHdf5(m));
      const back = await readModel(file);
      expect(back.config).toEqual(m.config);
      expectSameSource(back, m);
      expectSameWeights(back, m, { names: true });
      // same groups, datasets, attribute names, string kinds and shapes as Keras wrote
      expect(await h5Header(file)).toEqual(await h5Header(join(dir, 'model.h5')));
    });

    // (a synthesized older model.h5, as the kulc cases have, is not what Keras 3 makes of model.keras)
    if (keras3.has(name)) it(`${name}: model.keras → .h5 gives Keras 3's legacy file (names, order and bytes of model.h5)`, async () => {
      const archive = await readModel(join(dir, 'model.keras'));
      const legacy = await readModel(join(dir, 'model.h5'));
      const file = out(await writeHdf5(archive, { backend: legacy.source.backend }));
      const back = await readModel(file);
      expect(back.source.format).toBe('keras3-h5');
      expect(back.config).toEqual(archive.config);
      expectSameWeights(back, legacy, { names: true });
      expect(await h5Header(file)).toEqual(await h5Header(join(dir, 'model.h5')));
    });

    if (existsSync(join(dir, 'model.tfkeras2.h5'))) {
      it(`${name}: model.tfkeras2.h5 → write → read keeps the tf.keras 2 layout, names and weights`, async () => {
        const m = await readModel(join(dir, 'model.tfkeras2.h5'));
        const file = out(await writeHdf5(m));
        const back = await readModel(file);
        expect(back.source.format).toBe('keras2-h5');
        expect(back.config).toEqual(m.config);
        expectSameSource(back, m);
        expectSameWeights(back, m, { names: true });
        expect(back.weights.flatMap((l) => l.weights).every((w) => w.name.endsWith(':0'))).toBe(true);
        const header = await h5Header(file);
        // the source's string kind for name lists (these synthesized files hold h5py 2's fixed-length ones),
        // top_level_model_weights present
        const weights = group(header, 'model_weights');
        const source = group(await h5Header(join(dir, 'model.tfkeras2.h5')), 'model_weights');
        expect(weights.attrs.layer_names.type).toEqual(source.attrs.layer_names.type);
        expect(weights.attrs.layer_names.shape).toHaveLength(1);
        expect(weights.members.top_level_model_weights?.kind).toBe('group');
      });
    }
  }
});

describeWild('writeHdf5 on real files', () => {
  const files: Record<string, { fixedLengthStrings?: boolean }> = {
    '01_dsRNA_seqselfattention/3fold_model.h5': { fixedLengthStrings: false }, // Keras 2.3.1 saved with h5py 3
    '02_botnet_custom_attention/attention_weights.hdf5': {},
    '04_btc_transformer_mha_tfoplambda/transformer_BTC.h5': {},
    '06_ids_lstm_dot_attention/LSTM_model.h5': {},
    '09_retail_transformer_mha_k3h5/transformer_model.h5': {},
    '11_do_lstm_simpleattention_k3h5/lstm_attention_model.h5': {},
    '22_stock_cnn_lstm_timedistributed/CNN_LSTM.h5': {},
    '24_thesis_k216_legacy_sequential/lstm_model.h5': {},
  };
  for (const [rel, opts] of Object.entries(files)) {
    it(`${rel}: read → write → read is lossless and the file has the original's structure`, async () => {
      const src = join(requireWild(), rel);
      const m = await readModel(src);
      const file = out(await writeHdf5(m, opts));
      const back = await readModel(file);
      expect(back.config).toEqual(m.config);
      expectSameSource(back, m);
      expectSameWeights(back, m, { names: true });
      expect(await h5Header(file)).toEqual(withoutMember(await h5Header(src), 'optimizer_weights'));
    });
  }

  it('real archives → .h5 read back with the same weights, in the legacy order', async () => {
    for (const rel of [
      '17_retail_transformer_mha_archive/transformer_model.keras',
      '19_randomlist_bigru_masking_archive/model.keras',
      '20_tree_lstm_embedding_archive/lstm_tree_model.keras',
      '21_rssi_hybrid_bn_bilstm_archive/hybrid_model.keras',
    ]) {
      const m = await readModel(join(requireWild(), rel));
      const back = await readModel(out(await writeHdf5(m)));
      expect(back.config, rel).toEqual(m.config);
      expectSameWeights(back, m);
      // Keras 3 variable paths, e.g. the BatchNormalization and Bidirectional(GRU) of 19 and 21
      for (const w of back.weights.flatMap((l) => l.weights)) expect(w.name, rel).not.toMatch(/vars\/\d+$|:0$/);
    }
    const bn = await readModel(out(await writeHdf5(await readModel(join(requireWild(), '21_rssi_hybrid_bn_bilstm_archive/hybrid_model.keras')))));
    const names = bn.weights.find((l) => l.weights.some((w) => w.name.includes('moving_mean')))!.weights.map((w) => w.name.split('/').pop());
    expect(names).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
  });
});

describe('HDF5 writer details', () => {
  it('splits attributes over 64512 bytes into name0, name1, ... as Keras does, and our reader joins them', async () => {
    // A Keras 3 Sequential of 2500 Dense layers with long names: layer_names is 2500 * 40 bytes.
    const layers: JsonObject[] = [];
    const weights: LayerWeights[] = [];
    for (let i = 0; i < 2500; i++) {
      const name = `dense_layer_with_a_long_name_${String(i).padStart(5, '0')}_abcde`;
      layers.push({ module: 'keras.layers', class_name: 'Dense', config: { name, units: 1, use_bias: false }, registered_name: null });
      weights.push({ layer: name, weights: [{ name: `${name}/kernel`, path: '', shape: [1, 1], dtype: 'float32', data: new Float32Array([i]) }] });
    }
    // one layer of a custom class with 3000 weights whose name list also needs splitting
    const many = Array.from({ length: 3000 }, (_, i) => ({
      name: `custom/a_long_weight_name_for_the_split_${String(i).padStart(5, '0')}`,
      path: '',
      shape: [1],
      dtype: 'float32' as const,
      data: new Float32Array([i / 7]),
    }));
    layers.push({ module: null, class_name: 'Custom', config: { name: 'custom' }, registered_name: 'Custom' });
    weights.push({ layer: 'custom', weights: many });
    const model: KerasModel = {
      source: { format: 'keras3-h5', file: 'synthetic.h5', kerasVersion: '3.16.0', backend: 'tensorflow', extras: {} },
      config: { class_name: 'Sequential', config: { name: 'sequential', trainable: true, layers } },
      weights,
    };
    const file = out(await writeHdf5(model));
    const header = await h5Header(file);

    const width = 40;
    const chunks = (count: number, w: number) => {
      let k = 1;
      while (Math.ceil(count / k) * w > HDF5_OBJECT_HEADER_LIMIT) k++;
      return k;
    };
    const k = chunks(2501, width);
    expect(k).toBe(2);
    const weightsGroup = group(header, 'model_weights');
    const listAttrs = Object.keys(weightsGroup.attrs);
    expect(listAttrs).not.toContain('layer_names');
    // np.array_split: 2501 names in 2 chunks of 1251 and 1250, each as wide as the longest name
    const chunk = (count: number): H5Attribute => ({
      type: { class: 'string', size: 40, vlen: false, cset: 'ascii', strpad: 'nullpad' },
      shape: [count],
      maxshape: [count],
    });
    expect(weightsGroup.attrs.layer_names0).toEqual(chunk(1251));
    expect(weightsGroup.attrs.layer_names1).toEqual(chunk(1250));
    expect(listAttrs).not.toContain('layer_names2');
    const wk = chunks(3000, many[0].name.length);
    expect(wk).toBe(3);
    const custom = Object.keys(group(weightsGroup, 'custom').attrs);
    for (let i = 0; i < wk; i++) expect(custom).toContain(`weight_names${i}`);
    expect(custom).not.toContain(`weight_names${wk}`);

    const back = await readModel(file);
    expect(back.weights.map((l) => l.layer)).toEqual(weights.map((l) => l.layer));
    expectSameWeights(back, model, { names: true });
  });

  it('writes float16, float64 and integer weights bit for bit', async () => {
    const m = await readModel(join(GOLDEN, 'sa_additive_basic', 'model.h5'));
    const dense = m.weights.find((l) => l.layer === 'dense')!;
    const kernel = dense.weights[0];
    const half = new Uint16Array(kernel.data.length).map((_, i) => (i * 2654435761) & 0xffff);
    dense.weights[0] = { ...kernel, dtype: 'float16', data: half };
    const bias = dense.weights[1];
    dense.weights[1] = { ...bias, dtype: 'float64', data: Float64Array.from(bias.data as Float32Array, (x) => x / 3) };
    const emb = m.weights.find((l) => l.layer === 'embedding')!;
    emb.weights[0] = { ...emb.weights[0], dtype: 'int64', data: BigInt64Array.from({ length: emb.weights[0].data.length }, (_, i) => BigInt(i) * 3n ** 30n) };
    const file = out(await writeHdf5(m));
    // the bytes the HDF5 library reads, in each dataset's own type (independent of our reader)
    expect(Buffer.from(await h5DatasetBytes(file, 'model_weights/dense/dense/kernel')).equals(bytesOf(half))).toBe(true);
    expect(Buffer.from(await h5DatasetBytes(file, 'model_weights/dense/dense/bias')).equals(bytesOf(dense.weights[1].data))).toBe(true);
    expect(Buffer.from(await h5DatasetBytes(file, 'model_weights/embedding/embedding/embeddings')).equals(bytesOf(emb.weights[0].data))).toBe(true);
    const header = await h5Header(file);
    const typeOf = (path: string) => {
      const ds = member(header, path);
      if (ds.kind !== 'dataset') throw new Error(`${path} is not a dataset`);
      return [ds.type.class, ds.type.size, ds.type.order, ds.type.signed];
    };
    expect(typeOf('model_weights/dense/dense/kernel')).toEqual(['float', 2, 'LE', false]);
    expect(typeOf('model_weights/dense/dense/bias')).toEqual(['float', 8, 'LE', false]);
    expect(typeOf('model_weights/embedding/embedding/embeddings')).toEqual(['integer', 8, 'LE', true]);
    // and through our reader for what h5wasm can read
    const noHalf = { ...m, weights: m.weights.map((l) => (l.layer === 'dense' ? { ...l, weights: [l.weights[1]] } : l)) };
    const back = await readModel(out(await writeHdf5({ ...noHalf, config: m.config })));
    const f64 = back.weights.find((l) => l.layer === 'dense')!.weights[0];
    expect(f64.dtype).toBe('float64');
    expect(bytesOf(f64.data).equals(bytesOf(dense.weights[1].data))).toBe(true);
    const i64 = back.weights.find((l) => l.layer === 'embedding')!.weights[0];
    expect(i64.dtype).toBe('int64');
    expect(Array.from(i64.data as BigInt64Array)).toEqual(Array.from(emb.weights[0].data as BigInt64Array));
  });

  it('keeps a raw model_config text that still says the same, so 1.0 stays 1.0', async () => {
    const m = await readModel(join(GOLDEN, 'sa_additive_basic', 'model.h5'));
    const text = JSON.stringify(m.config).replace('"gain":1', '"gain":1.0');
    const kept = await readModel(out(await writeHdf5({ ...m, source: { ...m.source, extras: { ...m.source.extras, model_config: text } } })));
    expect(kept.config).toEqual(m.config);
    const file = out(await writeHdf5({ ...m, source: { ...m.source, extras: { ...m.source.extras, model_config: text } } }));
    expect(await h5StringAttr(file, '/', 'model_config')).toBe(text);
    const fresh = out(await writeHdf5(m));
    expect(await h5StringAttr(fresh, '/', 'model_config')).toContain('{"class_name": "Functional", "config": {"name": "functional"');
  });

  it('name lists: the source\'s string kind in its own generation, the version\'s default across generations', async () => {
    // model.h5 (Keras 3, h5py 3) has variable-length lists; written as tf.keras 2.13 (h5py 3) they stay so
    const m = await readModel(join(GOLDEN, 'sa_additive_basic', 'model.h5'));
    const k2 = group(await h5Header(out(await writeHdf5(m, { generation: 'keras2' }))), 'model_weights');
    expect(k2.attrs.layer_names.type).toMatchObject(VLEN_ASCII);
    // a fixed-length source written as Keras 3 gets Keras 3's variable-length lists
    const fixed = await readModel(join(GOLDEN, 'sa_additive_basic', 'model.tfkeras2.h5'));
    expect(group(await h5Header(join(GOLDEN, 'sa_additive_basic', 'model.tfkeras2.h5')), 'model_weights').attrs.layer_names.type.vlen).toBe(false);
    const k3 = group(await h5Header(out(await writeHdf5(fixed, { generation: 'keras3' }))), 'model_weights');
    expect(k3.attrs.layer_names.type).toMatchObject(VLEN_ASCII);
  });

  it('refuses what it cannot write faithfully', async () => {
    const m = await readModel(join(GOLDEN, 'sa_additive_basic', 'model.h5'));
    await expect(writeHdf5({ ...m, config: null })).rejects.toThrow(/needs the model config/);
    // the other generation is a conversion now (test/runtime/dialect.test.ts)
    expect((await readModel(out(await writeHdf5(m, { generation: 'keras2' })))).source.format).toBe('keras2-h5');
    const dup = { ...m, weights: m.weights.map((l) => (l.layer === 'dense' ? { ...l, weights: [l.weights[0], { ...l.weights[1], name: l.weights[0].name }] } : l)) };
    const err = await writeHdf5(dup).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KerasInteropError);
    expect((err as KerasInteropError).code).toBe('WRITE_FAILED');
  });
});

describe('writeWeightsHdf5', () => {
  for (const name of keras3GoldenCases()) {
    const dir = join(GOLDEN, name);
    it(`${name}: legacy save_weights layout and Keras 3 .weights.h5 round trips`, async () => {
      const m = await readModel(join(dir, 'model.h5'));
      const legacyFile = out(await writeWeightsHdf5(m, { layout: 'legacy' }));
      const legacy = await readModel(legacyFile);
      expect(legacy.source.format).toBe('weights-h5');
      expect(legacy.source.extras.layout).toBe('legacy');
      expect(legacy.source.kerasVersion).toBe(m.source.kerasVersion);
      expectSameWeights(legacy, m, { names: true });
      const header = await h5Header(legacyFile);
      // save_weights: the name list and versions at the root, no config anywhere
      expect(Object.keys(header.attrs).sort()).toEqual(['backend', 'keras_version', 'layer_names']);
      expect(JSON.stringify(header)).not.toContain('model_config');

      const config = await readConfigSource(join(dir, 'model.h5'));
      const k3File = out(await writeWeightsHdf5(m, { layout: 'keras3' }));
      expect(await h5Header(k3File)).toEqual(await h5Header(join(dir, 'model.weights.h5')));
      const k3 = await readModel(k3File, { config });
      const golden = await readModel(join(dir, 'model.weights.h5'), { config });
      expectSameWeights(k3, golden, { names: true });
      expectSameWeights(k3, m);

      // from the archive (weights that remember their object paths)
      const archive = await readModel(join(dir, 'model.keras'));
      const fromArchive = out(await writeWeightsHdf5(archive, { layout: 'keras3' }));
      expect(await h5Header(fromArchive)).toEqual(await h5Header(join(dir, 'model.weights.h5')));
      expectSameWeights(await readModel(fromArchive, { config }), golden, { names: true });
    });
  }

  itWild('a real weights-only file without config or version round-trips by its recorded paths', async () => {
    const src = join(requireWild(), '27_rssi_tuner_weights_only/checkpoint.weights.h5');
    const m = await readModel(src);
    const file = out(await writeWeightsHdf5(m, { layout: 'keras3' }));
    const back = await readModel(file);
    expectSameWeights(back, m, { names: true });
    // every group and dataset of the original but the optimizer state
    expect(await h5List(file)).toEqual((await h5List(src)).filter((l) => !l.startsWith('/optimizer')));
  });
});
