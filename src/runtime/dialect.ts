/**
 * Cross-generation config conversion, for the writers: tf.keras 2's config dialect to Keras 3's
 * (`toKeras3Config`, what a `.keras` archive or a Keras 3 legacy `.h5` holds) and back
 * (`toKeras2Config`, what a tf.keras 2 `.h5` holds). Both are pure: they build new objects and never
 * touch their input.
 *
 * tf.keras 2 → Keras 3 follows what Keras 3 itself does when it reads a tf.keras 2 config
 * (`legacy/saving/saving_utils.model_from_config`, `models/functional.deserialize_node`): an
 * InputLayer's `batch_input_shape` becomes `batch_shape`, a one-item `axis` list an int, a Lambda's
 * marshalled function a `__lambda__` object, and a node `[[layer, node, tensor, kwargs], ...]` the call
 * `layer(tensor_or_list, **kwargs)`. It then writes the result as Keras 3's `serialize_keras_object`
 * would: `module`/`registered_name` on every object, DTypePolicy objects, `__keras_tensor__` node
 * arguments, `build_config` where Keras 3 records one, and the Keras 3 form of the layers whose config
 * changed between the generations (Bidirectional's `forward_`/`backward_` layers, MultiHeadAttention's
 * shapes in `build_config`, recurrent layers without `time_major`, TFOpLambda / SlicingOpLambda layers as
 * the Keras 3 operations of the same meaning, through the op table in ops/), and `hard_sigmoid` under
 * the name that keeps the meaning it had where it was saved (versioned-activations.ts): Keras 2's as the
 * function `hard_sigmoid_keras2`, which Keras 3 loads only when given it as a custom object.
 *
 * Keras 3 → tf.keras 2 is the inverse (operations become TFOpLambda layers, `x + y` of two tensors an
 * Add layer); Keras 3's mask pseudo-layers (`NotEqual`, `Any`, ...) and the `mask` arguments they feed
 * are dropped (tf.keras 2 recomputes masks from `compute_mask`), keys only Keras 3 knows are dropped
 * when they hold their default (and refused otherwise), and Keras 3's `hard_sigmoid` is written as
 * `hard_sigmoid_keras3`, which tf.keras 2 refuses rather than read as its own.
 */
import { KerasInteropError } from '../errors.js';
import { lookupTable } from '../model/config.js';
import type { JsonObject, JsonValue } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import {
  type KerasObject,
  LAYER_HOLDING_KEYS,
  type TensorRef,
  collectTensorRefs,
  isKerasObject,
  isMirrorLayer,
  isModelClassName,
  keras2TensorRef,
  keras3TensorRef,
  layerNameOf,
  modelLayerList,
  pointer,
  stableJson,
} from './config-walk.js';
import { mergeAsMergeLayer } from './legacy-merge.js';
import { CALL_SIGNATURES, normalizeConfig, resolveClassName } from './normalize.js';
import { decodeKeras3Operation, encodeKeras3Operation } from './ops/keras3-node.js';
import { keras3OpModule } from './ops/keras3-ops.js';
import { isKeras3Operation } from './ops/operation-node.js';
import { TF_OP_LAYER_CLASSES, decodeTfOpLayer, encodeTfOpLayer } from './ops/tf-op-lambda.js';
import { resolveLayerClass } from './class-resolution.js';
import { configGeneration } from './config-generation.js';
import { hardSigmoidFor, hardSigmoidGeneration } from './versioned-activations.js';
import type { KerasGeneration } from '../model/weight-names.js';

export type Shape = (number | null)[];

/**
 * Output shapes of a model's layers, by layer name, then node index (numbered as in the config being
 * converted), then output tensor index. Nested models' layers are keyed the same way.
 */
export type OutputShapes = ReadonlyMap<string, Shape[][]>;

export interface ToKeras3Options {
  /**
   * Write what Keras 3 stores in a legacy `.h5` file's `model_config` (`use_legacy_config`): the model
   * and the entries of its layer lists as `{class_name, config}` (registered classes by their registered
   * name), everything inside them as in a `.keras` archive.
   */
  legacyH5?: boolean;
  /**
   * Shapes for the `__keras_tensor__` arguments and `build_config`s (see `inferOutputShapes`). Without
   * them an argument's shape is a placeholder of unknown dimensions (Keras 3 replaces every argument by
   * the tensor its `keras_history` names when it loads, so only its presence matters) and layers get no
   * `build_config` (Keras 3 builds a functional model's layers by calling them).
   */
  outputShapes?: OutputShapes;
  /** Named in errors. */
  file?: string;
  /**
   * The Keras version that saved the config: which `hard_sigmoid` a bare name means (Keras 2's is
   * written as the function `hard_sigmoid_keras2`: versioned-activations.ts). Default: the dialect's.
   */
  kerasVersion?: string;
}

