/**
 * The file's weights against a built tfjs model: pairing them by Keras's order, and their values in the
 * types tfjs and onnxruntime compute in. No Node built-ins (the ONNX export is bundled for browsers).
 */
import type * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { float16BitsToFloat32 } from '../model/float16.js';
import { shapeText } from '../model/shape.js';
import type { KerasModel, Weight } from '../model/types.js';

/** A top-level layer of the built model and its weights paired with the file's, in order. */
export interface LayerWeightPairs {
  layer: tf.layers.Layer;
  pairs: { target: tf.LayerVariable; weight: Weight }[];
}

/**
 * Pairs the file's weights with the built model's, per top-level layer, by order: the contract every
 * reader fulfils (Keras's `layer.weights` order). Checks counts and shapes; reads no values.
 */
export function pairWeights(tfModel: tf.LayersModel, model: KerasModel): LayerWeightPairs[] {
  const file = model.source.file;
  const assigned = new Set<string>();
  const out: LayerWeightPairs[] = [];
  for (const lw of model.weights) {
    const place = `weights of layer "${lw.layer}"`;
    let layer: tf.layers.Layer | undefined;
    try {
      layer = tfModel.getLayer(lw.layer);
    } catch {
      layer = undefined;
    }
    if (!layer) {
      if (lw.weights.length === 0) continue;
      throw new KerasInteropError('WEIGHTS_MISMATCH', `the file has ${lw.weights.length} weights for layer "${lw.layer}", which the model does not have`, { file, place });
    }
    assigned.add(lw.layer);
    const targets = layer.weights;
    if (targets.length !== lw.weights.length) {
      throw new KerasInteropError(
        'WEIGHTS_MISMATCH',
        `layer "${lw.layer}" (${layer.getClassName()}) has ${targets.length} weights in the built model ` +
          `(${targets.map((t) => `${t.originalName} ${shapeText(t.shape)}`).join(', ') || 'none'}) but ${lw.weights.length} in the file ` +
          `(${lw.weights.map((w) => `${w.name} ${shapeText(w.shape)}`).join(', ') || 'none'})`,
        { file, place },
      );
    }
    const pairs = lw.weights.map((w, i) => {
      const target = targets[i];
      const same = w.shape.length === target.shape.length && w.shape.every((d, j) => d === target.shape[j]);
      if (!same) {
        throw new KerasInteropError(
          'WEIGHTS_MISMATCH',
          `layer "${lw.layer}" weight ${i} "${w.name}" has shape ${shapeText(w.shape)} in the file, but the built model's weight ` +
            `"${target.originalName}" has shape ${shapeText(target.shape)}`,
          { file, place: w.path || place },
        );
      }
      return { target, weight: w };
    });
    out.push({ layer, pairs });
  }
  for (const layer of tfModel.layers) {
    if (layer.weights.length > 0 && !assigned.has(layer.name)) {
      throw new KerasInteropError(
        'WEIGHTS_MISMATCH',
        `layer "${layer.name}" has ${layer.weights.length} weights in the built model but the file has none for it`,
        { file, place: `weights of layer "${layer.name}"` },
      );
    }
  }
  return out;
}

export type NumericData = Weight['data'] | number[];

/** Values as float32 (float16 bits decoded, integers and float64 converted); float32 data is returned as is. */
export function toFloat32(data: NumericData, dtype: string): Float32Array {
  if (dtype === 'float16' && data instanceof Uint16Array) return float16BitsToFloat32(data);
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
    return out;
  }
  return Float32Array.from(data as ArrayLike<number>);
}

/** Values as int32, each checked to be an integer in range (`what` and `where` name it in the error). */
export function toInt32(data: NumericData, dtype: string, where: { file?: string; place?: string }, what: string): Int32Array {
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v > 2147483647n || v < -2147483648n) {
        throw new KerasInteropError('INPUT_MISMATCH', `${what} (${dtype}) holds ${v} at index ${i}, outside the int32 range tfjs computes in`, where);
      }
      out[i] = Number(v);
    }
    return out;
  }
  const src = dtype === 'float16' && data instanceof Uint16Array ? float16BitsToFloat32(data) : (data as ArrayLike<number>);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!Number.isInteger(v) || v > 2147483647 || v < -2147483648) {
      throw new KerasInteropError('INPUT_MISMATCH', `${what} (${dtype}) holds ${v} at index ${i}, which is not an int32 value`, where);
    }
    out[i] = v;
  }
  return out;
}
