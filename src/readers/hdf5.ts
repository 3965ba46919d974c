/**
 * Keras HDF5 files: tf.keras 2 / Keras 2 full models (`model.save('m.h5')`), Keras 3 legacy `.h5`,
 * tf.keras 2 `save_weights` files, and Keras 3 `.weights.h5` (object-tree layout).
 */
import { KerasInteropError } from '../errors.js';
import type { ByteSource } from './io/source.js';
import type { JsonObject, JsonValue, KerasModel, LayerWeights, SourceFormat } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import {
  DEFAULT_LIMITS,
  closeStreamed,
  type H5File,
  type H5Group,
  type OpenH5,
  type ReadLimits,
  getGroup,
  getMember,
  isDataset,
  joinPath,
  openH5Source,
  readStringAttr,
  readStringListAttr,
  readWeight,
  stringListKind,
  type WeightReads,
} from './h5.js';
import { readKeras3WeightsTree } from './keras3-weights.js';
import { parseJsonText } from './json.js';

export interface ReadOptions {
  /** The config to pair with a weights-only file: a full `{class_name, config}` object. */
  config?: JsonObject;
  limits?: Partial<ReadLimits>;
  /** Deepest nesting accepted in a JSON config. */
  maxConfigDepth?: number;
  /**
   * Keep HDF5 sources (`.h5`, `.keras`) open and read each weight's values when they are asked for
   * (`lazyWeight`), so a conversion holds one tensor at a time; the caller must `close()` the model.
   * Other formats read their weights as usual (their `close` is absent).
   */
  streamWeights?: boolean;
}

/** Reads a Keras HDF5 file; errors name it by `src.name`. The caller still closes `src`. */
export async function readHdf5(src: ByteSource, opts: ReadOptions = {}): Promise<KerasModel> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const h5: OpenH5 = await openH5Source(src);
  const reads: WeightReads = { used: 0, lazy: opts.streamWeights };
  let model: KerasModel | undefined;
  try {
    model = readOpen(h5.file, src.name, opts, limits, reads);
  } finally {
    if (!model || !opts.streamWeights) h5.close();
  }
  if (opts.streamWeights) model.close = closeStreamed(h5, reads);
  return model;
}

function readOpen(h5: H5File, file: string, opts: ReadOptions, limits: ReadLimits, reads: WeightReads): KerasModel {
  const root = h5 as unknown as H5Group;
  const kerasVersion = readStringAttr(root, 'keras_version', file);
  const backend = readStringAttr(root, 'backend', file);
  const modelConfigText = readStringAttr(root, 'model_config', file);
  const modelWeights = getGroup(root, 'model_weights', file);

  if (modelConfigText !== undefined || modelWeights) {
    if (modelConfigText === undefined) {
      throw new KerasInteropError('CONFIG_MISSING', 'file has model_weights but no model_config attribute', { file, place: '/' });
    }
    if (!modelWeights) {
      throw new KerasInteropError('HDF5_MISSING', 'full-model file has no model_weights group', { file, place: '/model_weights' });
    }
    const config = parseJsonText(modelConfigText, file, '/@model_config', opts.maxConfigDepth);
    if (!isJsonObject(config)) {
      throw new KerasInteropError('CONFIG_INVALID', 'model_config should be a JSON object', { file, place: '/@model_config' });
    }
    // The raw text too, so that a same-format round trip writes it back byte for byte.
    const extras: Record<string, JsonValue> = { model_config: modelConfigText };
    const trainingConfig = readStringAttr(root, 'training_config', file);
    if (trainingConfig !== undefined) extras.training_config = trainingConfig;
    const weightsKerasVersion = readStringAttr(modelWeights, 'keras_version', file);
    const weightsBackend = readStringAttr(modelWeights, 'backend', file);
    if (weightsKerasVersion !== undefined) extras.model_weights_keras_version = weightsKerasVersion;
    if (weightsBackend !== undefined) extras.model_weights_backend = weightsBackend;
    const nameLists = stringListKind(modelWeights, 'layer_names', file);
    if (nameLists !== undefined) extras.name_lists = nameLists;
    const version = kerasVersion ?? weightsKerasVersion;
    const format: SourceFormat = isKeras3(version, config) ? 'keras3-h5' : 'keras2-h5';
    return {
      source: { format, file, kerasVersion: version, backend: backend ?? weightsBackend, extras },
      config,
      weights: readLegacyWeights(modelWeights, '/model_weights', file, limits, reads),
    };
  }

  const layerNames = readStringListAttr(root, 'layer_names', file);
  if (layerNames !== undefined) {
    // tf.keras 2 save_weights: layer groups at the root.
    return {
      source: { format: 'weights-h5', file, kerasVersion, backend, extras: { layout: 'legacy' } },
      config: opts.config ?? null,
      weights: readLegacyWeights(root, '/', file, limits, reads),
    };
  }

  if (getGroup(root, 'layers', file) || getGroup(root, 'vars', file)) {
    return {
      source: { format: 'weights-h5', file, kerasVersion, backend, extras: { layout: 'keras3' } },
      config: opts.config ?? null,
      weights: readKeras3WeightsTree(root, opts.config ?? null, file, limits, reads),
    };
  }

  throw new KerasInteropError(
    'UNKNOWN_FORMAT',
    'HDF5 file is not a Keras model: expected a model_config attribute, a layer_names attribute, or a layers/ group',
    { file, place: '/' },
  );
}

function isKeras3(version: string | undefined, config: JsonObject): boolean {
  if (version) return Number.parseInt(version, 10) >= 3;
  // No version: Keras 3 configs carry `module` keys on every object.
  const inner = config.config;
  return isJsonObject(inner) && Array.isArray(inner.layers) && inner.layers.some((l) => isJsonObject(l) && 'module' in l);
}

/** The legacy layout shared by full-model files and tf.keras 2 `save_weights` files. */
export function readLegacyWeights(group: H5Group, groupPath: string, file: string, limits: ReadLimits, reads: WeightReads = { used: 0 }): LayerWeights[] {
  const layerNames = readStringListAttr(group, 'layer_names', file);
  if (layerNames === undefined) {
    throw new KerasInteropError('HDF5_MISSING', 'expected a layer_names attribute listing the layers', { file, place: groupPath });
  }
  return layerNames.map((layer) => {
    const place = joinPath(groupPath, layer);
    const g = getGroup(group, layer, file);
    if (!g) {
      throw new KerasInteropError('HDF5_MISSING', `layer "${layer}" is listed in layer_names but has no group`, { file, place });
    }
    const names = readStringListAttr(g, 'weight_names', file) ?? [];
    const weights = names.map((name) => {
      const ds = getMember(g, name, file);
      if (!isDataset(ds)) {
        throw new KerasInteropError('HDF5_MISSING', `weight "${name}" is listed in weight_names but has no dataset`, {
          file,
          place: joinPath(place, name),
        });
      }
      return readWeight(ds, name, file, limits, reads);
    });
    return { layer, weights };
  });
}
