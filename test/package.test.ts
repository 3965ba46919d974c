/**
 * What an installed package gives its user: tfjs shared with the app (peer dependencies with a stated
 * range), and a build without source maps, so stack traces point at the dist/*.js files the package
 * ships rather than at src/*.ts files it does not.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;

describe('package.json', () => {
  it('takes @tensorflow/tfjs and the wasm backend as peer dependencies with a stated range, never as its own', () => {
    for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']) {
      expect(pkg.peerDependencies[name], name).toBe('^4.22.0');
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.devDependencies[name], name).toBe(pkg.peerDependencies[name]);
    }
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain('`@tensorflow/tfjs` and `@tensorflow/tfjs-backend-wasm` (`^4.22.0`) are peer dependencies');
  });

  it('builds without source maps (the package ships dist/, not src/)', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'bin']));
    expect(pkg.files).not.toContain('src');
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '--showConfig', '-p', join(ROOT, 'tsconfig.build.json')], { encoding: 'utf8' });
    const options = JSON.parse(r.stdout).compilerOptions as Record<string, unknown>;
    expect(options.sourceMap).toBe(false);
    expect(options.declarationMap).toBe(false);
    expect(options.inlineSourceMap).toBeUndefined();
    // and a build starts from an empty dist/, so no map of an earlier build is left to be packed
    expect(pkg.scripts.build).toMatch(/rmSync\('dist'.*&& tsc -p tsconfig\.build\.json$/);
  });
});
