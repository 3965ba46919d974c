/**
 * Zip entries read straight from the archive file (Node only): the central directory and the wanted
 * entries are read with positioned reads, and large stored entries are copied to files in 1 MiB chunks,
 * so a 200 MB `model.weights.h5` never sits in memory (whole, or twice: archive and entry). The checks
 * are zip.ts's, in the same order with the same errors: unsafe names, duplicate wanted entries,
 * compression methods, the cap on declared sizes, inflated sizes and CRC-32s. Anything this path does not
 * handle (deflated entries meant for a file, data past the end of the archive, an unusual directory)
 * answers null, and the caller reads the archive whole with `unzipEntries`.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { inflateSync } from 'fflate';
import { KerasInteropError } from '../errors.js';
import { DEFAULT_MAX_INFLATED_BYTES, crc32Update, isUnsafeEntryName, readZipDirectory, zipEntryDataOffset } from './zip.js';

export interface UnzipFileOptions {
  /** Cap on the sum of the wanted entries' inflated sizes. */
  maxInflatedBytes?: number;
  /** The wanted entries (others are listed, checked for unsafe names, and skipped). */
  only: (name: string) => boolean;
  /** Wanted entries to copy to a file instead of memory: the path, or undefined for memory. */
  toFile?: (name: string) => string | undefined;
}

export interface UnzippedFile {
  /** Wanted entries held in memory. */
  entries: Map<string, Uint8Array>;
  /** Wanted entries copied to files (name to path), checked against their CRC-32. */
  files: Map<string, string>;
}

const CHUNK = 1 << 20;

// Node >= 20.15 has a native CRC-32 (the zip one); the table-driven one otherwise.
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
const crcUpdate = (crc: number, data: Uint8Array): number => (nativeCrc32 ? nativeCrc32(data, crc) >>> 0 : crc32Update(crc, data));

function readAt(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = readSync(fd, out, filled, length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled === length ? out : out.subarray(0, filled);
}

/**
 * The wanted entries of the zip archive `file` (of `size` bytes), as `unzipEntries` gives them, with the
 * entries `toFile` names copied to files; null where the archive has to be read whole instead.
 */
export function unzipFileEntries(file: string, size: number, opts: UnzipFileOptions): UnzippedFile | null {
  const cap = opts.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const fd = openSync(file, 'r');
  try {
    const directory = readZipDirectory(size, (position, length) => readAt(fd, position, length));
    if (!directory) return null;
    let declared = 0;
    const wanted: { name: string; data?: Uint8Array; path?: string; size: number; crc: number; offset: number }[] = [];
    const names = new Set<string>();
    for (const entry of directory) {
      const { name } = entry;
      if (isUnsafeEntryName(name)) {
        throw new KerasInteropError('ZIP_UNSAFE', `entry name "${name}" would escape the archive folder`, { file, place: name });
      }
      if (names.has(name)) throw new KerasInteropError('ZIP_INVALID', `entry "${name}" appears twice`, { file, place: name });
      if (!opts.only(name)) continue;
      if (entry.compression !== 0 && entry.compression !== 8) {
        throw new KerasInteropError('ZIP_INVALID', `entry uses compression method ${entry.compression}; expected stored or deflate`, {
          file,
          place: name,
        });
      }
      declared += entry.originalSize;
      if (declared > cap) {
        throw new KerasInteropError(
          'LIMIT_EXCEEDED',
          `archive declares more than ${cap} inflated bytes (refusing a possible zip bomb; raise --max-inflated-bytes)`,
          { file, place: name },
        );
      }
      names.add(name);
      const offset = zipEntryDataOffset(readAt(fd, entry.localHeaderOffset, 30), entry.localHeaderOffset);
      if (offset + entry.compressedSize > size) return null;
      const path = opts.toFile?.(name);
      if (path !== undefined) {
        if (entry.compression !== 0 || entry.compressedSize !== entry.originalSize) return null;
        wanted.push({ name, path, size: entry.originalSize, crc: entry.crc, offset });
        continue;
      }
      const raw = readAt(fd, offset, entry.compressedSize);
      let data = raw;
      if (entry.compression === 8) {
        try {
          data = inflateSync(raw, { out: new Uint8Array(entry.originalSize) });
        } catch (e) {
          throw new KerasInteropError('ZIP_INVALID', `not a readable zip archive (${(e as Error).message})`, { file });
        }
      }
      wanted.push({ name, data, size: entry.originalSize, crc: entry.crc, offset });
    }
    const out: UnzippedFile = { entries: new Map(), files: new Map() };
    for (const w of wanted) {
      if (w.data) {
        if (w.data.length !== w.size) {
          throw new KerasInteropError('ZIP_INVALID', `entry inflates to ${w.data.length} bytes, its header says ${w.size}`, { file, place: w.name });
        }
        if (crcUpdate(0, w.data) !== w.crc) {
          throw new KerasInteropError('CHECKSUM_MISMATCH', 'entry does not match its CRC-32: the archive is corrupted', { file, place: w.name });
        }
        out.entries.set(w.name, w.data);
      } else {
        if (copyRange(fd, w.offset, w.size, w.path!, file, w.name) !== w.crc) {
          throw new KerasInteropError('CHECKSUM_MISMATCH', 'entry does not match its CRC-32: the archive is corrupted', { file, place: w.name });
        }
        out.files.set(w.name, w.path!);
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Copies `length` bytes at `position` of `from` to a new file `to`; returns their CRC-32. */
function copyRange(from: number, position: number, length: number, to: string, file: string, place: string): number {
  const dst = openSync(to, 'wx', 0o600);
  const buf = new Uint8Array(Math.min(CHUNK, Math.max(length, 1)));
  let crc = 0;
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(from, buf, 0, Math.min(buf.length, length - done), position + done);
      if (n === 0) throw new KerasInteropError('ZIP_INVALID', 'the archive ends inside this entry (did it change while being read?)', { file, place });
      const chunk = buf.subarray(0, n);
      crc = crcUpdate(crc, chunk);
      let at = 0;
      while (at < n) at += writeSync(dst, chunk, at, n - at);
      done += n;
    }
  } finally {
    closeSync(dst);
  }
  return crc;
}
