/**
 * The end-to-end contract: every golden case, from every model file it lists (and model.tfkeras2.h5),
 * reproduces Python's outputs within the case's tolerance; real files with goldens too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyCase } from '../src/parity/verify.js';
import { GOLDEN, goldenCases, requireWild } from './helpers/paths.js';
import { describeWild } from './helpers/wild.js';

function explain(r: Awaited<ReturnType<typeof verifyCase>>): string {
  return r.files
    .map((f) => `${f.file}: ${f.error ? `${f.error.code} ${f.error.message}` : f.outputs.map((o) => `${o.name} max abs ${o.maxAbsError} (${o.mismatches} mismatches)`).join('; ')}`)
    .join('\n');
}

describe('golden cases verify from every model file', () => {
  for (const name of goldenCases()) {
    it(name, async () => {
      const r = await verifyCase(join(GOLDEN, name), { backend: 'cpu' });
      expect(r.files.length).toBeGreaterThanOrEqual(3);
      expect(r.tolerance).toEqual({ atol: 1e-5, rtol: 1e-4 });
      expect(r.pass, explain(r)).toBe(true);
    });
  }
});

describeWild('real files with golden outputs', () => {
  for (const id of [
    '01_dsRNA_seqselfattention',
    '17_retail_transformer_mha_archive',
    '19_randomlist_bigru_masking_archive',
    '20_tree_lstm_embedding_archive',
    '21_rssi_hybrid_bn_bilstm_archive',
  ]) {
    it(id, async () => {
      const r = await verifyCase(join(requireWild(), id, 'golden'), { backend: 'cpu' });
      expect(r.files.length).toBe(1);
      expect(r.pass, explain(r)).toBe(true);
    });
  }
});
