import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigSource, readModel } from '../../src/readers/index.js';
import { KerasInteropError } from '../../src/errors.js';
import { GOLDEN, keras3GoldenCases, requireWild } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import type { KerasModel } from '../../src/model/types.js';

function flat(m: KerasModel) {
  return m.weights.flatMap((l) => l.weights.map((w) => ({ layer: l.layer, ...w })));
}

describe('HDF5 reader on golden cases', () => {
  for (const name of keras3GoldenCases()) {
    const dir = join(GOLDEN, name);
    it(`${name}: model.h5 lists every weight of case.json, in order`, async () => {
      const kase = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(dir, 'case.json'), 'utf8')));
      const m = await readModel(join(dir, 'model.h5'));
      expect(m.source.format).toBe('keras3-h5');
      expect(m.source.kerasVersion).toBe('3.16.0');
      const ws = flat(m);
      expect(ws.map((w) => w.shape)).toEqual(kase.weights.map((w: { shape: number[] }) => w.shape));
      expect(ws.map((w) => w.dtype).every((d) => d === 'float32')).toBe(true);
    });

    it(`${name}: model.weights.h5 with the config of model.h5 equals model.h5 bit for bit`, async () => {
      const config = await readConfigSource(join(dir, 'model.h5'));
      const full = await readModel(join(dir, 'model.h5'));
      const wo = await readModel(join(dir, 'model.weights.h5'), { config });
      expect(wo.source.format).toBe('weights-h5');
      expect(wo.weights.map((l) => l.layer)).toEqual(full.weights.map((l) => l.layer));
      const a = flat(wo);
      const b = flat(full);
      expect(a.length).toBe(b.length);
      a.forEach((w, i) => {
        expect(w.shape, `${w.layer} #${i}`).toEqual(b[i].shape);
        expect(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).equals(
          Buffer.from(b[i].data.buffer, b[i].data.byteOffset, b[i].data.byteLength)), `${w.layer} #${i}`).toBe(true);
      });
    });

    if (existsSync(join(dir, 'model.tfkeras2.h5'))) {
      it(`${name}: model.tfkeras2.h5 reads as tf.keras 2 with the same weights`, async () => {
        const m = await readModel(join(dir, 'model.tfkeras2.h5'));
        const full = await readModel(join(dir, 'model.h5'));
        expect(m.source.format).toBe('keras2-h5');
        const a = flat(m);
        const b = flat(full);
        expect(a.map((w) => w.shape)).toEqual(b.map((w) => w.shape));
        a.forEach((w, i) => expect(Array.from(w.data as Float32Array)).toEqual(Array.from(b[i].data as Float32Array)));
        expect(a.every((w) => w.name.endsWith(':0'))).toBe(true);
      });
    }
  }
});

describeWild('HDF5 reader on real files', () => {
  const expected: Record<string, { format: string; version?: string; weights: number }> = {
    '01_dsRNA_seqselfattention/3fold_model.h5': { format: 'keras2-h5', version: '2.3.1', weights: 25 },
    '02_botnet_custom_attention/attention_weights.hdf5': { format: 'keras2-h5', version: '2.3.1', weights: 13 },
    '04_btc_transformer_mha_tfoplambda/transformer_BTC.h5': { format: 'keras2-h5', version: '2.10.0', weights: 20 },
    '06_ids_lstm_dot_attention/LSTM_model.h5': { format: 'keras2-h5', version: '2.4.0', weights: 7 },
    '09_retail_transformer_mha_k3h5/transformer_model.h5': { format: 'keras3-h5', version: '3.10.0', weights: 36 },
    '11_do_lstm_simpleattention_k3h5/lstm_attention_model.h5': { format: 'keras3-h5', version: '3.8.0', weights: 7 },
    '22_stock_cnn_lstm_timedistributed/CNN_LSTM.h5': { format: 'keras2-h5', version: '2.10.0', weights: 12 },
    '24_thesis_k216_legacy_sequential/lstm_model.h5': { format: 'keras2-h5', version: '2.1.6', weights: 12 },
    '27_rssi_tuner_weights_only/checkpoint.weights.h5': { format: 'weights-h5', weights: 11 },
  };
  for (const [rel, exp] of Object.entries(expected)) {
    it(`${rel}: reads every weight`, async () => {
      const m = await readModel(join(requireWild(), rel));
      expect(m.source.format).toBe(exp.format);
      expect(m.source.kerasVersion).toBe(exp.version);
      const ws = flat(m);
      expect(ws.length).toBe(exp.weights);
      for (const w of ws) {
        expect(w.data.length).toBe(w.shape.reduce((a, b) => a * b, 1));
      }
    });
  }

  it('Keras 2.1.6 bare-list Sequential config is kept verbatim', async () => {
    const m = await readModel(join(requireWild(), '24_thesis_k216_legacy_sequential/lstm_model.h5'));
    expect(m.config?.class_name).toBe('Sequential');
    expect(Array.isArray(m.config?.config)).toBe(true);
    expect(m.source.extras.training_config).toBeTypeOf('string');
  });

  it('every HDF5 file in the real-file folder reads', async () => {
    const wild = requireWild();
    const files = readdirSync(wild, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(h5|hdf5)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const f of files) await readModel(join(wild, f));
  });
});

describe('HDF5 reader errors', () => {
  it('a missing file is FILE_NOT_FOUND', async () => {
    await expect(readModel('/nonexistent/model.h5')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
  it('a text file is UNKNOWN_FORMAT naming the file', async () => {
    const err = await readModel(join(GOLDEN, 'README.md')).catch((e) => e);
    expect(err).toBeInstanceOf(KerasInteropError);
    expect(err.code).toBe('UNKNOWN_FORMAT');
    expect(err.message).toContain('README.md');
  });
});
