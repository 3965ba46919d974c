/**
 * Keras HDF5 files from a KerasModel:
 *  - full models (`model.save('m.h5')`) in the layout of the model's generation: tf.keras 2 for
 *    tf.keras 2 configs, Keras 3's legacy layout for Keras 3 configs;
 *  - weights only: tf.keras 2's `save_weights('w.h5')` layout, or Keras 3's `.weights.h5` object tree.
 *
 * Attributes are written as Keras (through h5py >= 3) writes them: `keras_version` and `backend` at
 * the root as variable-length UTF-8 strings (Python `str`), JSON and the `model_weights` attributes
 * as variable-length ASCII (Python `bytes`), name lists as variable-length ASCII arrays (or, with
 * `fixedLengthStrings`, as the fixed-length null-padded arrays of h5py 2 files), an empty name list
 * as a zero-length float64 array, lists over 64512 bytes split into `name0`, `name1`, ... exactly as
 * Keras's `save_attributes_to_hdf5_group` splits them.
 */
import { KerasInteropError } from '../errors.js';
import type { JsonObject, JsonValue, KerasModel, LayerWeights } from '../model/types.js';
import { isJsonObject, weightValues } from '../model/types.js';
import { layerName } from '../model/config.js';
import { type KerasGeneration, kerasWeightNames, treeLayers } from '../model/weight-names.js';
import { configGeneration } from '../runtime/config-generation.js';
import { toKeras2Config, toKeras3Config } from '../runtime/dialect.js';
import { upgradeLegacyLayers } from '../runtime/legacy-layers.js';
import { H5Group, serializeH5, serializeH5Parts } from './h5-builder.js';
import { buildKeras3WeightsTree } from './keras3-weights.js';
import { jsonTextFor, pythonJsonDumps } from './py-json.js';

/** Keras's `HDF5_OBJECT_HEADER_LIMIT`. */
export const HDF5_OBJECT_HEADER_LIMIT = 64512;

export const DEFAULT_KERAS2_VERSION = '2.15.0';
export const DEFAULT_KERAS3_VERSION = '3.16.0';

export interface WriteHdf5Options {
  /** Layout and weight-name spelling; defaults to the generation of the model's config. */
  generation?: KerasGeneration;
  /**
   * Name lists as fixed-length null-padded strings, as h5py 2 wrote them. Default: for tf.keras 2
   * files of Keras < 2.5 (TensorFlow <= 2.4 pinned h5py 2), otherwise variable-length (h5py >= 3).
   */
  fixedLengthStrings?: boolean;
  /** Write the `top_level_model_weights` group; default: Keras 3, and tf.keras >= 2.7. */
  topLevelModelWeights?: boolean;
  /** Overrides the `keras_version` attributes. */
  kerasVersion?: string;
  /** Overrides the `backend` attributes. */
  backend?: string;
}

export interface WriteWeightsOptions extends WriteHdf5Options {
  /** `legacy`: tf.keras 2 `save_weights` layout; `keras3`: Keras 3 `.weights.h5` object layout. */
  layout: 'legacy' | 'keras3';
}

// The dialect test lives with the runtime, which reads configs of unknown version by it.
export { configGeneration };

/** The generation a model is written in, from its source and config. */
export function modelGeneration(model: KerasModel): KerasGeneration {
  switch (model.source.format) {
    case 'keras2-h5':
      return 'keras2';
    case 'keras3-h5':
    case 'keras3-archive':
      return 'keras3';
    default:
      if (model.config) return configGeneration(model.config);
      return Number.parseInt(model.source.kerasVersion ?? '2', 10) >= 3 ? 'keras3' : 'keras2';
  }
}

function resolveGeneration(model: KerasModel, opts: WriteHdf5Options): KerasGeneration {
  return opts.generation ?? modelGeneration(model);
}

/**
 * The model's config in a generation's dialect: its own, or converted (tf.keras 2 ↔ Keras 3). Keras 3
 * writes a legacy `.h5` file's `model_config` with its legacy serialization.
 */
