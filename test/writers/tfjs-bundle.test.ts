/**
 * The layers entry point (what a tfjs user imports before `tf.loadLayersModel`) and the cores of the tfjs
 * writer and reader bundle for browsers: esbuild with `platform: 'browser'` and no Node polyfills fails on
 * any Node built-in, and none of our modules in the bundle imports one.
 */
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

async function bundle(entry: string): Promise<{ metafile: Metafile; bytes: number }> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  return { metafile: result.metafile, bytes: result.outputFiles.reduce((a, f) => a + f.contents.length, 0) };
}

describe('browser bundles (esbuild, platform browser, no Node polyfills)', () => {
  for (const [entry, mustInclude] of [
    ['src/layers/index.ts', ['src/layers/no-mask.ts', 'src/layers/keras-multi-head-attention.ts', 'src/layers/recurrent.ts']],
    ['src/writers/tfjs.ts', ['src/runtime/topology.ts', 'src/runtime/normalize.ts', 'src/layers/index.ts']],
    ['src/readers/tfjs.ts', ['src/readers/json.ts', 'src/writers/tfjs.ts', 'src/layers/index.ts']],
    ['src/onnx/index.ts', ['src/onnx/lower.ts', 'src/onnx/serialize.ts', 'src/onnx/lowerings/recurrent.ts', 'src/runtime/topology.ts']],
  ] as const) {
    it(`${entry} bundles without touching Node built-ins`, async () => {
      const { metafile, bytes } = await bundle(entry);
      const inputs = Object.keys(metafile.inputs);
      const ours = inputs.filter((i) => i.startsWith('src/'));
      for (const f of mustInclude) expect(ours).toContain(f);
      for (const f of ours) {
        const imports = metafile.inputs[f].imports.map((i) => i.path);
        expect(imports.filter((p) => NODE_BUILTINS.has(p) || p.startsWith('(disabled)')), f).toEqual([]);
      }
      // Only tfjs's own optional Node paths are switched off by its package "browser" field.
      for (const [file, input] of Object.entries(metafile.inputs)) {
        if (input.imports.some((i) => i.path.startsWith('(disabled)'))) expect(file).toMatch(/^node_modules\//);
      }
      // Node-only modules of ours stay out: the fs wrappers, HDF5, the backends.
      for (const f of ['src/readers/tfjs-files.ts', 'src/writers/fs.ts', 'src/readers/h5.ts', 'src/runtime/backend.ts']) expect(ours).not.toContain(f);
      expect(bytes).toBeGreaterThan(100_000);
    }, 60_000);
  }
});
