/** Files as one zip download (a converted tfjs folder), with the archive writer `.keras` files use. */
import { concatParts } from '../writers/parts.js';
import { storedZipParts } from '../writers/zip.js';

/** A stored zip of `files` under `folder/` (members stored: weights do not deflate much). */
export function zipFiles(files: readonly { name: string; bytes: Uint8Array }[], folder = ''): Uint8Array {
  const prefix = folder ? `${folder.replace(/\/+$/, '')}/` : '';
  const now = new Date();
  const { parts, patches } = storedZipParts(files.map((f) => ({ name: prefix + f.name, parts: [f.bytes], mtime: now, os: 3, attrs: 0o644 << 16 })));
  return concatParts(parts, patches);
}
