/** `.npy` files on disk (the only part of src/parity/npy that touches node:fs). */
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { KerasInteropError } from '../errors.js';
import { encodeNpy, parseNpy, type NpyArray } from './npy.js';

function readError(path: string, e: unknown): KerasInteropError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new KerasInteropError('FILE_NOT_FOUND', 'no such .npy file', { file: path }, { cause: e });
  }
  if (code === 'EISDIR') {
    return new KerasInteropError('NPY_INVALID', 'is a directory; expected a .npy file', { file: path }, { cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new KerasInteropError('FILE_NOT_FOUND', `cannot read the .npy file: ${msg}`, { file: path }, { cause: e });
}

function writeError(path: string, e: unknown): KerasInteropError {
  const msg = e instanceof Error ? e.message : String(e);
  return new KerasInteropError('WRITE_FAILED', `cannot write the .npy file: ${msg}`, { file: path }, { cause: e });
}

function asBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export async function readNpyFile(path: string): Promise<NpyArray> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw readError(path, e);
  }
  return parseNpy(asBytes(buf), path);
}

export function readNpyFileSync(path: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw readError(path, e);
  }
  return parseNpy(asBytes(buf), path);
}

export async function writeNpyFile(path: string, arr: NpyArray): Promise<void> {
  const bytes = encodeNpy(arr);
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw writeError(path, e);
  }
}

export function writeNpyFileSync(path: string, arr: NpyArray): void {
  const bytes = encodeNpy(arr);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw writeError(path, e);
  }
}
