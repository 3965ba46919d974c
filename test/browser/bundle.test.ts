/**
 * `keras-interop/browser` bundles for a page: every reader, the runtime, verification and the writers,
 * with no Node built-in imported by any of our modules, and none of the Node-only modules (the path API,
 * the file writers, Node's platform) pulled in.
 */
import { describe, expect, it } from 'vitest';
import { bundleForBrowser, ourModules } from '../helpers/browser-bundle.js';

describe('keras-interop/browser (esbuild, platform browser, no Node polyfills)', () => {
  it('bundles the readers, runtime, verify and writers without Node built-ins', async () => {
    const { metafile, bytes } = await bundleForBrowser('src/browser.ts');
    const ours = ourModules(metafile);
    for (const f of [
      'src/readers/hdf5.ts',
      'src/readers/h5.ts',
      'src/readers/keras-archive.ts',
      'src/readers/zip-source.ts',
      'src/readers/savedmodel/index.ts',
      'src/readers/tfjs-files.ts',
      'src/runtime/backend.ts',
      'src/runtime/run.ts',
      'src/parity/verify-core.ts',
      'src/writers/convert.ts',
      'src/browser/platform.ts',
      'src/layers/index.ts',
    ]) {
      expect(ours).toContain(f);
    }
    for (const f of ['src/readers/io/node.ts', 'src/readers/index.ts', 'src/writers/fs.ts', 'src/writers/index.ts', 'src/parity/case.ts', 'src/parity/verify.ts', 'src/parity/npy-file.ts', 'src/cli.ts']) {
      expect(ours).not.toContain(f);
    }
    // h5wasm's browser build (in-memory files), not its Node build.
    const packages = Object.keys(metafile.inputs).filter((i) => i.startsWith('node_modules/h5wasm/'));
    expect(packages).toContain('node_modules/h5wasm/dist/esm/hdf5_hl.js');
    expect(packages.filter((p) => p.includes('/dist/node/'))).toEqual([]);
    expect(bytes).toBeGreaterThan(1_000_000);
  }, 120_000);
});
