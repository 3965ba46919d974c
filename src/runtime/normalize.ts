/**
 * The runtime's view of a Keras config: a pure function from the file's verbatim config (tf.keras 2 or
 * Keras 3 dialect, Sequential or Functional, nested models) to the dialect `tf.models.modelFromJSON`
 * reads (tf.keras 2 style, snake_case; tfjs camel-cases keys and string values itself).
 *
 * Node-call convention (our layers in src/layers rely on it): every tensor a Keras node hands its layer,
 * positional or keyword, becomes a positional input of the tfjs node. Keyword tensors follow the
 * positional ones in the order of `CALL_SIGNATURES` (then unknown keyword tensors in file order, then an
 * explicit `mask` tensor), and the node kwargs get `input_roles`: the Python argument name of each
 * positional input (tfjs hands it to `call()` as `kwargs.inputRoles`, values camel-cased:
 * `attention_mask` → `attentionMask`). Non-tensor kwargs (`return_attention_scores`, `training`, ...)
 * stay kwargs.
 */
import { lookupTable } from '../model/config.js';
import { KerasInteropError } from '../errors.js';
import type { JsonObject, JsonValue, LayerWeights } from '../model/types.js';
import type { KerasGeneration } from '../model/weight-names.js';
import { isJsonObject } from '../model/types.js';
import {
  type KerasObject,
  LAYER_HOLDING_KEYS,
  type TensorRef,
  collectTensorRefs,
  forEachLayer,
  isKerasObject,
  isMirrorLayer,
  isModelClassName,
  keras2TensorRef,
  layerNameOf,
  pointer,
} from './config-walk.js';
import { isOpEntry, opLayerEntry } from './ops/graph.js';
import { OP_LAYER_CLASS } from './ops/op-layer-config.js';
import { isKeras3Operation } from './ops/operation-node.js';
import { type ClassResolution, classResolutions, resolveClassName } from './class-resolution.js';
import { configGeneration } from './config-generation.js';
import { hardSigmoidFor, hardSigmoidGeneration, isActivationKey } from './versioned-activations.js';

// The class-resolution API was born here; its users import it from either module.
export {
  type ClassResolution,
  type LayerOrigin,
  classResolutions,
  resolveClassName,
} from './class-resolution.js';

/** The registered tfjs class name of keras-multi-head's `MultiHeadAttention` (`head_num`). */
export const KERAS_MULTI_HEAD_MHA = 'KerasMultiHead>MultiHeadAttention';


export interface NormalizeOptions {
  /** Named in errors. */
  file?: string;
  /** The model's weights: their names help decide which library a same-named class is from. */
  weights?: readonly LayerWeights[];
  /**
   * The Keras version that saved the file (`KerasModel.source.kerasVersion`): activations whose meaning
   * changed between versions (`hard_sigmoid`) are named for the version's meaning (versioned-activations.ts;
   * without a version, the dialect's).
   */
  kerasVersion?: string;
}

export interface NormalizeNote {
  /** JSON pointer into the verbatim config. */
  path: string;
  layer?: string;
  message: string;
}

export interface RemovedLayer {
  name: string;
  className: string;
  path: string;
}

export interface NormalizeResult {
  config: JsonObject;
  notes: NormalizeNote[];
  resolutions: ClassResolution[];
  /** Keras 3 mask pseudo-layers taken out of the graph. */
  removedLayers: RemovedLayer[];
  /**
   * Layers of Keras 3 files whose recorded call says `mask=None`: Keras 3 ran them without a mask (an
   * upstream layer such as Bidirectional dropped it), where tfjs would propagate one. Names of top-level
   * layers of the root model and of nested models alike.
   */
  callsWithoutMask: string[];
}

// ---------------------------------------------------------------------------------------------------------
// Call signatures: how keyword tensors become positional inputs.

export interface CallSignature {
  /** Python parameter names of `call()` by position (after `self`). */
  positional: string[];
  /** Order in which tensors passed as keywords are appended after the positional ones. */
  tensorKeywords: string[];
}

/** Keyed by resolved class name. Layers not listed take one `inputs` argument (a tensor or a list). */
export const CALL_SIGNATURES: Readonly<Record<string, CallSignature>> = lookupTable({
  // Keras 3: call(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
  //               attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False)
  // tf.keras 2 files pass everything after `query` as keywords, so only position 0 matters there.
  MultiHeadAttention: {
    positional: [
      'query', 'value', 'key', 'query_mask', 'value_mask', 'key_mask', 'attention_mask',
      'return_attention_scores', 'training', 'use_causal_mask',
    ],
    tensorKeywords: ['query', 'value', 'key', 'attention_mask', 'query_mask', 'value_mask', 'key_mask'],
  },
});

// ---------------------------------------------------------------------------------------------------------

const STRIPPED_OBJECT_KEYS = new Set(['module', 'registered_name', 'build_config', 'compile_config', 'shared_object_id']);
const DTYPE_POLICY_CLASSES = new Set(['DTypePolicy', 'FloatDTypePolicy', 'Policy', 'PolicyV1', 'QuantizedDTypePolicy', 'QuantizedFloat8DTypePolicy']);

