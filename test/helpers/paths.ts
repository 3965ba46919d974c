import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GOLDEN = join(ROOT, 'fixtures', 'golden');

/** Real files from public repositories; read in place, never copied into the project. */
export const WILD = process.env.KERAS_INTEROP_WILD ?? resolve(ROOT, '..', 'shared', 'wild');

export function goldenCases(): string[] {
  return readdirSync(GOLDEN, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * The cases whose model files Keras 3 wrote (`model.keras`, a Keras 3 legacy `model.h5`,
 * `model.weights.h5`), which the tests of Keras 3's own layouts compare against. A case whose `model.h5`
 * was synthesized in an older layout says so in case.json's `model_h5_layout` (the kulc cases: Keras 2.2.4).
 */
export function keras3GoldenCases(): string[] {
  return goldenCases().filter((c) => {
    const kase = JSON.parse(readFileSync(join(GOLDEN, c, 'case.json'), 'utf8')) as Record<string, unknown>;
    return existsSync(join(GOLDEN, c, 'model.keras')) && !('model_h5_layout' in kase);
  });
}

/** Fails loudly (never skips) when the real-file folder is missing. */
export function requireWild(): string {
  if (!existsSync(join(WILD, 'manifest.json'))) {
    throw new Error(
      `the real-file folder is absent: expected ${WILD}/manifest.json. Set KERAS_INTEROP_WILD to the folder holding shared/wild.`,
    );
  }
  return WILD;
}

export function wildFile(id: string, relative: string): string {
  return join(requireWild(), id, relative);
}
