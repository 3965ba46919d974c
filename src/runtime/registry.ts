/**
 * Which layer classes tfjs can build, and the one function through which users plug in their own
 * TypeScript implementations (custom layers, Lambda replacements).
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError, UnsupportedLayerError } from '../errors.js';
import { isKnownActivation } from '../layers/keras-objects.js';
import type { JsonObject, KerasModel } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { forEachLayer, isModelClassName, pointer } from './config-walk.js';
import { isActivationKey } from './versioned-activations.js';
import { type ClassResolution, describeMisfit } from './class-resolution.js';

/** A `tf.layers.Layer` subclass; `static className` should equal the Python class name. */
export type LayerConstructor = tf.serialization.SerializableConstructor<tf.layers.Layer>;

/**
 * tfjs camel-cases every string value of a config before deserializing (`My_Layer` → `MyLayer`), class
 * names included, so that is the key its registry is searched with.
 */
export function tfjsClassKey(className: string): string {
  if (className.length <= 1 || !className.includes('_')) return className;
  return className.replace(/[_]+(\w|$)/g, (_m, p1: string) => p1.toUpperCase());
}

function classNameMap(): Record<string, unknown> {
  return tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown>;
}

/**
 * Registers a TypeScript implementation for a Keras layer class, so that models using it build.
 * `className` is the class name as the Keras config spells it (`'SimpleAttention'`, `'Lambda'`,
 * `'KerasMultiHead>MultiHeadAttention'`). The class gets `static className` if it has none.
 */
export function registerLayer(className: string, cls: LayerConstructor): void {
  if (typeof className !== 'string' || className === '') throw new TypeError('registerLayer: className must be a non-empty string');
  if (typeof cls !== 'function') throw new TypeError(`registerLayer('${className}', ...): expected a tf.layers.Layer subclass`);
  if (typeof cls.className !== 'string' || cls.className === '') {
    Object.defineProperty(cls, 'className', { value: className, configurable: true });
  }
  const fromConfig = typeof cls.fromConfig === 'function' ? cls.fromConfig : tf.serialization.Serializable.fromConfig;
  const map = classNameMap();
  for (const key of new Set([className, tfjsClassKey(className)])) map[key] = [cls, fromConfig];
}

/** Every class name tfjs can deserialize now (its own, ours, and the user's). */
export function registeredLayerClasses(): string[] {
  return Object.keys(classNameMap());
}

/** True when tfjs can deserialize this class (built in, registered by our layers, or by `registerLayer`). */
export function isLayerRegistered(className: string): boolean {
  return Object.prototype.hasOwnProperty.call(classNameMap(), tfjsClassKey(className));
}

export type UnsupportedReason = 'unregistered' | 'lambda' | 'cudnn' | 'unsupported-config' | 'unresolved-class';

export interface UnsupportedLayer {
  /** The layer's name. */
  name: string;
  /** Its class as the normalized config gives it. */
  className: string;
  /** JSON pointer in the normalized config. */
  path: string;
  /** The top-level layer holding it (its weights are listed under that name). */
  topLevel: string;
  reason: UnsupportedReason;
  /** What exactly is missing. */
  detail: string;
}

/** Every layer (nested ones too) of a normalized config that tfjs cannot build, in model order. */
export function findUnsupportedLayers(normalizedConfig: JsonObject): UnsupportedLayer[] {
  const out: UnsupportedLayer[] = [];
  forEachLayer(normalizedConfig, (v) => {
    const base = { name: v.name, className: v.className, path: v.path, topLevel: v.topLevel };
    if (isModelClassName(v.className)) return;
    if (!isLayerRegistered(v.className)) {
      const reason: UnsupportedReason =
        v.className === 'Lambda'
          ? 'lambda'
          : v.className === 'CuDNNLSTM' || v.className === 'CuDNNGRU'
            ? 'cudnn'
            : 'unregistered';
      out.push({ ...base, reason, detail: describeMissing(v.className) });
      return;
    }
  });
  return out;
}

/**
 * tfjs's own layers look an activation name up among every registered class, so an activation named like
 * an initializer (`"Zeros"`) builds, and fails inside the layer's call. The first activation key (of any
 * layer, nested ones too) whose string names a registered class that is not an activation, as a
 * `CONFIG_INVALID` error with its JSON pointer in the normalized config.
 */