function configFor(model: KerasModel, config: JsonObject, generation: KerasGeneration, layout: 'h5' | 'keras3-tree'): JsonObject {
  if (generation === modelGeneration(model)) return config;
  const { file, kerasVersion } = model.source;
  return generation === 'keras2' ? toKeras2Config(config, { file, kerasVersion }) : toKeras3Config(config, { file, kerasVersion, legacyH5: layout === 'h5' });
}

function versionFor(model: KerasModel, generation: KerasGeneration, opts: WriteHdf5Options): string {
  if (opts.kerasVersion) return opts.kerasVersion;
  const v = model.source.kerasVersion;
  const major = v && /^\d+\./.test(v) ? Number.parseInt(v, 10) : undefined;
  if (v && major !== undefined && (generation === 'keras3' ? major >= 3 : major < 3)) return v;
  return generation === 'keras3' ? DEFAULT_KERAS3_VERSION : DEFAULT_KERAS2_VERSION;
}

function wantsTopLevelWeights(version: string, generation: KerasGeneration, opts: WriteHdf5Options): boolean {
  if (opts.topLevelModelWeights !== undefined) return opts.topLevelModelWeights;
  if (generation === 'keras3') return true;
  // Added in Keras 2.7 (keras-team/keras#14949).
  return !before(version, 2, 7);
}

function parseVersion(version: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function before(version: string, major: number, minor: number): boolean {
  const v = parseVersion(version);
  return v !== undefined && (v[0] < major || (v[0] === major && v[1] < minor));
}

/**
 * Fixed-length name lists (h5py 2) or variable-length ones (h5py 3): as asked, else as the source file
 * had them when it is written in its own generation, else as Keras of that version wrote them.
 */
function fixedLengthDefault(model: KerasModel, version: string, generation: KerasGeneration, opts: WriteHdf5Options): boolean {
  if (opts.fixedLengthStrings !== undefined) return opts.fixedLengthStrings;
  const kept = model.source.extras.name_lists;
  if ((kept === 'fixed' || kept === 'vlen') && modelGeneration(model) === generation) return kept === 'fixed';
  return generation === 'keras2' && before(version, 2, 5);
}

/**
 * Standalone Keras before 2.4 stored `keras_version` and `backend` as bytes (ASCII); tf.keras (its
 * versions end in `-tf` before 2.4) and Keras 3 store Python `str` (UTF-8).
 */
function rootCset(version: string, generation: KerasGeneration) {
  return generation === 'keras2' && before(version, 2, 4) && !version.includes('tf') ? ('ascii' as const) : ('utf8' as const);
}

const utf8 = new TextEncoder();

/** `np.array_split` sizes: the first `n % k` chunks get one extra item. */
function arraySplit<T>(items: T[], k: number): T[][] {
  const base = Math.floor(items.length / k);
  const extra = items.length % k;
  const out: T[][] = [];
  let at = 0;
  for (let i = 0; i < k; i++) {
    const n = base + (i < extra ? 1 : 0);
    out.push(items.slice(at, at + n));
    at += n;
  }
  return out;
}

/**
 * Keras's `save_attributes_to_hdf5_group` for a list of names: one attribute, or (when the
 * fixed-width array is over 64512 bytes) `name0`, `name1`, ... holding fixed-width chunks.
 */
export function saveNameListAttr(group: H5Group, name: string, values: string[], fixedLength = false): void {
  if (values.length === 0) {
    group.setAttr(name, { kind: 'numeric', dtype: 'float64', shape: [0], data: new Float64Array(0) });
    return;
  }
  const lengths = values.map((v) => utf8.encode(v).length);
  const tooLong = values.filter((_, i) => lengths[i] > HDF5_OBJECT_HEADER_LIMIT);
  if (tooLong.length) {
    throw new KerasInteropError(
      'WRITE_FAILED',
      `cannot store names longer than ${HDF5_OBJECT_HEADER_LIMIT} bytes in an HDF5 attribute: ${tooLong.map((s) => s.slice(0, 80)).join(', ')}`,
      { place: `${group.path}@${name}` },
    );
  }
  const width = Math.max(1, ...lengths);
  const fits = (chunks: string[][]) => chunks.every((c) => c.length * width <= HDF5_OBJECT_HEADER_LIMIT);
  let k = 1;
  // A variable-length list stores 16 bytes an item in the object header; where Keras would try to
  // store more than fits (and fail), split it the same way instead.
  const vlenFits = fixedLength || values.length * 16 <= HDF5_OBJECT_HEADER_LIMIT;
  if (!vlenFits) k = 2;
  while (!fits(arraySplit(values, k))) k++;
  if (k > 1) {
    arraySplit(values, k).forEach((chunk, i) => {
      group.setAttr(`${name}${i}`, { kind: 'fixed-string-array', cset: 'ascii', size: width, values: chunk });
    });
    return;
  }
  group.setAttr(
    name,
    fixedLength
      ? { kind: 'fixed-string-array', cset: 'ascii', size: width, values }
      : { kind: 'vlen-string-array', cset: 'ascii', values },
  );
}

function ascii(value: string) {
  return { kind: 'vlen-string' as const, cset: 'ascii' as const, value };
}

function layerConfigs(config: JsonObject | null): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  if (!config) return out;
  for (const { layer } of treeLayers(config)) {
    const n = layerName(layer);
    if (n !== undefined) out.set(n, layer);
  }
  return out;
}

