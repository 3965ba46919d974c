/**
 * Keras objects in configs, both ways, for every layer here:
 * - nested layers (`{className, config}`) built through the registry that `tf.serialization.registerClass`
 *   fills (tfjs's own `deserialize` is internal), and written back;
 * - initializer, regularizer, constraint and activation identifiers (names in any Keras or tfjs spelling,
 *   `{className, config}`, or tfjs objects) resolved to tfjs objects, and written back with `configValue`;
 * - one activation table with Keras 3's semantics (tfjs's registry differs: its hard_sigmoid is Keras 2's), plus
 *   each generation's hard_sigmoid under its own name, `hard_sigmoid_keras2` and `hard_sigmoid_keras3`.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import type { ActivationFn, ConfigDict, ConfigDictValue, Constraint, Initializer, Regularizer } from './types.js';

/** A nested layer as tfjs configs carry it (Python `{class_name, config}` after camelCasing). */
export interface SerializedLayer {
  className: string;
  config: ConfigDict;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v != null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep copy, so a `fromConfig` that edits its argument (tfjs Bidirectional does) cannot touch ours. */
export function cloneConfig<T>(value: T): T {
  return value == null ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function registeredClass(className: string): [tf.serialization.SerializableConstructor<tf.serialization.Serializable>, tf.serialization.FromConfigMethod<tf.serialization.Serializable>] | undefined {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  return Object.prototype.hasOwnProperty.call(map, className) ? map[className] : undefined;
}

/** Build a layer from `{className, config}` using whatever class is registered under that name. */
export function deserializeLayer(spec: unknown, place?: string): tf.layers.Layer {
  if (spec instanceof tf.layers.Layer) return spec;
  if (!isPlainObject(spec)) {
    throw new KerasInteropError('CONFIG_INVALID', 'expected a layer config {className, config}', { place });
  }
  const className = (spec.className ?? spec.class_name) as unknown;
  if (typeof className !== 'string' || className === '') {
    throw new KerasInteropError('CONFIG_INVALID', 'a nested layer config has no className', { place });
  }
  const entry = registeredClass(className);
  if (entry == null) {
    throw new KerasInteropError(
      'UNSUPPORTED_LAYER',
      `nested layer class "${className}" has no tfjs implementation; register one with tf.serialization.registerClass before loading`,
      { place },
    );
  }
  const [cls, fromConfig] = entry;
  const config = isPlainObject(spec.config) ? (cloneConfig(spec.config) as ConfigDict) : {};
  const layer = fromConfig(cls, config);
  if (!(layer instanceof tf.layers.Layer)) {
    throw new KerasInteropError('CONFIG_INVALID', `class "${className}" is registered but is not a layer`, { place });
  }
  return layer;
}

/** `{className, config}` for a layer, as getConfig of a wrapper writes its children. */
export function serializeLayer(layer: tf.layers.Layer): SerializedLayer {
  return { className: layer.getClassName(), config: layer.getConfig() };
}

// ---------------------------------------------------------------------------------------------------------
// Initializers, regularizers, constraints.
// tfjs keeps its getInitializer/getRegularizer/getConstraint private, and Keras spells some names
// differently (LecunNormal vs LeCunNormal, OrthogonalInitializer, L2 vs L1L2), so names are matched case- and
// underscore-insensitively against the classes tfjs registers.

/** A Keras/tfjs identifier: a name ('glorot_normal', 'glorotNormal'), a `{className, config}` dict, or an instance. */
export type InitializerIdentifier = string | ConfigDict | Initializer;
export type RegularizerIdentifier = string | ConfigDict | Regularizer;
export type ConstraintIdentifier = string | ConfigDict | Constraint;
export type ActivationIdentifier = string | ConfigDict;

function normName(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

function pascalCase(name: string): string {
  return name
    .split(/[_\s]+/)
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** tfjs does not export the base classes; an instance's prototype chain gives them. */
function baseClassOf(instance: object, depth: number): abstract new (...args: never[]) => unknown {
  let proto = Object.getPrototypeOf(instance) as object;
  for (let i = 0; i < depth; i++) proto = Object.getPrototypeOf(proto) as object;
  return (proto as { constructor: abstract new (...args: never[]) => unknown }).constructor;
}
const InitializerBase = baseClassOf(tf.initializers.zeros(), 1);
const RegularizerBase = baseClassOf(tf.regularizers.l1l2(), 1);
const ConstraintBase = baseClassOf(tf.constraints.nonNeg(), 1);

/** Normalized Keras and tfjs names (see `normName`) → tfjs class names. */
const INITIALIZER_CLASSES: Record<string, string> = {
  zeros: 'Zeros',
  zero: 'Zeros',
  ones: 'Ones',
  one: 'Ones',
  constant: 'Constant',
  randomuniform: 'RandomUniform',
  uniform: 'RandomUniform',
  randomnormal: 'RandomNormal',
  normal: 'RandomNormal',
  truncatednormal: 'TruncatedNormal',
  identity: 'Identity',
  identityinitializer: 'Identity',
  variancescaling: 'VarianceScaling',
  glorotuniform: 'GlorotUniform',
  glorotnormal: 'GlorotNormal',
  henormal: 'HeNormal',
  heuniform: 'HeUniform',
  lecunnormal: 'LeCunNormal',
  lecununiform: 'LeCunUniform',
  orthogonal: 'Orthogonal',
  orthogonalinitializer: 'Orthogonal',
};

/** VarianceScaling presets: Keras 3 adds keys (input_axes, output_axes) that only matter there; tfjs reads `seed`. */
const VARIANCE_SCALING_PRESETS = new Set(['GlorotUniform', 'GlorotNormal', 'HeNormal', 'HeUniform', 'LeCunNormal', 'LeCunUniform']);

const CONSTRAINT_CLASSES: Record<string, string> = {
  maxnorm: 'MaxNorm',
  nonneg: 'NonNeg',
  unitnorm: 'UnitNorm',
  minmaxnorm: 'MinMaxNorm',
};

/** `{className, config}` of a name or a config dict (`class_name` accepted too), or null for anything else. */
function splitIdentifier(value: unknown): { className: string; config: ConfigDict } | null {
  if (typeof value === 'string') return { className: value, config: {} };
  if (!isPlainObject(value)) return null;
  const className = value.className ?? value.class_name;
  if (typeof className !== 'string') return null;
  return { className, config: isPlainObject(value.config) ? (cloneConfig(value.config) as ConfigDict) : {} };
}

/** An instance of the class registered as `className`, or undefined when there is none or it refuses the config. */
function fromRegistry(className: string, config: ConfigDict): unknown {
  const entry = registeredClass(className);
  if (!entry) return undefined;
  try {
    return entry[1](entry[0], config);
  } catch {
    return undefined;
  }
}

export type InitializerFallback = 'glorotUniform' | 'glorotNormal' | 'zeros';

/**
 * An initializer from a Keras identifier, or `fallback` when tfjs cannot build it (unknown class, config
 * it refuses) or there is none. Initial values never matter for a loaded model (its weights replace them),
 * so an unknown initializer is not an error.
 */
export function resolveInitializer(value: unknown, fallback: InitializerFallback): Initializer {
  if (value instanceof InitializerBase) return value as Initializer;
  const id = splitIdentifier(value);
  if (id != null) {
    const known = INITIALIZER_CLASSES[normName(id.className)];
    const className = known ?? (typeof value === 'string' ? pascalCase(id.className) : id.className);
    const config = VARIANCE_SCALING_PRESETS.has(className) ? (id.config.seed == null ? {} : { seed: id.config.seed }) : id.config;
    const made = fromRegistry(className, config);
    if (made instanceof InitializerBase) return made as Initializer;
  }
  if (fallback === 'zeros') return tf.initializers.zeros();
  if (fallback === 'glorotNormal') return tf.initializers.glorotNormal({});
  return tf.initializers.glorotUniform({});
}

export interface ResolveOptions {
  /** The layer, for error messages. */
  layer?: string;
  /**
   * Throw CONFIG_INVALID for an identifier tfjs cannot build. Without it such a regularizer or constraint
   * is left out (undefined): it only acts when training in tfjs, and a loaded model still runs.
   */
  strict?: boolean;
}

function notBuilt(kind: string, value: unknown, id: { className: string } | null, options: ResolveOptions): undefined {
  if (!options.strict) return undefined;
  const where = options.layer == null ? '' : ` in layer "${options.layer}"`;
  throw new KerasInteropError(
    'CONFIG_INVALID',
    id == null ? `${kind}${where} must be a name or {className, config}, got ${JSON.stringify(value)}` : `unknown ${kind} "${id.className}"${where}`,
  );
}

function numberOr(x: unknown, fallback: number): number {
  return typeof x === 'number' ? x : fallback;
}

/**
 * A regularizer from a Keras identifier: `l1`/`l2`/`l1_l2` strings (factor 0.01, as Keras's shortcuts),
 * Keras 3's `L1`/`L2` classes and `L1L2` (a missing factor is 0, as in Keras) become tfjs's L1L2;
 * anything else is looked up in tfjs's registry. Undefined for null, and for what tfjs cannot build unless strict.
 */
export function resolveRegularizer(value: unknown, options: ResolveOptions = {}): Regularizer | undefined {
  if (value == null) return undefined;
  if (value instanceof RegularizerBase) return value as Regularizer;
  const id = splitIdentifier(value);
  if (id != null) {
    const { className, config } = id;
    const bare = typeof value === 'string';
    switch (normName(className)) {
      case 'l1':
        return tf.regularizers.l1({ l1: numberOr(config.l1, 0.01) });
      case 'l2':
        return tf.regularizers.l2({ l2: numberOr(config.l2, 0.01) });
      case 'l1l2':
        return tf.regularizers.l1l2({ l1: numberOr(config.l1, bare ? 0.01 : 0), l2: numberOr(config.l2, bare ? 0.01 : 0) });
    }
    const made = fromRegistry(className, config);
    if (made instanceof RegularizerBase) return made as Regularizer;
  }
  return notBuilt('regularizer', value, id, options);
}

/** A constraint from a Keras identifier (`max_norm`, `MaxNorm`, `{className, config}`, ...); undefined as for regularizers. */
export function resolveConstraint(value: unknown, options: ResolveOptions = {}): Constraint | undefined {
  if (value == null) return undefined;
  if (value instanceof ConstraintBase) return value as Constraint;
  const id = splitIdentifier(value);
  if (id != null) {
    const made = fromRegistry(CONSTRAINT_CLASSES[normName(id.className)] ?? id.className, id.config);
    if (made instanceof ConstraintBase) return made as Constraint;
  }
  return notBuilt('constraint', value, id, options);
}

/** What `addWeight` takes besides name, shape and dtype. */
export interface WeightSettings {
  initializer: Initializer;
  regularizer: Regularizer | undefined;
  constraint: Constraint | undefined;
}

/** The initializer, regularizer and constraint of one kind of weight (kernel, bias, ...) from their identifiers. */
export function weightSettings(
  initializer: unknown,
  fallback: InitializerFallback,
  regularizer: unknown,
  constraint: unknown,
  options: ResolveOptions = {},
): WeightSettings {
  return {
    initializer: resolveInitializer(initializer, fallback),
    regularizer: resolveRegularizer(regularizer, options),
    constraint: resolveConstraint(constraint, options),
  };
}

/**
 * The config form of a value: a tfjs object as `{className, config}` (entries left undefined, such as an
 * initializer's `seed`, become null, as after a JSON round trip), anything else deep-copied as it is.
 */
export function configValue(value: unknown): ConfigDictValue {
  if (value == null) return null;
  if (value instanceof tf.serialization.Serializable) {
    const config: ConfigDict = {};
    for (const [key, v] of Object.entries(value.getConfig())) config[key] = v === undefined ? null : v;
    return { className: value.getClassName(), config };
  }
  return cloneConfig(value) as ConfigDictValue;
}

// ---------------------------------------------------------------------------------------------------------
// Activations.

/** Keras 3's `hard_sigmoid`: relu6(x + 3) / 6 (Keras 2 and tfjs compute clip(0.2 x + 0.5, 0, 1) instead). */
export function hardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.div(tf.relu6(tf.add(x, 3)), 6);
}

/**
 * The activation names that say which `hard_sigmoid` a config means, whatever reads it (our layers,
 * tfjs's built-in ones, a converted tfjs folder): normalized configs never hold the bare name
 * (src/runtime/versioned-activations.ts decides its meaning from the saving Keras version). A Keras 3
 * file that saved a Python function `hard_sigmoid_keras2` means Keras 2's too (that is how a Keras 2
 * model keeps its numbers in Keras 3), a tf.keras 2 file naming `hard_sigmoid_keras3` Keras 3's.
 */
export const KERAS2_HARD_SIGMOID = 'hard_sigmoid_keras2';
export const KERAS3_HARD_SIGMOID = 'hard_sigmoid_keras3';

/** Keras 1/2's `hard_sigmoid`: clip(0.2 x + 0.5, 0, 1). */
export function hardSigmoidKeras2(x: tf.Tensor): tf.Tensor {
  return tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
}

/**
 * An activation as a tfjs class, so that tfjs's own layers (Dense, Conv, ...) find it too: tfjs looks
 * activations up in the class registry by the camel-cased name.
 */
function activationClass(className: string, fn: ActivationFn) {
  return class extends tf.serialization.Serializable {
    static className = className;

    apply(x: tf.Tensor): tf.Tensor {
      return fn(x);
    }

    getConfig(): ConfigDict {
      return {};
    }
  };
}

export const HardSigmoidKeras2 = activationClass('hardSigmoidKeras2', hardSigmoidKeras2);
export const HardSigmoidKeras3 = activationClass('hardSigmoidKeras3', hardSigmoid);

/** Keras activations with Keras 3's semantics, by normalized name (see `normName`): [tfjs-side name, function]. */
const ACTIVATIONS: Record<string, [string, ActivationFn]> = {
  linear: ['linear', (x) => x],
  sigmoid: ['sigmoid', (x) => tf.sigmoid(x)],
  tanh: ['tanh', (x) => tf.tanh(x)],
  relu: ['relu', (x) => tf.relu(x)],
  relu6: ['relu6', (x) => tf.relu6(x)],
  elu: ['elu', (x) => tf.elu(x)],
  selu: ['selu', (x) => tf.selu(x)],
  softplus: ['softplus', (x) => tf.softplus(x)],
  softsign: ['softsign', (x) => tf.div(x, tf.add(1, tf.abs(x)))],
  softmax: ['softmax', (x) => tf.softmax(x, -1)],
  logsoftmax: ['logSoftmax', (x) => tf.logSoftmax(x, -1)],
  exponential: ['exponential', (x) => tf.exp(x)],
  hardsigmoid: ['hardSigmoid', hardSigmoid],
  hardsigmoidkeras2: ['hardSigmoidKeras2', hardSigmoidKeras2],
  hardsigmoidkeras3: ['hardSigmoidKeras3', hardSigmoid],
  swish: ['swish', (x) => tf.mul(x, tf.sigmoid(x))],
  silu: ['silu', (x) => tf.mul(x, tf.sigmoid(x))],
  // Keras 3's default is the exact form (approximate=False).
  gelu: ['gelu', (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))))],
  mish: ['mish', (x) => tf.mul(x, tf.tanh(tf.softplus(x)))],
  leakyrelu: ['leakyRelu', (x) => tf.leakyRelu(x, 0.2)],
};

