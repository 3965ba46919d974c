/**
 * KerasModel → tfjs LayersModel: normalize the config, refuse layers tfjs cannot build (naming them),
 * deserialize, then assign the file's weights by order, layer by layer.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { float16BitsToFloat32 } from '../model/float16.js';
import type { KerasModel, Weight } from '../model/types.js';
import { useBackend } from './backend.js';
import type { NormalizeResult } from './normalize.js';
import { buildTopology, insertNoMaskLayers, runnableConfig } from './topology.js';

export { buildTopology } from './topology.js';

export interface BuildOptions {
  /** tfjs backend to use (`tensorflow`/`node`, `wasm`, `cpu`); default: the fastest available. */
  backend?: string;
}

export interface BuildResult {
  model: tf.LayersModel;
  normalized: NormalizeResult;
  backend: string;
}

/** Builds the tfjs model of a KerasModel with the file's weights. */
export async function buildModel(model: KerasModel, opts: BuildOptions = {}): Promise<tf.LayersModel> {
  return (await buildModelDetailed(model, opts)).model;
}

/** `buildModel`, also returning the normalized config (with its notes and class resolutions) and the backend. */
export async function buildModelDetailed(model: KerasModel, opts: BuildOptions = {}): Promise<BuildResult> {
  const file = model.source.file;
  const normalized = runnableConfig(model);
  const backend = await useBackend(opts.backend);
  // Calls Keras 3 ran with mask=None get a NoMask layer in front: in the graph, so it survives a tfjs export.
  const tfModel = await buildTopology(insertNoMaskLayers(normalized.config, normalized.callsWithoutMask), file);
  try {
    assignWeights(tfModel, model);
  } catch (e) {
    tfModel.dispose();
    throw e;
  }
  return { model: tfModel, normalized, backend };
}

function shapeText(s: readonly (number | null)[]): string {
  return `[${s.join(', ')}]`;
}

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

function assignWeights(tfModel: tf.LayersModel, model: KerasModel): void {
  const file = model.source.file;
  for (const { layer, pairs } of pairWeights(tfModel, model)) {
    if (pairs.length === 0) continue;
    const tensors: tf.Tensor[] = [];
    try {
      for (const { target, weight } of pairs) tensors.push(weightTensor(weight, target.dtype, file, layer.name));
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}

function weightTensor(w: Weight, dtype: tf.DataType, file: string, layer: string): tf.Tensor {
  const size = w.shape.reduce((a, b) => a * b, 1);
  if (w.data.length !== size) {
    throw new KerasInteropError(
      'WEIGHTS_MISMATCH',
      `layer "${layer}" weight "${w.name}" holds ${w.data.length} values but its shape ${shapeText(w.shape)} needs ${size}`,
      { file, place: w.path },
    );
  }
  const where = { file, place: w.path };
  if (dtype === 'int32') return tf.tensor(toInt32(w.data, w.dtype, where, `weight "${w.name}"`), w.shape, 'int32');
  if (dtype === 'bool') return tf.tensor(toInt32(w.data, w.dtype, where, `weight "${w.name}"`), w.shape, 'bool');
  return tf.tensor(toFloat32(w.data, w.dtype), w.shape, 'float32');
}

type NumericData = Weight['data'] | number[];

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

// ---------------------------------------------------------------------------------------------------------

/**
 * Names of the model's inputs (their InputLayers), in order. tfjs leaves `inputNames` empty for
 * Sequential models, so ask the tensors.
 */
export function modelInputNames(tfModel: tf.LayersModel): string[] {
  return tfModel.inputs.map((t, i) => t.sourceLayer?.name ?? tfModel.inputNames[i] ?? `input_${i}`);
}

/** Names of the layers producing the model's outputs, in order (a layer giving several outputs repeats). */
export function modelOutputNames(tfModel: tf.LayersModel): string[] {
  return tfModel.outputs.map((t, i) => t.sourceLayer?.name ?? tfModel.outputNames[i] ?? `output_${i}`);
}

export interface InputArray {
  dtype: string;
  shape: number[];
  data: Weight['data'] | number[];
}

export interface OutputArray {
  /** The output layer's name (repeated when one layer gives several outputs). */
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * Runs the model on whole arrays, inputs in the model's input order. Integer inputs stay integers when the
 * model's input is int32 (int64 is range-checked); float data fed to an int32 input must hold integers.
 */
export function predict(tfModel: tf.LayersModel, inputs: InputArray[]): OutputArray[] {
  const expected = tfModel.inputs;
  const names = modelInputNames(tfModel);
  const outputNames = modelOutputNames(tfModel);
  if (inputs.length !== expected.length) {
    throw new KerasInteropError(
      'INPUT_MISMATCH',
      `the model takes ${expected.length} inputs (${names.join(', ')}) but ${inputs.length} were given`,
    );
  }
  const tensors: tf.Tensor[] = [];
  try {
    inputs.forEach((input, i) => {
      const name = names[i];
      const want = expected[i].shape;
      if (!Array.isArray(want)) {
        // tfjs takes whatever the config's batch_input_shape holds (a string, a number) as the shape.
        throw new KerasInteropError('CONFIG_INVALID', `input ${i} "${name}" has no list of dimensions (${JSON.stringify(want)}); check its layer's batch_input_shape`);
      }
      const okShape = input.shape.length === want.length && input.shape.every((d, j) => want[j] == null || want[j] === d);
      if (!okShape) {
        throw new KerasInteropError('INPUT_MISMATCH', `input ${i} "${name}" has shape ${shapeText(input.shape)}; the model expects ${shapeText(want)}`);
      }
      const size = input.shape.reduce((a, b) => a * b, 1);
      if (input.data.length !== size) {
        throw new KerasInteropError('INPUT_MISMATCH', `input ${i} "${name}" holds ${input.data.length} values but its shape ${shapeText(input.shape)} needs ${size}`);
      }
      const what = `input ${i} "${name}"`;
      const dtype = expected[i].dtype;
      if (dtype === 'int32' || dtype === 'bool') tensors.push(tf.tensor(toInt32(input.data, input.dtype, {}, what), input.shape, dtype));
      else tensors.push(tf.tensor(toFloat32(input.data, input.dtype), input.shape, 'float32'));
    });
    let result: tf.Tensor | tf.Tensor[];
    try {
      result = tfModel.predict(tensors.length === 1 ? tensors[0] : tensors);
    } catch (e) {
      // tfjs's kernels check values the shapes cannot (an Embedding index past the vocabulary, an
      // input dtype the config's InputLayer cannot take): these inputs cannot run on this model.
      if (e instanceof KerasInteropError) throw e;
      throw new KerasInteropError('INPUT_MISMATCH', `tfjs cannot run the model on these inputs: ${(e as Error)?.message ?? String(e)}`, {}, { cause: e });
    }
    const outs = Array.isArray(result) ? result : [result as tf.Tensor];
    try {
      return outs.map((t, j) => {
        const raw = t.dataSync();
        const data = raw instanceof Float32Array || raw instanceof Int32Array ? raw.slice() : Int32Array.from(raw as Uint8Array);
        return { name: outputNames[j] ?? `output_${j}`, shape: t.shape.slice(), data };
      });
    } finally {
      tf.dispose(outs);
    }
  } finally {
    tf.dispose(tensors);
  }
}
