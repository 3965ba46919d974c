/**
 * A model's inputs and outputs in the order predict takes and gives them: name, shape (null for a
 * free dimension) and dtype. From the built tfjs model when it builds, else from the normalized config
 * (input shapes and dtypes from the InputLayers, output names only).
 */
import type * as tf from '@tensorflow/tfjs';
import type { JsonObject, JsonValue } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { modelInputNames, modelOutputNames } from './build.js';

export interface TensorSpec {
  name: string;
  /** null dimensions are free (the batch, a variable sequence length); absent when unknown. */
  shape?: (number | null)[];
  dtype?: string;
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export function signatureOfModel(tfModel: tf.LayersModel): ModelSignature {
  const inputNames = modelInputNames(tfModel);
  const outputNames = modelOutputNames(tfModel);
  return {
    inputs: tfModel.inputs.map((t, i) => ({ name: inputNames[i], shape: [...t.shape], dtype: t.dtype })),
    outputs: tfModel.outputs.map((t, j) => ({ name: outputNames[j], shape: [...t.shape], dtype: t.dtype })),
  };
}

function shapeOf(v: JsonValue | undefined): (number | null)[] | undefined {
  return Array.isArray(v) && v.every((d) => d === null || typeof d === 'number') ? (v as (number | null)[]) : undefined;
}

function inputSpec(name: string, layer: JsonObject | undefined): TensorSpec {
  const cfg = layer && isJsonObject(layer.config) ? layer.config : {};
  const spec: TensorSpec = { name };
  const shape = shapeOf(cfg.batch_input_shape);
  if (shape) spec.shape = shape;
  spec.dtype = typeof cfg.dtype === 'string' ? cfg.dtype : 'float32';
  return spec;
}

/** Names in a list of `[layer, node, tensor]` references (or one such reference). */
function refNames(v: JsonValue | undefined): string[] {
  if (!Array.isArray(v)) return [];
  if (typeof v[0] === 'string') return [v[0]];
  return v.flatMap((r) => (Array.isArray(r) && typeof r[0] === 'string' ? [r[0]] : []));
}

function entryName(l: JsonObject): string | undefined {
  if (typeof l.name === 'string') return l.name;
  return isJsonObject(l.config) && typeof l.config.name === 'string' ? l.config.name : undefined;
}

/** The signature a normalized (tfjs-dialect) config declares, for models that do not build. */
export function signatureOfConfig(normalized: JsonObject): ModelSignature {
  const inner = isJsonObject(normalized.config) ? normalized.config : {};
  const layers = (Array.isArray(inner.layers) ? inner.layers : []).filter(isJsonObject);
  if (normalized.class_name === 'Sequential') {
    const first = layers[0];
    const last = layers.at(-1);
    if (!first || !last) return { inputs: [], outputs: [] };
    // tfjs, like Keras, names the input it makes for a Sequential after its first layer
    const inputName = first.class_name === 'InputLayer' ? entryName(first) : `${entryName(first) ?? 'sequential'}_input`;
    return { inputs: [inputSpec(inputName ?? 'input', first)], outputs: [{ name: entryName(last) ?? '?' }] };
  }
  const byName = new Map(layers.map((l) => [entryName(l), l]));
  return {
    inputs: refNames(inner.input_layers).map((n) => inputSpec(n, byName.get(n))),
    outputs: refNames(inner.output_layers).map((n) => ({ name: n })),
  };
}
