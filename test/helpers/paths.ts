import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GOLDEN = join(ROOT, 'fixtures', 'golden');

/** Real files from public repositories; read in place, never copied into the project. */
export const WILD = process.env.KERAS_INTEROP_WILD ?? resolve(ROOT, '..', 'shared', 'wild');

/**
 * Whether the real-file folder is there. Without it (a plain clone) the tests that read it are not
 * registered at all (`describeWild`/`itWild` in wild.ts, `wildItems`), the run says so in one line
 * (real-files-setup.ts), and under CI its absence fails the run.
 */
export const HAS_WILD = existsSync(join(WILD, 'manifest.json'));

/** Test files whose every test reads the real-file folder: left out of a run without it. */
export const WILD_ONLY_TEST_FILES = [
  'test/wild.test.ts',
  'test/readers/savedmodel-convert.test.ts',
  'test/cli-lambda.test.ts',
  'test/runtime/lambda/wild-models.test.ts',
];

/** A list of real-file cases to make tests from: empty when the folder is absent. */
export function wildItems<T>(make: () => T[]): T[] {
  return HAS_WILD ? make() : [];
}

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

/** The real files whose golden outputs (`<id>/golden/`) this project reproduces. */
export const WILD_WITH_GOLDEN: readonly string[] = [
  '01_dsRNA_seqselfattention',
  '17_retail_transformer_mha_archive',
  '19_randomlist_bigru_masking_archive',
  '20_tree_lstm_embedding_archive',
  '21_rssi_hybrid_bn_bilstm_archive',
  '30_crypt_tfkeras_dot_attention',
  '35_fraud_lstm_attention_k313_archive',
  '38_tf_mha_getitem_slice_k38_archive',
];

/** The real-file folder; fails loudly when it is missing (tests reading it are registered through wild.ts). */
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
