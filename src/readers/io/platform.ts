/**
 * The few things the readers need from where they run, given to them by the entry point: Node's
 * (src/readers/io/node.ts, installed by every Node entry: the package's main module, the CLI, the path readers) or
 * the page's (src/browser/platform.ts, installed by `keras-interop/browser`). Everything else is the same
 * code on bytes in both.
 */
import type h5wasmModule from 'h5wasm';
import { KerasInteropError } from '../../errors.js';
import type { ByteSource } from './source.js';

export type H5Module = typeof h5wasmModule;

/** HDF5 bytes where h5wasm can open them, until released. */
export interface StagedH5 {
  /** The name h5wasm opens (a path on disk in Node, a file of h5wasm's in-memory file system in a page). */
  readonly path: string;
  release(): void;
}

export interface Platform {
  /** h5wasm, loaded and ready (its Node build reads files on disk; its browser build, its own memory). */
  h5wasm(): Promise<H5Module>;
  /**
   * Puts `src`'s bytes where h5wasm can open them: the file itself when it is one on disk, else a copy
   * made in chunks, each passed to `onChunk` first (a zip entry's CRC-32 is checked on the way).
   * Call after `h5wasm()` resolved.
   */
  stageH5(src: ByteSource, onChunk?: (chunk: Uint8Array) => void): StagedH5;
  /** A file on disk as a source, where there are files (Node). */
  fileSource?(path: string): ByteSource;
  /** A faster CRC-32 than the table-driven one, where the platform has one. */
  crc32Update?(crc: number, data: Uint8Array): number;
}

let current: Platform | undefined;

export function setPlatform(p: Platform): void {
  current = p;
}

export function platform(): Platform {
  if (!current) {
    throw new KerasInteropError('INTERNAL', "no platform installed: import 'keras-interop' (Node) or 'keras-interop/browser' (a page) before reading HDF5");
  }
  return current;
}

/** The installed platform, or undefined (code that works either way). */
export function maybePlatform(): Platform | undefined {
  return current;
}
