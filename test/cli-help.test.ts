/**
 * `--help` and the README name every option the command line takes, explain convert's <out>, and
 * `--help` answers before tfjs or h5wasm are loaded.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_OPTIONS, main } from '../src/cli.js';
import { ROOT } from './helpers/paths.js';

async function help(): Promise<string> {
  const out: string[] = [];
  expect(await main(['--help'], { out: (s) => out.push(s), err: (s) => out.push(s) })).toBe(0);
  return out.join('\n');
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('--help and the README', () => {
  const flags = Object.keys(CLI_OPTIONS).map((k) => `--${k}`);

  it('list every option', async () => {
    const text = await help();
    expect(flags.length).toBeGreaterThanOrEqual(19);
    for (const f of flags) {
      expect(text, `--help misses ${f}`).toMatch(new RegExp(`${f}\\b`));
      expect(README, `README misses ${f}`).toMatch(new RegExp(`${f}\\b`));
    }
  });

  it("explain convert's <out>: a file for h5 and keras, a folder for tfjs", async () => {
    const text = await help();
    expect(text).toMatch(/<out> \(convert\) is the file to write for --to h5 and --to keras, the folder/);
    expect(README).toMatch(/`convert` writes `<out>`: the `\.h5` or `\.keras` \*\*file\*\*[^.]*\*\*folder\*\* that gets\s+`model\.json`/);
  });

  it('answers without loading tfjs or h5wasm', () => {
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
    const script = [
      `const { main } = await import(${JSON.stringify(join(ROOT, 'src', 'cli.ts'))});`,
      `const code = await main(['--help'], { out: () => {}, err: () => {} });`,
      // tfjs-core makes its engine on import; h5wasm compiles its module on import
      `process.stdout.write(JSON.stringify({ code, tfjs: globalThis._tfengine !== undefined }));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: ROOT });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ code: 0, tfjs: false });
  });
});
