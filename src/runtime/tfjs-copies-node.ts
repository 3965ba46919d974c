/**
 * The second-copy check on disk (Node): the @tensorflow/tfjs-core a program or a --layers module gets
 * when it imports tfjs, against the one keras-interop gets. Catches the copies whichever loads first.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTfjsEngine, warnSecondTfjs } from './tfjs-copies.js';

/** The folder of the @tensorflow/tfjs-core that code in `dir` imports, or undefined when it finds none. */
export function tfjsCoreFolder(dir: string): string | undefined {
  try {
    return dirname(realpathSync(createRequire(join(dir, 'index.js')).resolve('@tensorflow/tfjs-core/package.json')));
  } catch {
    return undefined;
  }
}

const OURS = dirname(fileURLToPath(import.meta.url));

/** Warns (once) when code in `dir` would import another @tensorflow/tfjs-core than keras-interop does. */
export function checkTfjsOnDisk(dir: string, warn?: (line: string) => void): boolean {
  const ours = tfjsCoreFolder(OURS);
  const theirs = tfjsCoreFolder(dir);
  if (!ours || !theirs || ours === theirs) return true;
  warnSecondTfjs(`keras-interop uses ${ours}, code in ${dir} gets ${theirs}`, warn);
  return false;
}

/** At the package's import: the engine already loaded, and the copy the program's own files get. */
export function checkOneTfjs(): void {
  if (!checkTfjsEngine()) return;
  const main = process.argv[1];
  checkTfjsOnDisk(main ? dirname(realpathOr(main)) : process.cwd());
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
