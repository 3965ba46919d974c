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
  /** Row-major, little-endian values. float16 is kept as its raw uint16 bits. */
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
}

export function countParams(w: Weight): number {
  return w.shape.reduce((a, b) => a * b, 1);
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
