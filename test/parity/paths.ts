/** Where the shared golden and wild cases live (override with KERAS_INTEROP_SHARED). */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = process.env.KERAS_INTEROP_SHARED ?? '/work/shared';
export const GOLDEN_DIR = join(SHARED_DIR, 'golden');
export const WILD_DIR = join(SHARED_DIR, 'wild');
export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Folders holding a case.json: every golden case and every wild case's golden/ folder. */
export function goldenCaseDirs(): string[] {
  const dirs: string[] = [];
  for (const e of readdirSync(GOLDEN_DIR, { withFileTypes: true })) {
    if (e.isDirectory() && existsSync(join(GOLDEN_DIR, e.name, 'case.json'))) dirs.push(join(GOLDEN_DIR, e.name));
  }
  return dirs.sort();
}

export function wildCaseDirs(): string[] {
  const dirs: string[] = [];
  for (const e of readdirSync(WILD_DIR, { withFileTypes: true })) {
    if (e.isDirectory() && existsSync(join(WILD_DIR, e.name, 'golden', 'case.json'))) dirs.push(join(WILD_DIR, e.name, 'golden'));
  }
  return dirs.sort();
}
