/** Keras 3 `.keras` archives: a zip of metadata.json, config.json and model.weights.h5. */
import { readFileSync, statSync } from 'node:fs';
import { KerasInteropError } from '../errors.js';
import type { JsonValue, KerasModel } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { DEFAULT_LIMITS, type H5Group, withH5Bytes } from './h5.js';
import type { ReadOptions } from './hdf5.js';
import { parseJsonText } from './json.js';
import { readKeras3WeightsTree } from './keras3-weights.js';
import { DEFAULT_MAX_INFLATED_BYTES, unzipEntries } from './zip.js';

const WANTED = new Set(['metadata.json', 'config.json', 'model.weights.h5', 'model.weights.npz']);

export async function readKerasArchive(file: string, opts: ReadOptions = {}): Promise<KerasModel> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const maxInflated = opts.limits?.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  if (statSync(file).size > maxInflated) {
    throw new KerasInteropError('LIMIT_EXCEEDED', `archive is larger than ${maxInflated} bytes (raise --max-inflated-bytes)`, { file });
  }
  const entries = unzipEntries(readFileSync(file), file, { maxInflatedBytes: maxInflated, only: (n) => WANTED.has(n) });
  const text = (name: string) => new TextDecoder().decode(entries.get(name));

  if (!entries.has('config.json')) {
    throw new KerasInteropError('CONFIG_MISSING', 'archive has no config.json', { file, place: 'config.json' });
  }
  const configText = text('config.json');
  const config = parseJsonText(configText, file, 'config.json', opts.maxConfigDepth);
  if (!isJsonObject(config) || typeof config.class_name !== 'string') {
    throw new KerasInteropError('CONFIG_INVALID', 'config.json should be an object with "class_name" and "config"', {
      file,
      place: 'config.json',
    });
  }
  let metadata: JsonValue = null;
  if (entries.has('metadata.json')) metadata = parseJsonText(text('metadata.json'), file, 'metadata.json', opts.maxConfigDepth);
  const meta = isJsonObject(metadata) ? metadata : {};

  const weightsBytes = entries.get('model.weights.h5');
  if (!weightsBytes) {
    if (entries.has('model.weights.npz')) {
      throw new KerasInteropError('UNSUPPORTED_DTYPE', 'weights stored as model.weights.npz are not supported yet; re-save with the default .h5 weights', {
        file,
        place: 'model.weights.npz',
      });
    }
    throw new KerasInteropError('HDF5_MISSING', 'archive has no model.weights.h5', { file, place: 'model.weights.h5' });
  }
  const place = `${file}!model.weights.h5`;
  const weights = await withH5Bytes(weightsBytes, place, (h5) =>
    readKeras3WeightsTree(h5 as unknown as H5Group, config, place, limits),
  );
  return {
    source: {
      format: 'keras3-archive',
      file,
      kerasVersion: typeof meta.keras_version === 'string' ? meta.keras_version : undefined,
      extras: { metadata, config_json: configText },
    },
    config,
    weights,
  };
}