export interface ToKeras2Options {
  /** Named in errors. */
  file?: string;
  /**
   * The Keras version that saved the config: which `hard_sigmoid` a bare name means (Keras 3's is written
   * as `hard_sigmoid_keras3`: versioned-activations.ts). Default: the dialect's.
   */
  kerasVersion?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Shared helpers.

/** Own-property assignment: JSON keys such as `__proto__` stay data. */
function put(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function has(obj: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function obj(entries: [string, JsonValue][]): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of entries) put(out, k, v);
  return out;
}

function deepCopy(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (!isJsonObject(v)) return v;
  return obj(Object.keys(v).map((k) => [k, deepCopy(v[k])]));
}

interface Ctx {
  file?: string;
  /** Whose `hard_sigmoid` the bare name means in the config converted. */
  hardSigmoid: KerasGeneration;
}

function invalid(ctx: Ctx, place: string, message: string): KerasInteropError {
  return new KerasInteropError('CONFIG_INVALID', message, { file: ctx.file, place });
}

function unsupported(ctx: Ctx, place: string, message: string): KerasInteropError {
  return new KerasInteropError('UNSUPPORTED_LAYER', message, { file: ctx.file, place });
}

/** A tf.keras 2 node: a list of `[layer, node, tensor, kwargs]` entries (TFOpLambda writes one entry bare). */
function keras2Entries(node: JsonValue): JsonValue[][] {
  if (!Array.isArray(node)) return [];
  if (node.length > 0 && typeof node[0] === 'string') return [node];
  return node.filter((e): e is JsonValue[] => Array.isArray(e) && typeof e[0] === 'string');
}

function entryName(l: JsonObject): string {
  return typeof l.name === 'string' ? l.name : layerNameOf(l);
}

/** A model's entries and how its layers hold nested models (their node numbering differs by generation). */
function modelClasses(layers: JsonValue[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of layers) if (isKerasObject(l)) out.set(entryName(l), l.class_name);
  return out;
}

/** Keras 3 `module`s of the layer packages the runtime knows. */
const PACKAGE_MODULES: Readonly<Record<string, string>> = lookupTable({
  SeqSelfAttention: 'keras_self_attention.seq_self_attention',
  SeqWeightedAttention: 'keras_self_attention.seq_weighted_attention',
  ScaledDotProductAttention: 'keras_self_attention.scaled_dot_attention',
  ResidualScaledDotProductAttention: 'keras_self_attention.real_former',
  MultiHead: 'keras_multi_head.multi_head',
  MultiHeadAttention: 'keras_multi_head.multi_head_attention',
});

/** Keras 3 operations that tf.keras 2 has as merge layers. */
const KERAS3_OP_TO_MERGE_LAYER = new Set(['Add', 'Subtract', 'Multiply']);

/** Layers Keras 3 builds in `__init__` (no `build()` of their own): Keras 3 writes no `build_config` for them. */
const NO_BUILD_CONFIG = new Set([
  'InputLayer', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout',
  'AlphaDropout', 'Masking', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU', 'Identity',
  'ActivityRegularization', 'Reshape', 'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalAveragePooling3D',
  'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'GlobalMaxPooling3D', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D',
  'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'Lambda',
]);

/** Whether Keras 3 writes a `build_config` for a layer of this class and module (operations and `NO_BUILD_CONFIG` classes have none). */
export function keras3RecordsBuild(cls: string, module: JsonValue | undefined): boolean {
  return !NO_BUILD_CONFIG.has(cls) && !(typeof module === 'string' && module.startsWith('keras.src.ops'));
}

/** Layers whose Keras 3 config keeps `axis` as a list. */
const AXIS_LISTS = new Set(['LayerNormalization', 'UnitNormalization', 'Normalization']);

const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'LSTMCell', 'GRUCell', 'SimpleRNNCell', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D']);

/** Legacy Lambda arguments Keras 3 drops (`saving_utils.LAMBDA_DEP_ARGS`). */
const LAMBDA_DEP_ARGS = ['module', 'function_type', 'output_shape_type', 'output_shape_module'];

function dtypeName(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (isJsonObject(v) && isJsonObject(v.config) && typeof v.config.name === 'string') return v.config.name;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// tf.keras 2 → Keras 3.

function policy3(name: string): JsonObject {
  return { module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null };
}

/** `{class_name, config}` of an initializer, regularizer or constraint, as Keras 3 serializes it. */
function kerasObject3(v: JsonValue, module: string): JsonValue {
  if (!isKerasObject(v)) return deepCopy(v);
  if (has(v, 'module')) return deepCopy(v);
  const cls = v.class_name;
  const registered = cls.includes('>');
  return obj([
    ['module', registered ? null : module],
    ['class_name', registered ? cls.slice(cls.lastIndexOf('>') + 1) : cls],
    ['config', deepCopy(v.config)],
    ['registered_name', registered ? cls : null],
  ]);
}

interface Layer3Context {
  ctx: Ctx;
  shapes?: OutputShapes;
  /** Input shapes of the call that builds the layer (one per tensor), when known. */
  inputShapes?: Shape[];
  /** Whether the call passes one tensor (rather than a list). */
  singleInput?: boolean;
  /** Whether the layer is held by a class whose `get_config` writes sub-layers bare (`{class_name, config}`). */
  bare?: boolean;
}

function policyOf3(v: JsonValue): JsonValue {
  if (typeof v === 'string') return policy3(v);
  if (isJsonObject(v) && !has(v, 'module')) {
    const name = dtypeName(v);
    if (name !== undefined) return policy3(name);
  }
  return deepCopy(v);
}

/** A layer's config values in Keras 3's form (not the layer-holding keys, which the caller converts). */
function layerConfig3(cls: string, config: JsonObject, path: string, lc: Layer3Context): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(config)) {
    const v = config[key];
    const hardSigmoid = hardSigmoidFor('keras3', key, v, lc.ctx.hardSigmoid);
    if (hardSigmoid !== undefined) put(out, key, hardSigmoid);
    else if (key === 'dtype' && cls !== 'InputLayer') put(out, key, policyOf3(v));
    else if (key === 'dtype') put(out, key, dtypeName(v) ?? deepCopy(v));
    else if (key.endsWith('_initializer') || key === 'initializer') put(out, key, kerasObject3(v, 'keras.initializers'));
    else if (key.endsWith('_regularizer')) put(out, key, kerasObject3(v, 'keras.regularizers'));
    else if (key.endsWith('_constraint')) put(out, key, kerasObject3(v, 'keras.constraints'));
    else if (LAYER_HOLDING_KEYS.includes(key) && (isKerasObject(v) || Array.isArray(v))) {
      const bare = cls === 'MultiHead';
      const sub = (item: JsonValue, p: string, inputShapes?: Shape[]): JsonValue =>
        isKerasObject(item) ? layer3(item, p, { ctx: lc.ctx, bare, inputShapes, singleInput: lc.singleInput }) : deepCopy(item);
      // Keras 3 records the build of a wrapped layer: Bidirectional's take the wrapper's input, TimeDistributed's one step of it.
      let subShapes: Shape[] | undefined;
      if (cls === 'Bidirectional') subShapes = lc.inputShapes;
      else if (cls === 'TimeDistributed' && lc.inputShapes?.length === 1 && lc.inputShapes[0].length >= 2) {
        subShapes = [[lc.inputShapes[0][0], ...lc.inputShapes[0].slice(2)]];
      }
      if (Array.isArray(v)) put(out, key, v.map((item, i) => sub(item, pointer(path, key, i))));
      else put(out, key, sub(v, pointer(path, key), bare ? undefined : subShapes));
    } else put(out, key, deepCopy(v));
  }