/** One layer group: `weight_names` and a dataset per weight at `<group>/<weight name>`. */
function writeLayerGroup(
  g: H5Group,
  lw: LayerWeights,
  layer: JsonObject | undefined,
  generation: KerasGeneration,
  fixedLength: boolean,
): void {
  const names = kerasWeightNames(layer, lw.layer, lw.weights.map((w) => w.name), generation);
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) {
      throw new KerasInteropError('WRITE_FAILED', `layer "${lw.layer}" has two weights named "${n}"`, { place: `${g.path}/${n}` });
    }
    seen.add(n);
    const w = lw.weights[i];
    g.dataset(n, w.dtype, w.shape, weightValues(w));
  });
  saveNameListAttr(g, 'weight_names', names, fixedLength);
}

/** Keras's `save_weights_to_hdf5_group`: the layout shared by full-model files and `save_weights`. */
function writeLegacyWeights(
  group: H5Group,
  model: KerasModel,
  generation: KerasGeneration,
  version: string,
  backend: string,
  opts: WriteHdf5Options,
): void {
  const fixed = fixedLengthDefault(model, version, generation, opts);
  saveNameListAttr(
    group,
    'layer_names',
    model.weights.map((lw) => lw.layer),
    fixed,
  );
  group.setAttr('backend', ascii(backend));
  group.setAttr('keras_version', ascii(version));
  const configs = layerConfigs(model.config);
  const layers = [...model.weights].sort((a, b) => (a.layer < b.layer ? -1 : a.layer > b.layer ? 1 : 0));
  for (const lw of layers) {
    if (lw.layer === 'top_level_model_weights') continue;
    writeLayerGroup(group.group(lw.layer), lw, configs.get(lw.layer), generation, fixed);
  }
  if (wantsTopLevelWeights(version, generation, opts) && !group.children.has('top_level_model_weights')) {
    saveNameListAttr(group.group('top_level_model_weights'), 'weight_names', [], fixed);
  }
}

function backendFor(model: KerasModel, opts: WriteHdf5Options): string {
  return opts.backend ?? model.source.backend ?? 'tensorflow';
}

function trainingConfigText(model: KerasModel): string | undefined {
  const t = model.source.extras.training_config;
  if (typeof t === 'string') return t;
  if (t !== undefined && t !== null) return pythonJsonDumps(t);
  return undefined;
}

