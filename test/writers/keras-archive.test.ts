import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/readers/index.js';
import { writeHdf5 } from '../../src/writers/hdf5.js';
import { kerasDateSaved, writeKerasArchive } from '../../src/writers/keras-archive.js';
import { GOLDEN, keras3GoldenCases, requireWild } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { h5DatasetBytes, h5Header, h5List } from './h5-inspect.js';
import { expectSameWeights, writeTemp } from './helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');
let n = 0;
const out = (bytes: Uint8Array, ext = '.keras') => writeTemp(tmp, `out_${n++}${ext}`, bytes);

/** Zip members in order with their compression method, from the local file headers. */
function members(zip: Uint8Array): { name: string; method: number; size: number }[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const found: { name: string; method: number; size: number }[] = [];
  let at = 0;
  while (view.getUint32(at, true) === 0x04034b50) {
    const method = view.getUint16(at + 8, true);
    const size = view.getUint32(at + 18, true);
    const nameLen = view.getUint16(at + 26, true);
    const extraLen = view.getUint16(at + 28, true);
    const name = new TextDecoder().decode(zip.subarray(at + 30, at + 30 + nameLen));
    found.push({ name, method, size });
    at += 30 + nameLen + extraLen + size;
  }
  return found;
}

/** A config without Keras's shared_object_id keys. */
function withoutObjectIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutObjectIds);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'shared_object_id').map(([k, x]) => [k, withoutObjectIds(x)]));
}

function member(zip: Uint8Array, name: string): Uint8Array {
  const m = unzipSync(zip, { filter: (f) => f.name === name })[name];
  if (!m) throw new Error(`no ${name}`);
  return m;
}

