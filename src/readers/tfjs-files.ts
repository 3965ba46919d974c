/** A tfjs model folder as files: reads `model.json` and the shards its manifest names from a file set. */
import { KerasInteropError } from '../errors.js';
import { type FileSet, readFileOf } from './io/source.js';
import type { KerasModel } from '../model/types.js';
import type { ReadOptions } from './hdf5.js';
import { TFJS_DEFAULT_LIMITS, parseTfjsModelJson, readTfjsFiles } from './tfjs.js';

/** A model.json of a few hundred MiB is a broken or hostile file, not a model. */
const MAX_MODEL_JSON_BYTES = 256 * 1024 * 1024;

export interface TfjsFolderOptions extends ReadOptions {
  /** The model.json's path in the file set (default `model.json`). */
  modelJson?: string;
  /** What most errors call the model (default: the file set's name). */
  label?: string;
  /** What errors about model.json itself call it (default: its label in the file set). */
  modelJsonLabel?: string;
}

/** Reads a tfjs layers-model from its folder's files; shards are looked up next to model.json. */
export async function readTfjsFolder(files: FileSet, opts: TfjsFolderOptions = {}): Promise<KerasModel> {
  const label = opts.label ?? files.name;
  const jsonName = opts.modelJson ?? 'model.json';
  const folder = jsonName.includes('/') ? jsonName.slice(0, jsonName.lastIndexOf('/') + 1) : '';
  const jsonStat = files.stat(jsonName);
  if (jsonStat?.kind !== 'file') throw new KerasInteropError('TFJS_INVALID', 'the folder has no model.json', { file: label });
  if (jsonStat.size > MAX_MODEL_JSON_BYTES) {
    throw new KerasInteropError('LIMIT_EXCEEDED', `model.json is ${jsonStat.size} bytes, over the ${MAX_MODEL_JSON_BYTES}-byte limit`, { file: opts.modelJsonLabel ?? files.label(jsonName) });
  }
  const jsonBytes = readFileOf(files, jsonName);
  const parsed = parseTfjsModelJson(jsonBytes, label, opts.maxConfigDepth);
  const maxTotal = opts.limits?.maxTotalBytes ?? TFJS_DEFAULT_LIMITS.maxTotalBytes;

  const shardFiles = new Map<string, Uint8Array>([['model.json', jsonBytes]]);
  let total = 0;
  for (const [gi, group] of parsed.groups.entries()) {
    for (const [pi, shard] of group.paths.entries()) {
      if (shardFiles.has(shard)) continue;
      // Manifest paths are normalized (parseTfjsModelJson): plain names inside the folder, never `..`.
      const st = files.stat(folder + shard);
      if (st?.kind !== 'file') {
        throw new KerasInteropError('TFJS_INVALID', `shard file "${shard}" named by the manifest is missing`, { file: label, place: `/weightsManifest/${gi}/paths/${pi}` });
      }
      total += st.size;
      if (total > maxTotal) {
        throw new KerasInteropError('LIMIT_EXCEEDED', `the shard files hold over ${maxTotal} bytes`, { file: label, place: `/weightsManifest/${gi}/paths/${pi}` });
      }
      shardFiles.set(shard, readFileOf(files, folder + shard));
    }
  }
  // opts.config pairs weights-only files with a config; a tfjs folder always has its own.
  return readTfjsFiles(shardFiles, { file: label, limits: opts.limits, maxConfigDepth: opts.maxConfigDepth });
}
