/**
 * The layers entry point (what a tfjs user imports before `tf.loadLayersModel`) and the cores of the tfjs
 * writer and reader bundle for browsers: esbuild with `platform: 'browser'` and no Node polyfills fails on
 * any Node built-in, and none of our modules in the bundle imports one.
 */
import { describe, expect, it } from 'vitest';
import { bundleForBrowser, ourModules } from '../helpers/browser-bundle.js';

describe('browser bundles (esbuild, platform browser, no Node polyfills)', () => {
  for (const [entry, mustInclude] of [
    ['src/layers/index.ts', ['src/layers/no-mask.ts', 'src/layers/keras-multi-head-attention.ts', 'src/layers/recurrent.ts']],
    ['src/writers/tfjs.ts', ['src/runtime/topology.ts', 'src/runtime/normalize.ts', 'src/layers/index.ts']],
    ['src/readers/tfjs.ts', ['src/readers/json.ts', 'src/writers/tfjs.ts', 'src/layers/index.ts']],
    ['src/writers/onnx/index.ts', ['src/writers/onnx/lower.ts', 'src/writers/onnx/serialize.ts', 'src/writers/onnx/lowerings/recurrent.ts', 'src/runtime/topology.ts']],
  ] as const) {
    it(`${entry} bundles without touching Node built-ins`, async () => {
      const { metafile, bytes } = await bundleForBrowser(entry);
      const ours = ourModules(metafile);
      for (const f of mustInclude) expect(ours).toContain(f);
      // Node-only modules of ours stay out: the fs wrappers, HDF5, the backends.
      for (const f of ['src/readers/tfjs-files.ts', 'src/writers/fs.ts', 'src/readers/h5.ts', 'src/runtime/backend.ts']) expect(ours).not.toContain(f);
      expect(bytes).toBeGreaterThan(100_000);
    }, 60_000);
  }
});
