import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/readers/index.js';
import { GOLDEN, keras3GoldenCases, requireWild } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import type { KerasModel } from '../../src/model/types.js';

function flat(m: KerasModel) {
  return m.weights.flatMap((l) => l.weights.map((w) => ({ layer: l.layer, ...w })));
}

function bytesOf(d: ArrayBufferView): Buffer {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

describe('.keras reader on golden cases', () => {
  for (const name of keras3GoldenCases()) {
    it(`${name}: model.keras has model.h5's weights, bit for bit, in the same order`, async () => {
      const archive = await readModel(join(GOLDEN, name, 'model.keras'));
      const legacy = await readModel(join(GOLDEN, name, 'model.h5'));
      expect(archive.source.format).toBe('keras3-archive');
      expect(archive.source.kerasVersion).toBe('3.16.0');
      expect(archive.weights.map((l) => l.layer)).toEqual(legacy.weights.map((l) => l.layer));
      const a = flat(archive);
      const b = flat(legacy);
      expect(a.map((w) => w.shape)).toEqual(b.map((w) => w.shape));
      a.forEach((w, i) => expect(bytesOf(w.data).equals(bytesOf(b[i].data)), `${w.layer} #${i}`).toBe(true));
    });
  }
});

describeWild('.keras reader on real files', () => {
  const expected: Record<string, { version: string; weights: number }> = {
    '17_retail_transformer_mha_archive/transformer_model.keras': { version: '3.10.0', weights: 36 },
    '19_randomlist_bigru_masking_archive/model.keras': { version: '3.5.0', weights: 14 },
    '20_tree_lstm_embedding_archive/lstm_tree_model.keras': { version: '3.9.2', weights: 7 },
    '21_rssi_hybrid_bn_bilstm_archive/hybrid_model.keras': { version: '3.9.2', weights: 19 },
  };
  for (const [rel, exp] of Object.entries(expected)) {
    it(`${rel} reads every weight`, async () => {
      const m = await readModel(join(requireWild(), rel));
      expect(m.source.kerasVersion).toBe(exp.version);
      expect(flat(m).length).toBe(exp.weights);
    });
  }
});

describe('.keras reader refuses bad archives', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ki-archive-'));
  const good = readFileSync(join(GOLDEN, 'sa_additive_basic', 'model.keras'));
  const write = (name: string, entries: Record<string, Uint8Array>, level: 0 | 9 = 0) => {
    const p = join(dir, name);
    writeFileSync(p, zipSync(entries, { level }));
    return p;
  };
  const parts = async () => {
    const { unzipSync } = await import('fflate');
    return unzipSync(good);
  };

  it('an entry named with ../ is ZIP_UNSAFE', async () => {
    const e = await parts();
    const p = write('traversal.keras', { ...e, '../../evil.txt': strToU8('x') });
    await expect(readModel(p)).rejects.toMatchObject({ code: 'ZIP_UNSAFE', place: '../../evil.txt' });
  });

  it('an absolute entry name is ZIP_UNSAFE', async () => {
    const e = await parts();
    const p = write('absolute.keras', { ...e, '/etc/evil': strToU8('x') });
    await expect(readModel(p)).rejects.toMatchObject({ code: 'ZIP_UNSAFE' });
  });

  it('a zip bomb is refused before inflating', async () => {
    const e = await parts();
    const p = write('bomb.keras', { ...e, 'config.json': e['config.json'], 'model.weights.h5': new Uint8Array(64 * 1024 * 1024) }, 9);
    await expect(readModel(p, { limits: { maxInflatedBytes: 16 * 1024 * 1024 } })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });

  it('a config.json that is not JSON is CONFIG_INVALID', async () => {
    const e = await parts();
    const p = write('badjson.keras', { ...e, 'config.json': strToU8('{"class_name": ') });
    await expect(readModel(p)).rejects.toMatchObject({ code: 'CONFIG_INVALID', place: 'config.json' });
  });

  it('a missing weights file is HDF5_MISSING', async () => {
    const e = await parts();
    const { 'model.weights.h5': _, ...rest } = e;
    const p = write('noweights.keras', rest);
    await expect(readModel(p)).rejects.toMatchObject({ code: 'HDF5_MISSING', place: 'model.weights.h5' });
  });

  it('a truncated archive is ZIP_INVALID', async () => {
    const p = join(dir, 'truncated.keras');
    writeFileSync(p, good.subarray(0, 2000));
    await expect(readModel(p)).rejects.toMatchObject({ code: 'ZIP_INVALID' });
  });
});
