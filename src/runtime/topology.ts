/**
 * The tfjs graph of a KerasModel, without its weights: what the runtime builds and what the tfjs
 * writer exports, so both run the same graph. No Node built-ins (the tfjs reader and writer are
 * bundled for browsers).
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError, isKerasInteropError } from '../errors.js';
import { NO_MASK_CLASS_NAME } from '../layers/no-mask.js';
// Op calls (TFOpLambda, Keras 3 operations) build as this layer, registered on import.
import '../layers/op.js';
import type { JsonObject, JsonValue, KerasModel } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { isKerasObject, isModelClassName, layerNameOf, modelLayerList } from './config-walk.js';
import { type NormalizeResult, normalizeConfigDetailed } from './normalize.js';
import { findUnsupportedLayers, misnamedActivation, unresolvedClass, unresolvedClassError, unsupportedLayerError } from './registry.js';
import { type LambdaPolicy, withTranslatedLambdas } from './lambda/replace.js';
import { quietCpuBackend } from './tfjs-quiet.js';

/**
 * The tfjs model of a normalized config, without the file's weights (every weight zero). Layers must be
 * registered; `buildModel` checks that first and names what is missing.
 */
export async function buildTopology(normalizedConfig: JsonObject, file?: string): Promise<tf.LayersModel> {
  return buildWithInitializer(normalizedConfig, file, 'Zeros');
}

async function buildWithInitializer(normalizedConfig: JsonObject, file: string | undefined, initializer: string): Promise<tf.LayersModel> {
  quietCpuBackend();
  try {
    const topology = withZerosInitializers(normalizedConfig, undefined, initializer);
    return await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
  } catch (e) {
    if (isKerasInteropError(e)) throw e;
    throw new KerasInteropError('CONFIG_INVALID', `tfjs could not build the model: ${(e as Error).message}`, { file, place: '/' }, { cause: e });
  }
}

/**
 * The file's weights replace every initial value, so building with Zeros initializers skips tfjs's
 * random and orthogonal (QR) initialization, which dominates build time for large recurrent layers.
 */