const TFJS_INITIALIZERS = new Set([
  'Constant', 'GlorotNormal', 'GlorotUniform', 'HeNormal', 'HeUniform', 'Identity', 'LeCunNormal', 'LeCunUniform',
  'Ones', 'Orthogonal', 'RandomNormal', 'RandomUniform', 'TruncatedNormal', 'VarianceScaling', 'Zeros',
]);
const INITIALIZER_RENAMES: Readonly<Record<string, string>> = lookupTable({
  OrthogonalInitializer: 'Orthogonal',
  IdentityInitializer: 'Identity',
  LecunNormal: 'LeCunNormal',
  LecunUniform: 'LeCunUniform',
  Zero: 'Zeros',
  One: 'Ones',
});
const INITIALIZER_STRINGS: Readonly<Record<string, string>> = lookupTable({
  glorot_uniform: 'GlorotUniform', glorot_normal: 'GlorotNormal', he_normal: 'HeNormal', he_uniform: 'HeUniform',
  lecun_normal: 'LeCunNormal', lecun_uniform: 'LeCunUniform', zeros: 'Zeros', zero: 'Zeros', ones: 'Ones', one: 'Ones',
  orthogonal: 'Orthogonal', identity: 'Identity', random_normal: 'RandomNormal', random_uniform: 'RandomUniform',
  truncated_normal: 'TruncatedNormal', variance_scaling: 'VarianceScaling', uniform: 'RandomUniform', normal: 'RandomNormal',
});
const TFJS_CONSTRAINTS = new Set(['MaxNorm', 'MinMaxNorm', 'NonNeg', 'UnitNorm']);
const CONSTRAINT_STRINGS = new Set(['max_norm', 'min_max_norm', 'non_neg', 'unit_norm', 'maxnorm', 'nonneg', 'unitnorm']);
const ACTIVATION_RENAMES: Readonly<Record<string, string>> = lookupTable({ silu: 'swish' });

const DTYPE_MAP: Readonly<Record<string, string>> = lookupTable({
  float16: 'float32', bfloat16: 'float32', float64: 'float32', half: 'float32', double: 'float32',
  int64: 'int32', int16: 'int32', int8: 'int32', uint8: 'int32', uint16: 'int32', uint32: 'int32', uint64: 'int32',
  mixed_float16: 'float32', mixed_bfloat16: 'float32',
});

interface Ctx {
  file?: string;
  /** The verbatim config, where op entries are read (cleaning drops `module`, which tells an operation). */
  root: JsonObject;
  notes: NormalizeNote[];
  resolutions: ClassResolution[];
  /** The resolutions by the JSON pointer of their layer. */
  resolved: ReadonlyMap<string, ClassResolution>;
  /** Whose `hard_sigmoid` the bare name means. */
  hardSigmoid: KerasGeneration;
  removed: RemovedLayer[];
  withoutMask: Set<string>;
}

function note(ctx: Ctx, path: string, message: string, layer?: string): void {
  ctx.notes.push({ path, layer, message });
}

function invalid(ctx: Ctx, path: string, message: string): KerasInteropError {
  return new KerasInteropError('CONFIG_INVALID', message, { file: ctx.file, place: path });
}

