/**
 * Which implementation a layer gets. Several libraries use the same class names (`LayerNormalization` is
 * Keras's, kulc's and keras-layer-normalization's; `ScaledDotProductAttention` keras-self-attention's and
 * kulc's; `MultiHeadAttention` Keras's and keras-multi-head's), and a file only says the name. The
 * evidence is what each library's `get_config` writes and what its weights are called, so every clashing
 * name has a list of candidates (`CLASS_CANDIDATES`) and a layer gets the first one its config keys and
 * weight names fit. None fitting is an error that names, per candidate, what did not fit: the nearest
 * match is never run, and no config key is ever left unused. A name only one library uses can have a
 * single candidate, for its keys to be checked the same way (kulc's SequenceAttention, ...).
 *
 * One pass over the verbatim config (`classResolutions`) decides for every layer, nested ones included;
 * the normalizer, `inspect` and the dialect conversions all read its answers.
 */
import { lookupTable } from '../model/config.js';
import type { JsonObject, JsonValue, LayerWeights } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { forEachLayer, isModelClassName } from './config-walk.js';

/** The library a layer class comes from (its PyPI name), or `user` for a class no known library has. */
export type LayerOrigin = 'keras' | 'keras-self-attention' | 'keras-multi-head' | 'keras-layer-normalization' | 'kulc' | 'user';

/**
 * One library's class behind a class name of `CLASS_CANDIDATES`. Everything but `origin`, `registeredAs`
 * and `module` is evidence; a candidate fits a layer when none of it contradicts the file.
 */
export interface ClassCandidate {
  origin: LayerOrigin;
  /** The tfjs class it is built as (registered in src/layers/index.ts; `Lib>Class` when the name clashes). */
  registeredAs: string;
  /** Config keys its `get_config` always writes: one missing rules the candidate out. */
  requires?: readonly string[];
  /** Every config key it can take (spread `LAYER_BASE_KEYS` in for a Layer): any other key rules it out. */
  accepts: readonly string[];
  /**
   * Its weights' variable names (the last segment of `layer/.../name:0`). A string matches the name
   * itself or a `<prefix>_<name>` (Keras 2 layers often prefix their layer name); a weight the file names
   * otherwise rules the candidate out. `[]`: no weights. Left out: weights are no evidence.
   */
  weights?: readonly (string | RegExp)[];
  /**
   * Keras 3 `module` values it is saved under (a value matches itself and its submodules). A layer whose
   * config names another module rules it out. Leave out for classes users copy into their own modules.
   */
  modules?: readonly string[];
  /** Its Keras 3 `module`, for converting its config to Keras 3's dialect. */
  module?: string;
}

/** Keys every Keras Layer's config may carry (Keras 1/2's base kwargs and Keras 3's). */
export const LAYER_BASE_KEYS: readonly string[] = [
  'name', 'trainable', 'dtype', 'batch_input_shape', 'batch_shape', 'batch_size', 'input_shape', 'input_dim', 'input_dtype', 'autocast',
];

/** kulc's attention wrappers: their own `<name>_W1` ... `<name>_V`, then the wrapped cell's. */
const KULC_WRAPPER_WEIGHTS = ['W1', 'W2', 'W3', 'b2', 'b3', 'V', 'kernel', 'recurrent_kernel', 'bias'];

const KERAS_INITIALIZED = (...weights: string[]): string[] =>
  weights.flatMap((w) => [`${w}_initializer`, `${w}_regularizer`, `${w}_constraint`]);

/**
 * Class name (as files spell it) → its candidates, most specific first: the first that fits wins, so a
 * candidate whose keys are a subset of another's comes after it. Adding a library's class is one entry
 * here (plus registering `registeredAs` with tfjs, in src/layers/index.ts for ours). Shape of an entry:
 *   Name: [{ origin, registeredAs, requires?: [keys], accepts: [...LAYER_BASE_KEYS, keys],
 *            weights?: [names | RegExp], modules?: [Keras 3 modules], module?: 'its.module' }, ...]
 */
