import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { HAS_WILD, WILD_ONLY_TEST_FILES } from './test/helpers/paths.js';

const FUZZ = 'test/fuzz/fuzz.test.ts';

export default defineConfig({
  // The examples (and a user's --layers modules among them) import the package by its name: the sources here.
  resolve: {
    alias: [
      { find: /^keras-interop$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^keras-interop\/layers$/, replacement: fileURLToPath(new URL('./src/layers/index.ts', import.meta.url)) },
      { find: /^keras-interop\/browser$/, replacement: fileURLToPath(new URL('./src/browser.ts', import.meta.url)) },
    ],
  },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // `npm test` runs the fuzz campaign on its own first, then the rest (`--project`).
    projects: [
      { extends: true, test: { name: 'fuzz', include: [FUZZ] } },
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, FUZZ, ...(HAS_WILD ? [] : WILD_ONLY_TEST_FILES)],
          globalSetup: ['test/helpers/real-files-setup.ts'],
        },
      },
    ],
  },
});
