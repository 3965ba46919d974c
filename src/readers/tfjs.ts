/**
 * TensorFlow.js layers-model folders (`model.json` + weight shards) into a KerasModel. The parser works on
 * a `{path: bytes}` map and uses no Node built-ins (browsers can use it); `tfjs-files.ts` reads a folder
 * into such a map.
 *
 * - config: what our tfjs writer kept verbatim (`userDefinedMetadata.keras_interop.config`), else
 *   `modelTopology.model_config` (tensorflowjs_converter), else `modelTopology` itself (`model.save()` in JS).
 * - weights: decoded as tfjs's loader decodes them (uint8/uint16 dequantized to `q * scale + min`, float16
 *   expanded to float32), then put in each layer's Keras order by matching the manifest names against the
 *   names tfjs itself gives the weights of the model built from the config, with tfjs's own fallback
 *   (`lstm/lstm_cell/kernel` matches `lstm/kernel`). When the model cannot be built here (a layer with no
 *   implementation), weights are grouped by the first segment of their names, in manifest order.
 * - every size is checked before anything is allocated: the manifest's byte count against the shards'.
 */
import '../layers/index.js';
import { KerasInteropError } from '../errors.js';
import type { JsonObject, JsonValue, KerasModel, LayerWeights, Weight } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { NO_MASK_CLASS_NAME } from '../layers/no-mask.js';
import { isKerasObject, layerNameOf, modelLayerList } from '../runtime/config-walk.js';
import { isKeras3Operation } from '../runtime/ops/operation-node.js';
import { tfjsLayout } from '../runtime/topology.js';
import { type TfjsQuantization, METADATA_KEY, STORED_BYTES, dequantizeWeight, topologyFingerprint } from '../writers/tfjs.js';
import { DEFAULT_MAX_CONFIG_DEPTH, parseJsonText } from './json.js';

/** `{relative path: bytes}`: `model.json` and the shard files its manifest names. */
export type TfjsFileMap = ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;

export interface TfjsReadOptions {
  /** Named in errors and kept as `source.file`. */
  file?: string;
  /** Key of the model JSON in the map (default `model.json`). */
  modelJson?: string;
  limits?: { maxTensorBytes?: number; maxTotalBytes?: number };
  maxConfigDepth?: number;
}

export const TFJS_DEFAULT_LIMITS = { maxTensorBytes: 2 * 1024 ** 3, maxTotalBytes: 8 * 1024 ** 3 };

type StoredDType = 'float32' | 'int32' | 'bool';

export interface TfjsManifestEntry {
  name: string;
  shape: number[];
  dtype: StoredDType;
  quantization?: TfjsQuantization & { original_dtype?: string };
  /** Number of values. */
  size: number;
  /** Bytes it takes in the shards. */
  byteLength: number;
  /** JSON pointer of the entry in model.json. */
  place: string;
}

export interface TfjsManifestGroup {
  /** Shard paths, normalized (no `./`). */
  paths: string[];
  weights: TfjsManifestEntry[];
  byteLength: number;
}

export interface ParsedTfjsModelJson {
  json: JsonObject;
  topology: JsonObject;
  groups: TfjsManifestGroup[];
}

function invalid(message: string, file: string | undefined, place?: string): KerasInteropError {
  return new KerasInteropError('TFJS_INVALID', message, { file, place });
}