export const CLASS_CANDIDATES: Readonly<Record<string, readonly ClassCandidate[]>> = lookupTable({
  LayerNormalization: [
    {
      origin: 'keras',
      registeredAs: 'LayerNormalization',
      requires: ['axis'],
      accepts: [...LAYER_BASE_KEYS, 'axis', 'epsilon', 'center', 'scale', 'rms_scaling', ...KERAS_INITIALIZED('beta', 'gamma')],
      weights: ['gamma', 'beta'],
    },
    {
      // CyberZHG's keras-layer-normalization: Keras's arithmetic over the last axis (axis is not a key).
      origin: 'keras-layer-normalization',
      registeredAs: 'LayerNormalization',
      requires: ['center', 'scale', 'epsilon'],
      accepts: [...LAYER_BASE_KEYS, 'center', 'scale', 'epsilon', ...KERAS_INITIALIZED('gamma', 'beta')],
      weights: ['gamma', 'beta'],
      module: 'keras_layer_normalization.layer_normalization',
    },
    {
      // kulc has no get_config: Keras 2 files hold only the base keys (epsilon is then its default).
      origin: 'kulc',
      registeredAs: 'Kulc>LayerNormalization',
      accepts: [...LAYER_BASE_KEYS, 'epsilon'],
      weights: ['gain', 'bias'],
      module: 'kulc.layer_normalization',
    },
  ],
  ScaledDotProductAttention: [
    {
      origin: 'keras-self-attention',
      registeredAs: 'ScaledDotProductAttention',
      requires: ['history_only'],
      accepts: [...LAYER_BASE_KEYS, 'return_attention', 'history_only'],
      weights: [],
      module: 'keras_self_attention.scaled_dot_attention',
    },
    {
      origin: 'kulc',
      registeredAs: 'Kulc>ScaledDotProductAttention',
      accepts: [...LAYER_BASE_KEYS, 'return_attention'],
      weights: [],
      module: 'kulc.attention',
    },
  ],
  MultiHeadAttention: [
    {
      origin: 'keras',
      registeredAs: 'MultiHeadAttention',
      requires: ['num_heads', 'key_dim'],
      accepts: [
        ...LAYER_BASE_KEYS, 'num_heads', 'key_dim', 'value_dim', 'dropout', 'use_bias', 'output_shape', 'attention_axes',
        ...KERAS_INITIALIZED('kernel', 'bias'), 'activity_regularizer', 'seed', 'flash_attention', 'use_gate', 'sliding_window',
        'query_shape', 'key_shape', 'value_shape',
      ],
      weights: ['kernel', 'bias'],
    },
    {
      origin: 'keras-multi-head',
      registeredAs: 'KerasMultiHead>MultiHeadAttention',
      requires: ['head_num'],
      accepts: [...LAYER_BASE_KEYS, 'head_num', 'activation', 'use_bias', 'history_only', ...KERAS_INITIALIZED('kernel', 'bias')],
      weights: ['Wq', 'bq', 'Wk', 'bk', 'Wv', 'bv', 'Wo', 'bo'],
      module: 'keras_multi_head.multi_head_attention',
    },
  ],
  // Names only kulc uses so far: one candidate each, so that their configs' keys are checked as well.
  SequenceAttention: [
    {
      origin: 'kulc',
      registeredAs: 'SequenceAttention',
      requires: ['similarity'],
      accepts: [...LAYER_BASE_KEYS, 'similarity', 'kernel_initializer'],
      weights: ['w_a', 'v_a'],
      module: 'kulc.attention',
    },
  ],
  AttentionRNNWrapper: [
    {
      origin: 'kulc',
      registeredAs: 'AttentionRNNWrapper',
      requires: ['layer'],
      accepts: [...LAYER_BASE_KEYS, 'layer', 'weight_initializer'],
      weights: [...KULC_WRAPPER_WEIGHTS],
      module: 'kulc.attention',
    },
  ],
  ExternalAttentionRNNWrapper: [
    {
      origin: 'kulc',
      registeredAs: 'ExternalAttentionRNNWrapper',
      requires: ['layer'],
      accepts: [...LAYER_BASE_KEYS, 'layer', 'weight_initializer', 'return_attention'],
      weights: [...KULC_WRAPPER_WEIGHTS],
      module: 'kulc.attention',
    },
  ],
});

