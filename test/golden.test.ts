/**
 * The end-to-end contract: every golden case, from every model file it lists (and model.tfkeras2.h5),
 * reproduces Python's outputs within the case's tolerance; real files with goldens too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGoldenCase } from '../src/parity/case.js';
import { verifyCase } from '../src/parity/verify.js';
import { GOLDEN, WILD_WITH_GOLDEN, goldenCases, keras3GoldenCases, requireWild } from './helpers/paths.js';
import { describeWild } from './helpers/wild.js';

function explain(r: Awaited<ReturnType<typeof verifyCase>>): string {
  return r.files
    .map((f) => `${f.file}: ${f.error ? `${f.error.code} ${f.error.message}` : f.outputs.map((o) => `${o.name} max abs ${o.maxAbsError} (${o.mismatches} mismatches)`).join('; ')}`)
    .join('\n');
}

describe('golden cases verify from every model file', () => {
  const keras3 = new Set(keras3GoldenCases());
  for (const name of goldenCases()) {
    it(name, async () => {
      const dir = join(GOLDEN, name);
      const r = await verifyCase(dir, { backend: 'cpu' });
      // Keras 3 cases list .keras, .h5 and .weights.h5 (and model.tfkeras2.h5); Keras 2-only classes
      // (CuDNN) a Keras 2 .h5 alone.
      const files = readGoldenCase(dir).files;
      expect(files.length).toBeGreaterThanOrEqual(keras3.has(name) ? 3 : 1);
      expect(r.files.map((f) => f.file)).toEqual(files.map((f) => f.path));
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