  if (cls === 'InputLayer') {
    if (has(out, 'batch_input_shape')) {
      put(out, 'batch_shape', out.batch_input_shape);
      delete out.batch_input_shape;
    }
  } else {
    // Keras 3 turns it into an `input_shape` argument, which only matters to a Sequential's first
    // layer; the Sequential conversion puts an InputLayer in front instead.
    delete out.batch_input_shape;
  }
  // saving_utils.model_from_config: a one-item axis list is an int in Keras 3 (whose BatchNormalization
  // takes only an int); the normalizations that take a list write it as one.
  if (Array.isArray(out.axis) && out.axis.length === 1 && typeof out.axis[0] === 'number' && !AXIS_LISTS.has(cls)) put(out, 'axis', out.axis[0]);
  // Keras 3's Embedding ignores it (with a warning) and never writes it.
  if (cls === 'Embedding') delete out.input_length;
  if (cls === 'Lambda') {
    for (const k of LAMBDA_DEP_ARGS) delete out[k];
    const fn = out.function;
    if (Array.isArray(fn)) put(out, 'function', { class_name: '__lambda__', config: { code: fn[0] ?? null, defaults: fn[1] ?? null, closure: fn[2] ?? null } });
  }
  if (RECURRENT.has(cls) && has(out, 'time_major')) {
    if (out.time_major === true) throw unsupported(lc.ctx, pointer(path, 'time_major'), `${cls} with time_major=True has no Keras 3 counterpart`);
    delete out.time_major;
  }
  return out;
}

function mhaShapesDict3(config: JsonObject, node: JsonValue | undefined): JsonObject | undefined {
  const shape = (k: string) => (Array.isArray(config[k]) ? (deepCopy(config[k]) as JsonValue[]) : undefined);
  const q = shape('query_shape');
  const v = shape('value_shape');
  if (!q || !v) return undefined;
  const out = obj([['query_shape', q], ['value_shape', v]]);
  // Keras 3 records key_shape only when the call passed a key; tf.keras 2 writes value_shape there otherwise.
  const kw = keras2Entries(node ?? null).at(-1)?.[3];
  const k = shape('key_shape');
  if (k && isJsonObject(kw) && kw.key != null) put(out, 'key_shape', k);
  return out;
}

/** One layer (not a model) as Keras 3 serializes it: `{module, class_name, config, registered_name, [build_config]}`. */
function layer3(layer: KerasObject, path: string, lc: Layer3Context, firstNode?: JsonValue): JsonObject {
  if (isModelClassName(layer.class_name)) return model3(layer, path, lc);
  const config = isJsonObject(layer.config) ? layer.config : {};
  let cls = layer.class_name;
  let module: string | null;
  let registered: string | null;
  if (cls === 'CuDNNLSTM' || cls === 'CuDNNGRU') {
    throw unsupported(lc.ctx, path, `${cls} (layer "${layerNameOf(layer)}") has no Keras 3 counterpart`);
  }
  // Keras 3 has no legacy Merge: the merge layer of the same meaning
  if (cls === 'Merge' && isJsonObject(layer.config)) {
    return layer3(mergeAsMergeLayer(layer as KerasObject & { config: JsonObject }, { file: lc.ctx.file, place: path }) as KerasObject, path, lc, firstNode);
  }
  if (has(layer, 'module')) {
    module = layer.module as string | null;
    registered = (layer.registered_name ?? null) as string | null;
  } else if (isKeras3Operation(layer)) {
    // a Keras 3 operation in a Keras 3 legacy .h5 config
    module = keras3OpModule(cls);
    registered = cls;
  } else {
    const r = resolveLayerClass({ className: cls, config });
    if (r.origin === 'keras') {
      module = 'keras.layers';
      registered = null;
    } else if (r.origin === 'user') {
      module = null;
      registered = cls;
      if (cls.includes('>')) cls = cls.slice(cls.lastIndexOf('>') + 1);
    } else {
      module = r.candidate?.module ?? PACKAGE_MODULES[cls.slice(cls.lastIndexOf('>') + 1)] ?? null;
      cls = cls.slice(cls.lastIndexOf('>') + 1);
      registered = cls;
    }
  }
  const inner = layerConfig3(cls, config, pointer(path, 'config'), lc);
  let build: JsonObject | undefined;
  const isKerasMha = cls === 'MultiHeadAttention' && module === 'keras.layers';
  if (isKerasMha) {
    const shapes = mhaShapesDict3(inner, firstNode);
    for (const k of ['query_shape', 'key_shape', 'value_shape']) delete inner[k];
    if (shapes) build = { shapes_dict: shapes };
  }
  if (cls === 'Bidirectional') bidirectional3(inner);
  if (!build && lc.inputShapes && !NO_BUILD_CONFIG.has(cls) && !(module ?? '').startsWith('keras.src.ops')) {
    const shapes = deepCopy(lc.inputShapes as JsonValue[]) as JsonValue[];
    build = { input_shape: lc.singleInput === false ? shapes : (shapes[0] ?? null) };
  }
  if (lc.bare) return obj([['class_name', cls], ['config', inner]]);
  const out = obj([['module', module], ['class_name', cls], ['config', inner], ['registered_name', registered]]);
  if (build) put(out, 'build_config', build);
  return out;
}

/**
 * tf.keras 2 stores Bidirectional's forward layer under its own name and the backward one only when it
 * was given; Keras 3 always writes both, named `forward_<name>` and `backward_<name>`.
 */
function bidirectional3(config: JsonObject): void {
  const fwd = config.layer;
  if (!isKerasObject(fwd) || !isJsonObject(fwd.config) || typeof fwd.config.name !== 'string') return;
  const base = fwd.config.name.replace(/^forward_/, '');
  const renamed = (l: KerasObject, name: string): JsonObject => {
    const copy = deepCopy(l) as JsonObject;
    put(copy.config as JsonObject, 'name', name);
    return copy;
  };
  put(config, 'layer', renamed(fwd, `forward_${base}`));
  if (config.backward_layer == null) {
    const mirror = renamed(fwd, `backward_${base}`);
    const c = mirror.config as JsonObject;
    put(c, 'go_backwards', !(c.go_backwards === true));
    put(config, 'backward_layer', mirror);
  }
}

/** Keras's Luong and Bahdanau attention layers. */
const DENSE_ATTENTION = new Set(['Attention', 'AdditiveAttention']);

/**
 * tf.keras <= 2.9 configures `Attention(causal=True)`; Keras 3 (like tf.keras >= 2.10) has no such
 * argument and takes `use_causal_mask=True` in each call instead.
 */
function causalToCallArgument3(layer: JsonObject): void {
  const config = layer.config as JsonObject;
  if (!has(config, 'causal')) return;
  const causal = config.causal === true;
  delete config.causal;
  if (!causal || !Array.isArray(layer.inbound_nodes)) return;
  for (const node of layer.inbound_nodes) {
    if (isJsonObject(node) && isJsonObject(node.kwargs) && !has(node.kwargs, 'use_causal_mask')) put(node.kwargs, 'use_causal_mask', true);
  }
}