/** Classes only one known library has: decided by the name alone. */
const LIBRARY_CLASSES: Readonly<Record<string, LayerOrigin>> = lookupTable({
  SeqSelfAttention: 'keras-self-attention',
  SeqWeightedAttention: 'keras-self-attention',
  ResidualScaledDotProductAttention: 'keras-self-attention',
  MultiHead: 'keras-multi-head',
});

/** Keras's own layer classes (any version) that may appear in configs; the rest are users' own. */
const KERAS_CLASSES = new Set([
  'Activation', 'ActivityRegularization', 'Add', 'AdditiveAttention', 'AlphaDropout', 'Attention', 'Average',
  'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'BatchNormalization', 'Bidirectional',
  'CategoryEncoding', 'CenterCrop', 'Concatenate', 'Conv1D', 'Conv1DTranspose', 'Conv2D', 'Conv2DTranspose',
  'Conv3D', 'Conv3DTranspose', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'Cropping1D', 'Cropping2D', 'Cropping3D',
  'CuDNNGRU', 'CuDNNLSTM', 'Dense', 'DepthwiseConv1D', 'DepthwiseConv2D', 'Dot', 'Dropout', 'ELU', 'Embedding',
  'EinsumDense', 'Flatten', 'Functional', 'GaussianDropout', 'GaussianNoise', 'GlobalAveragePooling1D',
  'GlobalAveragePooling2D', 'GlobalAveragePooling3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
  'GlobalMaxPooling3D', 'GroupNormalization', 'GRU', 'GRUCell', 'Identity', 'InputLayer', 'Lambda',
  'LeakyReLU', 'LSTM', 'LSTMCell', 'Masking', 'Maximum', 'MaxPooling1D', 'MaxPooling2D',
  'MaxPooling3D', 'Merge', 'Minimum', 'Model', 'Multiply', 'Normalization', 'Permute', 'PReLU',
  'ReLU', 'RepeatVector', 'Rescaling', 'Reshape', 'Resizing', 'RNN', 'SeparableConv1D', 'SeparableConv2D',
  'Sequential', 'SimpleRNN', 'SimpleRNNCell', 'Softmax', 'SpatialDropout1D', 'SpatialDropout2D',
  'SpatialDropout3D', 'StackedRNNCells', 'Subtract', 'TextVectorization', 'TFOpLambda', 'ThresholdedReLU',
  'TimeDistributed', 'UnitNormalization', 'UpSampling1D', 'UpSampling2D', 'UpSampling3D', 'ZeroPadding1D',
  'ZeroPadding2D', 'ZeroPadding3D', 'SlicingOpLambda',
]);

/** The prefix of the class a layer whose config fits no candidate gets: nothing registers it. */
export const UNRESOLVED_PREFIX = 'User>';

/** What one candidate found wrong with a layer. */
export interface CandidateMisfit {
  origin: LayerOrigin;
  /** Keys it always writes that the config lacks. */
  missingKeys: string[];
  /** Keys of the config it never writes. */
  unexpectedKeys: string[];
  /** Weight names it never creates. */
  unexpectedWeights: string[];
  /** The config's `module`, when it names another one. */
  otherModule?: string;
}

/** What the file tells about one layer. */
export interface LayerEvidence {
  className: string;
  config: JsonValue | undefined;
  /** Its weights' variable names; undefined when the file does not name them (Keras 3 `vars/0`, or not read). */
  weightNames?: readonly string[];
  /** Keras 3's `module` of the layer object. */
  module?: string;
}

export interface ClassChoice {
  /** The class tfjs is asked to deserialize. */
  className: string;
  origin: LayerOrigin;
  /** Why, in words: the evidence that decided. */
  reason: string;
  /** True when the class name is one several libraries use: `inspect` shows the origin. */
  ambiguous: boolean;
  /** The candidate chosen (class names in `CLASS_CANDIDATES`). */
  candidate?: ClassCandidate;
  /** When no candidate fits: what did not fit, per candidate. */
  misfits?: CandidateMisfit[];
}

