/** Small, pure questions about Keras configs that readers, writers and the runtime all ask. */
import type { JsonObject } from './types.js';
import { isJsonObject } from './types.js';

/**
 * A lookup table keyed by strings that come from model files: without a prototype, so a config's
 * `constructor`, `toString` or `__proto__` finds nothing rather than Object's own members.
 */
export function lookupTable<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** The Python class a layer config stands for (`Model` in tf.keras 2 configs is Keras 3's `Functional`). */
export function pythonClassName(layer: JsonObject): string {
  const cls = typeof layer.class_name === 'string' ? layer.class_name : '';
  if (cls === 'Model') return 'Functional';
  const registered = cls.lastIndexOf('>');
  return registered >= 0 ? cls.slice(registered + 1) : cls;
}

export function isModelClass(cls: string): boolean {
  return cls === 'Functional' || cls === 'Sequential' || cls === 'Model';
}

/**
 * The layer configs of a model config (`{class_name, config}`), in model order. Sequential models do
 * not count their InputLayer among their layers (neither Keras 2 nor Keras 3 does).
 */
export function layerEntries(model: JsonObject): JsonObject[] {
  const inner = model.config;
  // Keras 2.1: a Sequential config is a bare list of layers.
  const list = Array.isArray(inner) ? inner : isJsonObject(inner) && Array.isArray(inner.layers) ? inner.layers : [];
  const layers = list.filter(isJsonObject);
  if (model.class_name === 'Sequential') return layers.filter((l) => l.class_name !== 'InputLayer');
  return layers;
}

/** A layer's name as its config gives it. */
export function layerName(layer: JsonObject): string | undefined {
  const inner = layer.config;
  if (isJsonObject(inner) && typeof inner.name === 'string') return inner.name;
  return typeof layer.name === 'string' ? layer.name : undefined;
}

/** Keras's `to_snake_case`, which names Keras 3's saved objects after their class. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Names each list item the way Keras 3 does: snake_case of its class, `_1`, `_2` for repeats. */
export function listItemNames(classNames: string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((cls) => {
    const base = toSnakeCase(cls);
    const n = used.get(base);
    if (n === undefined) {
      used.set(base, 0);
      return base;
    }
    used.set(base, n + 1);
    return `${base}_${n + 1}`;
  });
}
