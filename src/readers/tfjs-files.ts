/** The Node side of the tfjs reader: reads `model.json` and the shards its manifest names from a folder. */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { KerasInteropError } from '../errors.js';
import type { KerasModel } from '../model/types.js';
import type { ReadOptions } from './hdf5.js';
import { TFJS_DEFAULT_LIMITS, parseTfjsModelJson, readTfjsFiles } from './tfjs.js';

/** A model.json of a few hundred MiB is a broken or hostile file, not a model. */
const MAX_MODEL_JSON_BYTES = 256 * 1024 * 1024;

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** `path`: the model folder, or its `model.json`. */
export async function readTfjs(path: string, opts: ReadOptions = {}): Promise<KerasModel> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new KerasInteropError('FILE_NOT_FOUND', 'no such file or folder', { file: path });
  const jsonPath = st.isDirectory() ? join(path, 'model.json') : path;
  const folder = resolve(dirname(jsonPath));
  const jsonSize = await sizeOf(jsonPath);
  if (jsonSize === undefined) throw new KerasInteropError('TFJS_INVALID', 'the folder has no model.json', { file: path });
  if (jsonSize > MAX_MODEL_JSON_BYTES) {
    throw new KerasInteropError('LIMIT_EXCEEDED', `model.json is ${jsonSize} bytes, over the ${MAX_MODEL_JSON_BYTES}-byte limit`, { file: jsonPath });
  }
  const jsonBytes = new Uint8Array(await readFile(jsonPath));
  const parsed = parseTfjsModelJson(jsonBytes, path, opts.maxConfigDepth);
  const maxTotal = opts.limits?.maxTotalBytes ?? TFJS_DEFAULT_LIMITS.maxTotalBytes;

  const files = new Map<string, Uint8Array>([['model.json', jsonBytes]]);
  let total = 0;
  for (const [gi, group] of parsed.groups.entries()) {
    for (const [pi, shard] of group.paths.entries()) {
      if (files.has(shard)) continue;
      const full = resolve(folder, shard);
      const rel = relative(folder, full);
      if (rel.startsWith('..') || rel.split(sep).includes('..')) {
        throw new KerasInteropError('TFJS_INVALID', `shard path "${shard}" leads outside the model folder`, { file: path, place: `/weightsManifest/${gi}/paths/${pi}` });
      }
      const size = await sizeOf(full);
      if (size === undefined) {
        throw new KerasInteropError('TFJS_INVALID', `shard file "${shard}" named by the manifest is missing`, { file: path, place: `/weightsManifest/${gi}/paths/${pi}` });
      }
      total += size;
      if (total > maxTotal) {
        throw new KerasInteropError('LIMIT_EXCEEDED', `the shard files hold over ${maxTotal} bytes`, { file: path, place: `/weightsManifest/${gi}/paths/${pi}` });
      }
      files.set(shard, new Uint8Array(await readFile(full)));
    }
  }
  // opts.config pairs weights-only files with a config; a tfjs folder always has its own.
  return readTfjsFiles(files, { file: path, limits: opts.limits, maxConfigDepth: opts.maxConfigDepth });
}
