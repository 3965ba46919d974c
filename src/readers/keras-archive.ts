/** Keras 3 `.keras` archives: a zip of metadata.json, config.json and model.weights.h5. */
import { KerasInteropError } from '../errors.js';
import { type ByteSource, bytesSource, readAll } from './io/source.js';
import type { JsonValue, KerasModel } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { type StagedH5, platform } from './io/platform.js';
import { DEFAULT_LIMITS, type H5Group, type OpenH5, type WeightReads, closeStreamed, h5Ready, openStagedH5 } from './h5.js';
import type { ReadOptions } from './hdf5.js';
import { parseJsonText } from './json.js';
import { readKeras3WeightsTree } from './keras3-weights.js';
import { DEFAULT_MAX_INFLATED_BYTES, unzipEntries } from './zip.js';
import { unzipSourceEntries } from './zip-source.js';

const WANTED = new Set(['metadata.json', 'config.json', 'model.weights.h5', 'model.weights.npz']);

/**
 * The HDF5 inside the archive is staged for h5wasm (a private temporary file in Node, h5wasm's memory in
 * a page). A stored `model.weights.h5`, as Keras writes it, is staged straight from the archive in
 * chunks; other archives are read whole (`unzipEntries`), with the same checks and errors either way.
 * With `streamWeights` the staged copy stays until the model is closed. The caller still closes `src`.
 */
export async function readKerasArchive(src: ByteSource, opts: ReadOptions = {}): Promise<KerasModel> {
  const file = src.name;
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const maxInflated = opts.limits?.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const size = src.size;
  if (size > maxInflated) {
    throw new KerasInteropError('LIMIT_EXCEEDED', `archive is larger than ${maxInflated} bytes (raise --max-inflated-bytes)`, { file });
  }
  const host = platform();
  await h5Ready();
  let staged: StagedH5 | undefined;
  let weightsSource: ByteSource | undefined;
  let h5: OpenH5 | undefined;
  let streaming = false;
  try {
    const only = (n: string) => WANTED.has(n);
    const direct = unzipSourceEntries(
      src,
      {
        maxInflatedBytes: maxInflated,
        only,
        stage: (n) => (n === 'model.weights.h5' ? (entry, onChunk) => ({ entry, staged: host.stageH5(entry, onChunk) }) : undefined),
      },
      (s) => s.staged.release(),
    );
    const entries = direct?.entries ?? unzipEntries(readAll(src), file, { maxInflatedBytes: maxInflated, only });
    const stagedWeights = direct?.staged.get('model.weights.h5');
    staged = stagedWeights?.staged;
    weightsSource = stagedWeights?.entry;
    const hasWeights = direct ? stagedWeights !== undefined : entries.has('model.weights.h5');
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
    const place = `${file}!model.weights.h5`;
    if (!staged) {
      weightsSource = bytesSource(place, entries.get('model.weights.h5')!);
      entries.delete('model.weights.h5');
      staged = host.stageH5(weightsSource);
    }
    // From here the open file owns the staged copy (closing it releases the copy).
    const opening = staged;
    staged = undefined;
    h5 = await openStagedH5(opening, weightsSource!, place);
    const reads: WeightReads = { used: 0, lazy: opts.streamWeights };
    const weights = readKeras3WeightsTree(h5.file as unknown as H5Group, config, place, limits, reads);
    // Streaming: the weights file (its staged copy) stays until the model is closed.
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
      ...(streaming ? { close: closeStreamed(h5, reads) } : {}),
    };
  } finally {
    staged?.release();
    if (!streaming) h5?.close();
  }
}
