/** Which reader a file or folder needs, from its bytes and layout (never from its extension alone). */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KerasInteropError } from '../errors.js';

export type DetectedFormat = 'hdf5' | 'keras-archive' | 'savedmodel' | 'tfjs-layers' | 'json-config' | 'onnx';

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
  if (looksLikeOnnx(head)) return 'onnx';
  const text = new TextDecoder().decode(head).trimStart();
  if (text.startsWith('{')) {
    return /"format"\s*:\s*"layers-model"|"modelTopology"/.test(new TextDecoder().decode(readHead(path, 4096))) ? 'tfjs-layers' : 'json-config';
  }
  throw new KerasInteropError(
    'UNKNOWN_FORMAT',
    'not a Keras model file: expected HDF5 (.h5), a .keras zip archive, a SavedModel folder, a tfjs model.json or an ONNX model',
    { file: path },
  );
}
