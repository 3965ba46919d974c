/** The golden cases the parity tests read (the project's copies in fixtures/golden) and the real files' goldens. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GOLDEN, requireWild, wildItems } from '../helpers/paths.js';

export const GOLDEN_DIR = GOLDEN;
export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Folders under `root` holding `<sub>/case.json`. */
function caseDirs(root: string, sub: string): string[] {
  const dirs: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (e.isDirectory() && existsSync(join(root, e.name, sub, 'case.json'))) dirs.push(join(root, e.name, sub));
  }
  return dirs.sort();
}

export function goldenCaseDirs(): string[] {
  return caseDirs(GOLDEN_DIR, '');
}

/** Every real file's golden/ folder; none when the real-file folder is absent. */
export function wildCaseDirs(): string[] {
  return wildItems(() => caseDirs(requireWild(), 'golden'));
}