/** Keras 3 `__keras_tensor__` for a tf.keras 2 reference. */
function kerasTensor3(ref: TensorRef, history: TensorRef, sc: Model3Context): JsonObject {
  const shape = sc.shapes?.get(ref[0])?.[ref[1]]?.[ref[2]];
  return {
    class_name: '__keras_tensor__',
    config: {
      shape: shape ? [...shape] : [null],
      dtype: sc.tensorDtype(ref[0]),
      keras_history: [...history],
    },
  };
}

interface Model3Context {
  ctx: Ctx;
  shapes?: OutputShapes;
  /** Class of each layer of the model being converted, by name. */
  classes: Map<string, string>;
  tensorDtype(layer: string): string;
}

/**
 * Keras 3's numbering of a layer's nodes: tf.keras 2 gives a nested model (Functional or Sequential) a
 * node 0 of its own; Keras 3 does not.
 */
function history3(ref: TensorRef, sc: Model3Context): TensorRef {
  const cls = sc.classes.get(ref[0]);
  return cls !== undefined && isModelClassName(cls) ? [ref[0], Math.max(0, ref[1] - 1), ref[2]] : ref;
}

/** Tensor references inside tf.keras 2 kwargs (3-lists) become `__keras_tensor__` objects. */
function kwargValue3(v: JsonValue, sc: Model3Context): JsonValue {
  const ref = keras2TensorRef(v);
  if (ref && sc.classes.has(ref[0])) return kerasTensor3(ref, history3(ref, sc), sc);
  if (Array.isArray(v)) return v.map((x) => kwargValue3(x, sc));
  if (isJsonObject(v)) return obj(Object.keys(v).map((k) => [k, kwargValue3(v[k], sc)]));
  return v;
}

/** A tf.keras 2 node as Keras 3 reads it (`deserialize_node`): `layer(tensor_or_list, **kwargs)`. */
function node3(node: JsonValue, path: string, sc: Model3Context): JsonValue {
  if (isJsonObject(node)) return deepCopy(node);
  const entries = keras2Entries(node);
  if (entries.length === 0) {
    if (Array.isArray(node) && node.length === 0) return { args: [], kwargs: {} };
    throw invalid(sc.ctx, path, 'expected [layer_name, node_index, tensor_index, kwargs] entries');
  }
  const tensors = entries.map((e, i) => {
    const ref = keras2TensorRef(e.slice(0, 3));
    if (!ref) throw invalid(sc.ctx, pointer(path, i), `malformed inbound entry ${JSON.stringify(e).slice(0, 200)}`);
    return kerasTensor3(ref, history3(ref, sc), sc);
  });
  const last = entries[entries.length - 1];
  const kwargsIn = isJsonObject(last[3]) ? last[3] : {};
  const kwargs: JsonObject = {};
  for (const k of Object.keys(kwargsIn)) {
    // TFOpLambda records its op's `name=None`; Keras 3's operations take no such argument in calls.
    if (k === 'name' && kwargsIn[k] === null) continue;
    put(kwargs, k, kwargValue3(kwargsIn[k], sc));
  }
  return { args: [tensors.length === 1 ? tensors[0] : tensors], kwargs };
}

/** One entry's node calls all written alike (one operation or layer serves them all), or an error. */
function sameForEveryCall<E>(encoded: E[], config: (e: E) => JsonValue, ctx: Ctx, path: string, name: string): E {
  if (encoded.length === 0) throw invalid(ctx, path, `op "${name}" is never called (no inbound nodes)`);
  const first = stableJson(config(encoded[0]));
  if (encoded.some((e) => stableJson(config(e)) !== first)) {
    throw new KerasInteropError('UNSUPPORTED_OP', `op "${name}" is called with different arguments; one operation cannot serve every call`, { file: ctx.file, place: path });
  }
  return encoded[0];
}

/** A TFOpLambda / SlicingOpLambda layer as the Keras 3 operation of the same meaning (through the op table). */
function opLayer3(layer: KerasObject, name: string, path: string, sc: Model3Context): JsonObject {
  const where = { file: sc.ctx.file, place: path };
  const encoded = decodeTfOpLayer(layer, path, sc.ctx.file).map(({ call, inputs }) =>
    encodeKeras3Operation(call, name, (i) => kerasTensor3(inputs[i], history3(inputs[i], sc), sc), where),
  );
  const e = sameForEveryCall(encoded, (x) => x.config, sc.ctx, path, name);
  return obj([
    ['module', e.module],
    ['class_name', e.class_name],
    ['config', e.config],
    ['registered_name', e.registered_name],
    ['name', name],
    ['inbound_nodes', encoded.map((x) => x.node)],
  ]);
}

function inputShapesOf(node: JsonValue | undefined, sc: Model3Context): { shapes?: Shape[]; single: boolean } {
  const entries = keras2Entries(node ?? null);
  if (!sc.shapes || entries.length === 0) return { single: entries.length <= 1 };
  const shapes: Shape[] = [];
  for (const e of entries) {
    const ref = keras2TensorRef(e.slice(0, 3));
    const s = ref && sc.shapes.get(ref[0])?.[ref[1]]?.[ref[2]];
    if (!s) return { single: entries.length === 1 };
    shapes.push([...s]);
  }
  return { shapes, single: entries.length === 1 };
}

function layerDtype(layer: JsonObject): string {
  const c = isJsonObject(layer.config) ? layer.config : {};
  const name = dtypeName(c.dtype) ?? 'float32';
  if (layer.class_name === 'InputLayer') return name;
  if (name.startsWith('mixed_')) return name.slice('mixed_'.length);
  return name;
}

function functionalRefs3(v: JsonValue | undefined, sc: Model3Context): JsonValue {
  if (v === undefined) return [];
  const ref = keras2TensorRef(v);
  if (ref) {
    // Keras 3 numbers a nested Sequential's calls from 0 here too; a nested Functional keeps its node 0.
    return sc.classes.get(ref[0]) === 'Sequential' ? [ref[0], Math.max(0, ref[1] - 1), ref[2]] : [...ref];
  }
  if (Array.isArray(v)) return v.map((x) => functionalRefs3(x, sc));
  if (isJsonObject(v)) return obj(Object.keys(v).map((k) => [k, functionalRefs3(v[k], sc)]));
  return v;
}