/** Own-property assignment: JSON keys such as `__proto__` stay data. */
function put(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function has(obj: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/**
 * Generic deep pass: copies the whole tree, unwrapping Keras 3 object wrappers, DTypePolicy objects,
 * `__tuple__`/`TensorShape`/`__numpy__` encodings and registered-function objects.
 */
function clean(v: JsonValue, path: string, ctx: Ctx, key?: string): JsonValue {
  if (Array.isArray(v)) return v.map((x, i) => clean(x, pointer(path, i), ctx));
  if (!isJsonObject(v)) {
    if (key === 'dtype' && typeof v === 'string') return mapDtype(v, path, ctx);
    return v;
  }
  const cls = v.class_name;
  if ((cls === '__tuple__' || cls === 'TensorShape') && Array.isArray(v.items)) return clean(v.items, pointer(path, 'items'), ctx);
  if (cls === '__numpy__' && isJsonObject(v.config) && 'value' in v.config) return clean(v.config.value, pointer(path, 'config', 'value'), ctx);
  if (typeof cls === 'string' && DTYPE_POLICY_CLASSES.has(cls) && isJsonObject(v.config) && typeof v.config.name === 'string') {
    const name = v.config.name;
    if (cls.startsWith('Quantized') || name.startsWith('int8') || name.startsWith('float8')) {
      note(ctx, path, `dtype policy "${name}" is quantized: tfjs computes in float32 and the quantized weights will not fit`);
    }
    return mapDtype(name, path, ctx);
  }
  // Keras 3 serializes a registered function (an activation, a metric) as {class_name: "function", config: "relu"}.
  if (cls === 'function' && typeof v.config === 'string') return v.config;
  const out: JsonObject = {};
  const wrapper = isKerasObject(v);
  for (const k of Object.keys(v)) {
    if (wrapper && STRIPPED_OBJECT_KEYS.has(k)) continue;
    put(out, k, clean(v[k], pointer(path, k), ctx, k));
  }
  return out;
}

function mapDtype(name: string, path: string, ctx: Ctx): string {
  const mapped = DTYPE_MAP[name];
  if (mapped === undefined) return name;
  if (name.startsWith('mixed_')) {
    note(ctx, path, `dtype policy "${name}" (float16 compute) runs in float32 in tfjs: outputs can differ from Keras in the 3rd-4th significant digit`);
  } else {
    note(ctx, path, `dtype "${name}" is not a tfjs dtype; using ${mapped}`);
  }
  return mapped;
}

// ---------------------------------------------------------------------------------------------------------

/**
 * Keras config (verbatim, either dialect) → tfjs dialect, with the notes, class resolutions and removed
 * pseudo-layers. Never mutates its input.
 */
export function normalizeConfigDetailed(config: JsonObject, opts: NormalizeOptions = {}): NormalizeResult {
  const ctx: Ctx = {
    file: opts.file,
    root: config,
    notes: [],
    resolutions: [],
    resolved: new Map(),
    hardSigmoid: hardSigmoidGeneration(opts.kerasVersion, configGeneration(config)),
    removed: [],
    withoutMask: new Set(),
  };
  if (!isKerasObject(config)) {
    throw invalid(ctx, '/', 'a model config must be an object with "class_name" and "config"');
  }
  ctx.resolutions = classResolutions(config, { weights: opts.weights });
  ctx.resolved = new Map(ctx.resolutions.map((r) => [r.path, r]));
  const cleaned = clean(config, '', ctx) as KerasObject;
  if (!isModelClassName(cleaned.class_name)) {
    throw invalid(ctx, '/class_name', `expected a model (Functional, Model or Sequential), found class "${cleaned.class_name}"`);
  }
  const out = normalizeModel(cleaned, '', ctx);
  return {
    config: out,
    notes: ctx.notes,
    resolutions: ctx.resolutions,
    removedLayers: ctx.removed,
    callsWithoutMask: [...ctx.withoutMask],
  };
}

/** Keras config (verbatim, either dialect) → the dialect `tf.models.modelFromJSON` reads. Pure. */
export function normalizeConfig(config: JsonObject, opts: NormalizeOptions = {}): JsonObject {
  return normalizeConfigDetailed(config, opts).config;
}

function normalizeModel(model: KerasObject, path: string, ctx: Ctx): JsonObject {
  const className = model.class_name;
  let inner = model.config;
  const configPath = pointer(path, 'config');
  const bareList = Array.isArray(inner);
  if (Array.isArray(inner)) {
    // Keras 2.1: a Sequential config is a bare list of layer configs.
    inner = { name: typeof model.name === 'string' ? model.name : 'sequential', layers: inner };
  }
  if (!isJsonObject(inner) || !Array.isArray(inner.layers)) {
    throw invalid(ctx, configPath, `a ${className} config needs a "layers" list`);
  }
  const name = typeof inner.name === 'string' ? inner.name : className === 'Sequential' ? 'sequential' : 'model';
  const layersPath = bareList ? configPath : pointer(configPath, 'layers');
  const rawLayers = inner.layers;
  rawLayers.forEach((l, i) => {
    if (!isKerasObject(l)) throw invalid(ctx, pointer(layersPath, i), 'a layer must be an object with "class_name" and "config"');
  });

  if (className === 'Sequential') {
    const layers = (rawLayers as KerasObject[]).map((l, i) => normalizeLayer(l, pointer(layersPath, i), ctx, false));
    const seen = new Set<string>();
    layers.forEach((l, i) => {
      const n = isJsonObject(l.config) ? l.config.name : undefined;
      if (typeof n !== 'string') return;
      if (seen.has(n)) throw invalid(ctx, pointer(layersPath, i, 'config', 'name'), `two layers are named "${n}"`);
      seen.add(n);
    });
    // Keras ignores batch_input_shape past the first layer (Keras 2.1 wrote it on every layer); tfjs warns.
    layers.forEach((l, i) => {
      if (i > 0 && isJsonObject(l.config) && has(l.config, 'batch_input_shape')) delete l.config.batch_input_shape;
    });
    const first = layers[0];
    if (first && first.class_name !== 'InputLayer' && isJsonObject(first.config) && first.config.batch_input_shape == null) {
      const shape = inner.build_input_shape;
      if (shape != null && !isBatchShape(shape)) throw invalid(ctx, pointer(configPath, 'build_input_shape'), `build_input_shape must be a list of sizes (integers or null), found ${JSON.stringify(shape).slice(0, 80)}`);
      if (Array.isArray(shape)) {
        put(first.config, 'batch_input_shape', shape);
        note(ctx, pointer(layersPath, 0), `the first layer takes batch_input_shape from the Sequential's build_input_shape ${JSON.stringify(shape)}`);
      }
    }
    return { class_name: 'Sequential', config: { name, layers } };
  }

  // Functional (tf.keras 2 "Functional", Keras < 2.4 "Model").
  const verbatim = (rawLayers as KerasObject[]).map((_, i) => verbatimAt(ctx, pointer(layersPath, i)));
  const removedNames = findRemovablePseudoLayers(rawLayers as KerasObject[], verbatim, inner, layersPath, ctx);
  const entries: KerasObject[] = [];
  const nestedModels = new Set<string>();
  const inputLayers = new Set<string>();
  (rawLayers as KerasObject[]).forEach((l) => {
    const n = entryName(l);
    if (isModelClassName(l.class_name)) nestedModels.add(n);
    if (l.class_name === 'InputLayer') inputLayers.add(n);
  });
  const modelShifts = nestedModelShifts(rawLayers as KerasObject[], inner, nestedModels);
  (rawLayers as KerasObject[]).forEach((l, i) => {
    const lp = pointer(layersPath, i);
    const n = entryName(l);
    if (removedNames.has(n)) {
      ctx.removed.push({ name: n, className: l.class_name, path: lp });
      return;
    }
    if (isOpEntry(verbatim[i])) {
      entries.push(opEntry(verbatim[i], n, lp, removedNames, modelShifts, ctx));
      return;
    }
    const normalized = normalizeLayer(l, lp, ctx, true);
    put(normalized, 'name', n);
    const nodes = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
    const resolved = normalized.class_name as string;
    put(
      normalized,
      'inbound_nodes',
      nodes.map((node, j) => convertNode(node, resolved, pointer(lp, 'inbound_nodes', j), n, removedNames, modelShifts, ctx)),
    );
    entries.push(normalized);
  });
  const ioRefs = (key: 'input_layers' | 'output_layers'): JsonValue[] => {
    const refs = ioTriples(inner[key], pointer(configPath, key), ctx);
    return refs.map(([l, nIdx, t]) => [l, nIdx + (modelShifts.get(l) ?? 0), t]);
  };
  const normalized: JsonObject = {
    name,
    layers: entries,
    input_layers: ioRefs('input_layers'),
    output_layers: ioRefs('output_layers'),
  };
  checkGraph(entries, normalized, configPath, ctx);
  markImplicitMaskStops(rawLayers as KerasObject[], removedNames, ctx);
  return { class_name: className, config: normalized };
}

const MASK_PRODUCERS: Readonly<Record<string, (config: JsonObject) => boolean>> = lookupTable({
  Embedding: (c) => c.mask_zero === true,
  Masking: () => true,
});

/**
 * Layers whose output carries on the mask of their inputs: Keras's Attention the query's (its first
 * input's), the legacy Merge any input's.
 */
const MASK_PASSERS: Readonly<Record<string, 'first' | 'any'>> = lookupTable({ Attention: 'first', AdditiveAttention: 'first', Merge: 'any' });

function producesMask(l: KerasObject | undefined, byName: ReadonlyMap<string, KerasObject>, seen = new Set<string>()): boolean {
  if (!l || seen.has(entryName(l))) return false;
  const passes = MASK_PASSERS[l.class_name];
  if (passes) {
    seen.add(entryName(l));
    const nodes = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
    const refs = passes === 'first' ? nodes.map((n) => nonMaskRefs(n)[0]).filter((r) => r !== undefined).slice(0, 1) : nodes.flatMap((n) => nonMaskRefs(n));
    return refs.some((r) => producesMask(byName.get(r[0]), byName, seen));
  }
  const test = MASK_PRODUCERS[l.class_name];
  return Boolean(test && isJsonObject(l.config) && test(l.config));
}

/**
 * Configs that do not record masks (tf.keras 2 files, Keras 3 before 3.16) leave mask flow to the
 * runtime. Keras 3 (which computed the golden outputs, reloading such files) hands a mask only to the
 * direct consumers of the layers that compute one (Embedding with mask_zero, Masking, and the layers of
 * MASK_PASSERS, whose compute_mask combines their inputs' masks): a layer that merely passes a mask on
 * (Bidirectional, for one) does not pass it further. tfjs passes masks along every computeMask, so the
 * other consumers are run without a mask.
 */
function markImplicitMaskStops(layers: KerasObject[], removed: Set<string>, ctx: Ctx): void {
  const recordsMasks =
    removed.size > 0 ||
    layers.some((l) => (Array.isArray(l.inbound_nodes) ? l.inbound_nodes : []).some((n) => isJsonObject(n) && isJsonObject(n.kwargs) && 'mask' in n.kwargs));
  if (recordsMasks) return;
  const byName = new Map(layers.map((l) => [entryName(l), l]));
  if (!layers.some((l) => producesMask(l, byName))) return;
  for (const l of layers) {
    const first = (Array.isArray(l.inbound_nodes) ? l.inbound_nodes : []).map((n) => nonMaskRefs(n)[0]).find((r) => r !== undefined);
    if (first && !producesMask(byName.get(first[0]), byName) && !producesMask(l, byName)) ctx.withoutMask.add(entryName(l));
  }
}

/**
 * tfjs counts the node a nested model makes of itself when it is built, so its first call is node 1.
 * tf.keras >= 2.4 writes references that way too (it skips that first node); Keras 3 and older
 * standalone Keras number the calls from 0. A reference to node 0 of a nested model tells the latter.
 */
function nestedModelShifts(layers: KerasObject[], inner: JsonObject, nested: Set<string>): Map<string, number> {
  const shifts = new Map<string, number>();
  if (nested.size === 0) return shifts;
  const refs: TensorRef[] = [];
  for (const l of layers) for (const node of Array.isArray(l.inbound_nodes) ? l.inbound_nodes : []) refs.push(...nonMaskRefs(node));
  for (const key of ['input_layers', 'output_layers'] as const) {
    const v = inner[key];
    const one = keras2TensorRef(v);
    refs.push(...(one ? [one] : collectTensorRefs(v ?? null, 'keras2')));
  }
  const keras3 = layers.some((l) => Array.isArray(l.inbound_nodes) && l.inbound_nodes.some(isJsonObject));
  for (const name of nested) {
    const fromZero = keras3 || refs.some((r) => r[0] === name && r[1] === 0);
    shifts.set(name, fromZero ? 1 : 0);
  }
  return shifts;
}

function entryName(l: JsonObject): string {
  return typeof l.name === 'string' ? l.name : layerNameOf(l);
}

/** `input_layers`/`output_layers`: a single triple, a list of triples, or (Keras 3) a dict of triples. */
function ioTriples(v: JsonValue | undefined, path: string, ctx: Ctx): TensorRef[] {
  if (v == null) throw invalid(ctx, path, 'missing');
  const one = keras2TensorRef(v);
  if (one) return [one];
  let items: JsonValue[];
  if (Array.isArray(v)) items = v;
  else if (isJsonObject(v)) {
    note(ctx, path, 'inputs/outputs given as a dict: taken in the order the file lists them');
    items = Object.keys(v).map((k) => v[k]);
  } else throw invalid(ctx, path, 'expected [layer_name, node_index, tensor_index] triples');
  return items.flatMap((item, i) => {
    const ref = keras2TensorRef(item);
    if (ref) return [ref];
    if (Array.isArray(item) || isJsonObject(item)) return ioTriples(item, pointer(path, i), ctx);
    throw invalid(ctx, pointer(path, i), 'expected a [layer_name, node_index, tensor_index] triple');
  });
}

// ---------------------------------------------------------------------------------------------------------
// Layers.

function normalizeLayer(layer: KerasObject, path: string, ctx: Ctx, functionalEntry: boolean): KerasObject {
  const name = layerNameOf(layer);
  if (isModelClassName(layer.class_name)) return normalizeModel(layer, path, ctx) as KerasObject;
  // Every layer was resolved up front (with its weights' names); a layer the walk missed gets the config-only rule.
  const r = { className: ctx.resolved.get(path)?.resolvedClass ?? resolveClassName(layer.class_name, layer.config).className };
  const config = isJsonObject(layer.config) ? normalizeLayerConfig(r.className, layer.config, pointer(path, 'config'), name, ctx) : layer.config;
  const out: KerasObject = { class_name: r.className, config };
  if (functionalEntry && typeof layer.name === 'string') put(out, 'name', layer.name);
  return out;
}

/** A batch shape as Keras writes one: a list of sizes, None where any size goes. */
function isBatchShape(v: JsonValue): boolean {
  return Array.isArray(v) && v.every((d) => d === null || (Number.isInteger(d) && (d as number) >= 0));
}

/** Flags that decide a layer's outputs (how many, which steps, in which order): booleans or null. */
const FLAG_KEYS = ['return_sequences', 'return_state', 'go_backwards', 'stateful', 'unroll', 'reset_after', 'mask_zero', 'return_attention'];

function normalizeLayerConfig(className: string, config: JsonObject, path: string, layer: string, ctx: Ctx): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(config)) {
    const v = config[key];
    const kp = pointer(path, key);
    if (key === 'quantization_config') {
      if (v != null) note(ctx, kp, 'quantization_config is ignored: tfjs runs the layer unquantized', layer);
      continue;
    }
    if (key === 'activity_regularizer') {
      // tfjs throws at apply() when a layer has one; it only adds a training loss.
      if (v != null) note(ctx, kp, 'activity_regularizer dropped (training-only; tfjs refuses to run layers with one)', layer);
      put(out, key, null);
      continue;
    }
    if (key.endsWith('_initializer') || key === 'initializer') {
      put(out, key, normalizeInitializer(v, kp, layer, ctx));
      continue;
    }
    if (key.endsWith('_regularizer')) {
      put(out, key, normalizeRegularizer(v, kp, layer, ctx));
      continue;
    }
    if (key.endsWith('_constraint')) {
      put(out, key, normalizeConstraint(v, kp, layer, ctx));
      continue;
    }
    if (isActivationKey(key) && typeof v === 'string' && ACTIVATION_RENAMES[v]) {
      put(out, key, ACTIVATION_RENAMES[v]);
      continue;
    }
    // Explicit in every file, so that tfjs's built-in layers compute it as ours do, and a tfjs folder carries it.
    const hardSigmoid = hardSigmoidFor('normalized', key, v, ctx.hardSigmoid);
    if (hardSigmoid !== undefined) {
      put(out, key, hardSigmoid);
      continue;
    }
    if (LAYER_HOLDING_KEYS.includes(key)) {
      if (isKerasObject(v)) put(out, key, normalizeLayer(v, kp, ctx, false));
      else if (Array.isArray(v)) {
        put(
          out,
          key,
          v.map((item, i) => (isKerasObject(item) ? normalizeLayer(item, pointer(kp, i), ctx, false) : item)),
        );
      } else put(out, key, v);
      continue;
    }
    put(out, key, v);
  }

  if (className === 'InputLayer') {
    if (!has(out, 'batch_input_shape') && has(out, 'batch_shape')) put(out, 'batch_input_shape', out.batch_shape);
    if (!has(out, 'batch_input_shape') && Array.isArray(out.shape)) put(out, 'batch_input_shape', [null, ...out.shape]);
    if (out.ragged === true) note(ctx, pointer(path, 'ragged'), 'ragged inputs are not supported by tfjs', layer);
    for (const k of ['batch_shape', 'shape', 'optional', 'input_tensor', 'ragged']) delete out[k];
    if (has(out, 'batch_input_shape')) delete out.batch_size;
  }
  const shape = out.batch_input_shape;
  if (shape != null && !isBatchShape(shape)) {
    const where = has(config, 'batch_input_shape') ? 'batch_input_shape' : has(config, 'batch_shape') ? 'batch_shape' : 'shape';
    throw invalid(ctx, pointer(path, where), `layer "${layer}": ${where} must be a list of sizes (integers or null), found ${JSON.stringify(shape).slice(0, 80)}`);
  }
  for (const key of FLAG_KEYS) {
    // Python reads any truthy value as True; tfjs and the ONNX lowerings would each read it their own way.
    if (has(out, key) && out[key] !== null && typeof out[key] !== 'boolean') {
      throw invalid(ctx, pointer(path, key), `layer "${layer}": ${key} must be true or false, found ${JSON.stringify(out[key]).slice(0, 80)}`);
    }
  }
  if ('groups' in out && out.groups === 1) delete out.groups;
  else if ('groups' in out) note(ctx, pointer(path, 'groups'), `grouped convolution (groups=${JSON.stringify(out.groups)}) is not supported by tfjs`, layer);
  if (out.time_major === false) delete out.time_major;
  if (out.synchronized === false) delete out.synchronized;
  if (className === 'LayerNormalization' && out.rms_scaling === true) {
    note(ctx, pointer(path, 'rms_scaling'), 'rms_scaling=True is not supported by tfjs LayerNormalization', layer);
  }
  if (className === 'Bidirectional') normalizeBidirectional(out, path, layer, ctx);
  return out;
}

