/** Which reader a file or folder needs, from its bytes and layout (never from its extension alone). */
import { KerasInteropError } from '../errors.js';
import { type ByteSource, type FileSet, type ModelSource, isFileSet } from '../io/source.js';

export type DetectedFormat = 'hdf5' | 'keras-archive' | 'savedmodel' | 'tfjs-layers' | 'json-config';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** A folder: a SavedModel (saved_model.pb) or a tfjs layers-model (model.json). */
export function detectFolderFormat(files: FileSet): DetectedFormat {
  if (files.stat('saved_model.pb')) return 'savedmodel';
  if (files.stat('model.json')) return 'tfjs-layers';
  throw new KerasInteropError(
    'UNKNOWN_FORMAT',
    'folder is neither a SavedModel (saved_model.pb) nor a tfjs layers-model (model.json)',
    { file: files.name },
  );
}

/** One file: HDF5, a zip archive (`.keras`), or JSON (a tfjs model.json or a config). */
export function detectFileFormat(src: ByteSource): DetectedFormat {
  // HDF5 allows a user block before the superblock: the signature may sit at 0, 512, 1024, ...
  for (let offset = 0; offset <= Math.min(src.size - 8, 1 << 20); offset = offset === 0 ? 512 : offset * 2) {
    if (startsWith(src.read(offset, 8), HDF5_MAGIC)) return 'hdf5';
  }
  const head = src.read(0, 64);
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'keras-archive';
  const text = new TextDecoder().decode(head).trimStart();
  if (text.startsWith('{')) {
    return /"format"\s*:\s*"layers-model"|"modelTopology"/.test(new TextDecoder().decode(src.read(0, 4096))) ? 'tfjs-layers' : 'json-config';
  }
  throw new KerasInteropError(
    'UNKNOWN_FORMAT',
    'not a Keras model file: expected HDF5 (.h5), a .keras zip archive, a SavedModel folder or a tfjs model.json',
    { file: src.name },
  );
}

export function detectSourceFormat(input: ModelSource): DetectedFormat {
  return isFileSet(input) ? detectFolderFormat(input) : detectFileFormat(input);
}
