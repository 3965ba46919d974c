/** Malicious or broken `.keras` archives through the CLI: exit 2, one clear line, nothing written anywhere. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { runCli as run } from './helpers/cli.js';
import { GOLDEN } from './helpers/paths.js';

const good = unzipSync(readFileSync(join(GOLDEN, 'sa_additive_basic', 'model.keras')));

describe('convert refuses malicious archives', () => {
  const cases: [string, Record<string, Uint8Array>, string][] = [
    ['path traversal', { ...good, '../../escaped.txt': strToU8('x') }, 'ZIP_UNSAFE'],
    ['absolute entry name', { ...good, '/tmp/escaped-abs.txt': strToU8('x') }, 'ZIP_UNSAFE'],
    ['config.json not JSON', { ...good, 'config.json': strToU8('{"class_name": [') }, 'CONFIG_INVALID'],
    ['weights missing', { 'metadata.json': good['metadata.json'], 'config.json': good['config.json'] }, 'HDF5_MISSING'],
  ];
  for (const [what, entries, code] of cases) {
    it(`${what}: exit 2 with ${code}, nothing written`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'ki-evil-'));
      const src = join(root, 'in', 'evil.keras');
      mkdirSync(join(root, 'in'));
      writeFileSync(src, zipSync(entries, { level: 0 }));
      const outDir = join(root, 'out');
      mkdirSync(outDir);
      for (const to of ['h5', 'keras', 'tfjs']) {
        const r = await run('convert', src, '--to', to, join(outDir, `m.${to}`));
        expect(r.code).toBe(2);
        expect(r.err).toMatch(new RegExp(`^error \\[${code}\\]: .*evil\\.keras`));
        expect(r.err.split('\n')).toHaveLength(1);
      }
      expect(readdirSync(outDir)).toEqual([]);
      expect(readdirSync(join(root, 'in'))).toEqual(['evil.keras']);
      expect(readdirSync(root).sort()).toEqual(['in', 'out']);
      expect(existsSync('/tmp/escaped-abs.txt')).toBe(false);
    });
  }

  it('a zip bomb is refused by the inflated-size cap', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ki-bomb-'));
    const src = join(root, 'bomb.keras');
    writeFileSync(src, zipSync({ ...good, 'model.weights.h5': new Uint8Array(64 * 1024 * 1024) }, { level: 9 }));
    const r = await run('inspect', src, '--max-inflated-bytes', String(16 * 1024 * 1024));
    expect(r.code).toBe(2);
    expect(r.err).toContain('[LIMIT_EXCEEDED]');
  });
});
