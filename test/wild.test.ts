/**
 * Every real file of the manifest, read in place: inspect lists every weight; a file whose layers are
 * all implemented runs end to end (`predict` on inputs of the shapes `inspect` reports, giving outputs of
 * the shapes it reports); any other fails with one clear message naming what stops it. The README states
 * how many run.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCliOnCpu as cli } from './helpers/cli.js';
import { readModel } from '../src/readers/index.js';
import { readNpyFileSync, writeNpyFileSync } from '../src/parity/npy-file.js';
import { ROOT, requireWild, wildItems } from './helpers/paths.js';
import { describeWild } from './helpers/wild.js';

interface Blocker {
  code: string;
  /** The layer that stops it and its class (absent for a file without a model config). */
  layer?: string;
  cls?: string;
  /** What the message tells the user to do. */
  hint: string;
}

const RUNS = null;
const layer = (code: string, name: string, cls: string): Blocker => ({ code, layer: name, cls, hint: 'registerLayer(' });

/** Per manifest id: runs end to end (null), or what stops it. */
const EXPECTED: Record<string, Blocker | null> = {
  '01_dsRNA_seqselfattention': RUNS,
  '02_botnet_custom_attention': layer('UNSUPPORTED_LAYER', 'attention_1', 'attention'),
  '04_btc_transformer_mha_tfoplambda': RUNS,
  // Lambdas run translated from their bytecode (test/runtime/lambda/wild-models.test.ts checks the numbers).
  '06_ids_lstm_dot_attention': RUNS,
  '09_retail_transformer_mha_k3h5': RUNS,
  '11_do_lstm_simpleattention_k3h5': layer('UNSUPPORTED_LAYER', 'simple_attention_2', 'SimpleAttention'),
  '14_nlx_transformer_encoder_mha_savedmodel': layer('UNSUPPORTED_LAYER', 'transformer_encoder_9', 'TransformerEncoder'),
  '15_nlx_stock_lstm_savedmodel': RUNS,
  '17_retail_transformer_mha_archive': RUNS,
  '19_randomlist_bigru_masking_archive': RUNS,
  '20_tree_lstm_embedding_archive': RUNS,
  '21_rssi_hybrid_bn_bilstm_archive': RUNS,
  '22_stock_cnn_lstm_timedistributed': RUNS,
  '24_thesis_k216_legacy_sequential': RUNS,
  // a Keras Tuner checkpoint: weights only, and no model file in its repository to pair it with
  '27_rssi_tuner_weights_only': { code: 'CONFIG_MISSING', hint: '--config' },
  '28_emotion_embedding_lstm_tfjs': RUNS,
  '30_crypt_tfkeras_dot_attention': RUNS,
  '31_szakdoga_mha_tfoplambda_reducemean': RUNS,
  '32_volatility_lstm_softmax_lambda_k213': RUNS,
  '35_fraud_lstm_attention_k313_archive': RUNS,
  '37_ecg_tfkeras215_archive_mha_tfoplambda': RUNS,
  '38_tf_mha_getitem_slice_k38_archive': RUNS,
  '41_pulkit_lambda_sdpa_k313_archive': RUNS,
};

/** Models without a single weight. */
const WEIGHTLESS = new Set(['30_crypt_tfkeras_dot_attention']);

interface ManifestEntry {
  id: string;
  local_file: string;
}

const MANIFEST: ManifestEntry[] = wildItems(() => JSON.parse(readFileSync(join(requireWild(), 'manifest.json'), 'utf8')) as ManifestEntry[]);

interface Spec {
  name: string;
  shape: (number | null)[];
  dtype: string;
}