/**
 * Keras 3 stores Bidirectional's forward layer already renamed (`forward_lstm`) and always writes
 * `backward_layer`; tfjs builds both from `layer` (prefixing `forward_`/`backward_` itself), like tf.keras 2.
 */
function normalizeBidirectional(out: JsonObject, path: string, layer: string, ctx: Ctx): void {
  const fwd = out.layer;
  const bwd = out.backward_layer;
  if (!isKerasObject(fwd) || !isJsonObject(fwd.config)) return;
  const fwdName = fwd.config.name;
  if (isKerasObject(bwd) && isJsonObject(bwd.config)) {
    const bwdName = bwd.config.name;
    if (typeof fwdName === 'string' && fwdName.startsWith('forward_') && bwdName === 'backward_' + fwdName.slice('forward_'.length)) {
      const renamed: JsonObject = { ...fwd.config };
      put(renamed, 'name', fwdName.slice('forward_'.length));
      put(out, 'layer', { ...fwd, config: renamed });
    }
    if (!isMirrorLayer(fwd, bwd)) {
      note(
        ctx,
        pointer(path, 'backward_layer'),
        'backward_layer is not the mirror of layer: tfjs Bidirectional builds the backward layer as a mirror of the forward one',
        layer,
      );
    }
    delete out.backward_layer;
  }
}

