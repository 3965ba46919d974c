/**
 * Node's side of the readers: files and folders on disk as sources (positioned reads, so a large model
 * is never read whole), and the platform (h5wasm's Node build, which opens files by path; temporary files
 * for HDF5 bytes that are not a file of their own; zlib's CRC-32). Importing this module installs it.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { KerasInteropError } from '../../errors.js';
import { type H5Module, type Platform, type StagedH5, setPlatform } from './platform.js';
import { type ByteSource, type FileSet, forEachChunk } from './source.js';

/** A file on disk, read with positioned reads; opened now, closed by `close()`. */
export function fileSource(path: string, name = path): ByteSource {
  let fd: number | undefined = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return {
    name,
    size,
    path,
    read(position, length) {
      if (fd === undefined) throw new KerasInteropError('USAGE', 'the file was closed', { file: name });
      const n = Math.max(0, Math.min(length, size - position));
      const out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const got = readSync(fd, out, filled, n - filled, position + filled);
        if (got === 0) break;
        filled += got;
      }
      return filled === n ? out : out.subarray(0, filled);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** A folder on disk; labels are `join(dir, relative)`, as the path readers always named files. */
export function nodeFolder(dir: string): FileSet {
  return {
    name: dir,
    label: (relative) => join(dir, relative),
    stat(relative) {
      try {
        const st = statSync(join(dir, relative));
        return { kind: st.isDirectory() ? 'dir' : 'file', size: st.isDirectory() ? 0 : st.size };
      } catch {
        return undefined;
      }
    },
    open(relative) {
      const path = join(dir, relative);
      try {
        return fileSource(path);
      } catch (e) {
        throw new KerasInteropError('FILE_NOT_FOUND', `cannot open (${(e as Error).message})`, { file: path }, { cause: e });
      }
    },
  };
}

let h5: Promise<H5Module> | undefined;

/** Copies `src` to a new private temporary file in chunks; the folder goes when released. */
function stageCopy(src: ByteSource, onChunk?: (chunk: Uint8Array) => void): StagedH5 {
  const dir = mkdtempSync(join(tmpdir(), 'keras-interop-'));
  const path = join(dir, 'weights.h5');
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      forEachChunk(src, (chunk) => {
        onChunk?.(chunk);
        let at = 0;
        while (at < chunk.length) at += writeSync(fd, chunk, at, chunk.length - at);
      });
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { path, release: () => rmSync(dir, { recursive: true, force: true }) };
}

// Node >= 20.15 has a native CRC-32 (the zip one).
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const nodePlatform: Platform = {
  fileSource: (path) => fileSource(path),
  h5wasm: () => (h5 ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default as unknown as H5Module;
  })),
  stageH5(src, onChunk) {
    // A whole file on disk opens in place (nothing to check on the way).
    if (src.path !== undefined && !onChunk) return { path: src.path, release: () => undefined };
    return stageCopy(src, onChunk);
  },
  ...(nativeCrc32 ? { crc32Update: (crc: number, data: Uint8Array) => nativeCrc32(data, crc) >>> 0 } : {}),
};

setPlatform(nodePlatform);
