/**
 * Bundling an entry for browsers as a page would: esbuild with `platform: 'browser'` and no Node
 * polyfills fails on any Node built-in; the metafile lists what each module imports.
 */
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { expect } from 'vitest';
import { ROOT } from './paths.js';

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export async function bundleForBrowser(entry: string): Promise<{ metafile: Metafile; bytes: number }> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    splitting: true,
    outdir: join(ROOT, 'tmp', 'bundle-test'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  return { metafile: result.metafile, bytes: result.outputFiles.reduce((a, f) => a + f.contents.length, 0) };
}

/**
 * Our modules in the bundle, after checking that none imports a Node built-in and that only packages'
 * own optional Node paths are switched off (by their package "browser" field).
 */
export function ourModules(metafile: Metafile): string[] {
  const ours = Object.keys(metafile.inputs).filter((i) => i.startsWith('src/'));
  for (const f of ours) {
    const imports = metafile.inputs[f].imports.map((i) => i.path);
    expect(imports.filter((p) => NODE_BUILTINS.has(p) || p.startsWith('(disabled)')), f).toEqual([]);
  }
  for (const [file, input] of Object.entries(metafile.inputs)) {
    if (input.imports.some((i) => i.path.startsWith('(disabled)'))) expect(file).toMatch(/^node_modules\//);
  }
  return ours;
}