/** Keras 3 activations that are not in the table: valid configs this package cannot run. */
const UNIMPLEMENTED_ACTIVATIONS = new Set(
  ['celu', 'glu', 'hard_shrink', 'hard_silu', 'hard_swish', 'hard_tanh', 'log_sigmoid', 'soft_shrink', 'sparse_plus', 'sparse_sigmoid', 'sparsemax', 'squareplus', 'tanh_shrink', 'threshold'].map(normName),
);

/** Whether `name` (any spelling) is a Keras activation, run here or not. */
export function isKnownActivation(name: string): boolean {
  return ACTIVATIONS[normName(name)] !== undefined || UNIMPLEMENTED_ACTIVATIONS.has(normName(name));
}

export interface ResolvedActivation {
  /** The tfjs-side (camelCase) name, e.g. 'hardSigmoid' for 'hard_sigmoid'. */
  name: string;
  fn: ActivationFn;
}

/**
 * A Keras activation identifier (a name in any spelling, `{className}`, or Keras's serialized function
 * `{className: 'function', config: 'tanh'}`) with Keras 3's semantics; null/undefined is linear, as
 * `activations.get(None)`. `what` names the config key in error messages.
 */
export function resolveActivation(value: unknown, layer: string, what = 'activation'): ResolvedActivation {
  if (value == null) return { name: 'linear', fn: ACTIVATIONS['linear']![1] };
  let name: string | undefined;
  if (typeof value === 'string') name = value;
  else if (isPlainObject(value)) {
    const className = value.className ?? value.class_name;
    name = className === 'function' && typeof value.config === 'string' ? value.config : typeof className === 'string' ? className : undefined;
  }
  if (name == null) {
    throw new KerasInteropError('CONFIG_INVALID', `${what} of layer "${layer}" must be a name or {className, config}, got ${JSON.stringify(value)}`);
  }
  const found = ACTIVATIONS[normName(name)];
  if (found != null) return { name: found[0], fn: found[1] };
  if (UNIMPLEMENTED_ACTIVATIONS.has(normName(name))) {
    throw new KerasInteropError('UNSUPPORTED_LAYER', `${what} "${name}" of layer "${layer}" is a Keras activation without a tfjs implementation here`);
  }
  throw new KerasInteropError(
    'CONFIG_INVALID',
    `unknown ${what} "${name}" in layer "${layer}" (known: ${Object.values(ACTIVATIONS).map((a) => a[0]).join(', ')})`,
  );
}