function model3(model: KerasObject, path: string, lc: Layer3Context): JsonObject {
  const list = modelLayerList(model, path);
  if (!list) throw invalid(lc.ctx, pointer(path, 'config'), `a ${model.class_name} config needs a "layers" list`);
  const inner = isJsonObject(model.config) ? model.config : {};
  const name = typeof inner.name === 'string' ? inner.name : model.class_name === 'Sequential' ? 'sequential' : 'functional';
  const trainable = typeof inner.trainable === 'boolean' ? inner.trainable : true;
  const entries = list.layers;
  entries.forEach((l, i) => {
    if (!isKerasObject(l)) throw invalid(lc.ctx, pointer(list.path, i), 'a layer must be an object with "class_name" and "config"');
  });
  const layers = entries as KerasObject[];
  const dtypes = new Map(layers.map((l) => [entryName(l), layerDtype(l)]));
  const sc: Model3Context = {
    ctx: lc.ctx,
    shapes: lc.shapes,
    classes: modelClasses(entries),
    tensorDtype: (layer) => dtypes.get(layer) ?? 'float32',
  };
  if (model.class_name === 'Sequential') return sequential3(model, layers, name, trainable, list.path, sc);

  const out: JsonValue[] = layers.map((l, i) => {
    const lp = pointer(list.path, i);
    const n = entryName(l);
    if (TF_OP_LAYER_CLASSES.has(l.class_name)) return opLayer3(l, n, lp, sc);
    const nodes = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
    const first = nodes[0];
    const { shapes, single } = inputShapesOf(first, sc);
    // Keras 3 records the build of the first call
    const converted = layer3(l, lp, { ctx: lc.ctx, shapes: lc.shapes, inputShapes: shapes, singleInput: single }, first);
    put(converted, 'name', n);
    put(
      converted,
      'inbound_nodes',
      nodes.map((node, j) => node3(node, pointer(lp, 'inbound_nodes', j), sc)),
    );
    if (DENSE_ATTENTION.has(l.class_name)) causalToCallArgument3(converted);
    return converted;
  });
  const config = obj([
    ['name', name],
    ['trainable', trainable],
    ['layers', out],
    ['input_layers', functionalRefs3(inner.input_layers, sc)],
    ['output_layers', functionalRefs3(inner.output_layers, sc)],
  ]);
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config,
    registered_name: 'Functional',
    build_config: { input_shape: null },
  };
}

function sequential3(model: KerasObject, layers: KerasObject[], name: string, trainable: boolean, layersPath: string, sc: Model3Context): JsonObject {
  const inner = isJsonObject(model.config) ? model.config : {};
  const first = layers[0];
  const firstCfg = first && isJsonObject(first.config) ? first.config : {};
  let inputShape: JsonValue | undefined;
  if (first?.class_name === 'InputLayer') inputShape = firstCfg.batch_input_shape ?? firstCfg.batch_shape;
  else inputShape = Array.isArray(firstCfg.batch_input_shape) ? firstCfg.batch_input_shape : inner.build_input_shape;
  const out: JsonValue[] = [];
  if (first && first.class_name !== 'InputLayer' && Array.isArray(inputShape)) {
    // Keras 3 puts an InputLayer in front of a Sequential built from a shape and lists it in the config.
    const taken = new Set(layers.map(entryName));
    let inputName = 'input_layer';
    for (let i = 1; taken.has(inputName); i++) inputName = `input_layer_${i}`;
    out.push({
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: { batch_shape: deepCopy(inputShape), dtype: dtypeName(firstCfg.dtype) ?? 'float32', sparse: false, ragged: false, name: inputName },
      registered_name: null,
    });
  }
  let shape: Shape | undefined = Array.isArray(inputShape) ? (inputShape as Shape) : undefined;
  layers.forEach((l, i) => {
    const n = entryName(l);
    const inputShapes = l.class_name === 'InputLayer' ? undefined : shape ? [shape] : undefined;
    out.push(layer3(l, pointer(layersPath, i), { ctx: sc.ctx, shapes: sc.shapes, inputShapes, singleInput: true }));
    if (l.class_name !== 'InputLayer') shape = sc.shapes?.get(n)?.[isModelClassName(l.class_name) ? 1 : 0]?.[0];
  });
  const config = obj([
    ['name', name],
    ['trainable', trainable],
    ['dtype', policy3('float32')],
    ['layers', out],
  ]);
  if (Array.isArray(inputShape)) put(config, 'build_input_shape', deepCopy(inputShape));
  const result = obj([
    ['module', 'keras'],
    ['class_name', 'Sequential'],
    ['config', config],
    ['registered_name', null],
  ]);
  if (Array.isArray(inputShape)) put(result, 'build_config', { input_shape: deepCopy(inputShape) });
  return result;
}

/**
 * A tf.keras 2 model config (`{class_name, config}` from a tf.keras 2 `.h5`, SavedModel or tfjs
 * `model.json`) in Keras 3's dialect, as Keras 3 would write it to a `.keras` archive. Parts already in
 * Keras 3's form (a Keras 3 legacy `.h5` config) are kept. Pure.
 */
export function toKeras3Config(config: JsonObject, opts: ToKeras3Options = {}): JsonObject {
  const ctx: Ctx = { file: opts.file, hardSigmoid: hardSigmoidGeneration(opts.kerasVersion, configGeneration(config)) };
  if (!isKerasObject(config) || !isModelClassName(config.class_name)) {
    throw invalid(ctx, '/', 'expected a model config: an object with "class_name" (Functional, Model or Sequential) and "config"');
  }
  const out = model3(config, '', { ctx, shapes: opts.outputShapes });
  return opts.legacyH5 ? legacyEntries3(out) : out;
}

