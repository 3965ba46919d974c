/** Reads any supported model file or folder into a KerasModel: Node's path API over the readers on bytes. */
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { KerasInteropError } from '../errors.js';
import { fileSource, nodeFolder } from './io/node.js';
import { type ModelSource, isFileSet } from './io/source.js';
import type { JsonObject, KerasModel } from '../model/types.js';
import { type DetectedFormat, detectSourceFormat } from './detect.js';
import { type ReadOptions, readConfigFrom, readModelSource } from './sources.js';
import { readTfjsFolder } from './tfjs-files.js';

export type { ReadOptions } from './hdf5.js';

/** A path as a source: a folder's files or a file's bytes (FILE_NOT_FOUND when it is neither). */
export function openPath(path: string): ModelSource {
  let folder: boolean;
  try {
    folder = statSync(path).isDirectory();
  } catch {
    throw new KerasInteropError('FILE_NOT_FOUND', 'no such file or folder', { file: path });
  }
  return folder ? nodeFolder(path) : fileSource(path);
}

/** Runs `fn` on the source of `path`, closing it after. */
async function withPath<T>(path: string, fn: (input: ModelSource) => T | Promise<T>): Promise<T> {
  const input = openPath(path);
  try {
    return await fn(input);
  } finally {
    if (!isFileSet(input)) input.close?.();
  }
}

export function detectFormat(path: string): DetectedFormat {
  const input = openPath(path);
  try {
    return detectSourceFormat(input);
  } finally {
    if (!isFileSet(input)) input.close?.();
  }
}

/** A tfjs model given as its model.json: the shards are next to it. */
function readTfjsJsonFile(path: string, opts: ReadOptions): Promise<KerasModel> {
  return readTfjsFolder(nodeFolder(dirname(path)), { ...opts, modelJson: basename(path), label: path, modelJsonLabel: path });
}

/** `path`: the model folder, or its `model.json`. */
export async function readTfjs(path: string, opts: ReadOptions = {}): Promise<KerasModel> {
  return withPath(path, (input) => (isFileSet(input) ? readTfjsFolder(input, opts) : readTfjsJsonFile(path, opts)));
}

/** A SavedModel folder. */
export async function readSavedModel(dir: string, opts: ReadOptions = {}): Promise<KerasModel> {
  return (await import('./savedmodel/index.js')).readSavedModel(nodeFolder(dir), opts);
}

function readOpened(path: string, input: ModelSource, opts: ReadOptions): Promise<KerasModel> {
  return readModelSource(input, opts, detectSourceFormat(input), () => readTfjsJsonFile(path, opts));
}

export async function readModel(path: string, opts: ReadOptions = {}): Promise<KerasModel> {
  return withPath(path, (input) => readOpened(path, input, opts));
}

/**
 * The config to pair with a weights-only file: a model file (its config is used), or a JSON file
 * holding `{class_name, config}` (or a Keras `model.to_json()` / archive `config.json`).
 */
export async function readConfigSource(path: string, opts: Pick<ReadOptions, 'limits' | 'maxConfigDepth'> = {}): Promise<JsonObject> {
  return withPath(path, (input) => readConfigFrom(input, opts, (same, o) => readOpened(path, same, o)));
}
