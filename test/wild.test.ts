/**
 * Real files from public repositories, read in place: inspect lists every weight; runnable models
 * predict; models with Lambda, TFOpLambda or user classes fail with one clear message.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { readModel } from '../src/readers/index.js';
import { buildModel } from '../src/runtime/build.js';
import { useBackend } from '../src/runtime/backend.js';
import { readNpyFileSync, writeNpyFileSync } from '../src/parity/npy-file.js';
import { requireWild } from './helpers/paths.js';

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--backend', 'cpu'], { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const FILES: Record<string, { runs: boolean; weightless?: boolean; blocker?: { layer: string; cls: string; code: string } }> = {
  '01_dsRNA_seqselfattention/3fold_model.h5': { runs: true },
  '02_botnet_custom_attention/attention_weights.hdf5': { runs: false, blocker: { layer: 'attention_1', cls: 'attention', code: 'UNSUPPORTED_LAYER' } },
  '04_btc_transformer_mha_tfoplambda/transformer_BTC.h5': { runs: false, blocker: { layer: 'tf.__operators__.add', cls: 'TFOpLambda', code: 'LAMBDA_LAYER' } },
  // Its Lambda runs translated from its bytecode (test/runtime/lambda/wild-models.test.ts checks the numbers).
  '06_ids_lstm_dot_attention/LSTM_model.h5': { runs: true },
  '09_retail_transformer_mha_k3h5/transformer_model.h5': { runs: true },
  '11_do_lstm_simpleattention_k3h5/lstm_attention_model.h5': { runs: false, blocker: { layer: 'simple_attention_2', cls: 'SimpleAttention', code: 'UNSUPPORTED_LAYER' } },
  '22_stock_cnn_lstm_timedistributed/CNN_LSTM.h5': { runs: true },
  '24_thesis_k216_legacy_sequential/lstm_model.h5': { runs: true },
  '17_retail_transformer_mha_archive/transformer_model.keras': { runs: true },
  '20_tree_lstm_embedding_archive/lstm_tree_model.keras': { runs: true },
  '21_rssi_hybrid_bn_bilstm_archive/hybrid_model.keras': { runs: true },
  '14_nlx_transformer_encoder_mha_savedmodel/transformer_model': {
    runs: false,
    blocker: { layer: 'transformer_encoder_9', cls: 'TransformerEncoder', code: 'UNSUPPORTED_LAYER' },
  },
  '15_nlx_stock_lstm_savedmodel/stock_model': { runs: true },
  // Attention without use_scale, Dropout and Add: no weights at all
  '30_crypt_tfkeras_dot_attention/transformer_model.h5': { runs: true, weightless: true },
  '35_fraud_lstm_attention_k313_archive/attention_model.keras': { runs: true },
  '41_pulkit_lambda_sdpa_k313_archive/attention_model.keras': { runs: true },
};

describe('real files', () => {
  for (const [rel, exp] of Object.entries(FILES)) {
    it(`${rel}: inspect lists every weight`, async () => {
      const file = join(requireWild(), rel);
      const model = await readModel(file);
      const r = await cli('inspect', file, '--json');
      expect(r.code, r.err).toBe(0);
      const s = JSON.parse(r.out);
      const inFile = model.weights.flatMap((l) => l.weights.map((w) => `${w.name} ${w.shape}`));
      const listed = s.layers.flatMap((l: { weights: { name: string; shape: number[] }[] }) => l.weights.map((w) => `${w.name} ${w.shape}`));
      expect(listed.sort()).toEqual(inFile.sort());
      expect(inFile.length > 0).toBe(!exp.weightless);
      expect(s.layers.length).toBeGreaterThan(1);
      if (!exp.runs) {
        expect(s.blocking.map((b: { className: string }) => b.className)).toContain(exp.blocker!.cls);
        expect(s.advice).toContain('--layers');
      } else expect(s.blocking).toEqual([]);
      // the inputs predict takes, in order, with their shapes
      expect(s.inputs.length).toBeGreaterThan(0);
    });

    if (exp.runs) {
      it(`${rel}: predicts finite outputs of the built output shape`, async () => {
        await useBackend('cpu');
        const file = join(requireWild(), rel);
        const tfModel = await buildModel(await readModel(file));
        const dir = mkdtempSync(join(tmpdir(), 'ki-wild-'));
        const inputs = tfModel.inputs.map((t, i) => {
          const shape = t.shape.map((d) => d ?? 2);
          const n = shape.reduce((a, b) => a * b, 1);
          const path = join(dir, `in_${i}.npy`);
          if (t.dtype === 'int32') writeNpyFileSync(path, { dtype: 'int32', shape, data: Int32Array.from({ length: n }, (_, k) => k % 2) });
          else writeNpyFileSync(path, { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, k) => Math.sin(k)) });
          return path;
        });
        const outShapes = tfModel.outputs.map((t) => t.shape);
        tfModel.dispose();
        const r = await cli('predict', file, '--inputs', inputs.join(','), '--out', dir);
        expect(r.code, r.err).toBe(0);
        outShapes.forEach((shape, j) => {
          const out = readNpyFileSync(join(dir, `output_${j}.npy`));
          expect(out.shape).toEqual(shape.map((d) => d ?? 2));
          expect(Array.from(out.data as Float32Array).every(Number.isFinite)).toBe(true);
        });
      });
    } else {
      it(`${rel}: predict exits 2 naming ${exp.blocker!.cls} layer "${exp.blocker!.layer}"`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'ki-wild-'));
        const x = join(dir, 'x.npy');
        writeNpyFileSync(x, { dtype: 'float32', shape: [1, 1], data: new Float32Array(1) });
        const r = await cli('predict', join(requireWild(), rel), '--inputs', x, '--out', dir);
        expect(r.code).toBe(2);
        expect(r.err.split('\n')).toHaveLength(1);
        expect(r.err).toContain(`[${exp.blocker!.code}]`);
        expect(r.err).toContain(`"${exp.blocker!.layer}"`);
        expect(r.err).toContain(`class ${exp.blocker!.cls}`);
        expect(r.err).toContain('registerLayer(');
        expect(r.err).not.toMatch(/\n\s+at /);
      });
    }
  }
});
