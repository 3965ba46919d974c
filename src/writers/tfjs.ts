/**
 * TensorFlow.js layers-model folders from a KerasModel: `model.json` and `group1-shard<k>of<n>.bin`,
 * as `tensorflowjs_converter` writes them, loadable by plain `tf.loadLayersModel` once the layers entry
 * point (`keras-interop/layers`) is imported.
 *
 * - `model_config` is the runtime's normalized config (the tfjs dialect), with `KerasInterop>NoMask`
 *   layers where Keras ran a call without a mask, so the loaded model computes what our runtime does.
 * - Weight names are the names tfjs-layers looks up when loading: the `originalName` of every weight of
 *   the model tfjs builds from that config, paired with the KerasModel's weights by position, layer by
 *   layer (the order every reader guarantees).
 * - The file's own config, verbatim, rides along in `userDefinedMetadata.keras_interop` so that reading
 *   the folder back gives the same KerasModel config (the tfjs dialect cannot be normalized again).
 * - Quantization follows tfjs-converter's `quantization.py` (affine uint8/uint16 with the zero point
 *   nudged onto the grid, IEEE half for float16); only float32 weights are quantized, as there.
 *
 * No Node built-ins: the result is a map of file names to bytes (see `convertModel` for writing it).
 */
// Registers our layer classes, which building the model needs.
import '../layers/index.js';
import { KerasInteropError } from '../errors.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../model/float16.js';
import { shapeText } from '../model/shape.js';
import type { JsonObject, JsonValue, KerasModel, Weight, WeightData } from '../model/types.js';
import { isJsonObject, weightValues } from '../model/types.js';
import { type Part, concatParts, partBytes, partSize, partsSize, slicePart } from './parts.js';
import { type TfjsWeightDType, type TfjsWeightSpec, tfjsLayout } from '../runtime/topology.js';
import type { LambdaPolicy } from '../runtime/lambda/replace.js';
import { upgradeLegacyLayers } from '../runtime/legacy-layers.js';
import { toFloat32 } from '../runtime/weight-values.js';
import { VERSION } from '../version.js';

export type QuantizationDType = 'float16' | 'uint8' | 'uint16';

export interface TfjsQuantizeOptions {
  dtype: QuantizationDType;
  /**
   * Globs on weight names (the manifest names, e.g. `dense/kernel`, `*attention*`), with Python
   * `fnmatch` syntax: `*`, `?`, `[seq]`, `[!seq]` (`*` also crosses `/`). Default: every float32 weight.
   */
  patterns?: string[];
}

export interface WriteTfjsOptions {
  /** Bytes per shard file; a weight may straddle two shards. Default 4 MiB, tfjs-converter's. */
  shardSize?: number;
  quantize?: TfjsQuantizeOptions;
  /** Lambda layers: write their translation as `KerasInterop>Lambda` (default) or refuse them. */
  lambdas?: LambdaPolicy;
}

export const DEFAULT_SHARD_SIZE = 4 * 1024 * 1024;

/** The `quantization` entry of a manifest weight, as tfjs-converter writes it. */
export interface TfjsQuantization {
  dtype: QuantizationDType;
  min?: number;
  scale?: number;
  original_dtype: 'float32';
}

export interface TfjsManifestWeight {
  name: string;
  shape: number[];
  dtype: TfjsWeightDType;
  quantization?: TfjsQuantization;
}

/** Key of `userDefinedMetadata` holding what a faithful round trip needs. */
export const METADATA_KEY = 'keras_interop';

/**
 * The files of the tfjs layers-model folder: `model.json` first, then the shards in order. Async because
 * the weight names come from a model tfjs builds (its deserializer is async).
 */
export async function writeTfjs(model: KerasModel, opts: WriteTfjsOptions = {}): Promise<Map<string, Uint8Array>> {
  const folder = await writeTfjsParts(model, opts);
  const shards = folder.shards.map(([name, parts]): [string, Uint8Array] => [name, concatParts(parts)]);
  return new Map([['model.json', folder.modelJson()], ...shards]);
}

/** A tfjs folder as parts: the shards, and `model.json`, which can be made once every shard has been. */
export interface TfjsFolderParts {
  /** `group1-shard<k>of<n>.bin` in order, each as parts; a weight's bytes are made as they are written. */
  shards: [string, Part[]][];
  /** `model.json`: after the shards were made (quantization ranges come from the values). */
  modelJson(): Uint8Array;
}

/**
 * `writeTfjs`'s files as parts: each weight's bytes are made when its shard is written (read from the
 * source then, for a model read with `streamWeights`), and are views of the model's own arrays wherever
 * they are unchanged (float32 and int32 weights, not quantized): writing a folder holds no second copy
 * of the weights (see `convertModel`).
 */
