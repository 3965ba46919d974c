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

/** Writes `parts` (concatenated) to `path` atomically; creates the parent folder when missing. */
export async function writeFileAtomic(path: string, parts: Uint8Array | Uint8Array[]): Promise<void> {
  const chunks = Array.isArray(parts) ? parts : [parts];
  const temp = tempNameFor(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(temp, 'wx');
    try {
      for (const c of chunks) {
        let at = 0;
        while (at < c.length) {
          const { bytesWritten } = await fh.write(c, at, c.length - at);
          at += bytesWritten;
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
export async function writeFilesAtomic(folder: string, files: [string, Uint8Array | Uint8Array[]][]): Promise<string[]> {
  const out: string[] = [];
  for (const [name, parts] of files) {
    if (name.split(/[\\/]/).some((p) => p === '..' || p === '') || name.startsWith('/')) {
      throw new KerasInteropError('WRITE_FAILED', `refusing to write "${name}" outside the output folder`, { file: folder });
    }
    const path = join(folder, name);
    await writeFileAtomic(path, parts);
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
