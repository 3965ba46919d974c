/**
 * Reading any supported model from its bytes: one file (`ByteSource`) or a folder's files (`FileSet`).
 * The same readers serve Node's path API (readers/index.ts) and the page (keras-interop/browser).
 */
import { KerasInteropError } from '../errors.js';
import { type ByteSource, type FileSet, type ModelSource, isFileSet, memoryFiles, readAll } from './io/source.js';
import type { JsonObject, KerasModel } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { type DetectedFormat, detectSourceFormat } from './detect.js';
import { type ReadOptions, readHdf5 } from './hdf5.js';
import { parseJsonText } from './json.js';
import { readKerasArchive } from './keras-archive.js';
import { readTfjsFolder } from './tfjs-files.js';

export type { ReadOptions } from './hdf5.js';

/** How to read a tfjs model.json that came as a single file (Node reads its folder). */
export type TfjsFileReader = (src: ByteSource, opts: ReadOptions) => Promise<KerasModel>;

/** A lone model.json: its shards can only be in a folder, which a page does not have. */
const loneModelJson: TfjsFileReader = (src, opts) =>
  readTfjsFolder(memoryFiles('', new Map([['model.json', readAll(src)]])), { ...opts, label: src.name });

/**
 * Reads a model from a file's bytes or a folder's files. `format` skips detection (a caller that
 * detected already). The caller still closes a file source.
 */
export async function readModelSource(
  input: ModelSource,
  opts: ReadOptions = {},
  format: DetectedFormat = detectSourceFormat(input),
  readTfjsFile: TfjsFileReader = loneModelJson,
): Promise<KerasModel> {
  const name = input.name;
  if (isFileSet(input)) {
    // Loaded when needed: the protobuf schema costs start-up time that the other formats do not need.
    if (format === 'savedmodel') return (await import('./savedmodel/index.js')).readSavedModel(input, opts);
    if (format === 'tfjs-layers') return readTfjsFolder(input, opts);
  } else {
    switch (format) {
      case 'hdf5':
        return readHdf5(input, opts);
      case 'keras-archive':
        return readKerasArchive(input, opts);
      case 'tfjs-layers':
        return readTfjsFile(input, opts);
      case 'onnx':
        throw new KerasInteropError('UNKNOWN_FORMAT', 'this is an ONNX model, not a Keras one: inspect, predict and verify run it on onnxruntime; it cannot be converted', { file: name });
      case 'json-config':
        throw new KerasInteropError('UNKNOWN_FORMAT', 'this JSON file holds a config but no weights; pass it with --config next to a weights file', { file: name });
    }
  }
  throw new KerasInteropError('UNKNOWN_FORMAT', `reading ${format} is not supported yet`, { file: name });
}

/**
 * The config to pair with a weights-only file: a model's (its config is used), or a JSON file holding
 * `{class_name, config}` (or a Keras `model.to_json()` / archive `config.json`).
 */
export async function readConfigFrom(
  input: ModelSource,
  opts: Pick<ReadOptions, 'limits' | 'maxConfigDepth'> = {},
  readModel: (input: ModelSource, opts: ReadOptions) => Promise<KerasModel> = readModelSource,
): Promise<JsonObject> {
  const name = input.name;
  if (!isFileSet(input) && detectSourceFormat(input) === 'json-config') {
    // The BOM stays (as Node's utf8 decoding keeps it), so such a file is refused as before.
    const value = parseJsonText(new TextDecoder('utf-8', { ignoreBOM: true }).decode(readAll(input)), name, '/', opts.maxConfigDepth);
    if (!isJsonObject(value) || typeof value.class_name !== 'string') {
      throw new KerasInteropError('CONFIG_INVALID', 'expected a JSON object with "class_name" and "config"', { file: name, place: '/' });
    }
    return value;
  }
  const model = await readModel(input, { limits: opts.limits, maxConfigDepth: opts.maxConfigDepth });
  if (!model.config) {
    throw new KerasInteropError('CONFIG_MISSING', 'this file holds weights only; --config needs a file that has the model config', { file: name });
  }
  return model.config;
}

export type { ByteSource, FileSet, ModelSource };
