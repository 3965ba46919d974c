/**
 * The page's platform: h5wasm's browser build, whose HDF5 files live in its own in-memory file system
 * (bytes are copied there in chunks and removed when the file is closed). Loaded on first use, so a
 * page that never opens HDF5 never downloads it. Importing this module installs it.
 */
import { forEachChunk } from '../readers/io/source.js';
import { type H5Module, type Platform, setPlatform } from '../readers/io/platform.js';

/** The calls of Emscripten's file system used here. */
interface MemFs {
  open(path: string, flags: string): unknown;
  write(stream: unknown, bytes: Uint8Array, offset: number, length: number): number;
  close(stream: unknown): void;
  unlink(path: string): void;
}

let loading: Promise<H5Module> | undefined;
let fs: MemFs;
let staged = 0;

export const browserPlatform: Platform = {
  h5wasm: () =>
    (loading ??= import('h5wasm').then(async (m) => {
      const module = await m.default.ready;
      fs = module.FS as unknown as MemFs;
      return m.default as unknown as H5Module;
    })),
  stageH5(src, onChunk) {
    const path = `/keras-interop-${++staged}.h5`;
    const stream = fs.open(path, 'w');
    try {
      forEachChunk(src, (chunk) => {
        onChunk?.(chunk);
        for (let at = 0; at < chunk.length; ) at += fs.write(stream, chunk, at, chunk.length - at);
      });
    } finally {
      fs.close(stream);
    }
    return { path, release: () => fs.unlink(path) };
  },
};

setPlatform(browserPlatform);
