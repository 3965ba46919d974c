/** Keras 3 `.keras` archives: a zip of metadata.json, config.json and model.weights.h5. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KerasInteropError } from '../errors.js';
import type { JsonValue, KerasModel } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { DEFAULT_LIMITS, type H5Group, type WeightReads, closeStreamed, openH5 } from './h5.js';
import type { ReadOptions } from './hdf5.js';
import { parseJsonText } from './json.js';
import { readKeras3WeightsTree } from './keras3-weights.js';
import { DEFAULT_MAX_INFLATED_BYTES, unzipEntries } from './zip.js';
import { unzipFileEntries } from './zip-file.js';

const WANTED = new Set(['metadata.json', 'config.json', 'model.weights.h5', 'model.weights.npz']);

/**
 * HDF5 inside the archive goes to a private temporary file for h5wasm (whose Node build reads real
 * files). A stored `model.weights.h5`, as Keras writes it, is copied there straight from the archive in
 * chunks; other archives are read whole (`unzipEntries`), with the same checks and errors either way.
 * With `streamWeights` that file stays open (its folder too) until the model is closed.
 */
export async function readKerasArchive(file: string, opts: ReadOptions = {}): Promise<KerasModel> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const maxInflated = opts.limits?.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const size = statSync(file).size;
  if (size > maxInflated) {
    throw new KerasInteropError('LIMIT_EXCEEDED', `archive is larger than ${maxInflated} bytes (raise --max-inflated-bytes)`, { file });
  }
  const dir = mkdtempSync(join(tmpdir(), 'keras-interop-'));
  let streaming = false;
  try {
    const weightsPath = join(dir, 'weights.h5');
    const only = (n: string) => WANTED.has(n);
    const direct = unzipFileEntries(file, size, { maxInflatedBytes: maxInflated, only, toFile: (n) => (n === 'model.weights.h5' ? weightsPath : undefined) });
    const entries = direct?.entries ?? unzipEntries(readFileSync(file), file, { maxInflatedBytes: maxInflated, only });
    const hasWeights = direct ? direct.files.has('model.weights.h5') : entries.has('model.weights.h5');
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

    if (!hasWeights) {
      if (entries.has('model.weights.npz')) {
        throw new KerasInteropError('UNSUPPORTED_DTYPE', 'weights stored as model.weights.npz are not supported yet; re-save with the default .h5 weights', {
          file,
          place: 'model.weights.npz',
        });
      }
      throw new KerasInteropError('HDF5_MISSING', 'archive has no model.weights.h5', { file, place: 'model.weights.h5' });
    }
    if (!direct) {
      writeFileSync(weightsPath, entries.get('model.weights.h5')!);
      entries.delete('model.weights.h5');
    }
    const place = `${file}!model.weights.h5`;
    const h5 = await openH5(weightsPath, place);
    const reads: WeightReads = { used: 0, lazy: opts.streamWeights };
    let weights: KerasModel['weights'] | undefined;
    try {
      weights = readKeras3WeightsTree(h5 as unknown as H5Group, config, place, limits, reads);
    } finally {
      if (!weights || !opts.streamWeights) h5.close();
    }
    // Streaming: the weights file (and its folder) stay until the model is closed.
    streaming = !!opts.streamWeights;
    return {
      source: {
        format: 'keras3-archive',
        file,
        kerasVersion: typeof meta.keras_version === 'string' ? meta.keras_version : undefined,
        extras: { metadata, config_json: configText },
      },
      config,
      weights,
      ...(streaming ? { close: closeStreamed(h5, reads, () => rmSync(dir, { recursive: true, force: true })) } : {}),
    };
  } finally {
    if (!streaming) rmSync(dir, { recursive: true, force: true });
  }
}
