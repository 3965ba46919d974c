/**
 * Zip entries read straight from the archive's source: the central directory and the wanted entries are
 * read by position, and large stored entries are handed on as slices of the archive (staged for h5wasm in
 * chunks), so a 200 MB `model.weights.h5` never sits in memory whole, or twice (archive and entry). The
 * checks are zip.ts's, in the same order with the same errors: unsafe names, duplicate wanted entries,
 * compression methods, the cap on declared sizes, inflated sizes and CRC-32s. Anything this path does not
 * handle (deflated entries meant for staging, data past the end of the archive, an unusual directory)
 * answers null, and the caller reads the archive whole with `unzipEntries`.
 */
import { inflateSync } from 'fflate';
import { KerasInteropError } from '../errors.js';
import { type ByteSource, sliceSource } from './io/source.js';
import { maybePlatform } from './io/platform.js';
import { DEFAULT_MAX_INFLATED_BYTES, crc32Update, isUnsafeEntryName, readZipDirectory, zipEntryDataOffset } from './zip.js';

export interface UnzipSourceOptions<T> {
  /** Cap on the sum of the wanted entries' inflated sizes. */
  maxInflatedBytes?: number;
  /** The wanted entries (others are listed, checked for unsafe names, and skipped). */
  only: (name: string) => boolean;
  /**
   * Wanted entries to hand on as a slice of the archive instead of memory: called with the slice and a
   * function to feed every chunk of it that is read (the CRC-32 is checked on those chunks, afterwards).
   * Undefined for an entry wanted in memory.
   */
  stage?: (name: string) => ((entry: ByteSource, onChunk: (chunk: Uint8Array) => void) => T) | undefined;
}

export interface UnzippedSource<T> {
  /** Wanted entries held in memory. */
  entries: Map<string, Uint8Array>;
  /** What `stage` made of the staged entries, checked against their CRC-32. */
  staged: Map<string, T>;
}

/** CRC-32 continued over more bytes, natively where the platform has it. */
export function crcUpdate(crc: number, data: Uint8Array): number {
  const native = maybePlatform()?.crc32Update;
  return native ? native(crc, data) : crc32Update(crc, data);
}

/**
 * The wanted entries of the zip archive `src`, as `unzipEntries` gives them, with the entries `stage`
 * names staged; null where the archive has to be read whole instead. When a later check fails, what was
 * staged is passed to `discard`.
 */
export function unzipSourceEntries<T>(src: ByteSource, opts: UnzipSourceOptions<T>, discard?: (staged: T) => void): UnzippedSource<T> | null {
  const file = src.name;
  const size = src.size;
  const cap = opts.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const directory = readZipDirectory(size, (position, length) => src.read(position, length));
  if (!directory) return null;
  let declared = 0;
  type Wanted = { name: string; data?: Uint8Array; stage?: (entry: ByteSource, onChunk: (c: Uint8Array) => void) => T; size: number; crc: number; offset: number };
  const wanted: Wanted[] = [];
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
    const offset = zipEntryDataOffset(src.read(entry.localHeaderOffset, 30), entry.localHeaderOffset);
    if (offset + entry.compressedSize > size) return null;
    const stage = opts.stage?.(name);
    if (stage !== undefined) {
      if (entry.compression !== 0 || entry.compressedSize !== entry.originalSize) return null;
      wanted.push({ name, stage, size: entry.originalSize, crc: entry.crc, offset });
      continue;
    }
    const raw = src.read(offset, entry.compressedSize);
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
  const out: UnzippedSource<T> = { entries: new Map(), staged: new Map() };
  const corrupted = (place: string) => new KerasInteropError('CHECKSUM_MISMATCH', 'entry does not match its CRC-32: the archive is corrupted', { file, place });
  try {
    for (const w of wanted) {
      if (w.data) {
        if (w.data.length !== w.size) {
          throw new KerasInteropError('ZIP_INVALID', `entry inflates to ${w.data.length} bytes, its header says ${w.size}`, { file, place: w.name });
        }
        if (crcUpdate(0, w.data) !== w.crc) throw corrupted(w.name);
        out.entries.set(w.name, w.data);
      } else {
        let crc = 0;
        const entry = sliceSource(src, w.offset, w.size);
        const staged = w.stage!(
          {
            ...entry,
            read(position, length) {
              const got = entry.read(position, length);
              if (got.length < length && position + got.length < w.size) {
                throw new KerasInteropError('ZIP_INVALID', 'the archive ends inside this entry (did it change while being read?)', { file, place: w.name });
              }
              return got;
            },
          },
          (chunk) => (crc = crcUpdate(crc, chunk)),
        );
        out.staged.set(w.name, staged);
        if (crc !== w.crc) throw corrupted(w.name);
      }
    }
  } catch (e) {
    if (discard) for (const s of out.staged.values()) discard(s);
    throw e;
  }
  return out;
}