export function misnamedActivation(normalizedConfig: JsonObject, file?: string): KerasInteropError | undefined {
  const map = classNameMap();
  // tfjs's activations share one base class (linear's parent); ours (hard_sigmoid_keras2, ...) are in the
  // activation table.
  type Ctor = abstract new () => object;
  const linear = map.linear as [Ctor] | undefined;
  const base = linear && (Object.getPrototypeOf(linear[0]) as Ctor);
  const isActivationClass = (cls: Ctor) => base !== undefined && (cls === base || cls.prototype instanceof base);
  let found: KerasInteropError | undefined;
  forEachLayer(normalizedConfig, (v) => {
    if (!isJsonObject(v.layer.config)) return true;
    for (const [key, value] of Object.entries(v.layer.config)) {
      if (!isActivationKey(key) || typeof value !== 'string' || isKnownActivation(value)) continue;
      const entry = Object.prototype.hasOwnProperty.call(map, tfjsClassKey(value)) ? (map[tfjsClassKey(value)] as [Ctor]) : undefined;
      if (!entry || isActivationClass(entry[0])) continue;
      found = new KerasInteropError('CONFIG_INVALID', `layer "${v.name}": ${key} "${value}" names a class that is not an activation`, { file, place: pointer(v.path, 'config', key) });
      return false;
    }
    return true;
  });
  return found;
}

function describeMissing(className: string): string {
  switch (className) {
    case 'Lambda':
      return 'a Lambda layer holds a Python function (marshalled bytecode in the file); that bytecode is never executed here';
    case 'CuDNNLSTM':
    case 'CuDNNGRU':
      return `${className} runs as ${className.slice(5)} only with its weights converted, which needs the whole model: build it with buildModel (or upgradeLegacyLayers), not from a bare config`;
    default:
      return `no TypeScript implementation of class "${className}" is registered (a user-defined Keras layer, or one this package does not implement)`;
  }
}

/** The `UnsupportedLayerError` for one finding, naming the layer's weights and how to register an implementation. */
export function unsupportedLayerError(u: UnsupportedLayer, model?: KerasModel, place?: string): UnsupportedLayerError {
  const weights = model?.weights.find((w) => w.layer === u.topLevel)?.weights ?? [];
  const owner = u.topLevel !== u.name ? ` (held by top-level layer "${u.topLevel}")` : '';
  const weightText =
    weights.length === 0
      ? `It has no weights in the file${owner}.`
      : `Its weights in the file${owner}, in order: ${weights.map((w) => `${w.name} ${JSON.stringify(w.shape)} ${w.dtype}`).join(', ')}.`;
  let how: string;
  if (u.reason === 'lambda') {
    how =
      `To run this model, write the function as a tf.layers.Layer subclass (call() computing it in tfjs) and register it before building: ` +
      `registerLayer('${u.className}', MyLayer). tfjs hands fromConfig this layer's config (name "${u.name}"), so one class can serve several ${u.className} layers.`;
  } else if (u.reason === 'unresolved-class') {
    how =
      `Nothing was run in its place. If it is a layer of your own (or of a library not supported here), write it as a tf.layers.Layer subclass ` +
      `creating these weights in this order and register it under the class name the runtime gives it: registerLayer('${u.className}', MyLayer).`;
  } else if (u.reason === 'unsupported-config') {
    how = `Register an implementation that supports this config with registerLayer('${u.className}', MyLayer) to replace the built-in one.`;
  } else {
    how =
      `Write a tf.layers.Layer subclass with static className = '${u.className}' whose build() creates these weights in this order (same shapes) ` +
      `and whose call() computes the layer, then call registerLayer('${u.className}', MyLayer) before building.`;
  }
  return new UnsupportedLayerError(u.name, u.className, `${u.detail}. ${weightText} ${how}`, {
    file: model?.source.file,
    place: place ?? u.path,
  });
}

/**
 * The first layer whose config fits none of the implementations of its class name (see
 * class-resolution.ts), unless an implementation was registered for it under the name it was given.
 */
export function unresolvedClass(resolutions: readonly ClassResolution[]): ClassResolution | undefined {
  return resolutions.find((r) => r.misfits !== undefined && !isLayerRegistered(r.resolvedClass));
}

/** The error for `unresolvedClass`: what did not fit each candidate, the layer's weights, and the way out. */
export function unresolvedClassError(r: ClassResolution, model?: KerasModel): UnsupportedLayerError {
  const detail = `its config fits no known ${r.className} (${(r.misfits ?? []).map(describeMisfit).join('; ')})`;
  return unsupportedLayerError({ name: r.layer, className: r.resolvedClass, path: r.path, topLevel: r.topLevel, reason: 'unresolved-class', detail }, model, r.path);
}