function get(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/**
 * A shard path of the manifest as a path relative to the model folder. Absolute paths, URLs, `..` and
 * backslashes are refused: a model file never makes us read outside its folder.
 */
export function normalizeShardPath(path: string, file?: string, place?: string): string {
  let p = path;
  while (p.startsWith('./')) p = p.slice(2);
  const bad =
    p === '' ||
    p.startsWith('/') ||
    p.includes('\\') ||
    p.includes('\0') ||
    /^[A-Za-z][A-Za-z0-9+.-]*:/.test(p) ||
    p.split('/').some((s) => s === '..' || s === '' || s === '.');
  if (bad) throw invalid(`shard path ${JSON.stringify(path)} is not a plain file name inside the model folder`, file, place);
  return p;
}

/** Parses and checks `model.json`: format, topology, manifest entries (names, shapes, dtypes, quantization). */
export function parseTfjsModelJson(bytes: Uint8Array, file?: string, maxDepth = DEFAULT_MAX_CONFIG_DEPTH): ParsedTfjsModelJson {
  let value: JsonValue;
  try {
    value = parseJsonText(new TextDecoder('utf-8', { fatal: true }).decode(bytes), file ?? 'model.json', '/', maxDepth);
  } catch (e) {
    if (e instanceof KerasInteropError && e.code === 'CONFIG_INVALID') throw invalid(`model.json is ${e.message.replace(/^.*?: \/: /, '')}`, file, '/');
    if (e instanceof KerasInteropError) throw e;
    throw invalid(`model.json is not UTF-8 text (${(e as Error).message})`, file, '/');
  }
  if (!isJsonObject(value)) throw invalid('model.json must hold a JSON object', file, '/');
  const format = get(value, 'format');
  if (format !== undefined && format !== 'layers-model') {
    throw invalid(
      `format is ${JSON.stringify(format)}, not "layers-model"${format === 'graph-model' ? ': a graph model (converted from a SavedModel) has no Keras layers to read' : ''}`,
      file,
      '/format',
    );
  }
  const topology = get(value, 'modelTopology');
  if (!isJsonObject(topology)) throw invalid('modelTopology is missing or not an object', file, '/modelTopology');
  const manifest = get(value, 'weightsManifest');
  if (!Array.isArray(manifest)) throw invalid('weightsManifest is missing or not a list', file, '/weightsManifest');
  const groups = manifest.map((g, gi) => parseGroup(g, `/weightsManifest/${gi}`, file));
  return { json: value, topology, groups };
}

function parseGroup(g: JsonValue, place: string, file: string | undefined): TfjsManifestGroup {
  if (!isJsonObject(g)) throw invalid('a weights group must be an object with "paths" and "weights"', file, place);
  const paths = get(g, 'paths');
  const weights = get(g, 'weights');
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) throw invalid('"paths" must be a list of file names', file, `${place}/paths`);
  if (!Array.isArray(weights)) throw invalid('"weights" must be a list', file, `${place}/weights`);
  const entries = weights.map((w, wi) => parseEntry(w, `${place}/weights/${wi}`, file));
  return {
    paths: (paths as string[]).map((p, pi) => normalizeShardPath(p, file, `${place}/paths/${pi}`)),
    weights: entries,
    byteLength: entries.reduce((a, e) => a + e.byteLength, 0),
  };
}

function parseEntry(w: JsonValue, place: string, file: string | undefined): TfjsManifestEntry {
  if (!isJsonObject(w)) throw invalid('a weight entry must be an object with "name", "shape" and "dtype"', file, place);
  const name = get(w, 'name');
  const shape = get(w, 'shape');
  const dtype = get(w, 'dtype');
  if (typeof name !== 'string' || name === '') throw invalid('"name" must be a non-empty string', file, `${place}/name`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw invalid(`weight "${name}": "shape" must be a list of non-negative integers`, file, `${place}/shape`);
  }
  let size = 1;
  for (const d of shape as number[]) {
    size *= d;
    if (!Number.isSafeInteger(size)) throw invalid(`weight "${name}": shape ${JSON.stringify(shape)} holds more values than can be addressed`, file, `${place}/shape`);
  }
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw invalid(
      `weight "${name}": dtype ${JSON.stringify(dtype)} is not supported (a layers model stores float32, int32 or bool, float32 optionally quantized)`,
      file,
      `${place}/dtype`,
    );
  }
  const q = get(w, 'quantization');
  let quantization: TfjsManifestEntry['quantization'];
  if (q !== undefined && q !== null) {
    if (!isJsonObject(q)) throw invalid(`weight "${name}": "quantization" must be an object`, file, `${place}/quantization`);
    const qd = get(q, 'dtype');
    if (qd !== 'uint8' && qd !== 'uint16' && qd !== 'float16') {
      throw invalid(`weight "${name}": quantization dtype ${JSON.stringify(qd)} is not uint8, uint16 or float16`, file, `${place}/quantization/dtype`);
    }
    const original = get(q, 'original_dtype');
    if (original !== undefined && original !== dtype) {
      throw invalid(`weight "${name}": quantization original_dtype ${JSON.stringify(original)} differs from the weight's dtype "${dtype}"`, file, `${place}/quantization`);
    }
    if (qd === 'float16' && dtype !== 'float32') throw invalid(`weight "${name}": float16 quantization applies to float32 weights only, not ${dtype}`, file, `${place}/quantization`);
    if (dtype === 'bool') throw invalid(`weight "${name}": a bool weight cannot be quantized`, file, `${place}/quantization`);
    const min = get(q, 'min');
    const scale = get(q, 'scale');
    if (qd !== 'float16' && (typeof min !== 'number' || typeof scale !== 'number' || !Number.isFinite(min) || !Number.isFinite(scale))) {
      throw invalid(`weight "${name}": ${qd} quantization needs finite numbers "min" and "scale"`, file, `${place}/quantization`);
    }
    quantization = { dtype: qd, original_dtype: 'float32' };
    if (qd !== 'float16') {
      quantization.min = min as number;
      quantization.scale = scale as number;
    }
  }
  const byteLength = size * STORED_BYTES[quantization ? quantization.dtype : dtype];
  return { name, shape: shape as number[], dtype, quantization, size, byteLength, place };
}

