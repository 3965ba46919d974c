/**
 * Reading zip archives safely: entry names that could escape a folder are refused, declared sizes
 * are checked against a cap before anything is inflated, inflated sizes must match the declared
 * ones (fflate inflates into a buffer of the declared size, so a lying entry cannot grow past it),
 * and every inflated entry must match its CRC-32 (fflate checks none), so a corrupted byte is an
 * error rather than a different model. No Node built-ins: bytes in, bytes out.
 */
import { strFromU8, unzipSync } from 'fflate';
import { KerasInteropError } from '../errors.js';

export const DEFAULT_MAX_INFLATED_BYTES = 4 * 1024 ** 3;

export interface UnzipOptions {
  /** Cap on the sum of the entries' inflated sizes. */
  maxInflatedBytes?: number;
  /** Only these entries are inflated (others are listed but skipped). */
  only?: (name: string) => boolean;
}

export function isUnsafeEntryName(name: string): boolean {
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) return true;
  if (name.includes('\0')) return true;
  return name.split(/[\\/]/).some((part) => part === '..');
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the zip polynomial). */
export function crc32(data: Uint8Array): number {
  return crc32Update(0, data);
}

/** CRC-32 continued over more bytes: `crc32Update(crc32(a), b)` is the CRC-32 of `a` followed by `b`. */
export function crc32Update(crc: number, data: Uint8Array): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The CRC-32 each central-directory entry declares, in directory order: the order fflate's
 * `unzipSync` walks (and calls its filter in). Found the same way fflate finds the directory.
 */
