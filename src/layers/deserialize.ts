/**
 * Turning nested Keras configs (`{className, config}`) into tfjs objects through the registry that
 * `tf.serialization.registerClass` fills. tfjs's own `deserialize` is internal, so layers that hold
 * sub-layers (MultiHead) or take initializer/regularizer/constraint configs share these helpers.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import type { ConfigDict, ConfigDictValue } from './types.js';


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

function pascalCase(name: string): string {
  return name
    .split(/[_\s]+/)
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** tfjs does not export its Initializer base class; this is its type. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

function isInitializer(v: unknown): v is Initializer {
  return v instanceof tf.serialization.Serializable && typeof (v as { apply?: unknown }).apply === 'function';
}

/** Keras identifier strings whose class name is not the PascalCase of the string. */
const INITIALIZER_ALIASES: Record<string, string> = {
  uniform: 'RandomUniform',
  normal: 'RandomNormal',
  random_uniform: 'RandomUniform',
  randomUniform: 'RandomUniform',
  random_normal: 'RandomNormal',
  randomNormal: 'RandomNormal',
  truncated_normal: 'TruncatedNormal',
  truncatedNormal: 'TruncatedNormal',
  lecun_normal: 'LeCunNormal',
  lecunNormal: 'LeCunNormal',
  lecun_uniform: 'LeCunUniform',
  lecunUniform: 'LeCunUniform',
  zero: 'Zeros',
  one: 'Ones',
};

/**
 * An initializer from a Keras identifier (string or `{className, config}`), or `fallback` when tfjs has
 * no such class. Initial values never matter for a loaded model, so an unknown initializer is not an
 * error; the config keeps the original value either way.
 */
export function resolveInitializer(value: unknown, fallback: 'glorotUniform' | 'zeros' | 'glorotNormal'): Initializer {
  if (isInitializer(value)) return value;
  let className: string | undefined;
  let config: ConfigDict = {};
  if (typeof value === 'string') {
    className = INITIALIZER_ALIASES[value] ?? pascalCase(value);
  } else if (isPlainObject(value) && typeof value.className === 'string') {
    className = value.className;
    if (isPlainObject(value.config)) config = cloneConfig(value.config) as ConfigDict;
  }
  if (className === 'GlorotUniform' || className === 'GlorotNormal' || className === 'HeNormal' || className === 'HeUniform' || className === 'LeCunNormal' || className === 'LeCunUniform') {
    // Keras 3 adds keys (input_axes, output_axes) that tfjs's VarianceScaling family rejects.
    config = config.seed == null ? {} : { seed: config.seed };
  }
  const entry = className ? registeredClass(className) : undefined;
  if (entry) {
    try {
      const made = entry[1](entry[0], config);
      if (isInitializer(made)) return made;
    } catch {
      // fall through to the fallback
    }
  }
  if (fallback === 'zeros') return tf.initializers.zeros();
  if (fallback === 'glorotNormal') return tf.initializers.glorotNormal({});
  return tf.initializers.glorotUniform({});
}

/**
 * A regularizer or constraint tfjs can build from a Keras config, or undefined (null config, or a class
 * tfjs lacks such as Keras 3's `L2`, which only matters when training in tfjs).
 */
export function resolveRegistered<T>(value: unknown, base: abstract new (...args: never[]) => T): T | undefined {
  if (value == null) return undefined;
  if (value instanceof base) return value;
  if (!isPlainObject(value) || typeof value.className !== 'string') return undefined;
  const className = value.className === 'L2' || value.className === 'L1' ? 'L1L2' : value.className;
  const entry = registeredClass(className);
  if (!entry) return undefined;
  try {
    const made = entry[1](entry[0], isPlainObject(value.config) ? (cloneConfig(value.config) as ConfigDict) : {});
    return made instanceof base ? made : undefined;
  } catch {
    return undefined;
  }
}

/** The config form of a value given either as config (kept verbatim) or as a tfjs object. */
export function configValue(value: unknown): ConfigDictValue {
  if (value == null) return null;
  if (value instanceof tf.serialization.Serializable) {
    return { className: value.getClassName(), config: value.getConfig() } as ConfigDictValue;
  }
  return cloneConfig(value) as ConfigDictValue;
}

const ACTIVATION_ALIASES: Record<string, string> = {
  silu: 'swish',
  hard_sigmoid: 'hardSigmoid',
  log_softmax: 'logSoftmax',
  None: 'linear',
};

/** A Keras activation identifier as a function; `null`/`undefined` mean linear, as `activations.get(None)`. */
export function resolveActivation(value: unknown, place?: string): (x: tf.Tensor) => tf.Tensor {
  let name: string;
  if (value == null) name = 'linear';
  else if (typeof value === 'string') name = value;
  else if (isPlainObject(value) && typeof value.className === 'string') name = value.className;
  else throw new KerasInteropError('CONFIG_INVALID', `unsupported activation ${JSON.stringify(value)}`, { place });
  name = ACTIVATION_ALIASES[name] ?? name;
  if (name === 'linear') return (x) => x;
  if (name === 'exponential') return (x) => tf.exp(x);
  const entry = registeredClass(name);
  if (entry) {
    const made = entry[1](entry[0], {}) as unknown as { apply?: (x: tf.Tensor) => tf.Tensor };
    if (typeof made.apply === 'function') return (x) => made.apply!(x);
  }
  throw new KerasInteropError('UNSUPPORTED_LAYER', `activation "${name}" has no tfjs implementation`, { place });
}