/** The HDF5 tree of a full-model file (for callers that want to add to it before serializing). */
export function buildHdf5Tree(model: KerasModel, opts: WriteHdf5Options = {}): H5Group {
  if (!model.config) {
    throw new KerasInteropError('USAGE', 'a full-model .h5 needs the model config; this model has weights only (pass --config)', {
      file: model.source.file,
    });
  }
  const generation = resolveGeneration(model, opts);
  // Keras 3 has no CuDNN classes: a Keras 3 file gets the layers Keras 3 loads them as.
  if (generation === 'keras3') model = upgradeLegacyLayers(model);
  const config = configFor(model, model.config as JsonObject, generation, 'h5');
  const crossing = config !== model.config;
  const version = versionFor(model, generation, opts);
  // tf.keras 2 knows only the tensorflow backend
  const backend = crossing && generation === 'keras2' ? (opts.backend ?? 'tensorflow') : backendFor(model, opts);
  const root = new H5Group();
  // Keras writes the metadata in this order: keras_version, backend, model_config, training_config.
  const cset = rootCset(version, generation);
  root.setAttr('keras_version', { kind: 'vlen-string', cset, value: version });
  root.setAttr('backend', { kind: 'vlen-string', cset, value: backend });
  root.setAttr('model_config', ascii(crossing ? pythonJsonDumps(config) : jsonTextFor(config, model.source.extras.model_config)));
  // The other generation's optimizer and loss configs do not load there (unknown arguments): left out.
  const training = crossing ? undefined : trainingConfigText(model);
  if (training !== undefined) root.setAttr('training_config', ascii(training));
  const extras = model.source.extras;
  const weightsVersion =
    opts.kerasVersion ?? (typeof extras.model_weights_keras_version === 'string' && versionMatches(extras.model_weights_keras_version, generation)
      ? extras.model_weights_keras_version
      : version);
  const weightsBackend = opts.backend ?? (!crossing && typeof extras.model_weights_backend === 'string' ? extras.model_weights_backend : backend);
  writeLegacyWeights(root.group('model_weights'), { ...model, config }, generation, weightsVersion, weightsBackend, opts);
  return root;
}

function versionMatches(v: string, generation: KerasGeneration): boolean {
  const major = Number.parseInt(v, 10);
  return Number.isFinite(major) && (generation === 'keras3' ? major >= 3 : major < 3);
}

/** A full-model HDF5 file (`model.save('m.h5')`) in the layout of the model's generation. */
export async function writeHdf5(model: KerasModel, opts: WriteHdf5Options = {}): Promise<Uint8Array> {
  return serializeH5(buildHdf5Tree(model, opts));
}

/** The tree of a weights-only file. */
export function buildWeightsHdf5Tree(model: KerasModel, opts: WriteWeightsOptions): H5Group {
  const root = new H5Group();
  if (opts.layout === 'keras3') {
    // Keras 3's .weights.h5 layout follows the Keras 3 form of the config (CuDNN layers upgraded).
    model = upgradeLegacyLayers(model);
    const config = model.config ? configFor(model, model.config, 'keras3', 'keras3-tree') : null;
    buildKeras3WeightsTree({ ...model, config }, root, { kerasVersion: versionFor(model, 'keras3', opts) });
    return root;
  }
  const generation = resolveGeneration(model, opts);
  const config = model.config ? configFor(model, model.config, generation, 'h5') : null;
  const version = versionFor(model, generation, opts);
  writeLegacyWeights(root, { ...model, config }, generation, version, backendFor(model, opts), opts);
  return root;
}

/** A weights-only HDF5 file: tf.keras 2 `save_weights` layout or Keras 3 `.weights.h5`. */
export async function writeWeightsHdf5(model: KerasModel, opts: WriteWeightsOptions): Promise<Uint8Array> {
  return serializeH5(buildWeightsHdf5Tree(model, opts));
}