export async function writeTfjsParts(model: KerasModel, opts: WriteTfjsOptions = {}): Promise<TfjsFolderParts> {
  const file = model.source.file;
  const shardSize = opts.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!Number.isInteger(shardSize) || shardSize <= 0) {
    throw new KerasInteropError('USAGE', `the shard size must be a positive whole number of bytes, got ${shardSize}`);
  }
  const quantize = opts.quantize;
  if (quantize && !['float16', 'uint8', 'uint16'].includes(quantize.dtype)) {
    throw new KerasInteropError('USAGE', `unknown quantization "${String(quantize.dtype)}" (float16, uint8, uint16)`);
  }
  const matchers = quantize?.patterns?.map(globToRegExp);

  // tfjs has no CuDNN classes: the folder holds the layers they run as (its kept config too).
  model = upgradeLegacyLayers(model);
  const layout = await tfjsLayout(model, opts.lambdas);
  const entries = pairWeights(model, layout.layers);

  const manifest: TfjsManifestWeight[] = [];
  const chunks: Part[] = [];
  const seen = new Set<string>();
  let made = 0;
  for (const { spec, weight, layer } of entries) {
    if (seen.has(spec.name)) {
      throw new KerasInteropError('WRITE_FAILED', `two weights would be named "${spec.name}" in the manifest (tfjs refuses duplicate names)`, { file, place: `weights of layer "${layer}"` });
    }
    seen.add(spec.name);
    const entry: TfjsManifestWeight = { name: spec.name, shape: spec.shape.slice(), dtype: spec.dtype };
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const quantized = spec.dtype === 'float32' && quantize && (!matchers || matchers.some((re) => re.test(spec.name))) ? quantize.dtype : undefined;
    const stored = quantized ?? spec.dtype;
    const values = () => {
      const data = weight.data;
      if (data.length !== count) {
        throw new KerasInteropError('WEIGHTS_MISMATCH', `layer "${layer}" weight "${weight.name}" holds ${data.length} values but its shape ${shapeText(weight.shape)} needs ${count}`, {
          file,
          place: weight.path || `weights of layer "${layer}"`,
        });
      }
      return data;
    };
    const chunk: Part = {
      size: count * STORED_BYTES[stored],
      bytes: () => {
        made++;
        if (spec.dtype !== 'float32') return spec.dtype === 'int32' ? bytesOf(toInt32(weight, values(), file, layer)) : toBool(weight, values(), file, layer);
        const floats = toFloat32(values(), weight.dtype);
        if (!quantized) return bytesOf(floats);
        const q = quantizeWeight(floats, quantized, spec.name, file);
        entry.quantization = q.quantization;
        return q.bytes;
      },
    };
    // An empty weight is in no shard: made now, so that its manifest entry is complete.
    chunks.push(count === 0 ? partBytes(chunk, file) : chunk);
    manifest.push(entry);
  }

  const shards = cutIntoShards(chunks, shardSize);
  const paths = shards.map((_, i) => `group1-shard${i + 1}of${shards.length}.bin`);
  const modelJson = () => {
    if (made < chunks.length) {
      throw new KerasInteropError('INTERNAL', 'model.json was asked for before every weight was written (quantization ranges unknown)', { file });
    }
    const json = {
      format: 'layers-model',
      generatedBy: model.source.kerasVersion ? `keras v${model.source.kerasVersion}` : `keras-interop ${VERSION}`,
      convertedBy: `keras-interop ${VERSION}`,
      modelTopology: modelTopology(model, layout.modelConfig),
      weightsManifest: [{ paths, weights: manifest }],
      userDefinedMetadata: { [METADATA_KEY]: roundTripMetadata(model, layout.modelConfig) },
    };
    return new TextEncoder().encode(JSON.stringify(json));
  };
  return { shards: shards.map((parts, i): [string, Part[]] => [paths[i], parts]), modelJson };
}

/** Bytes per value in a shard, by manifest dtype or quantization (the writer's and the reader's). */
export const STORED_BYTES: Readonly<Record<TfjsWeightDType | QuantizationDType, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function modelTopology(model: KerasModel, modelConfig: JsonObject): JsonObject {
  const topology: JsonObject = {
    keras_version: model.source.kerasVersion ?? null,
    backend: model.source.backend ?? 'tensorflow',
    model_config: modelConfig,
  };
  const training = model.source.extras.training_config;
  if (isJsonObject(training)) topology.training_config = training;
  return topology;
}

/**
 * FNV-1a (53 bits) of a JSON value's text: ties the kept verbatim config to the `model_config` written
 * beside it, so a folder whose topology was replaced later (tfjs's own `model.save()` keeps user metadata)
 * is not read with a stale config.
 */