function normalizeInitializer(v: JsonValue, path: string, layer: string, ctx: Ctx): JsonValue {
  if (v == null) return v;
  if (typeof v === 'string') {
    const cls = INITIALIZER_STRINGS[v] ?? INITIALIZER_STRINGS[v.toLowerCase()];
    if (cls) return { class_name: cls, config: {} };
    note(ctx, path, `initializer "${v}" has no tfjs counterpart; using Zeros (the file's weights replace it)`, layer);
    return { class_name: 'Zeros', config: {} };
  }
  if (!isKerasObject(v)) return v;
  const cls = INITIALIZER_RENAMES[v.class_name] ?? v.class_name;
  if (!TFJS_INITIALIZERS.has(cls)) {
    note(ctx, path, `initializer ${v.class_name} has no tfjs counterpart; using Zeros (the file's weights replace it)`, layer);
    return { class_name: 'Zeros', config: {} };
  }
  const config: JsonObject = isJsonObject(v.config) ? { ...v.config } : {};
  if (cls === 'VarianceScaling' && config.distribution === 'untruncated_normal') put(config, 'distribution', 'normal');
  return { class_name: cls, config };
}

function normalizeRegularizer(v: JsonValue, path: string, layer: string, ctx: Ctx): JsonValue {
  if (v == null) return v;
  const l1l2 = (l1: JsonValue | undefined, l2: JsonValue | undefined): JsonObject => ({
    class_name: 'L1L2',
    config: { l1: typeof l1 === 'number' ? l1 : 0, l2: typeof l2 === 'number' ? l2 : 0 },
  });
  if (typeof v === 'string') {
    if (v === 'l1') return l1l2(0.01, 0);
    if (v === 'l2') return l1l2(0, 0.01);
    if (v === 'l1_l2' || v === 'l1l2') return l1l2(0.01, 0.01);
  } else if (isKerasObject(v)) {
    const c = isJsonObject(v.config) ? v.config : {};
    if (v.class_name === 'L1') return l1l2(c.l1, 0);
    if (v.class_name === 'L2') return l1l2(0, c.l2);
    if (v.class_name === 'L1L2') return l1l2(c.l1, c.l2);
  }
  note(ctx, path, `regularizer ${JSON.stringify(isKerasObject(v) ? v.class_name : v)} dropped (training-only, no tfjs counterpart)`, layer);
  return null;
}

