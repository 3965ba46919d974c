/**
 * The writers' only contact with the file system (Node only): a file is written under a temporary
 * name beside its final path and renamed into place, so a failed or interrupted write never leaves a
 * half-written model where a good one is expected.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KerasInteropError } from '../errors.js';
import { type Part, type Patch, partBytes, partsSize } from './parts.js';

function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
}

/**
 * `mkdir -p`, one level at a time: Node's own `{ recursive: true }` never returns for some paths
 * (under /proc, it loops on ENOENT), where a plain mkdir fails at once.
 */
export async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw e;
    await makeFolder(parent);
    try {
      await mkdir(path);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}

/** Called after each chunk with the bytes written so far to this file. */
export type OnBytes = (written: number) => void;

/**
 * Writes `parts` (concatenated) to `path` atomically; creates the parent folder when missing. A
 * deferred part is made when its turn comes and dropped once written; `patches` are written last.
 */
export async function writeFileAtomic(path: string, parts: Part | Part[], onBytes?: OnBytes, patches?: () => Patch[]): Promise<void> {
  const chunks = Array.isArray(parts) ? parts : [parts];
  const temp = tempNameFor(path);
  try {
    await makeFolder(dirname(path));
    const fh = await open(temp, 'wx');
    try {
      let total = 0;
      for (const part of chunks) {
        const c = partBytes(part, path);
        let at = 0;
        while (at < c.length) {
          const { bytesWritten } = await fh.write(c, at, c.length - at);
          at += bytesWritten;
          total += bytesWritten;
          onBytes?.(total);
        }
      }
      for (const p of patches?.() ?? []) await fh.write(p.bytes, 0, p.bytes.length, p.offset);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    if (e instanceof KerasInteropError) throw e;
    throw new KerasInteropError('WRITE_FAILED', `cannot write (${(e as Error).message})`, { file: path }, { cause: e });
  }
}

/**
 * Writes several files into `folder` (names relative to it, no `..`), each atomically. Returns the
 * written paths in the order given.
 */
export async function writeFilesAtomic(
  folder: string,
  files: [string, Part | Part[]][],
  onBytes?: (written: number, path: string) => void,
): Promise<string[]> {
  const out: string[] = [];
  let before = 0;
  for (const [name, parts] of files) {
    if (name.split(/[\\/]/).some((p) => p === '..' || p === '') || name.startsWith('/')) {
      throw new KerasInteropError('WRITE_FAILED', `refusing to write "${name}" outside the output folder`, { file: folder });
    }
    const path = join(folder, name);
    const base = before;
    await writeFileAtomic(path, parts, onBytes && ((n) => onBytes(base + n, path)));
    before += partsSize(Array.isArray(parts) ? parts : [parts]);
    out.push(path);
  }
  return out;
}

export async function isDirectory(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
