/**
 * Reading zip archives safely: entry names that could escape a folder are refused, declared sizes
 * are checked against a cap before anything is inflated, and inflated sizes must match the declared
 * ones (fflate inflates into a buffer of the declared size, so a lying entry cannot grow past it).
 * No Node built-ins: bytes in, bytes out.
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

export function unzipEntries(bytes: Uint8Array, file: string, opts: UnzipOptions = {}): Map<string, Uint8Array> {
  const cap = opts.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  let declared = 0;
  const sizes = new Map<string, number>();
  let refused: KerasInteropError | undefined;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter(entry) {
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
    out.set(name, data);
  }
  return out;
}