function normalizeConstraint(v: JsonValue, path: string, layer: string, ctx: Ctx): JsonValue {
  if (v == null) return v;
  if (typeof v === 'string' && CONSTRAINT_STRINGS.has(v.toLowerCase())) return v;
  if (isKerasObject(v) && TFJS_CONSTRAINTS.has(v.class_name)) return v;
  note(ctx, path, `constraint ${JSON.stringify(isKerasObject(v) ? v.class_name : v)} dropped (training-only, no tfjs counterpart)`, layer);
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Inbound nodes.

/**
 * Keras 3 operations that only feed `mask` keywords (directly or through other operations: the mask
 * computations Keras 3 records, `NotEqual` after an Embedding, `Any` after Masking, ...) are removed; tfjs
 * recomputes masks from `Embedding(mask_zero)`/`Masking` through `computeMask`. One that feeds a real
 * input or an output stays, and runs as an op layer.
 */
function findRemovablePseudoLayers(layers: KerasObject[], verbatim: JsonObject[], inner: JsonObject, layersPath: string, ctx: Ctx): Set<string> {
  const pseudo = new Set(layers.filter((_, i) => isKeras3Operation(verbatim[i])).map(entryName));
  if (pseudo.size === 0) return pseudo;
  const needed = new Set<string>();
  const byName = new Map(layers.map((l) => [entryName(l), l]));
  for (const l of layers) {
    if (pseudo.has(entryName(l))) continue;
    for (const node of Array.isArray(l.inbound_nodes) ? l.inbound_nodes : []) {
      for (const ref of nonMaskRefs(node)) if (pseudo.has(ref[0])) needed.add(ref[0]);
    }
  }
  for (const key of ['input_layers', 'output_layers'] as const) {
    for (const ref of collectTensorRefs(inner[key] ?? null, 'keras2')) if (pseudo.has(ref[0])) needed.add(ref[0]);
    const one = keras2TensorRef(inner[key]);
    if (one && pseudo.has(one[0])) needed.add(one[0]);
  }
  // A needed pseudo-layer keeps the pseudo-layers it reads.
  const stack = [...needed];
  while (stack.length) {
    const l = byName.get(stack.pop() as string);
    for (const node of l && Array.isArray(l.inbound_nodes) ? l.inbound_nodes : []) {
      for (const ref of allRefs(node)) {
        if (pseudo.has(ref[0]) && !needed.has(ref[0])) {
          needed.add(ref[0]);
          stack.push(ref[0]);
        }
      }
    }
  }
  const removable = new Set([...pseudo].filter((n) => !needed.has(n)));
  if (removable.size > 0) {
    note(
      ctx,
      layersPath,
      `Keras 3 mask pseudo-layers removed (${[...removable].join(', ')}): tfjs propagates masks through the layers' computeMask`,
    );
  }
  return removable;
}

/** The verbatim config's value at a JSON pointer (the normalized walk mirrors its structure). */
function verbatimAt(ctx: Ctx, path: string): JsonObject {
  let v: JsonValue = ctx.root;
  for (const seg of path === '/' ? [] : path.slice(1).split('/')) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    v = Array.isArray(v) ? v[Number(key)] : isJsonObject(v) ? v[key] : null;
  }
  return isJsonObject(v) ? v : {};
}

