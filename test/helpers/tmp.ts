/** Temporary folders for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh folder under the OS's temporary folder, and how to remove it with everything in it. */
export function tempDir(prefix = 'keras-interop-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh folder for the test file that calls this (at its top level), removed once its tests have run. */
export function fileTempDir(prefix: string): string {
  const { dir, cleanup } = tempDir(prefix);
  afterAll(cleanup);
  return dir;
}