export function topologyFingerprint(v: JsonValue): string {
  const text = JSON.stringify(v);
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

function roundTripMetadata(model: KerasModel, modelConfig: JsonObject): JsonObject {
  const meta: JsonObject = {
    version: VERSION,
    source_format: model.source.format,
    config: model.config,
    model_config_fingerprint: topologyFingerprint(modelConfig),
  };
  if (model.source.kerasVersion !== undefined) meta.keras_version = model.source.kerasVersion;
  if (model.source.backend !== undefined) meta.backend = model.source.backend;
  return meta;
}

// ---------------------------------------------------------------------------------------------------------
// Pairing the KerasModel's weights with tfjs's names.

interface PairedWeight {
  layer: string;
  spec: TfjsWeightSpec;
  weight: Weight;
}

/** Per top-level layer, by position: the contract every reader fulfils. */
export function pairWeights(model: KerasModel, layers: { layer: string; className: string; weights: TfjsWeightSpec[] }[]): PairedWeight[] {
  const file = model.source.file;
  const byName = new Map(model.weights.map((lw) => [lw.layer, lw]));
  const known = new Set(layers.map((l) => l.layer));
  for (const lw of model.weights) {
    if (!known.has(lw.layer) && lw.weights.length > 0) {
      throw new KerasInteropError('WEIGHTS_MISMATCH', `the file has ${lw.weights.length} weights for layer "${lw.layer}", which the model does not have`, {
        file,
        place: `weights of layer "${lw.layer}"`,
      });
    }
  }
  const out: PairedWeight[] = [];
  for (const l of layers) {
    const place = `weights of layer "${l.layer}"`;
    const given = byName.get(l.layer)?.weights ?? [];
    if (given.length !== l.weights.length) {
      throw new KerasInteropError(
        'WEIGHTS_MISMATCH',
        `layer "${l.layer}" (${l.className}) has ${l.weights.length} weights in tfjs ` +
          `(${l.weights.map((w) => `${w.name} ${shapeText(w.shape)}`).join(', ') || 'none'}) but ${given.length} in the file ` +
          `(${given.map((w) => `${w.name} ${shapeText(w.shape)}`).join(', ') || 'none'})`,
        { file, place },
      );
    }
    l.weights.forEach((spec, i) => {
      const w = given[i];
      const same = w.shape.length === spec.shape.length && w.shape.every((d, j) => d === spec.shape[j]);
      if (!same) {
        throw new KerasInteropError(
          'WEIGHTS_MISMATCH',
          `layer "${l.layer}" weight ${i} "${w.name}" has shape ${shapeText(w.shape)} in the file, but tfjs's weight "${spec.name}" has shape ${shapeText(spec.shape)}`,
          { file, place: w.path || place },
        );
      }
      const size = w.shape.reduce((a, b) => a * b, 1);
      const values = weightValues(w);
      // A lazy weight's length is checked when it is read (as it is written).
      if (typeof values !== 'function' && values.length !== size) {
        throw new KerasInteropError('WEIGHTS_MISMATCH', `layer "${l.layer}" weight "${w.name}" holds ${values.length} values but its shape ${shapeText(w.shape)} needs ${size}`, {
          file,
          place: w.path || place,
        });
      }
      out.push({ layer: l.layer, spec, weight: w });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Values and bytes.

function toInt32(w: Weight, data: WeightData, file: string, layer: string): Int32Array {
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v > 2147483647 || v < -2147483648) {
      throw new KerasInteropError('WEIGHTS_MISMATCH', `weight "${w.name}" (${w.dtype}) holds ${String(data[i])} at index ${i}, which is not an int32 value`, {
        file,
        place: w.path || `weights of layer "${layer}"`,
      });
    }
    out[i] = v;
  }
  return out;
}

function toBool(w: Weight, data: WeightData, file: string, layer: string): Uint8Array {
  const ints = toInt32(w, data, file, layer);
  return Uint8Array.from(ints, (v) => (v !== 0 ? 1 : 0));
}

/** Little-endian bytes (every platform tfjs runs on is little-endian, as its own loader assumes). */
function bytesOf(a: Float32Array | Int32Array | Uint16Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * The weights' bytes back to back, cut every `shardSize` bytes (tfjs-converter's `_shard_group_bytes_to_disk`):
 * each shard as the pieces of `chunks` it is made of; a weight straddling two shards is made once.
 */
function cutIntoShards(chunks: Part[], shardSize: number): Part[][] {
  const total = partsSize(chunks);
  const count = Math.ceil(total / shardSize);
  const shards: Part[][] = Array.from({ length: count }, () => []);
  let offset = 0;
  for (const c of chunks) {
    const size = partSize(c);
    const cuts: { start: number; end: number; shard: number }[] = [];
    for (let at = 0; at < size; ) {
      const shard = Math.floor((offset + at) / shardSize);
      const end = Math.min(size, (shard + 1) * shardSize - offset);
      cuts.push({ start: at, end, shard });
      at = end;
    }
    slicePart(c, cuts).forEach((piece, i) => shards[cuts[i].shard].push(piece));
    offset += size;
  }
  return shards;
}

// ---------------------------------------------------------------------------------------------------------
// Quantization (tfjs-converter `quantization.py`).

/** NumPy's `round`: halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface QuantizedWeight {
  bytes: Uint8Array;
  quantization: TfjsQuantization;
}

/**
 * One float32 weight quantized as tfjs-converter does (`quantize_weights`): for uint8/uint16,
 * `scale = (max - min) / (2^bits - 1)`, and when the range holds 0 it is moved so that 0 falls on a step
 * (`min = -round(-min / scale) * scale`); values are clipped to the range and rounded (halves to even)
 * to `round((x - min) / scale)`, decoded by tfjs as `q * scale + min`. A constant weight is all zeros with
 * `scale = 1` and `min` the constant. float16 rounds each value to the nearest half.
 */
export function quantizeWeight(values: Float32Array, dtype: QuantizationDType, name = '', file?: string): QuantizedWeight {
  if (dtype === 'float16') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isFinite(v) && Math.abs(v) >= 65520) {
        throw new KerasInteropError(
          'USAGE',
          `weight "${name}" holds ${v} at index ${i}, beyond float16's range (65504): float16 quantization would make it infinite`,
          { file },
        );
      }
    }
    return { bytes: bytesOf(float32ToFloat16Bits(values)), quantization: { dtype, original_dtype: 'float32' } };
  }
  const qmax = dtype === 'uint8' ? 255 : 65535;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v) || !Number.isFinite(v)) {
      throw new KerasInteropError('USAGE', `weight "${name}" holds ${v} at index ${i}: ${dtype} quantization needs finite values`, { file });
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) {
    min = 0;
    max = 0;
  }
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  if (min === max) return { bytes: bytesOf(q), quantization: { dtype, min, scale: 1.0, original_dtype: 'float32' } };
  const scale = (max - min) / qmax;
  let lo = min;
  let hi = max;
  if (min <= 0 && 0 <= max) {
    const zeroPoint = roundHalfEven((0 - min) / scale);
    lo = -zeroPoint * scale;
    hi = qmax * scale + lo;
  }
  for (let i = 0; i < values.length; i++) {
    const clipped = Math.min(Math.max(values[i], lo), hi);
    q[i] = roundHalfEven((clipped - lo) / scale);
  }
  // A zero point of 0 gives min = -0 (Python writes -0.0); JSON.stringify writes 0, which decodes the same.
  return { bytes: bytesOf(q), quantization: { dtype, min: lo === 0 ? 0 : lo, scale, original_dtype: 'float32' } };
}