/**
 * An op call (TFOpLambda, SlicingOpLambda, Keras 3 operation) as a `KerasInterop>Op` layer whose inputs
 * are the tensors the call reads.
 */
function opEntry(
  verbatim: JsonObject,
  name: string,
  path: string,
  removed: Set<string>,
  modelShifts: ReadonlyMap<string, number>,
  ctx: Ctx,
): KerasObject {
  const op = opLayerEntry(verbatim, name, path, ctx.file);
  const nodes = op.nodes.map((refs) =>
    refs.map(([l, n, t]) => {
      if (removed.has(l)) throw invalid(ctx, path, `op "${name}" reads the output of removed mask pseudo-layer "${l}"`);
      return [l, n + (modelShifts.get(l) ?? 0), t, {}] as JsonValue;
    }),
  );
  return { class_name: OP_LAYER_CLASS, name, config: op.config, inbound_nodes: nodes };
}

function nodeDialect(node: JsonValue): 'keras2' | 'keras3' {
  return isJsonObject(node) ? 'keras3' : 'keras2';
}

function allRefs(node: JsonValue): TensorRef[] {
  return collectTensorRefs(node, nodeDialect(node));
}

/** Tensor references of a node other than those under a `mask` keyword. */
function nonMaskRefs(node: JsonValue): TensorRef[] {
  const dialect = nodeDialect(node);
  if (dialect === 'keras3' && isJsonObject(node)) {
    const kwargs = isJsonObject(node.kwargs) ? node.kwargs : {};
    const rest: JsonObject = {};
    for (const k of Object.keys(kwargs)) if (k !== 'mask') put(rest, k, kwargs[k]);
    return [...collectTensorRefs(node.args ?? null, 'keras3'), ...collectTensorRefs(rest, 'keras3')];
  }
  const entries = keras2Entries(node);
  return entries.flatMap((e) => {
    const out: TensorRef[] = [[e[0] as string, e[1] as number, e[2] as number]];
    const kw = e[3];
    if (isJsonObject(kw)) for (const k of Object.keys(kw)) if (k !== 'mask') out.push(...collectTensorRefs(kw[k], 'keras2'));
    return out;
  });
}

/** A tf.keras 2 node: a list of `[layer, node, tensor, kwargs]` entries (TFOpLambda writes a single entry bare). */
function keras2Entries(node: JsonValue): JsonValue[][] {
  if (!Array.isArray(node)) return [];
  if (node.length > 0 && typeof node[0] === 'string') return [node];
  return node.filter((e): e is JsonValue[] => Array.isArray(e) && typeof e[0] === 'string');
}