/** Keras 3's legacy serialization of a model and its layer lists' entries (not of what they hold). */
function legacyEntries3(model: JsonObject): JsonObject {
  const strip = (o: JsonObject): JsonObject => {
    const out: JsonObject = {};
    for (const k of Object.keys(o)) {
      if (k === 'module' || k === 'registered_name' || k === 'build_config' || k === 'compile_config') continue;
      put(out, k, k === 'class_name' && typeof o.registered_name === 'string' && o.registered_name.includes('>') ? o.registered_name : o[k]);
    }
    return out;
  };
  const out = strip(model);
  const inner = out.config;
  if (isJsonObject(inner) && Array.isArray(inner.layers)) {
    const config: JsonObject = { ...inner };
    put(config, 'layers', inner.layers.map((l) => (isKerasObject(l) ? (isModelClassName(l.class_name) ? legacyEntries3(l) : strip(l)) : l)));
    put(out, 'config', config);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Keras 3 → tf.keras 2.

const WRAPPER_KEYS = new Set(['module', 'registered_name', 'build_config', 'compile_config', 'shared_object_id']);

/** Keys only Keras 3 writes, with the value at which dropping them changes nothing. */
const KERAS3_ONLY_KEYS: Readonly<Record<string, Readonly<Record<string, JsonValue>>>> = lookupTable<Readonly<Record<string, JsonValue>>>({
  '*': { quantization_config: null, lora_rank: null, lora_alpha: null },
  InputLayer: { optional: false },
  MultiHeadAttention: { use_gate: false, sliding_window: null, flash_attention: null },
  LayerNormalization: { rms_scaling: false },
});
/** Keys only Keras 3 writes whose value tf.keras 2 cannot take and which only matter to training. */
const KERAS3_ONLY_DROPPED: Readonly<Record<string, readonly string[]>> = lookupTable({
  MultiHeadAttention: ['seed'], Attention: ['seed'], AdditiveAttention: ['seed'],
  LSTM: ['seed'], GRU: ['seed'], SimpleRNN: ['seed'], LSTMCell: ['seed'], GRUCell: ['seed'], SimpleRNNCell: ['seed'],
});

function policy2(v: JsonValue): JsonValue {
  const name = dtypeName(v);
  if (name === undefined) return deepCopy(v);
  return name.startsWith('mixed_') ? { class_name: 'Policy', config: { name } } : name;
}

function className2(o: JsonObject): string {
  const cls = String(o.class_name);
  const reg = o.registered_name;
  return typeof reg === 'string' && reg.includes('>') ? reg : cls;
}

/** Any nested value in tf.keras 2's form: Keras 3 wrappers reduced to `{class_name, config}`. */
function value2(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(value2);
  if (!isJsonObject(v)) return v;
  if (v.class_name === 'function' && typeof v.config === 'string') return v.config;
  if (v.class_name === '__tuple__' && Array.isArray(v.items)) return value2(v.items);
  if (typeof v.class_name === 'string' && (v.class_name === 'DTypePolicy' || v.class_name === 'FloatDTypePolicy') && isJsonObject(v.config)) {
    return policy2(v);
  }
  const wrapper = isKerasObject(v);
  const out: JsonObject = {};
  for (const k of Object.keys(v)) {
    if (wrapper && WRAPPER_KEYS.has(k)) continue;
    put(out, k, k === 'class_name' && wrapper ? className2(v) : value2(v[k]));
  }
  return out;
}

function layerConfig2(cls: string, config: JsonObject, build: JsonValue | undefined, path: string, ctx: Ctx): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(config)) {
    const v = config[key];
    const hardSigmoid = hardSigmoidFor('keras2', key, v, ctx.hardSigmoid);
    if (hardSigmoid !== undefined) put(out, key, hardSigmoid);
    else if (key === 'dtype') put(out, key, cls === 'InputLayer' ? (dtypeName(v) ?? deepCopy(v)) : policy2(v));
    else if (LAYER_HOLDING_KEYS.includes(key) && (isKerasObject(v) || Array.isArray(v))) {
      const sub = (item: JsonValue, p: string): JsonValue => (isKerasObject(item) ? layer2(item, p, ctx) : value2(item));
      put(out, key, Array.isArray(v) ? v.map((item, i) => sub(item, pointer(path, key, i))) : sub(v, pointer(path, key)));
    } else if (cls === 'Lambda' && key === 'function' && isJsonObject(v) && v.class_name === '__lambda__' && isJsonObject(v.config)) {
      put(out, key, [v.config.code ?? null, v.config.defaults ?? null, v.config.closure ?? null]);
      put(out, 'function_type', 'lambda');
    } else put(out, key, value2(v));
  }
  for (const table of [KERAS3_ONLY_KEYS['*'], KERAS3_ONLY_KEYS[cls] ?? {}]) {
    for (const key of Object.keys(table)) {
      if (!has(out, key)) continue;
      if (stableJson(out[key]) !== stableJson(table[key])) {
        throw unsupported(ctx, pointer(path, key), `${cls} with ${key}=${JSON.stringify(out[key])} has no tf.keras 2 counterpart`);
      }
      delete out[key];
    }
  }
  for (const key of KERAS3_ONLY_DROPPED[cls] ?? []) delete out[key];
  if (cls === 'InputLayer') {
    if (!has(out, 'batch_input_shape') && has(out, 'batch_shape')) put(out, 'batch_input_shape', out.batch_shape);
    if (!has(out, 'batch_input_shape') && Array.isArray(out.shape)) put(out, 'batch_input_shape', [out.batch_size ?? null, ...out.shape]);
    for (const k of ['batch_shape', 'shape', 'batch_size', 'input_tensor']) delete out[k];
  }
  if (cls === 'Bidirectional') bidirectional2(out);
  if (cls === 'Embedding' && !has(out, 'input_length')) put(out, 'input_length', null);
  if (cls === 'MultiHeadAttention' && !has(out, 'head_num') && isJsonObject(build) && isJsonObject(build.shapes_dict)) {
    // tf.keras 2 builds MultiHeadAttention from these in from_config; a key not given is the value.
    const d = build.shapes_dict;
    if (Array.isArray(d.query_shape) && Array.isArray(d.value_shape)) {
      put(out, 'query_shape', deepCopy(d.query_shape));
      put(out, 'key_shape', deepCopy(Array.isArray(d.key_shape) ? d.key_shape : d.value_shape));
      put(out, 'value_shape', deepCopy(d.value_shape));
    }
  }
  if (cls === 'Lambda') {
    if (!has(out, 'function_type')) put(out, 'function_type', 'lambda');
    if (!has(out, 'module')) put(out, 'module', null);
    if (!has(out, 'output_shape_type')) put(out, 'output_shape_type', 'raw');
    if (!has(out, 'output_shape_module')) put(out, 'output_shape_module', null);
  }
  return out;
}

/** Keras 3's `forward_<name>`/`backward_<name>` pair back to tf.keras 2's one layer (its mirror is implied). */
function bidirectional2(config: JsonObject): void {
  const fwd = config.layer;
  const bwd = config.backward_layer;
  if (!isKerasObject(fwd) || !isJsonObject(fwd.config) || typeof fwd.config.name !== 'string') return;
  const fwdName = fwd.config.name;
  if (!isKerasObject(bwd) || !isJsonObject(bwd.config)) return;
  const base = fwdName.replace(/^forward_/, '');
  if (fwdName.startsWith('forward_') && bwd.config.name === `backward_${base}`) {
    const c: JsonObject = { ...fwd.config };
    put(c, 'name', base);
    put(config, 'layer', { ...fwd, config: c });
  }
  if (isMirrorLayer(fwd, bwd)) delete config.backward_layer;
}