function misfitOf(c: ClassCandidate, ev: LayerEvidence): CandidateMisfit {
  const keys = isJsonObject(ev.config) ? Object.keys(ev.config) : [];
  const accepted = new Set([...c.accepts, ...(c.requires ?? [])]);
  const m: CandidateMisfit = {
    origin: c.origin,
    missingKeys: (c.requires ?? []).filter((k) => !keys.includes(k)),
    unexpectedKeys: keys.filter((k) => !accepted.has(k)),
    unexpectedWeights: c.weights && ev.weightNames ? ev.weightNames.filter((n) => !c.weights!.some((p) => weightMatches(p, n))) : [],
  };
  if (c.modules && ev.module !== undefined && !c.modules.some((p) => ev.module === p || ev.module!.startsWith(`${p}.`))) m.otherModule = ev.module;
  return m;
}

function weightMatches(pattern: string | RegExp, name: string): boolean {
  return typeof pattern === 'string' ? name === pattern || name.endsWith(`_${pattern}`) : pattern.test(name);
}

function fits(m: CandidateMisfit): boolean {
  return m.missingKeys.length === 0 && m.unexpectedKeys.length === 0 && m.unexpectedWeights.length === 0 && m.otherModule === undefined;
}

/** One candidate's misfit in words: `keras: lacks axis; has no weights gain, bias`. */
export function describeMisfit(m: CandidateMisfit): string {
  const parts: string[] = [];
  if (m.missingKeys.length) parts.push(`lacks ${m.missingKeys.join(', ')}`);
  if (m.unexpectedKeys.length) parts.push(`does not take ${m.unexpectedKeys.join(', ')}`);
  if (m.unexpectedWeights.length) parts.push(`has no weight${m.unexpectedWeights.length > 1 ? 's' : ''} ${m.unexpectedWeights.join(', ')}`);
  if (m.otherModule !== undefined) parts.push(`is not saved under module ${m.otherModule}`);
  return `${m.origin}: ${parts.join('; ')}`;
}

/** Chooses among the candidates of one class name (exported for tests of the rule itself). */
export function chooseCandidate(className: string, candidates: readonly ClassCandidate[], ev: LayerEvidence): ClassChoice {
  const misfits = candidates.map((c) => misfitOf(c, ev));
  const i = misfits.findIndex(fits);
  const evidence = `config keys${ev.weightNames ? ` and weights ${ev.weightNames.join(', ') || '(none)'}` : ''}`;
  if (i < 0) {
    return {
      className: UNRESOLVED_PREFIX + className,
      origin: 'user',
      reason: `${evidence} fit no known ${className} (${misfits.map(describeMisfit).join('; ')})`,
      ambiguous: true,
      misfits,
    };
  }
  const others = misfits.filter((_, j) => j !== i);
  const ruledOut = others.length ? `; ${others.map((m) => (fits(m) ? `${m.origin} also fits` : describeMisfit(m))).join('; ')}` : '';
  const c = candidates[i];
  return { className: c.registeredAs, origin: c.origin, reason: `${evidence} fit ${c.origin}${ruledOut}`, ambiguous: candidates.length > 1, candidate: c };
}

/** The candidate registered under a `Lib>Class` name (configs already in the tfjs dialect carry it): a clashing name's. */
function byRegisteredName(className: string): ClassCandidate | undefined {
  if (!className.includes('>')) return undefined;
  const plain = className.slice(className.lastIndexOf('>') + 1);
  return (CLASS_CANDIDATES[plain] ?? []).find((c) => c.registeredAs === className);
}

