/**
 * What tfjs does to a Node process that keras-interop keeps out of the user's way: the cpu backend's
 * tfjs-node banner, the wasm backend's process-wide error handlers (a user's uncaught error printed
 * from inside the minified backend, exit 7), and a second copy of tfjs going unnoticed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { useBackend } from '../../src/runtime/backend.js';
import { checkTfjsEngine } from '../../src/runtime/tfjs-copies.js';
import { checkTfjsOnDisk, tfjsCoreFolder } from '../../src/runtime/tfjs-copies-node.js';
import { ROOT } from '../helpers/paths.js';
import { fileTempDir } from '../helpers/tmp.js';

const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const tmp = fileTempDir('ki-tfjs-env-');

/** Runs an ES module script in a fresh Node with tsx (for src/*.ts imports). */
function node(script: string) {
  const file = join(tmp, `script-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, script);
  return spawnSync(process.execPath, ['--import', TSX, file], { encoding: 'utf8', cwd: ROOT });
}

const src = (p: string) => JSON.stringify(join(ROOT, 'src', p));

describe('tfjs noise', () => {
  it('the cpu backend runs without printing the tfjs-node banner', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      expect(await useBackend('cpu')).toBe('cpu');
      tf.tidy(() => tf.add(tf.tensor([1, 2]), 1).dataSync());
      expect(warn.mock.calls.flat().join('\n')).not.toContain('looks like you are running TensorFlow.js in Node.js');
    } finally {
      warn.mockRestore();
    }
  });

  it('convert, which runs tfjs on whatever backend tfjs picks, prints no banner either', () => {
    const out = join(tmp, 'web_model');
    const golden = join(ROOT, 'fixtures', 'golden', 'sa_additive_basic', 'model.h5');
    const r = node(`const { main } = await import(${src('cli.ts')});\nprocess.exitCode = await main(['convert', ${JSON.stringify(golden)}, '--to', 'tfjs', ${JSON.stringify(out)}]);`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('looks like you are running TensorFlow.js in Node.js');
    expect(r.stdout).toContain('model.json');
  });

  it("after the wasm backend starts, a user's uncaught error is Node's own report (exit 1), not the backend's source and exit 7", () => {
    const r = node(
      [
        `const { useBackend } = await import(${src('runtime/backend.ts')});`,
        `if ((await useBackend('wasm')) !== 'wasm') process.exit(3);`,
        `setTimeout(() => { throw new Error('a bug in the user program'); }, 1);`,
      ].join('\n'),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Error: a bug in the user program');
    expect(r.stderr).not.toContain('WasmBackendModule');
    expect(r.stderr.length).toBeLessThan(2000);
  });

  it('an unhandled rejection in the user program is reported by Node too (exit 1)', () => {
    const r = node(
      [
        `const { useBackend } = await import(${src('runtime/backend.ts')});`,
        `if ((await useBackend('wasm')) !== 'wasm') process.exit(3);`,
        `void Promise.reject(new Error('an unhandled rejection'));`,
      ].join('\n'),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('an unhandled rejection');
    expect(r.stderr.length).toBeLessThan(2000);
  });
});

describe('one copy of tfjs', () => {
  it('finds no second copy in this install', () => {
    const lines: string[] = [];
    expect(checkTfjsEngine((l) => lines.push(l))).toBe(true);
    expect(checkTfjsOnDisk(ROOT, (l) => lines.push(l))).toBe(true);
    expect(lines).toEqual([]);
    expect(tfjsCoreFolder(ROOT)).toBe(join(ROOT, 'node_modules', '@tensorflow', 'tfjs-core'));
  });

  /** A project folder whose own @tensorflow/tfjs-core is a real second copy (its dependencies shared). */
  function projectWithOwnTfjs(): string {
    const app = join(tmp, 'app');
    const core = join(app, 'node_modules', '@tensorflow', 'tfjs-core');
    mkdirSync(join(core, 'dist'), { recursive: true });
    const ours = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-core');
    cpSync(join(ours, 'package.json'), join(core, 'package.json'));
    cpSync(join(ours, 'dist', 'tf-core.node.js'), join(core, 'dist', 'tf-core.node.js'));
    for (const dep of ['seedrandom', 'node-fetch', 'long', 'whatwg-url', 'tr46', 'webidl-conversions']) {
      try {
        symlinkSync(join(ROOT, 'node_modules', dep), join(app, 'node_modules', dep));
      } catch {
        // absent or already linked
      }
    }
    return app;
  }

  it("says so in one line when the program's own files get another @tensorflow/tfjs-core", () => {
    const app = projectWithOwnTfjs();
    const r = node(
      [
        `const { checkTfjsOnDisk } = await import(${src('runtime/tfjs-copies-node.ts')});`,
        `checkTfjsOnDisk(${JSON.stringify(app)});`,
        `checkTfjsOnDisk(${JSON.stringify(app)});`,
      ].join('\n'),
    );
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^keras-interop: warning: a second copy of @tensorflow\/tfjs is in use/);
    expect(lines[0]).toContain(join(app, 'node_modules', '@tensorflow', 'tfjs-core'));
    expect(lines[0]).toContain('peer dependency');
  });

  it('says so when another copy of tfjs-core made the engine before ours loaded', () => {
    const app = projectWithOwnTfjs();
    const r = node(
      [
        `import { createRequire } from 'node:module';`,
        `createRequire(${JSON.stringify(join(app, 'index.js'))})('@tensorflow/tfjs-core');`,
        `const { checkTfjsEngine } = await import(${src('runtime/tfjs-copies.ts')});`,
        `process.stdout.write(String(checkTfjsEngine()));`,
      ].join('\n'),
    );
    expect(r.stdout).toBe('false');
    expect(r.stderr).toMatch(/keras-interop: warning: a second copy of @tensorflow\/tfjs is in use \(the tfjs engine was made by another copy/);
  });
});
