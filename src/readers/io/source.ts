/**
 * What the readers read: one file's bytes (`ByteSource`) or a folder's files (`FileSet`), whatever holds
 * them. In the browser they are bytes in memory (a dropped File, a zip entry); in Node, files on disk read
 * with positioned reads (src/readers/io/node.ts), so a 200 MB model is never read whole. Reads are synchronous:
 * the readers check structures byte by byte, and a browser's Blobs are read into memory first
 * (src/browser/input.ts). No Node built-ins here.
 */
import { KerasInteropError } from '../../errors.js';

export interface ByteSource {
  /** What errors call it: the path a Node caller gave, or the file's name in a page. */
  readonly name: string;
  readonly size: number;
  /**
   * `length` bytes at `position`; fewer only where the source ends first. They may be a view of the
   * source's own memory: copy them (`owned`) before changing them or viewing their buffer.
   */
  read(position: number, length: number): Uint8Array;
  /** A file on disk holding exactly these bytes, where there is one (h5wasm's Node build opens files by path). */
  readonly path?: string;
  /** Releases what the source holds open (a file descriptor); reads after it are refused. */
  close?(): void;
}

/** The whole content of a source. */
export function readAll(src: ByteSource): Uint8Array {
  return src.read(0, src.size);
}

/** `bytes` when they are the whole of their buffer, else a copy that is (for typed-array views of it). */
export function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : bytes.slice();
}

/** A source over bytes in memory. */
export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.length,
    read: (position, length) => bytes.subarray(Math.min(position, bytes.length), Math.min(position + length, bytes.length)),
  };
}

/** `length` bytes of `src` from `offset` (a stored zip entry) as a source of their own, without a copy. */
export function sliceSource(src: ByteSource, offset: number, length: number, name = src.name): ByteSource {
  const size = Math.max(0, Math.min(length, src.size - offset));
  return {
    name,
    size,
    read: (position, n) => (position >= size ? new Uint8Array(0) : src.read(offset + position, Math.min(n, size - position))),
  };
}

/** Feeds `src` to `onChunk` in order, `chunkBytes` at a time (a copy or a checksum that never holds it whole). */
export function forEachChunk(src: ByteSource, onChunk: (chunk: Uint8Array) => void, chunkBytes = 1 << 20): void {
  for (let done = 0; done < src.size; ) {
    const chunk = src.read(done, Math.min(chunkBytes, src.size - done));
    if (chunk.length === 0) {
      throw new KerasInteropError('FILE_NOT_FOUND', `the file ends at byte ${done} of ${src.size} (did it change while being read?)`, { file: src.name });
    }
    onChunk(chunk);
    done += chunk.length;
  }
}

export interface FileStat {
  kind: 'file' | 'dir';
  /** Bytes of a file (0 for a folder). */
  size: number;
}

/**
 * The files of a folder format (SavedModel, tfjs), by path relative to the folder (`/`-separated,
 * `variables/variables.index`). A folder a user picked in a page, or one on disk.
 */
export interface FileSet {
  /** What errors call the folder. */
  readonly name: string;
  /** What errors call one of its files: `<folder>/<relative>` as the platform writes paths. */
  label(relative: string): string;
  stat(relative: string): FileStat | undefined;
  /** Opens a file; the caller closes the source. Missing files are FILE_NOT_FOUND. */
  open(relative: string): ByteSource;
}

/** A whole (small) file of a file set: a config, a proto, a manifest. */
export function readFileOf(files: FileSet, relative: string): Uint8Array {
  const src = files.open(relative);
  try {
    return readAll(src);
  } finally {
    src.close?.();
  }
}

/** Joins `/`-separated relative paths (no `.`/`..` handling: file-set paths are plain). */
export function joinRelative(a: string, b: string): string {
  if (a === '' || a === '.') return b;
  return `${a.replace(/\/+$/, '')}/${b}`;
}

/** The files under `folder` of a file set, as a file set of their own (labels unchanged). */
export function subFiles(files: FileSet, folder: string): FileSet {
  return {
    name: files.label(folder),
    label: (relative) => files.label(joinRelative(folder, relative)),
    stat: (relative) => files.stat(joinRelative(folder, relative)),
    open: (relative) => files.open(joinRelative(folder, relative)),
  };
}

/**
 * Files in memory by relative path (a page's folder pick or drop). Folders are implied by the paths.
 * Labels are `<name>/<relative>`.
 */
export function memoryFiles(name: string, files: ReadonlyMap<string, Uint8Array>): FileSet {
  const label = (relative: string) => (name ? joinRelative(name, relative) : relative);
  const isFolder = (relative: string) => {
    const prefix = relative.replace(/\/+$/, '') + '/';
    for (const k of files.keys()) if (k.startsWith(prefix)) return true;
    return false;
  };
  return {
    name,
    label,
    stat(relative) {
      const f = files.get(relative);
      if (f) return { kind: 'file', size: f.length };
      return relative === '' || relative === '.' || isFolder(relative) ? { kind: 'dir', size: 0 } : undefined;
    },
    open(relative) {
      const f = files.get(relative);
      if (!f) throw new KerasInteropError('FILE_NOT_FOUND', 'no such file', { file: label(relative) });
      return bytesSource(label(relative), f);
    },
  };
}

/** Either input a reader takes: one file, or a folder's files. */
export type ModelSource = ByteSource | FileSet;

export function isFileSet(s: ModelSource): s is FileSet {
  return typeof (s as FileSet).stat === 'function';
}