function lookup(files: TfjsFileMap, key: string): Uint8Array | undefined {
  if (files instanceof Map) return files.get(key);
  const rec = files as Readonly<Record<string, Uint8Array>>;
  return Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

/** Copies `length` bytes starting at `start` of the shards taken as one buffer. */
function sliceAcross(shards: Uint8Array[], starts: number[], start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = 0;
  while (s + 1 < shards.length && starts[s + 1] <= start) s++;
  let filled = 0;
  let at = start - starts[s];
  while (filled < length) {
    const shard = shards[s];
    const n = Math.min(shard.length - at, length - filled);
    out.set(shard.subarray(at, at + n), filled);
    filled += n;
    s++;
    at = 0;
  }
  return out;
}

function decode(entry: TfjsManifestEntry, bytes: Uint8Array): Weight['data'] {
  const q = entry.quantization;
  if (q) {
    const values = dequantizeWeight(bytes, q, entry.size);
    // tfjs rounds affine-quantized int32 weights after decoding.
    return entry.dtype === 'int32' ? Int32Array.from(values, (v) => Math.round(v)) : values;
  }
  // `bytes` is a fresh, aligned copy; tfjs's format is little-endian, like every platform it runs on.
  if (entry.dtype === 'float32') return new Float32Array(bytes.buffer, bytes.byteOffset, entry.size);
  if (entry.dtype === 'int32') return new Int32Array(bytes.buffer, bytes.byteOffset, entry.size);
  return bytes;
}

interface DecodedWeight {
  entry: TfjsManifestEntry;
  data: Weight['data'];
}

/** Every weight of every group, decoded; sizes checked against the shards before allocating. */
function decodeGroups(parsed: ParsedTfjsModelJson, files: TfjsFileMap, file: string | undefined, limits: typeof TFJS_DEFAULT_LIMITS): DecodedWeight[] {
  let total = 0;
  for (const g of parsed.groups) {
    for (const e of g.weights) {
      if (e.byteLength > limits.maxTensorBytes) {
        throw new KerasInteropError('LIMIT_EXCEEDED', `weight "${e.name}" declares ${e.byteLength} bytes, over the ${limits.maxTensorBytes}-byte limit per tensor`, { file, place: e.place });
      }
      total += e.byteLength;
    }
  }
  if (total > limits.maxTotalBytes) {
    throw new KerasInteropError('LIMIT_EXCEEDED', `the manifest declares ${total} bytes of weights, over the ${limits.maxTotalBytes}-byte limit`, { file, place: '/weightsManifest' });
  }
  const out: DecodedWeight[] = [];
  parsed.groups.forEach((g, gi) => {
    const shards = g.paths.map((p, pi) => {
      const bytes = lookup(files, p);
      if (!bytes) throw invalid(`shard file "${p}" named by the manifest is missing`, file, `/weightsManifest/${gi}/paths/${pi}`);
      return bytes;
    });
    const starts: number[] = [];
    let size = 0;
    for (const s of shards) {
      starts.push(size);
      size += s.length;
    }
    if (size !== g.byteLength) {
      throw invalid(
        `the manifest's weights take ${g.byteLength} bytes but the shard files (${g.paths.join(', ') || 'none'}) hold ${size}` +
          (size < g.byteLength ? ': a shard is truncated or missing' : ': the shards hold bytes no weight accounts for'),
        file,
        `/weightsManifest/${gi}`,
      );
    }
    let offset = 0;
    for (const e of g.weights) {
      out.push({ entry: e, data: decode(e, sliceAcross(shards, starts, offset, e.byteLength)) });
      offset += e.byteLength;
    }
  });
  return out;
}

function toWeight(d: DecodedWeight): Weight {
  return {
    name: d.entry.name,
    path: d.entry.name,
    shape: d.entry.shape.slice(),
    dtype: d.entry.quantization ? (d.entry.dtype === 'int32' ? 'int32' : 'float32') : d.entry.dtype,
    data: d.data,
  };
}

/** The config to use: ours kept verbatim, the converter's `model_config`, or a JS-saved topology. */
function configOf(parsed: ParsedTfjsModelJson, file: string | undefined): { config: JsonObject; meta?: JsonObject } {
  const udm = get(parsed.json, 'userDefinedMetadata');
  const meta = isJsonObject(udm) ? get(udm, METADATA_KEY) : undefined;
  const mc = get(parsed.topology, 'model_config');
  if (isJsonObject(meta)) {
    const kept = get(meta, 'config');
    // Only beside the model_config it was written with (see topologyFingerprint).
    if (isKerasObject(kept) && mc !== undefined && get(meta, 'model_config_fingerprint') === topologyFingerprint(mc)) return { config: kept, meta };
  }
  if (isKerasObject(mc)) return { config: mc };
  if (isKerasObject(parsed.topology)) return { config: parsed.topology };
  throw invalid('modelTopology holds no model config (neither "model_config" nor "class_name"/"config")', file, '/modelTopology');
}

function stringOf(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Reads a tfjs layers model from its files. */
export async function readTfjsFiles(files: TfjsFileMap, opts: TfjsReadOptions = {}): Promise<KerasModel> {
  const file = opts.file;
  const key = opts.modelJson ?? 'model.json';
  const jsonBytes = lookup(files, key);
  if (!jsonBytes) throw invalid(`"${key}" is missing`, file);
  const parsed = parseTfjsModelJson(jsonBytes, file, opts.maxConfigDepth);
  const limits = { ...TFJS_DEFAULT_LIMITS, ...opts.limits };
  const decoded = decodeGroups(parsed, files, file, limits);

  const seen = new Set<string>();
  for (const d of decoded) {
    if (seen.has(d.entry.name)) throw invalid(`two manifest weights are named "${d.entry.name}"`, file, d.entry.place);
    seen.add(d.entry.name);
  }

  const { config, meta } = configOf(parsed, file);
  const extras: Record<string, JsonValue> = {};
  for (const k of ['generatedBy', 'convertedBy'] as const) {
    const v = get(parsed.json, k);
    if (v !== undefined) extras[k] = v;
  }
  const training = get(parsed.topology, 'training_config');
  if (training !== undefined && training !== null) extras.training_config = training;
  const udm = get(parsed.json, 'userDefinedMetadata');
  if (udm !== undefined) extras.userDefinedMetadata = udm;
  const quantized = decoded.filter((d) => d.entry.quantization).map((d) => d.entry.name);
  if (quantized.length > 0) extras.quantized_weights = quantized;

  // Our own folders say what the source said (the topology's fields must be filled in for tfjs).
  const from = meta ?? parsed.topology;
  const kerasVersion = stringOf(get(from, 'keras_version'));
  const backend = stringOf(get(from, 'backend'));
  const model: KerasModel = {
    source: { format: 'tfjs-layers', file: file ?? '', kerasVersion, backend, extras },
    config,
    weights: [],
  };
  model.weights = await layerWeights(model, decoded, file);
  return model;
}

/** Manifest weights in each top-level layer's Keras order, matched by tfjs's names. */
async function layerWeights(model: KerasModel, decoded: DecodedWeight[], file: string | undefined): Promise<LayerWeights[]> {
  let layout: Awaited<ReturnType<typeof tfjsLayout>>;
  try {
    // Grouped by name for the error message, should the model not build.
    layout = await tfjsLayout({ ...model, weights: groupByName(model.config, decoded) });
  } catch (e) {
    if (e instanceof KerasInteropError && ['UNSUPPORTED_LAYER', 'LAMBDA_LAYER', 'UNSUPPORTED_DTYPE'].includes(e.code)) {
      model.source.extras.weights_grouped_by_name = `the model does not build here (${e.message}); weights are grouped by the first segment of their names, in manifest order`;
      return groupByName(model.config, decoded);
    }
    throw e;
  }
  const target = new Map<string, { li: number; wi: number }>();
  layout.layers.forEach((l, li) => l.weights.forEach((w, wi) => target.set(w.name, { li, wi })));
  const slots: (DecodedWeight | undefined)[][] = layout.layers.map((l) => new Array<DecodedWeight | undefined>(l.weights.length));
  for (const d of decoded) {
    const name = d.entry.name;
    let t = target.get(name);
    if (!t) {
      // tfjs-layers' own fallback (container.loadWeights): TF >= 2.2 names carry the cell, tfjs's do not.
      const parts = name.split('/');
      t = target.get([...parts.slice(0, -2), parts[parts.length - 1]].join('/'));
    }
    if (!t) {
      throw invalid(
        `manifest weight "${name}" matches no weight of the model (tfjs would refuse it too); the model's weights are ` +
          layout.layers.flatMap((l) => l.weights.map((w) => w.name)).join(', '),
        file,
        d.entry.place,
      );
    }
    const spec = layout.layers[t.li].weights[t.wi];
    if (slots[t.li][t.wi]) throw invalid(`manifest weights "${slots[t.li][t.wi]!.entry.name}" and "${name}" both go to the model's weight "${spec.name}"`, file, d.entry.place);
    const same = spec.shape.length === d.entry.shape.length && spec.shape.every((x, i) => x === d.entry.shape[i]);
    if (!same) {
      throw invalid(`manifest weight "${name}" has shape ${JSON.stringify(d.entry.shape)} but the model's weight "${spec.name}" has shape ${JSON.stringify(spec.shape)}`, file, d.entry.place);
    }
    slots[t.li][t.wi] = d;
  }
  const missing = layout.layers.flatMap((l, li) => l.weights.filter((_, wi) => !slots[li][wi]).map((w) => w.name));
  if (missing.length > 0) {
    throw invalid(`the manifest lacks ${missing.length} of the model's weights: ${missing.join(', ')}`, file, '/weightsManifest');
  }
  // Model order is the config's layer order (tfjs lists layers in graph order); NoMask layers are ours,
  // and Keras 3 operations run as op layers but are no layers of the model.
  const operations = new Set(topLevelEntries(model.config).filter(isKeras3Operation).map((l) => layerNameOf(l)));
  const byLayer = new Map<string, Weight[]>();
  layout.layers.forEach((l, li) => {
    if (l.className !== NO_MASK_CLASS_NAME && !operations.has(l.layer)) byLayer.set(l.layer, slots[li].map((d) => toWeight(d!)));
  });
  const out: LayerWeights[] = [];
  // Layers the runtime leaves out of the graph (Keras 3 mask pseudo-layers) have no weights and no entry.
  for (const name of topLevelNames(model.config)) {
    const weights = byLayer.get(name);
    if (!weights) continue;
    out.push({ layer: name, weights });
    byLayer.delete(name);
  }
  for (const [layer, weights] of byLayer) out.push({ layer, weights });
  return out;
}

/** Top-level layer names of a config, in order. */
function topLevelEntries(config: JsonObject | null): JsonObject[] {
  const list = config ? modelLayerList(config) : undefined;
  return list ? list.layers.filter(isJsonObject) : [];
}

/** The model's layers (Keras 3 operations are none). */
function topLevelNames(config: JsonObject | null): string[] {
  return topLevelEntries(config)
    .filter((l) => !isKeras3Operation(l))
    .map((l) => layerNameOf(l));
}

function groupByName(config: JsonObject | null, decoded: DecodedWeight[]): LayerWeights[] {
  const groups = new Map<string, Weight[]>();
  for (const n of topLevelNames(config)) groups.set(n, []);
  for (const d of decoded) {
    const first = d.entry.name.split('/')[0];
    if (!groups.has(first)) groups.set(first, []);
    groups.get(first)!.push(toWeight(d));
  }
  return [...groups].map(([layer, weights]) => ({ layer, weights }));
}