function layer2(layer: KerasObject, path: string, ctx: Ctx): JsonObject {
  if (isModelClassName(layer.class_name)) return model2(layer, path, ctx);
  const config = isJsonObject(layer.config) ? layer.config : {};
  const cls = layer.class_name;
  return obj([
    ['class_name', className2(layer)],
    ['config', layerConfig2(cls, config, layer.build_config, pointer(path, 'config'), ctx)],
  ]);
}

interface Model2Context {
  ctx: Ctx;
  classes: Map<string, string>;
  /** Mask pseudo-layers taken out of the graph. */
  removed: Set<string>;
}

function ref2(ref: TensorRef, mc: Model2Context): JsonValue[] {
  const cls = mc.classes.get(ref[0]);
  return [ref[0], cls !== undefined && isModelClassName(cls) ? ref[1] + 1 : ref[1], ref[2]];
}

/** Keras 3 argument values with tensors as tf.keras 2's `[layer, node, tensor]` references. */
function argValue2(v: JsonValue, mc: Model2Context): JsonValue {
  const ref = keras3TensorRef(v);
  if (ref) return ref2(ref, mc);
  if (Array.isArray(v)) return v.map((x) => argValue2(x, mc));
  if (isJsonObject(v)) return obj(Object.keys(v).map((k) => [k, argValue2(v[k], mc)]));
  return v;
}

/**
 * A Keras 3 call `{args, kwargs}` as tf.keras 2 serializes one (`Node.serialize`): the tensors of the
 * first argument as entries, every other argument a keyword (named by the call signature), the same
 * kwargs on every entry.
 */
function node2(node: JsonValue, cls: string, path: string, mc: Model2Context): JsonValue {
  if (Array.isArray(node)) return deepCopy(node);
  if (!isJsonObject(node)) throw invalid(mc.ctx, path, 'an inbound node must be a list of entries (tf.keras 2) or {args, kwargs} (Keras 3)');
  const args = Array.isArray(node.args) ? node.args : node.args == null ? [] : [node.args];
  const kwargsIn = isJsonObject(node.kwargs) ? node.kwargs : {};
  const sig = CALL_SIGNATURES[cls];
  const first: TensorRef[] = [];
  const kwargs: JsonObject = {};
  args.forEach((a, i) => {
    const refs = collectTensorRefs(a, 'keras3');
    if (i === 0 || (!sig && refs.length > 0)) {
      if (refs.length === 0) throw unsupported(mc.ctx, pointer(path, 'args', i), 'a call whose first argument holds no tensor has no tf.keras 2 form');
      first.push(...refs);
    } else if (sig?.positional[i] !== undefined) put(kwargs, sig.positional[i], argValue2(a, mc));
    else if (a !== null) throw unsupported(mc.ctx, pointer(path, 'args', i), `positional argument ${i} of a ${cls} call has no known keyword name`);
  });
  for (const k of Object.keys(kwargsIn)) {
    const v = kwargsIn[k];
    if (k === 'mask') {
      const refs = collectTensorRefs(v, 'keras3');
      // tf.keras 2 recomputes the masks Keras 3 records through its pseudo-layers
      if (v === null || (refs.length > 0 && refs.every((r) => mc.removed.has(r[0])))) continue;
    }
    put(kwargs, k, argValue2(v, mc));
  }
  for (const r of first) if (mc.removed.has(r[0])) throw unsupported(mc.ctx, path, `reads the output of Keras 3 operation "${r[0]}", which has no tf.keras 2 layer`);
  return first.map((r) => [...ref2(r, mc), kwargs]);
}

function functionalRefs2(v: JsonValue | undefined, path: string, mc: Model2Context): JsonValue[] {
  if (v == null) throw invalid(mc.ctx, path, 'missing');
  const leaf = keras2TensorRef(v);
  const refs: TensorRef[] = leaf ? [leaf] : collectTensorRefs(Array.isArray(v) ? v : isJsonObject(v) ? Object.keys(v).map((k) => v[k]) : [], 'keras2');
  // Keras 3 numbers a nested Sequential's calls from 0; tf.keras 2 counts its own node 0 first.
  return refs.map((r) => [r[0], mc.classes.get(r[0]) === 'Sequential' ? r[1] + 1 : r[1], r[2]]);
}

/**
 * Keras 3 operations whose outputs only reach `mask` arguments, directly or through other operations:
 * the mask computations Keras 3 records (`NotEqual` after an Embedding, `Any` after Masking, the
 * `LogicalOr`/`Concatenate` of a merge's masks). tf.keras 2 does without them.
 */
function removableMaskOps(layers: KerasObject[], inner: JsonObject): Set<string> {
  const ops = new Set(layers.filter(isKeras3Operation).map(entryName));
  if (ops.size === 0) return ops;
  const needed = new Set<string>();
  for (const l of layers) {
    if (ops.has(entryName(l))) continue;
    for (const node of Array.isArray(l.inbound_nodes) ? l.inbound_nodes : []) {
      if (!isJsonObject(node)) continue;
      const kwargs = isJsonObject(node.kwargs) ? node.kwargs : {};
      const rest = Object.keys(kwargs).filter((k) => k !== 'mask').map((k) => kwargs[k]);
      for (const r of collectTensorRefs([node.args ?? null, ...rest], 'keras3')) if (ops.has(r[0])) needed.add(r[0]);
    }
  }
  for (const r of collectTensorRefs([inner.input_layers ?? null, inner.output_layers ?? null], 'keras2')) if (ops.has(r[0])) needed.add(r[0]);
  for (const r of [keras2TensorRef(inner.input_layers), keras2TensorRef(inner.output_layers)]) if (r && ops.has(r[0])) needed.add(r[0]);
  // an operation that is needed keeps the operations it reads
  const byName = new Map(layers.map((l) => [entryName(l), l]));
  const stack = [...needed];
  while (stack.length) {
    const l = byName.get(stack.pop() as string);
    for (const node of l && Array.isArray(l.inbound_nodes) ? l.inbound_nodes : []) {
      for (const r of collectTensorRefs(node, 'keras3')) {
        if (ops.has(r[0]) && !needed.has(r[0])) {
          needed.add(r[0]);
          stack.push(r[0]);
        }
      }
    }
  }
  return new Set([...ops].filter((n) => !needed.has(n)));
}