describe('writeKerasArchive on the golden cases', () => {
  for (const name of keras3GoldenCases()) {
    const dir = join(GOLDEN, name);

    it(`${name}: model.keras → write → read is lossless; members stored in Keras's order; weights in Keras's layout`, async () => {
      const m = await readModel(join(dir, 'model.keras'));
      const zip = await writeKerasArchive(m);
      const file = out(zip);
      const back = await readModel(file);
      expect(back.source.format).toBe('keras3-archive');
      expect(back.config).toEqual(m.config);
      expect(back.source.kerasVersion).toBe(m.source.kerasVersion);
      expectSameWeights(back, m, { names: true });

      expect(members(zip).map((x) => [x.name, x.method])).toEqual([
        ['metadata.json', 0],
        ['config.json', 0],
        ['model.weights.h5', 0],
      ]);
      const meta = JSON.parse(new TextDecoder().decode(member(zip, 'metadata.json')));
      expect(Object.keys(meta)).toEqual(['keras_version', 'date_saved']);
      expect(meta.keras_version).toBe('3.16.0');
      expect(meta.date_saved).toMatch(/^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
      const weights = writeTemp(tmp, `w_${n++}.h5`, member(zip, 'model.weights.h5'));
      expect(await h5Header(weights)).toEqual(await h5Header(join(dir, 'model.weights.h5')));
    });

    it(`${name}: model.h5 (Keras 3 legacy) → .keras holds the config and the weights Keras 3 wrote into model.keras`, async () => {
      const legacy = await readModel(join(dir, 'model.h5'));
      const archive = await readModel(join(dir, 'model.keras'));
      const zip = await writeKerasArchive(legacy);
      const keras = new Uint8Array(readFileSync(join(dir, 'model.keras')));
      // module, class_name, registered_name, build_config at every level, keys in Keras's order (shared_object_id
      // are ids of Python objects, which Keras writes where one object is shared)
      const config = (z: Uint8Array) => JSON.stringify(withoutObjectIds(JSON.parse(new TextDecoder().decode(member(z, 'config.json')))));
      expect(config(zip)).toBe(config(keras));
      // the weights file: Keras's groups, datasets and attributes, every dataset bit for bit
      const ours = writeTemp(tmp, `w_${n++}.h5`, member(zip, 'model.weights.h5'));
      const theirs = writeTemp(tmp, `w_${n++}.h5`, member(keras, 'model.weights.h5'));
      expect(await h5Header(ours)).toEqual(await h5Header(theirs));
      const datasets = (await h5List(theirs)).filter((l) => l.includes(' Dataset ')).map((l) => l.split(' ')[0]);
      expect(datasets.length).toBe(archive.weights.reduce((k, l) => k + l.weights.length, 0));
      for (const d of datasets) expect(Buffer.from(await h5DatasetBytes(ours, d)).equals(Buffer.from(await h5DatasetBytes(theirs, d))), d).toBe(true);
      // and read back: the same weights, names and order as Keras's own archive
      expectSameWeights(await readModel(out(zip)), archive, { names: true });
    });
  }

  it('puts the first sub-layer of a MultiHead saved from its original object where a config-loaded one looks', async () => {
    const m = await readModel(join(GOLDEN, 'mh_duplicate_lstm', 'model.keras'));
    // as if saved before a reload: the first LSTM under layers/lstm, a template (dropped) in layer/
    const moved = {
      ...m,
      weights: m.weights.map((l) => ({
        ...l,
        weights: l.weights.map((w) => ({ ...w, name: w.name.replace('layers/multi_head/layer/', 'layers/multi_head/layers/lstm/') })),
      })),
    };
    expect(moved.weights.some((l) => l.weights.some((w) => w.name.startsWith('layers/multi_head/layers/lstm/cell/')))).toBe(true);
    const zip = await writeKerasArchive(moved);
    const weights = writeTemp(tmp, `mh_${n++}.h5`, member(zip, 'model.weights.h5'));
    expect(await h5Header(weights)).toEqual(await h5Header(join(GOLDEN, 'mh_duplicate_lstm', 'model.weights.h5')));
    expectSameWeights(await readModel(out(zip)), m, { names: true });
  });

  it('writes metadata.json as Keras does', async () => {
    const m = await readModel(join(GOLDEN, 'mha_self', 'model.keras'));
    const zip = await writeKerasArchive(m, { dateSaved: new Date(2024, 0, 2, 3, 4, 5) });
    expect(new TextDecoder().decode(member(zip, 'metadata.json'))).toBe('{"keras_version": "3.16.0", "date_saved": "2024-01-02@03:04:05"}');
    expect(kerasDateSaved(new Date(2026, 10, 22, 23, 36, 49))).toBe('2026-11-22@23:36:49');
    const config = new TextDecoder().decode(member(zip, 'config.json'));
    expect(config.startsWith('{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "functional"')).toBe(true);
  });

  it('converts a tf.keras 2 model (test/runtime/dialect.test.ts checks it) and refuses a weights-only one', async () => {
    const tf2 = await readModel(join(GOLDEN, 'mha_self', 'model.tfkeras2.h5'));
    const back = await readModel(out(await writeKerasArchive(tf2)));
    expect(back.source.format).toBe('keras3-archive');
    expect(back.config?.module).toBe('keras.src.models.functional');
    const m = await readModel(join(GOLDEN, 'mha_self', 'model.keras'));
    await expect(writeKerasArchive({ ...m, config: null })).rejects.toThrow(/needs the model config/);
  });
});

describeWild('writeKerasArchive on real archives', () => {
  for (const rel of [
    '17_retail_transformer_mha_archive/transformer_model.keras',
    '19_randomlist_bigru_masking_archive/model.keras',
    '20_tree_lstm_embedding_archive/lstm_tree_model.keras',
    '21_rssi_hybrid_bn_bilstm_archive/hybrid_model.keras',
  ]) {
    it(`${rel}: read → write → read is lossless, every weight dataset where it was`, async () => {
      const src = join(requireWild(), rel);
      const m = await readModel(src);
      const zip = await writeKerasArchive(m);
      const back = await readModel(out(zip));
      expect(back.config).toEqual(m.config);
      expect(back.source.kerasVersion).toBe(m.source.kerasVersion);
      expectSameWeights(back, m, { names: true });
      const original = writeTemp(tmp, `orig_${n++}.h5`, member(new Uint8Array(readFileSync(src)), 'model.weights.h5'));
      const ours = writeTemp(tmp, `ours_${n++}.h5`, member(zip, 'model.weights.h5'));
      const datasets = async (f: string) => (await h5List(f)).filter((l) => l.includes(' Dataset ') && !l.startsWith('/optimizer'));
      expect(await datasets(ours)).toEqual(await datasets(original));
    });

    it(`${rel}: → Keras 3 legacy .h5 → .keras gives back the archive's own config (Sequential layers' build shapes too)`, async () => {
      const src = join(requireWild(), rel);
      const legacy = await readModel(out(await writeHdf5(await readModel(src)), '.h5'));
      expect(legacy.source.format).toBe('keras3-h5');
      const config = (z: Uint8Array) => JSON.stringify(withoutObjectIds(JSON.parse(new TextDecoder().decode(member(z, 'config.json')))));
      expect(config(await writeKerasArchive(legacy))).toBe(config(new Uint8Array(readFileSync(src))));
    });
  }
});
