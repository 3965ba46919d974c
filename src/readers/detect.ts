/** Which reader a file or folder needs, from its bytes and layout (never from its extension alone). */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KerasInteropError } from '../errors.js';

export type DetectedFormat = 'hdf5' | 'keras-archive' | 'savedmodel' | 'tfjs-layers' | 'json-config';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function readHead(file: string, length: number, offset = 0): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const buf = new Uint8Array(length);
    const n = readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

export function detectFormat(path: string): DetectedFormat {
  if (!existsSync(path)) throw new KerasInteropError('FILE_NOT_FOUND', 'no such file or folder', { file: path });
  const st = statSync(path);
  if (st.isDirectory()) {
    if (existsSync(join(path, 'saved_model.pb'))) return 'savedmodel';
    if (existsSync(join(path, 'model.json'))) return 'tfjs-layers';
    throw new KerasInteropError(
      'UNKNOWN_FORMAT',
      'folder is neither a SavedModel (saved_model.pb) nor a tfjs layers-model (model.json)',
      { file: path },
    );
  }
  // HDF5 allows a user block before the superblock: the signature may sit at 0, 512, 1024, ...
  for (let offset = 0; offset <= Math.min(st.size - 8, 1 << 20); offset = offset === 0 ? 512 : offset * 2) {
    if (startsWith(readHead(path, 8, offset), HDF5_MAGIC)) return 'hdf5';
  }
  const head = readHead(path, 64);
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'keras-archive';
  const text = new TextDecoder().decode(head).trimStart();
  if (text.startsWith('{')) {
    return /"format"\s*:\s*"layers-model"|"modelTopology"/.test(new TextDecoder().decode(readHead(path, 4096))) ? 'tfjs-layers' : 'json-config';
  }
  throw new KerasInteropError(
    'UNKNOWN_FORMAT',
    'not a Keras model file: expected HDF5 (.h5), a .keras zip archive, a SavedModel folder or a tfjs model.json',
    { file: path },
  );
}
