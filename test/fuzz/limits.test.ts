/**
 * The read limits (src/readers/h5.ts DEFAULT_LIMITS, json.ts, zip.ts; CLI flags --max-tensor-bytes,
 * --max-total-bytes, --max-inflated-bytes, --max-config-depth) hold in every reader that reads what
 * they limit: each is lowered below what a small golden model needs and must end in LIMIT_EXCEEDED
 * naming the file, where the defaults read the same model.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { DEFAULT_LIMITS } from '../../src/readers/h5.js';
import { DEFAULT_MAX_CONFIG_DEPTH } from '../../src/readers/json.js';
import { DEFAULT_MAX_INFLATED_BYTES } from '../../src/readers/zip.js';
import { GOLDEN, ROOT } from '../helpers/paths.js';

const CASE = join(GOLDEN, 'mha_self');
const SAVEDMODEL = join(ROOT, 'fixtures', 'fuzz', 'savedmodel', 'dense_bn', 'model');
let tfjsFolder = '';
let configJson = '';
let deflated = '';

async function run(...args: string[]) {
  const out: string[] = [];
  const code = await main([...args, '--json', '--backend', 'cpu'], { out: (s) => out.push(s), err: () => {} });
  return { code, report: JSON.parse(out.join('\n')) as { error?: { code: string; file?: string; message: string } } };
}

/** Each input kind the limits apply to: the model argument and the flags it needs. */
function inputs(): Record<string, { model: string; extra: string[]; file: string; configFile?: string }> {
  const keras = join(CASE, 'model.keras');
  return {
    'tf.keras 2 HDF5': { model: join(CASE, 'model.tfkeras2.h5'), extra: [], file: join(CASE, 'model.tfkeras2.h5') },
    'Keras 3 HDF5': { model: join(CASE, 'model.h5'), extra: [], file: join(CASE, 'model.h5') },
    // The weights file with a JSON config (a model file given to --config is read under the limits too).
    '.weights.h5 with --config': { model: join(CASE, 'model.weights.h5'), extra: ['--config', configJson], file: join(CASE, 'model.weights.h5'), configFile: configJson },
    '.keras archive': { model: keras, extra: [], file: keras },
    'tfjs folder': { model: tfjsFolder, extra: [], file: tfjsFolder },
    SavedModel: { model: SAVEDMODEL, extra: [], file: SAVEDMODEL },
  };
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ki-limits-'));
  tfjsFolder = join(dir, 'tfjs');
  const r = await run('convert', join(CASE, 'model.keras'), '--to', 'tfjs', tfjsFolder);
  expect(r.code, JSON.stringify(r.report)).toBe(0);
  const entries = unzipSync(readFileSync(join(CASE, 'model.keras')));
  configJson = join(dir, 'config.json');
  writeFileSync(configJson, entries['config.json']);
  // The same archive deflated: its file is smaller than what it inflates to.
  deflated = join(dir, 'deflated.keras');
  writeFileSync(deflated, zipSync(entries, { level: 9 }));
});

describe('read limits', () => {
  it('have sane defaults', () => {
    expect(DEFAULT_LIMITS.maxTensorBytes).toBe(2 * 1024 ** 3);
    expect(DEFAULT_LIMITS.maxTotalBytes).toBe(8 * 1024 ** 3);
    expect(DEFAULT_MAX_INFLATED_BYTES).toBe(4 * 1024 ** 3);
    expect(DEFAULT_MAX_CONFIG_DEPTH).toBe(200);
  });

  it('every input reads under the defaults', async () => {
    for (const [kind, { model, extra }] of Object.entries(inputs())) {
      const r = await run('inspect', model, ...extra);
      expect(r.code, `${kind}: ${JSON.stringify(r.report.error)}`).toBe(0);
    }
  });

  for (const [flag, value] of [
    ['--max-tensor-bytes', '16'],
    ['--max-total-bytes', '40'],
    ['--max-config-depth', '3'],
  ] as const) {
    it(`${flag} holds in every reader`, async () => {
      for (const [kind, { model, extra, file, configFile }] of Object.entries(inputs())) {
        const r = await run('inspect', model, ...extra, flag, value);
        expect(r.code, `${kind}: ${JSON.stringify(r.report)}`).toBe(2);
        expect(r.report.error?.code, `${kind}: ${r.report.error?.message}`).toBe('LIMIT_EXCEEDED');
        // The depth of a weights file's model is the depth of the config given with it.
        expect(r.report.error?.file, kind).toContain(flag === '--max-config-depth' ? (configFile ?? file) : file);
      }
    });
  }

  it('--max-inflated-bytes holds for .keras archives, on the file and on the sizes its entries declare', async () => {
    const keras = join(CASE, 'model.keras');
    const r = await run('inspect', keras, '--max-inflated-bytes', '1000');
    expect(r.report.error).toMatchObject({ code: 'LIMIT_EXCEEDED', file: keras });
    const fileSize = statSync(deflated).size;
    const inflated = Object.values(unzipSync(readFileSync(deflated))).reduce((a, e) => a + e.length, 0);
    expect(fileSize).toBeLessThan(inflated);
    expect((await run('inspect', deflated)).code).toBe(0);
    const entries = await run('inspect', deflated, '--max-inflated-bytes', String(fileSize + 1));
    expect(entries.report.error).toMatchObject({ code: 'LIMIT_EXCEEDED', file: deflated });
    expect(entries.report.error?.message).toContain('inflated bytes');
  });

  it('--max-config-depth and the read limits hold for the --config source too', async () => {
    const weights = join(CASE, 'model.weights.h5');
    for (const config of [join(CASE, 'model.keras'), join(CASE, 'model.h5')]) {
      const deep = await run('inspect', weights, '--config', config, '--max-config-depth', '3');
      expect(deep.report.error, config).toMatchObject({ code: 'LIMIT_EXCEEDED', file: config });
    }
    const big = await run('inspect', weights, '--config', join(CASE, 'model.h5'), '--max-tensor-bytes', '16');
    expect(big.report.error?.code).toBe('LIMIT_EXCEEDED');
  });
});
