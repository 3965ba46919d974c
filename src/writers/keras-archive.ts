/**
 * Keras 3 `.keras` archives: a zip with `metadata.json`, `config.json` and `model.weights.h5`, members
 * stored uncompressed, in that order, as Keras's `saving_lib` writes them (the two JSON members with
 * the 1980-01-01 timestamp `ZipFile.open(..., "w")` gives them).
 */
import { KerasInteropError } from '../errors.js';
import type { JsonObject, JsonValue, KerasModel } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { inferOutputShapes, toKeras3Config } from '../runtime/dialect.js';
import { upgradeLegacyLayers } from '../runtime/legacy-layers.js';
import { isLegacyH5Form, legacyH5ToArchiveConfig } from '../runtime/dialect-archive.js';
import { H5Group, serializeH5Parts } from './h5-builder.js';
import { DEFAULT_KERAS3_VERSION, modelGeneration } from './hdf5.js';
import { buildKeras3WeightsTree } from './keras3-weights.js';
import { type Part, type Patch, concatParts } from './parts.js';
import { jsonTextFor, pythonJsonDumps } from './py-json.js';
import { storedZipParts } from './zip.js';

export interface WriteKerasArchiveOptions {
  /** `metadata.json`'s `keras_version`; default: the source's Keras 3 version, else 3.16.0. */
  kerasVersion?: string;
  /** `metadata.json`'s `date_saved`; default: now. */
  dateSaved?: Date | string;
}

/** Python's `datetime.now().strftime("%Y-%m-%d@%H:%M:%S")`. */
export function kerasDateSaved(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}@${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * The Keras 3 config to store, as Keras 3 writes it into an archive: the model's own when it came from
 * one, a Keras 3 legacy `.h5` config with its wrappers put back, else the Keras 3 form of a tf.keras 2 one.
 */
async function keras3Config(model: KerasModel): Promise<JsonObject> {
  if (!model.config) {
    throw new KerasInteropError('USAGE', 'a .keras archive needs the model config; this model has weights only (pass --config)', {
      file: model.source.file,
    });
  }
  let config: JsonObject;
  if (modelGeneration(model) === 'keras3') {
    if (!isLegacyH5Form(model.config)) return model.config;
    // A Sequential's layers record their input shapes in build_config; only the graph knows them.
    const outputShapes = model.config.class_name === 'Sequential' ? await inferOutputShapes(model.config) : undefined;
    config = legacyH5ToArchiveConfig(model.config, { outputShapes, file: model.source.file });
  } else {
    // Keras 3 records every call argument's shape; the graph tfjs builds for the model knows them.
    config = toKeras3Config(model.config, { outputShapes: await inferOutputShapes(model.config), file: model.source.file, kerasVersion: model.source.kerasVersion });
  }
  // Keras writes the model's compile config ({} for a model not compiled); the archive holds no training state.
  return { ...config, compile_config: {} };
}

function metadataFor(model: KerasModel, opts: WriteKerasArchiveOptions): JsonObject {
  const source = model.source.extras.metadata;
  const meta: { [k: string]: JsonValue } = isJsonObject(source) ? { ...source } : {};
  const sourceVersion = model.source.kerasVersion;
  const version =
    opts.kerasVersion ??
    (sourceVersion && /^\d+\./.test(sourceVersion) && Number.parseInt(sourceVersion, 10) >= 3 ? sourceVersion : DEFAULT_KERAS3_VERSION);
  const date = opts.dateSaved === undefined ? new Date() : opts.dateSaved;
  // keras_version first, date_saved second, as Keras writes them; other keys after.
  const { keras_version: _v, date_saved: _d, ...rest } = meta;
  void _v;
  void _d;
  return { keras_version: version, date_saved: typeof date === 'string' ? date : kerasDateSaved(date), ...rest };
}

/** The `model.weights.h5` member: Keras 3's object-tree layout (weights made as they are written). */
export function writeKeras3WeightsParts(model: KerasModel, kerasVersion?: string): Part[] {
  const root = new H5Group();
  buildKeras3WeightsTree(model, root, { kerasVersion });
  return serializeH5Parts(root);
}

export function writeKeras3WeightsBytes(model: KerasModel, kerasVersion?: string): Uint8Array {
  return concatParts(writeKeras3WeightsParts(model, kerasVersion));
}

/**
 * A `.keras` archive as parts, and the patches to write after them (the weights member's CRC-32 is
 * known once its bytes, made as they are written, have been): see `writeFileAtomic`.
 */
export async function writeKerasArchiveParts(model: KerasModel, opts: WriteKerasArchiveOptions = {}): Promise<{ parts: Part[]; patches: () => Patch[] }> {
  // Keras 3 has no CuDNN classes: the archive holds the layers Keras 3 loads them as.
  model = upgradeLegacyLayers(model);
  const config = await keras3Config(model);
  const enc = new TextEncoder();
  const meta = metadataFor(model, opts);
  const metadata = enc.encode(pythonJsonDumps(meta));
  const configBytes = enc.encode(config === model.config ? jsonTextFor(config, model.source.extras.config_json) : pythonJsonDumps(config));
  const weights = writeKeras3WeightsParts({ ...model, config }, String(meta.keras_version));
  const epoch = new Date(1980, 0, 1, 0, 0, 0);
  const member = { os: 3, attrs: 0o600 << 16 };
  return storedZipParts([
    { ...member, name: 'metadata.json', parts: [metadata], mtime: epoch },
    { ...member, name: 'config.json', parts: [configBytes], mtime: epoch },
    { ...member, name: 'model.weights.h5', parts: weights, mtime: new Date() },
  ]);
}

/** A `.keras` archive, as zip bytes. */
export async function writeKerasArchive(model: KerasModel, opts: WriteKerasArchiveOptions = {}): Promise<Uint8Array> {
  const { parts, patches } = await writeKerasArchiveParts(model, opts);
  return concatParts(parts, patches);
}