describeWild('real files', () => {
  it('the expectations cover exactly the manifest, and the README says how many run', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(MANIFEST.map((e) => e.id).sort());
    const runs = Object.values(EXPECTED).filter((e) => e === RUNS).length;
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`**${runs} of the ${MANIFEST.length} real files** run end to end`);
  });

  for (const { id, local_file: rel } of MANIFEST) {
    const blocker = EXPECTED[id];
    it(`${id}: inspect lists every weight${blocker ? ` and says what stops it (${blocker.cls ?? blocker.code})` : ''}`, async () => {
      const file = join(requireWild(), rel);
      const model = await readModel(file);
      const r = await cli('inspect', file, '--json');
      expect(r.code, r.err).toBe(0);
      const s = JSON.parse(r.out);
      const inFile = model.weights.flatMap((l) => l.weights.map((w) => `${w.name} ${w.shape}`));
      const listed = s.layers.flatMap((l: { weights: { name: string; shape: number[] }[] }) => l.weights.map((w) => `${w.name} ${w.shape}`));
      expect(listed.sort()).toEqual(inFile.sort());
      // 30 has no weights at all: Attention without use_scale, Dropout and Add
      expect(inFile.length > 0).toBe(!WEIGHTLESS.has(id));
      expect(s.layers.length).toBeGreaterThan(1);
      if (blocker?.cls) {
        expect(s.blocking.map((b: { className: string }) => b.className)).toContain(blocker.cls);
        expect(s.advice).toContain('--layers');
      } else if (blocker) {
        expect(s.notes.join('\n')).toContain(blocker.hint);
      } else {
        expect(s.blocking).toEqual([]);
        // the inputs predict takes, in order, with their shapes
        expect(s.inputs.length).toBeGreaterThan(0);
      }
    });

    if (blocker === RUNS) {
      it(`${id}: runs end to end on inputs of the shapes inspect reports`, async () => {
        const file = join(requireWild(), rel);
        const s = JSON.parse((await cli('inspect', file, '--json')).out) as { inputs: Spec[]; outputs: Spec[] };
        expect(s.inputs.length).toBeGreaterThan(0);
        const dir = mkdtempSync(join(tmpdir(), 'ki-wild-'));
        const inputs = s.inputs.map((t, i) => {
          const shape = t.shape.map((d) => d ?? 2);
          const n = shape.reduce((a, b) => a * b, 1);
          const path = join(dir, `in_${i}.npy`);
          if (t.dtype === 'int32') writeNpyFileSync(path, { dtype: 'int32', shape, data: Int32Array.from({ length: n }, (_, k) => k % 2) });
          else writeNpyFileSync(path, { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, k) => Math.sin(k)) });
          return path;
        });
        const r = await cli('predict', file, '--inputs', inputs.join(','), '--out', dir);
        expect(r.code, r.err).toBe(0);
        expect(s.outputs.length).toBeGreaterThan(0);
        s.outputs.forEach((spec, j) => {
          const out = readNpyFileSync(join(dir, `output_${j}.npy`));
          expect(out.shape).toEqual(spec.shape.map((d) => d ?? 2));
          expect(Array.from(out.data as Float32Array).every(Number.isFinite)).toBe(true);
        });
      });
    } else {
      it(`${id}: predict exits 2 with one line: [${blocker.code}]${blocker.layer ? ` naming ${blocker.cls} layer "${blocker.layer}"` : ''}`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'ki-wild-'));
        const x = join(dir, 'x.npy');
        writeNpyFileSync(x, { dtype: 'float32', shape: [1, 1], data: new Float32Array(1) });
        const r = await cli('predict', join(requireWild(), rel), '--inputs', x, '--out', dir);
        expect(r.code).toBe(2);
        expect(r.err.split('\n')).toHaveLength(1);
        expect(r.err).toContain(`[${blocker.code}]`);
        if (blocker.layer) {
          expect(r.err).toContain(`"${blocker.layer}"`);
          expect(r.err).toContain(`class ${blocker.cls}`);
        }
        expect(r.err).toContain(blocker.hint);
        expect(r.err).not.toMatch(/\n\s+at /);
      });
    }
  }
});
