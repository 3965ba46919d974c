/** The in-memory model every reader produces and every writer and the runtime consume. */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type SourceFormat =
  | 'keras2-h5'
  | 'keras3-h5'
  | 'keras3-archive'
  | 'weights-h5'
  | 'savedmodel'
  | 'tfjs-layers';

export type WeightDType =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

const DTYPE_BYTES: Record<WeightDType, number> = {
  float16: 2, float32: 4, float64: 8, int8: 1, int16: 2, int32: 4, int64: 8,
  uint8: 1, uint16: 2, uint32: 4, uint64: 8, bool: 1,
};

/** Bytes one value of `dtype` takes in a file. */
export function bytesPerElement(dtype: WeightDType): number {
  return DTYPE_BYTES[dtype];
}

export type WeightData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

export interface Weight {
  /** Keras's own weight name as the file spells it (`dense/kernel:0`, `lstm_cell/kernel`, ...). */
  name: string;
  /** Where it lives in the source file (HDF5 dataset path, checkpoint key, manifest name). */
  path: string;
  shape: number[];
  dtype: WeightDType;
  /**
   * Row-major, little-endian values. float16 is kept as its raw uint16 bits. In a model read with
   * `streamWeights`, an accessor that reads the tensor from its still-open source on every access
   * (see `lazyWeight`): writers take it through `weightValues` and read it when they write it, once.
   */
  data: WeightData;
}

export interface LayerWeights {
  /** The layer's name (a top-level layer of the model, in model order). */
  layer: string;
  /** In Keras's `layer.weights` order: trainable, then non-trainable. */
  weights: Weight[];
}

export interface ModelSource {
  format: SourceFormat;
  /** Path of the file or folder it was read from. */
  file: string;
  kerasVersion?: string;
  backend?: string;
  /** Everything else a faithful round trip needs: root attributes, training config, metadata.json, ... */
  extras: Record<string, JsonValue>;
}

export interface KerasModel {
  source: ModelSource;
  /** `{class_name, config}` exactly as the file had it (tf.keras 2 or Keras 3 dialect), or null for weights-only. */
  config: JsonObject | null;
  /** Per top-level layer, in model order. */
  weights: LayerWeights[];
  /**
   * Present when the weights are read on demand from a source held open (`streamWeights`): releases
   * it (the HDF5 file, a temporary copy of an archive's weights). The weights are unreadable after.
   */
  close?: () => void;
}

const LOADER = Symbol('keras-interop.weightLoader');

/**
 * A weight whose values stay in its source until asked for: `data` reads them on each access (no
 * copy is kept), so a writer that visits weights one at a time holds one tensor at a time.
 */
export function lazyWeight(meta: Omit<Weight, 'data'>, load: () => WeightData): Weight {
  const w = { ...meta } as Weight;
  Object.defineProperty(w, 'data', { get: load, enumerable: true });
  Object.defineProperty(w, LOADER, { value: load });
  return w;
}

/** A weight's values in hand, or for a lazy weight the loader that reads them (without reading them now). */
export function weightValues(w: Weight): WeightData | (() => WeightData) {
  return (w as Weight & { [LOADER]?: () => WeightData })[LOADER] ?? w.data;
}

export function countParams(w: Weight): number {
  return w.shape.reduce((a, b) => a * b, 1);
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