/** `x + y`, `x - y`, `x * y` of two tensors: tf.keras 2's Add, Subtract, Multiply layers compute it. */
function isMergeCall(l: KerasObject): boolean {
  if (!KERAS3_OP_TO_MERGE_LAYER.has(l.class_name) || !Array.isArray(l.inbound_nodes)) return false;
  return l.inbound_nodes.every((node) => {
    if (!isJsonObject(node) || !Array.isArray(node.args) || node.args.length !== 2) return false;
    const kwargs = isJsonObject(node.kwargs) ? node.kwargs : {};
    return Object.keys(kwargs).length === 0 && node.args.every((a) => keras3TensorRef(a) !== undefined);
  });
}

/** A Keras 3 operation as the TFOpLambda layer tf.keras 2 records for the same TensorFlow call. */
function opLayer2(l: KerasObject, name: string, path: string, mc: Model2Context): JsonObject {
  const where = { file: mc.ctx.file, place: path };
  const encoded = decodeKeras3Operation(l, path, mc.ctx.file).map(({ call, inputs }) => {
    for (const r of inputs) if (mc.removed.has(r[0])) throw unsupported(mc.ctx, path, `reads the output of Keras 3 operation "${r[0]}", which has no tf.keras 2 layer`);
    return encodeTfOpLayer(call, name, (i) => ref2(inputs[i], mc) as TensorRef, where);
  });
  const e = sameForEveryCall(encoded, (x) => x.config, mc.ctx, path, name);
  return obj([
    ['class_name', e.class_name],
    ['config', e.config],
    ['name', name],
    ['inbound_nodes', encoded.map((x) => x.node)],
  ]);
}

function model2(model: KerasObject, path: string, ctx: Ctx): JsonObject {
  const list = modelLayerList(model, path);
  if (!list) throw invalid(ctx, pointer(path, 'config'), `a ${model.class_name} config needs a "layers" list`);
  const inner = isJsonObject(model.config) ? model.config : {};
  list.layers.forEach((l, i) => {
    if (!isKerasObject(l)) throw invalid(ctx, pointer(list.path, i), 'a layer must be an object with "class_name" and "config"');
  });
  const layers = list.layers as KerasObject[];
  const name = typeof inner.name === 'string' ? inner.name : model.class_name === 'Sequential' ? 'sequential' : 'model';
  if (model.class_name === 'Sequential') {
    const config = obj([
      ['name', name],
      ['layers', layers.map((l, i) => layer2(l, pointer(list.path, i), ctx))],
    ]);
    if (Array.isArray(inner.build_input_shape)) put(config, 'build_input_shape', deepCopy(inner.build_input_shape));
    return { class_name: 'Sequential', config };
  }
  const removed = removableMaskOps(layers, inner);
  const mc: Model2Context = { ctx, classes: modelClasses(layers), removed };
  const out: JsonValue[] = [];
  layers.forEach((l, i) => {
    const lp = pointer(list.path, i);
    const n = entryName(l);
    if (removed.has(n)) return;
    let converted: JsonObject;
    if (isKeras3Operation(l)) {
      if (!isMergeCall(l)) {
        out.push(opLayer2(l, n, lp, mc));
        return;
      }
      converted = { class_name: l.class_name, config: { name: n, trainable: true, dtype: 'float32' } };
    } else converted = layer2(l, lp, ctx);
    put(converted, 'name', n);
    const cls = resolveClassName(l.class_name, l.config).className;
    const nodes = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
    put(converted, 'inbound_nodes', nodes.map((node, j) => node2(node, cls, pointer(lp, 'inbound_nodes', j), mc)));
    out.push(converted);
  });
  const config = obj([
    ['name', name],
    ['trainable', typeof inner.trainable === 'boolean' ? inner.trainable : true],
    ['layers', out],
    ['input_layers', functionalRefs2(inner.input_layers, pointer(list.path, '..', 'input_layers'), mc)],
    ['output_layers', functionalRefs2(inner.output_layers, pointer(list.path, '..', 'output_layers'), mc)],
  ]);
  return { class_name: 'Functional', config };
}

/**
 * A Keras 3 model config (from a `.keras` archive or a Keras 3 legacy `.h5`) in tf.keras 2's dialect, as
 * tf.keras 2 would write it to an `.h5` file. Parts already in tf.keras 2's form are kept. Pure.
 */
export function toKeras2Config(config: JsonObject, opts: ToKeras2Options = {}): JsonObject {
  const ctx: Ctx = { file: opts.file, hardSigmoid: hardSigmoidGeneration(opts.kerasVersion, configGeneration(config)) };
  if (!isKerasObject(config) || !isModelClassName(config.class_name)) {
    throw invalid(ctx, '/', 'expected a model config: an object with "class_name" (Functional, Model or Sequential) and "config"');
  }
  return model2(config, '', ctx);
}

// ---------------------------------------------------------------------------------------------------------
// Shapes, from the graph tfjs builds.

/**
 * The output shapes of every layer call of a model config (either dialect), from the tfjs graph the
 * runtime builds for it (no weights are read). Undefined when tfjs cannot build it (a layer it does not
 * know): the conversion then writes placeholders. Loads tfjs on first use.
 */
export async function inferOutputShapes(config: JsonObject): Promise<OutputShapes | undefined> {
  // On whatever backend tfjs has (shapes need no speed); no Node built-ins, so the writers still bundle for browsers.
  const [tf, { buildTopology }] = await Promise.all([import('@tensorflow/tfjs'), import('./topology.js'), import('../layers/index.js')]);
  let tfModel: Awaited<ReturnType<typeof buildTopology>>;
  try {
    tfModel = await buildTopology(normalizeConfig(config));
  } catch {
    return undefined;
  }
  try {
    const out = new Map<string, Shape[][]>();
    // tfjs numbers calls as tf.keras 2 does (a model's node 0 is its own), the numbering of the config given.
    const collect = (m: typeof tfModel): void => {
      for (const layer of m.layers) {
        out.set(layer.name, layer.inboundNodes.map((node) => node.outputTensors.map((t) => [...t.shape] as Shape)));
        if (layer instanceof tf.LayersModel) collect(layer);
      }
    };
    collect(tfModel);
    return out;
  } finally {
    tfModel.dispose();
  }
}
