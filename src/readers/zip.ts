/**
 * Reading zip archives safely: entry names that could escape a folder are refused, declared sizes
 * are checked against a cap before anything is inflated, inflated sizes must match the declared
 * ones (fflate inflates into a buffer of the declared size, so a lying entry cannot grow past it),
 * and every inflated entry must match its CRC-32 (fflate checks none), so a corrupted byte is an
 * error rather than a different model. No Node built-ins: bytes in, bytes out.
 */
import { unzipSync } from 'fflate';
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
  let c = 0xffffffff;
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
