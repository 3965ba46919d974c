/** Reads any supported model file or folder into a KerasModel. */
import { readFileSync } from 'node:fs';
import { KerasInteropError } from '../errors.js';
import type { JsonObject, KerasModel } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { detectFormat } from './detect.js';
import { type ReadOptions, readHdf5 } from './hdf5.js';
import { parseJsonText } from './json.js';
import { readKerasArchive } from './keras-archive.js';
import { readTfjs } from './tfjs-files.js';

export type { ReadOptions } from './hdf5.js';
export { detectFormat } from './detect.js';

export async function readModel(path: string, opts: ReadOptions = {}): Promise<KerasModel> {
  const format = detectFormat(path);
  switch (format) {
    case 'hdf5':
      return readHdf5(path, opts);
    case 'keras-archive':
      return readKerasArchive(path, opts);
    case 'savedmodel':
      return (await import('./savedmodel/index.js')).readSavedModel(path, opts);
    case 'tfjs-layers':
      return readTfjs(path, opts);
    case 'onnx':
      throw new KerasInteropError('UNKNOWN_FORMAT', 'this is an ONNX model, not a Keras one: inspect, predict and verify run it on onnxruntime; it cannot be converted', { file: path });
    case 'json-config':
      throw new KerasInteropError('UNKNOWN_FORMAT', 'this JSON file holds a config but no weights; pass it with --config next to a weights file', { file: path });
    default:
      throw new KerasInteropError('UNKNOWN_FORMAT', `reading ${format} is not supported yet`, { file: path });
  }
}

/**
 * The config to pair with a weights-only file: a model file (its config is used), or a JSON file
 * holding `{class_name, config}` (or a Keras `model.to_json()` / archive `config.json`).
 */
export async function readConfigSource(path: string, opts: Pick<ReadOptions, 'limits' | 'maxConfigDepth'> = {}): Promise<JsonObject> {
  const format = detectFormat(path);
  if (format === 'json-config') {
    const value = parseJsonText(readFileSync(path, 'utf8'), path, '/', opts.maxConfigDepth);
    if (!isJsonObject(value) || typeof value.class_name !== 'string') {
      throw new KerasInteropError('CONFIG_INVALID', 'expected a JSON object with "class_name" and "config"', { file: path, place: '/' });
    }
    return value;
  }
  const model = await readModel(path, { limits: opts.limits, maxConfigDepth: opts.maxConfigDepth });
  if (!model.config) {
    throw new KerasInteropError('CONFIG_MISSING', 'this file holds weights only; --config needs a file that has the model config', { file: path });
  }
  return model.config;
}