function withZerosInitializers(v: JsonValue, key: string | undefined, initializer: string): JsonValue {
  if (key !== undefined && (key.endsWith('_initializer') || key === 'initializer') && v != null && typeof v !== 'number' && typeof v !== 'boolean') {
    return { class_name: initializer, config: {} };
  }
  if (Array.isArray(v)) return v.map((x) => withZerosInitializers(x, undefined, initializer));
  if (!isJsonObject(v)) return v;
  const out: JsonObject = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k, { value: withZerosInitializers(v[k], k, initializer), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Zeros for a model built only to be looked at (weight names, shapes, dtypes; never run or trained):
 * every float32, int32 and bool weight is a view of one shared zeroed buffer, as large as the largest
 * weight, instead of a buffer of its own. `tfjsLayout` builds with it, so learning tfjs's names costs
 * no second copy of the weights.
 */
class SharedZeros extends tf.serialization.Serializable {
  static className = 'KerasInterop>SharedZeros';

  getConfig(): tf.serialization.ConfigDict {
    return {};
  }

  apply(shape: number[], dtype: tf.DataType = 'float32'): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') return tf.zeros(shape, dtype);
    const bytes = dtype === 'bool' ? size : size * 4;
    if (!sharedZeros || sharedZeros.byteLength < bytes) sharedZeros = new ArrayBuffer(bytes);
    const view = dtype === 'float32' ? new Float32Array(sharedZeros, 0, size) : dtype === 'int32' ? new Int32Array(sharedZeros, 0, size) : new Uint8Array(sharedZeros, 0, size);
    return tf.tensor(view, shape, dtype);
  }
}
tf.serialization.registerClass(SharedZeros);

/** SharedZeros's buffer, dropped after each `buildSkeleton`. */
let sharedZeros: ArrayBuffer | undefined;

// ---------------------------------------------------------------------------------------------------------
// Calls without a mask.

function put(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The normalized config with a `KerasInterop>NoMask` layer in front of every call of the named layers
 * (`NormalizeResult.callsWithoutMask`): Keras 3 ran those calls with `mask=None`. Each call (inbound node)
 * gets its own NoMask layer, placed just before the layer in the list, taking each of the call's input
 * tensors once and handing them on, so the call reads NoMask outputs only. Applies to the root model
 * and to nested functional models alike. Pure: the input is not modified.
 */
export function insertNoMaskLayers(normalizedConfig: JsonObject, layerNames: readonly string[]): JsonObject {
  if (layerNames.length === 0) return normalizedConfig;
  const wanted = new Set(layerNames);
  return rewriteModel(normalizedConfig, wanted);
}

function rewriteModel(model: JsonObject, wanted: Set<string>): JsonObject {
  const list = modelLayerList(model);
  if (!list || !isJsonObject(model.config)) return model;
  const functional = model.class_name !== 'Sequential';
  const taken = new Set(list.layers.filter(isJsonObject).map((l) => layerNameOf(l)));
  const unique = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const layers: JsonValue[] = [];
  for (const entry of list.layers) {
    if (!isKerasObject(entry)) {
      layers.push(entry);
      continue;
    }
    let layer: JsonObject = entry;
    if (isModelClassName(entry.class_name)) layer = rewriteModel(entry, wanted);
    const name = layerNameOf(entry);
    if (functional && wanted.has(name) && Array.isArray(entry.inbound_nodes)) {
      const nodes: JsonValue[] = [];
      entry.inbound_nodes.forEach((node, j) => {
        if (!Array.isArray(node) || node.length === 0 || !node.every((e) => Array.isArray(e) && typeof e[0] === 'string')) {
          nodes.push(node);
          return;
        }
        const entries = node as JsonValue[][];
        const noMask = unique(j === 0 ? `${name}_no_mask` : `${name}_no_mask_${j}`);
        // Each tensor once: tfjs's predict frees a tensor read twice by one node too early.
        const refs = [...new Set(entries.map((e) => JSON.stringify(e.slice(0, 3))))];
        layers.push({
          class_name: NO_MASK_CLASS_NAME,
          name: noMask,
          config: { name: noMask, trainable: false },
          inbound_nodes: [refs.map((r) => [...(JSON.parse(r) as JsonValue[]), {}])],
        });
        nodes.push(entries.map((e) => [noMask, 0, refs.indexOf(JSON.stringify(e.slice(0, 3))), ...e.slice(3)]));
      });
      const copy: JsonObject = { ...layer };
      put(copy, 'inbound_nodes', nodes);
      layer = copy;
    }
    layers.push(layer);
  }
  const inner: JsonObject = Array.isArray(model.config) ? { layers } : { ...model.config };
  put(inner, 'layers', layers);
  const out: JsonObject = { ...model };
  put(out, 'config', Array.isArray(model.config) ? layers : inner);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// What the tfjs format needs.

export type TfjsWeightDType = 'float32' | 'int32' | 'bool';

export interface TfjsWeightSpec {
  /** The name tfjs-layers looks the weight up by when loading (`LayerVariable.originalName`). */
  name: string;
  shape: number[];
  dtype: TfjsWeightDType;
}

export interface TfjsLayerSpec {
  /** Top-level layer name. */
  layer: string;
  className: string;
  /** In the layer's `weights` order, which is Keras's (`KerasModel.weights` pairs with it by position). */
  weights: TfjsWeightSpec[];
}

export interface TfjsLayout {
  /** The config tfjs deserializes: normalized, with NoMask layers for calls without a mask. */
  modelConfig: JsonObject;
  normalized: NormalizeResult;
  /** Every top-level layer, in model order. */
  layers: TfjsLayerSpec[];
}

/**
 * The normalized config of a model the runtime can build: refuses weights-only models and names the
 * first layer tfjs cannot build (pointing at it in the file's own config).
 */
export function runnableConfig(model: KerasModel, lambdas: LambdaPolicy = 'translate'): NormalizeResult {
  const file = model.source.file;
  if (!model.config) {
    throw new KerasInteropError('CONFIG_MISSING', 'the file holds weights only; pass a config (--config) to build a model', { file });
  }
  const plain = normalizeConfigDetailed(model.config, { file, weights: model.weights, kerasVersion: model.source.kerasVersion });
  const unfit = unresolvedClass(plain.resolutions);
  if (unfit) throw unresolvedClassError(unfit, model);
  // Lambda layers whose bytecode translates run as KerasInterop>Lambda layers (src/runtime/lambda).
  const translated = withTranslatedLambdas(plain.config, lambdas);
  const normalized: NormalizeResult = { ...plain, config: translated.config };
  const misnamed = misnamedActivation(normalized.config, file);
  if (misnamed) throw misnamed;
  const unsupported = findUnsupportedLayers(normalized.config);
  if (unsupported.length > 0) {
    const u = unsupported[0];
    const why = u.reason === 'lambda' ? translated.untranslated.get(u.name) : undefined;
    if (why) u.detail = `${u.detail}; ${why}`;
    const verbatim = normalized.resolutions.find((r) => r.layer === u.name && r.resolvedClass === u.className)?.path;
    throw unsupportedLayerError(u, model, verbatim);
  }
  return normalized;
}

/**
 * The model's tfjs graph for reading it (layers, nodes, shapes, weight order), never for running: every
 * weight is a view of one shared zero buffer (`SharedZeros`). The caller disposes `tfModel`.
 */
export async function buildSkeleton(
  model: KerasModel,
  lambdas: LambdaPolicy = 'translate',
): Promise<{ tfModel: tf.LayersModel; modelConfig: JsonObject; normalized: NormalizeResult }> {
  const normalized = runnableConfig(model, lambdas);
  const modelConfig = insertNoMaskLayers(normalized.config, normalized.callsWithoutMask);
  try {
    return { tfModel: await buildWithInitializer(modelConfig, model.source.file, SharedZeros.className), modelConfig, normalized };
  } finally {
    sharedZeros = undefined;
  }
}

/**
 * Builds the model's graph in tfjs (our layers must be registered: import the layers entry) and reads
 * back every layer's weights as tfjs names them. Fails with the runtime's errors for configs that
 * cannot run (missing config, unsupported layers, invalid graphs).
 */
export async function tfjsLayout(model: KerasModel, lambdas: LambdaPolicy = 'translate'): Promise<TfjsLayout> {
  const { tfModel, modelConfig, normalized } = await buildSkeleton(model, lambdas);
  try {
    const layers = tfModel.layers.map((layer) => ({
      layer: layer.name,
      className: layer.getClassName(),
      weights: layer.weights.map((w) => ({ name: w.originalName, shape: w.shape.map((d) => d as number), dtype: tfjsDType(w.dtype) })),
    }));
    return { modelConfig, normalized, layers };
  } finally {
    tfModel.dispose();
  }
}

function tfjsDType(dtype: tf.DataType): TfjsWeightDType {
  if (dtype === 'float32' || dtype === 'int32' || dtype === 'bool') return dtype;
  throw new KerasInteropError('UNSUPPORTED_DTYPE', `tfjs built a weight of dtype ${dtype}, which the tfjs weights format cannot hold here`);
}