/** What tfjs's loader (`io_utils.decodeWeight`) makes of a quantized weight. */
export function dequantizeWeight(bytes: Uint8Array, q: TfjsQuantization, count: number): Float32Array {
  if (q.dtype === 'float16') {
    const bits = new Uint16Array(count);
    new Uint8Array(bits.buffer).set(bytes.subarray(0, count * 2));
    return float16BitsToFloat32(bits);
  }
  const min = q.min ?? 0;
  const scale = q.scale ?? 1;
  const out = new Float32Array(count);
  if (q.dtype === 'uint8') {
    for (let i = 0; i < count; i++) out[i] = bytes[i] * scale + min;
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) out[i] = view.getUint16(2 * i, true) * scale + min;
  }
  return out;
}

/** Python `fnmatch` (case-sensitive, as on POSIX): `*` any run (slashes too), `?` one character, `[...]` a set. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i++];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      // As fnmatch.translate: a `]` right after `[` or `[!` belongs to the set; no closing `]` means a literal `[`.
      let j = i;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i, j).replace(/\\/g, '\\\\');
      i = j + 1;
      if (body.startsWith('!')) body = '^' + body.slice(1);
      else if (body.startsWith('^')) body = '\\' + body;
      re += `[${body.replace(/\]/g, '\\]')}]`;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/**
 * The `--quantize` option of `convert`: `uint8`, `uint16` or `float16`, optionally followed by `:` and
 * comma-separated globs (`uint8:dense/kernel,lstm_?/*`).
 */
export function parseQuantizeOption(text: string | undefined): TfjsQuantizeOptions | undefined {
  if (text === undefined || text === '') return undefined;
  const colon = text.indexOf(':');
  const dtype = (colon < 0 ? text : text.slice(0, colon)).trim();
  if (dtype !== 'uint8' && dtype !== 'uint16' && dtype !== 'float16') {
    throw new KerasInteropError('USAGE', `--quantize takes uint8, uint16 or float16 (optionally ":glob,glob"), got "${text}"`);
  }
  if (colon < 0) return { dtype };
  const patterns = text
    .slice(colon + 1)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return patterns.length > 0 ? { dtype, patterns } : { dtype };
}