/** The implementation one layer gets, from what its file tells (see the module comment). */
export function resolveLayerClass(ev: LayerEvidence): ClassChoice {
  const { className } = ev;
  const registered = byRegisteredName(className);
  if (registered) return { className, origin: registered.origin, reason: 'registered class name', ambiguous: true, candidate: registered };
  const candidates = CLASS_CANDIDATES[className];
  if (candidates) return chooseCandidate(className, candidates, ev);
  const library = LIBRARY_CLASSES[className];
  if (library) return { className, origin: library, reason: 'class name', ambiguous: false };
  if (KERAS_CLASSES.has(className) || isModelClassName(className)) return { className, origin: 'keras', reason: 'class name', ambiguous: false };
  return { className, origin: 'user', reason: 'not a class of Keras or of a supported library', ambiguous: false };
}

/** Config-only resolution (no weights known), for code that has only a layer's class name and config. */
export function resolveClassName(className: string, config: JsonValue | undefined): { className: string; origin: LayerOrigin; reason: string } {
  const { className: resolved, origin, reason } = resolveLayerClass({ className, config });
  return { className: resolved, origin, reason };
}

// ---------------------------------------------------------------------------------------------------------
// Every layer of a model.

export interface ClassResolution {
  layer: string;
  /** JSON pointer of the layer object in the verbatim config. */
  path: string;
  /** The top-level layer holding it (itself when top level): its weights are listed under that name. */
  topLevel: string;
  /** The class name as the file has it. */
  className: string;
  /** The class name tfjs is asked to deserialize (what `registerLayer` / `registerClass` must provide). */
  resolvedClass: string;
  origin: LayerOrigin;
  /** Why: the evidence that decided. */
  reason: string;
  /** True for class names several libraries use (`inspect` shows the origin of those). */
  ambiguous: boolean;
  /** Set when no candidate fits: what did not fit, per candidate. */
  misfits?: CandidateMisfit[];
}

export interface ResolutionEvidence {
  /** The model's weights (any reader's `KerasModel.weights`): their names are evidence. */
  weights?: readonly LayerWeights[];
}

/**
 * A weight's variable name: the last segment of its name without `:0`. Undefined for Keras 3's
 * positional `vars/<i>` names, which say nothing.
 */
function variableName(weightName: string): string | undefined {
  const segments = weightName.replace(/:\d+$/, '').split('/');
  const last = segments[segments.length - 1];
  return last === '' || /^\d+$/.test(last) ? undefined : last;
}

/**
 * The variable names of a layer's weights: all of a top-level layer's; for a nested one, those whose
 * path has its name as a segment. Undefined when the file names none of them.
 */
function weightNamesOf(weights: ReadonlyMap<string, readonly string[]>, name: string, topLevel: string): string[] | undefined {
  const all = weights.get(topLevel);
  if (all === undefined) return undefined;
  const own = topLevel === name ? all : all.filter((w) => w.split('/').slice(0, -1).includes(name));
  if (topLevel !== name && own.length === 0) return undefined;
  const names = own.map(variableName);
  return names.every((n): n is string => n !== undefined) ? names : undefined;
}

/** For every layer (nested ones too) of a verbatim config: which class was chosen, and why. */
export function classResolutions(config: JsonObject, evidence: ResolutionEvidence = {}): ClassResolution[] {
  const weights = new Map((evidence.weights ?? []).map((l) => [l.layer, l.weights.map((w) => w.name)]));
  const out: ClassResolution[] = [];
  forEachLayer(config, (v) => {
    const module = typeof v.layer.module === 'string' ? v.layer.module : undefined;
    const r = isModelClassName(v.className)
      ? { className: v.className, origin: 'keras' as const, reason: 'nested model', ambiguous: false }
      : resolveLayerClass({ className: v.className, config: v.layer.config, weightNames: weightNamesOf(weights, v.name, v.topLevel), module });
    const entry: ClassResolution = {
      layer: v.name,
      path: v.path,
      topLevel: v.topLevel,
      className: v.className,
      resolvedClass: r.className,
      origin: r.origin,
      reason: r.reason,
      ambiguous: r.ambiguous,
    };
    if ('misfits' in r && r.misfits) entry.misfits = r.misfits;
    out.push(entry);
  });
  return out;
}