function centralDirectoryCrcs(d: Uint8Array): number[] {
  const u16 = (i: number) => (i + 2 <= d.length ? d[i] | (d[i + 1] << 8) : -1);
  const u32 = (i: number) => (i + 4 <= d.length ? (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0 : -1);
  let e = d.length - 22;
  while (e > 0 && u32(e) !== 0x06054b50 && d.length - e <= 65558) e--;
  if (e < 0 || u32(e) !== 0x06054b50) return [];
  let count = u16(e + 8);
  let o = u32(e + 16);
  if (e >= 20 && u32(e - 20) === 0x07064b50) {
    const ze = u32(e - 12);
    if (u32(ze) === 0x06064b50) {
      count = u32(ze + 32);
      o = u32(ze + 48);
    }
  }
  const crcs: number[] = [];
  for (let i = 0; i < count && o >= 0 && o + 46 <= d.length; i++) {
    crcs.push(u32(o + 16));
    o += 46 + u16(o + 28) + u16(o + 30) + u16(o + 32);
  }
  return crcs;
}

export function unzipEntries(bytes: Uint8Array, file: string, opts: UnzipOptions = {}): Map<string, Uint8Array> {
  const cap = opts.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  let declared = 0;
  const sizes = new Map<string, number>();
  const declaredCrcs = centralDirectoryCrcs(bytes);
  const crcs = new Map<string, number | undefined>();
  let entryIndex = 0;
  let refused: KerasInteropError | undefined;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter(entry) {
        const crc = declaredCrcs[entryIndex++];
        if (refused) return false;
        if (isUnsafeEntryName(entry.name)) {
          refused = new KerasInteropError('ZIP_UNSAFE', `entry name "${entry.name}" would escape the archive folder`, {
            file,
            place: entry.name,
          });
          return false;
        }
        if (sizes.has(entry.name)) {
          refused = new KerasInteropError('ZIP_INVALID', `entry "${entry.name}" appears twice`, { file, place: entry.name });
          return false;
        }
        if (opts.only && !opts.only(entry.name)) return false;
        if (entry.compression !== 0 && entry.compression !== 8) {
          refused = new KerasInteropError('ZIP_INVALID', `entry uses compression method ${entry.compression}; expected stored or deflate`, {
            file,
            place: entry.name,
          });
          return false;
        }
        declared += entry.originalSize;
        if (declared > cap) {
          refused = new KerasInteropError(
            'LIMIT_EXCEEDED',
            `archive declares more than ${cap} inflated bytes (refusing a possible zip bomb; raise --max-inflated-bytes)`,
            { file, place: entry.name },
          );
          return false;
        }
        sizes.set(entry.name, entry.originalSize);
        crcs.set(entry.name, crc);
        return true;
      },
    });
  } catch (e) {
    if (refused) throw refused;
    throw new KerasInteropError('ZIP_INVALID', `not a readable zip archive (${(e as Error).message})`, { file });
  }
  if (refused) throw refused;
  const out = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(files)) {
    if (data.length !== sizes.get(name)) {
      throw new KerasInteropError('ZIP_INVALID', `entry inflates to ${data.length} bytes, its header says ${sizes.get(name)}`, {
        file,
        place: name,
      });
    }
    if (crc32(data) !== crcs.get(name)) {
      throw new KerasInteropError('CHECKSUM_MISMATCH', 'entry does not match its CRC-32: the archive is corrupted', { file, place: name });
    }
    out.set(name, data);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The central directory alone, for reading entries straight from a file (readers/zip-file.ts).

/** One central-directory entry, with the values fflate's `unzipSync` reads for it. */
export interface ZipDirectoryEntry {
  name: string;
  /** 0 stored, 8 deflate. */
  compression: number;
  compressedSize: number;
  originalSize: number;
  crc: number;
  localHeaderOffset: number;
}

/** Reads up to `length` bytes at `position` of the archive (fewer at its end). */
export type ZipReadAt = (position: number, length: number) => Uint8Array;

/**
 * The central directory of an archive of `size` bytes, found and walked exactly as fflate's
 * `unzipSync` does (same end-record search, zip64 records and extra fields, name decoding), reading
 * only the end of the archive and the directory. Null for anything out of the ordinary (no end record,
 * a directory that runs past the end of the archive, zip64 sizes without their extra field): the caller
 * then reads the archive whole, which reports the problem as it always has.
 */
export function readZipDirectory(size: number, readAt: ZipReadAt): ZipDirectoryEntry[] | null {
  const BLOCK = 1 << 16;
  const blocks = new Map<number, Uint8Array>();
  // Bytes outside the archive read as 0, as fflate's reads past a Uint8Array's ends do.
  const byte = (i: number): number => {
    if (i < 0 || i >= size) return 0;
    const k = Math.floor(i / BLOCK);
    let b = blocks.get(k);
    if (!b) {
      if (blocks.size >= 64) blocks.clear();
      b = readAt(k * BLOCK, Math.min(BLOCK, size - k * BLOCK));
      blocks.set(k, b);
    }
    return i - k * BLOCK < b.length ? b[i - k * BLOCK] : 0;
  };
  const b2 = (i: number) => byte(i) | (byte(i + 1) << 8);
  const b4 = (i: number) => (byte(i) | (byte(i + 1) << 8) | (byte(i + 2) << 16) | (byte(i + 3) << 24)) >>> 0;
  const b8 = (i: number) => b4(i) + b4(i + 4) * 4294967296;
  if (size < 22) return null;
  let e = size - 22;
  for (; b4(e) !== 0x06054b50; --e) {
    if (!e || size - e > 65558) return null;
  }
  let count = b2(e + 8);
  if (!count) return [];
  let o = b4(e + 16);
  let zip64 = b4(e - 20) === 0x07064b50;
  if (zip64) {
    const ze = b4(e - 12);
    zip64 = b4(ze) === 0x06064b50;
    if (zip64) {
      count = b4(ze + 32);
      o = b4(ze + 48);
    }
  }
  const entries: ZipDirectoryEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (o + 46 > size) return null;
    const nameLength = b2(o + 28);
    const extraLength = b2(o + 30);
    const commentLength = b2(o + 32);
    const extraStart = o + 46 + nameLength;
    if (extraStart + extraLength + commentLength > size) return null;
    const nameBytes = new Uint8Array(nameLength);
    for (let j = 0; j < nameLength; j++) nameBytes[j] = byte(o + 46 + j);
    const name = strFromU8(nameBytes, !(b2(o + 8) & 2048));
    let compressedSize = b4(o + 20);
    let originalSize = b4(o + 24);
    let localHeaderOffset = b4(o + 42);
    const nsc = compressedSize === 4294967295 ? 1 : 0;
    const nsu = originalSize === 4294967295 ? 1 : 0;
    const noff = localHeaderOffset === 4294967295 ? 1 : 0;
    if (zip64 && nsc + nsu + noff > 0) {
      let found = false;
      for (let x = extraStart; x + 4 < extraStart + extraLength; x += 4 + b2(x + 2)) {
        if (b2(x) === 1) {
          if (nsc) compressedSize = b8(x + 4 + 8 * nsu);
          if (nsu) originalSize = b8(x + 4);
          if (noff) localHeaderOffset = b8(x + 4 + 8 * (nsu + nsc));
          found = true;
          break;
        }
      }
      if (!found) return null;
    }
    entries.push({ name, compression: b2(o + 10), compressedSize, originalSize, crc: b4(o + 16), localHeaderOffset });
    o = extraStart + extraLength + commentLength;
  }
  return entries;
}

/** Where an entry's data starts, from the 30 bytes of its local header at `localHeaderOffset` (as fflate finds it). */
export function zipEntryDataOffset(localHeader: Uint8Array, localHeaderOffset: number): number {
  const b2 = (i: number) => (localHeader[i] ?? 0) | ((localHeader[i + 1] ?? 0) << 8);
  return localHeaderOffset + 30 + b2(26) + b2(28);
}
