/**
 * The writers' only contact with the file system (Node only): a file is written under a temporary
 * name beside its final path and renamed into place, so a failed or interrupted write never leaves a
 * half-written model where a good one is expected.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KerasInteropError } from '../errors.js';

function tempNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
}

/** Called after each chunk with the bytes written so far to this file. */
export type OnBytes = (written: number) => void;

/** Writes `parts` (concatenated) to `path` atomically; creates the parent folder when missing. */
export async function writeFileAtomic(path: string, parts: Uint8Array | Uint8Array[], onBytes?: OnBytes): Promise<void> {
  const chunks = Array.isArray(parts) ? parts : [parts];
  const temp = tempNameFor(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(temp, 'wx');
    try {
      let total = 0;
      for (const c of chunks) {
        let at = 0;
        while (at < c.length) {
          const { bytesWritten } = await fh.write(c, at, c.length - at);
          at += bytesWritten;
          total += bytesWritten;
          onBytes?.(total);
        }
      }
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
  files: [string, Uint8Array | Uint8Array[]][],
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
    before += (Array.isArray(parts) ? parts : [parts]).reduce((a, p) => a + p.length, 0);
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
