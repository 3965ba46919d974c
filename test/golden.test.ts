/**
 * The end-to-end contract: every golden case, from every model file it lists (and model.tfkeras2.h5),
 * reproduces Python's outputs within the case's tolerance; real files with goldens too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGoldenCase } from '../src/parity/case.js';
import { verifyCase } from '../src/parity/verify.js';
import { GOLDEN, WILD_WITH_GOLDEN, goldenCases, requireWild } from './helpers/paths.js';
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
      // every model file the case lists was checked (the kulc cases list one or two)
      expect(r.files.length).toBeGreaterThanOrEqual(Math.max(1, readGoldenCase(join(GOLDEN, name)).files.length));
      expect(r.tolerance).toEqual({ atol: 1e-5, rtol: 1e-4 });
      expect(r.pass, explain(r)).toBe(true);
    });
  }
});

describeWild('real files with golden outputs', () => {
  for (const id of WILD_WITH_GOLDEN) {
    it(id, async () => {
      const r = await verifyCase(join(requireWild(), id, 'golden'), { backend: 'cpu' });
      expect(r.files.length).toBe(1);
      expect(r.pass, explain(r)).toBe(true);
    });
  }
});
