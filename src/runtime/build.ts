/**
 * KerasModel → tfjs LayersModel: normalize the config, refuse layers tfjs cannot build (naming them),
 * deserialize, then assign the file's weights by order, layer by layer.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { formatShape, shapeText } from '../model/shape.js';
import type { KerasModel, Weight } from '../model/types.js';
import { useBackend } from './backend.js';
import { predictError, withLayerTrace } from './layer-errors.js';
import { withMaskTags } from './mask-tags.js';
import type { NormalizeResult } from './normalize.js';
import { upgradeLegacyLayers } from './legacy-layers.js';
import { buildTopology, insertNoMaskLayers, runnableConfig } from './topology.js';
import type { LambdaPolicy } from './lambda/replace.js';
import { pairWeights, toFloat32, toInt32 } from './weight-values.js';

export { pairWeights, toFloat32, toInt32, type LayerWeightPairs } from './weight-values.js';

export { buildTopology } from './topology.js';

export interface BuildOptions {
  /** tfjs backend to use (`tensorflow`/`node`, `wasm`, `cpu`); default: the fastest available. */
  backend?: string;
  /** Lambda layers: run their translated bytecode (`translate`, default) or refuse them (`refuse`). */
  lambdas?: LambdaPolicy;
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
  model = upgradeLegacyLayers(model);
  const normalized = runnableConfig(model, opts.lambdas);
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
        throw new KerasInteropError('INPUT_MISMATCH', `input ${i} "${name}" has shape ${formatShape(input.shape)}; the model expects ${formatShape(want)} (None: any size)`);
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
      result = withLayerTrace(tfModel, () => withMaskTags(tfModel, () => tfModel.predict(tensors.length === 1 ? tensors[0] : tensors)));
    } catch (e) {
      // tfjs's kernels check values the shapes cannot (an Embedding index past the vocabulary): the input
      // and the layer it could not pass are named; a TypeError inside a layer's call() is that layer's bug.
      throw predictError(e, tfModel, names);
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