function convertNode(
  node: JsonValue,
  className: string,
  path: string,
  layer: string,
  removed: Set<string>,
  modelShifts: ReadonlyMap<string, number>,
  ctx: Ctx,
): JsonValue {
  const sig = CALL_SIGNATURES[className];
  const positional: TensorRef[] = [];
  const roles: string[] = [];
  const kwargsOut: JsonObject = {};
  let kwargsIn: JsonObject = {};
  let dialect: 'keras2' | 'keras3';

  if (isJsonObject(node)) {
    dialect = 'keras3';
    const args = Array.isArray(node.args) ? node.args : node.args == null ? [] : [node.args];
    kwargsIn = isJsonObject(node.kwargs) ? node.kwargs : {};
    args.forEach((a, i) => {
      const refs = collectTensorRefs(a, 'keras3');
      const role = sig?.positional[i] ?? (i === 0 ? 'inputs' : `arg_${i}`);
      if (refs.length > 0) {
        for (const r of refs) {
          positional.push(r);
          roles.push(role);
        }
      } else if (sig?.positional[i] !== undefined) {
        put(kwargsOut, sig.positional[i], a);
      } else if (a !== null) {
        note(ctx, pointer(path, 'args', i), `non-tensor positional argument ${JSON.stringify(a)} dropped (its parameter name is unknown)`, layer);
      }
    });
  } else if (Array.isArray(node)) {
    dialect = 'keras2';
    const entries = keras2Entries(node);
    if (entries.length === 0 && node.length > 0) throw invalid(ctx, path, 'expected [layer_name, node_index, tensor_index, kwargs] entries');
    for (const e of entries) {
      if (e.length < 3 || !Number.isInteger(e[1]) || !Number.isInteger(e[2])) {
        throw invalid(ctx, path, `malformed inbound entry ${JSON.stringify(e).slice(0, 200)}`);
      }
      positional.push([e[0] as string, e[1] as number, e[2] as number]);
      roles.push(sig?.positional[0] ?? 'inputs');
    }
    // tfjs, like tf.keras 2, reads the call's kwargs from the last entry.
    const last = entries[entries.length - 1];
    if (last && isJsonObject(last[3])) kwargsIn = last[3];
  } else {
    throw invalid(ctx, path, 'an inbound node must be a list of entries (tf.keras 2) or {args, kwargs} (Keras 3)');
  }

  // Keyword tensors: table order first, then unknown ones in file order, then an explicit mask.
  const tensorKeys: string[] = [];
  for (const k of Object.keys(kwargsIn)) {
    const v = kwargsIn[k];
    if (k === 'mask') continue;
    if (collectTensorRefs(v, dialect).length > 0) tensorKeys.push(k);
    else if (k !== 'name' || dialect !== 'keras2' || v !== null) put(kwargsOut, k, v);
  }
  const order = sig?.tensorKeywords ?? [];
  tensorKeys.sort((a, b) => rank(order, a) - rank(order, b));
  let fromKeywords = false;
  for (const k of tensorKeys) {
    const refs = collectTensorRefs(kwargsIn[k], dialect);
    for (const r of refs) {
      positional.push(r);
      roles.push(k);
    }
    fromKeywords = true;
  }
  // Keras 3 fills a call's mask from its input before recording it, so a recorded None means none. Keras 2
  // records only the arguments the caller wrote and honours an explicit mask=None (kulc's
  // MultiHeadAttention calls its ScaledDotProductAttention so): none either.
  if ('mask' in kwargsIn && kwargsIn.mask === null) ctx.withoutMask.add(layer);
  if ('mask' in kwargsIn && kwargsIn.mask !== null) {
    const refs = collectTensorRefs(kwargsIn.mask, dialect).filter((r) => !removed.has(r[0]));
    for (const r of refs) {
      positional.push(r);
      roles.push('mask');
      fromKeywords = true;
    }
    if (refs.length === 0 && collectTensorRefs(kwargsIn.mask, dialect).length === 0) put(kwargsOut, 'mask', kwargsIn.mask);
  }
  if (sig || fromKeywords) put(kwargsOut, 'input_roles', roles);

  for (const r of positional) {
    if (removed.has(r[0])) {
      throw invalid(ctx, path, `layer "${layer}" reads the output of removed mask pseudo-layer "${r[0]}"`);
    }
  }
  return positional.map(([l, n, t]) => [l, n + (modelShifts.get(l) ?? 0), t, kwargsOut]);
}

function rank(order: string[], key: string): number {
  const i = order.indexOf(key);
  return i < 0 ? order.length : i;
}

/**
 * Simulates tfjs's graph reconstruction, which loops forever on a node whose input never appears: every
 * reference must name a layer of this model and a node it will have, without cycles.
 */
function checkGraph(entries: KerasObject[], model: JsonObject, configPath: string, ctx: Ctx): void {
  const nodeCount = new Map<string, number>();
  const done = new Map<string, number>();
  const pending = new Map<string, JsonValue[][][]>();
  for (const e of entries) {
    const n = e.name as string;
    if (nodeCount.has(n)) throw invalid(ctx, configPath, `two layers are named "${n}"`);
    // tfjs files nodes under the config's name but looks layers up by the entry's: when they differ
    // (Keras never writes that), its reconstruction loops forever.
    const own = isJsonObject(e.config) ? e.config.name : undefined;
    if (typeof own === 'string' && own !== n) {
      throw invalid(ctx, configPath, `layer "${n}" is named ${JSON.stringify(own.length > 80 ? `${own.slice(0, 80)}...` : own)} in its own config`);
    }
    const nodes = (e.inbound_nodes as JsonValue[]).filter((x) => Array.isArray(x) && x.length > 0) as JsonValue[][][];
    const selfNode = e.class_name === 'InputLayer' || isModelClassName(e.class_name as string) ? 1 : 0;
    nodeCount.set(n, selfNode + nodes.length);
    done.set(n, selfNode);
    pending.set(n, nodes);
  }
  for (const e of entries) {
    for (const node of pending.get(e.name as string) ?? []) {
      for (const ref of node) {
        const target = ref[0] as string;
        if (!nodeCount.has(target)) {
          throw invalid(ctx, configPath, `layer "${String(e.name)}" reads layer "${target}", which the model does not have`);
        }
        if ((ref[1] as number) >= (nodeCount.get(target) as number) || (ref[1] as number) < 0) {
          throw invalid(ctx, configPath, `layer "${String(e.name)}" reads node ${String(ref[1])} of layer "${target}", which has no such node`);
        }
      }
    }
  }
  let progress = true;
  while (progress) {
    progress = false;
    for (const e of entries) {
      const n = e.name as string;
      const nodes = pending.get(n) as JsonValue[][][];
      const rest: JsonValue[][][] = [];
      for (const node of nodes) {
        if (node.every((ref) => (ref[1] as number) < (done.get(ref[0] as string) as number))) {
          done.set(n, (done.get(n) as number) + 1);
          progress = true;
        } else rest.push(node);
      }
      pending.set(n, rest);
    }
  }
  for (const e of entries) {
    const left = pending.get(e.name as string) as JsonValue[][][];
    if (left.length > 0) {
      throw invalid(ctx, configPath, `the inputs of layer "${String(e.name)}" can never be computed (a cycle in inbound_nodes)`);
    }
  }
  for (const key of ['input_layers', 'output_layers']) {
    for (const ref of model[key] as JsonValue[][]) {
      const target = ref[0] as string;
      if (!nodeCount.has(target)) throw invalid(ctx, pointer(configPath, key), `names layer "${target}", which the model does not have`);
      if ((ref[1] as number) >= (nodeCount.get(target) as number)) {
        throw invalid(ctx, pointer(configPath, key), `names node ${String(ref[1])} of layer "${target}", which has no such node`);
      }
    }
  }
}
