/** Which reader a file or folder needs, from its bytes and layout (never from its extension alone). */
import { KerasInteropError } from '../errors.js';
import { type ByteSource, type FileSet, type ModelSource, isFileSet } from './io/source.js';

export type DetectedFormat = 'hdf5' | 'keras-archive' | 'savedmodel' | 'tfjs-layers' | 'json-config' | 'onnx';

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** ModelProto field numbers with length-delimited values (producer, domain, doc, graph, opsets, metadata, ...). */
const ONNX_LEN_FIELDS = new Set([2, 3, 4, 6, 7, 8, 14, 20, 25]);

/**
 * An ONNX ModelProto as every writer starts it: field 1 (ir_version, a small varint), then another
 * ModelProto field (model_version as a varint, or a length-delimited one).
 */
function looksLikeOnnx(head: Uint8Array): boolean {
  if (head.length < 4 || head[0] !== 0x08 || head[1] < 1 || head[1] > 30) return false;
  const field = head[2] >> 3;
  const wire = head[2] & 7;
  return (wire === 2 && ONNX_LEN_FIELDS.has(field)) || (wire === 0 && field === 5);
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

/** One file: HDF5, a zip archive (`.keras`), JSON (a tfjs model.json or a config), or an ONNX model. */
export function detectFileFormat(src: ByteSource): DetectedFormat {
  // HDF5 allows a user block before the superblock: the signature may sit at 0, 512, 1024, ...
  for (let offset = 0; offset <= Math.min(src.size - 8, 1 << 20); offset = offset === 0 ? 512 : offset * 2) {
    if (startsWith(src.read(offset, 8), HDF5_MAGIC)) return 'hdf5';
  }
  const head = src.read(0, 64);
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'keras-archive';
  if (looksLikeOnnx(head)) return 'onnx';
  const text = new TextDecoder().decode(head).trimStart();
  if (text.startsWith('{')) {
    return /"format"\s*:\s*"layers-model"|"modelTopology"/.test(new TextDecoder().decode(src.read(0, 4096))) ? 'tfjs-layers' : 'json-config';
  }
  throw new KerasInteropError(
    'UNKNOWN_FORMAT',
    'not a Keras model file: expected HDF5 (.h5), a .keras zip archive, a SavedModel folder, a tfjs model.json or an ONNX model',
    { file: src.name },
  );
}

export function detectSourceFormat(input: ModelSource): DetectedFormat {
  return isFileSet(input) ? detectFolderFormat(input) : detectFileFormat(input);
}
