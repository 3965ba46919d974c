/**
 * Walkers over Keras model configs, shared by the two dialect conversions (Keras config → tfjs dialect in
 * `normalize.ts`, and later tf.keras 2 → Keras 3 for the writers). They only read; every conversion builds
 * new objects.
 */
import { isModelClass, layerName } from '../model/config.js';
import type { JsonObject, JsonValue } from '../model/types.js';
import { isJsonObject } from '../model/types.js';

/** A serialized Keras object: `{class_name, config}` (plus `module`, `registered_name`, ... in Keras 3). */
export type KerasObject = JsonObject & { class_name: string };

export function isKerasObject(v: unknown): v is KerasObject {
  return isJsonObject(v) && typeof v.class_name === 'string' && 'config' in v;
}

/** Config keys under which a layer keeps other layers (wrappers, keras-multi-head's MultiHead, RNN cells). */
export const LAYER_HOLDING_KEYS: readonly string[] = ['layer', 'forward_layer', 'backward_layer', 'layers', 'cell', 'cells'];

/** Classes whose config is itself a model config. `Model` is what Keras before 2.4 called `Functional`. */
/** A layer class that is itself a model (its config holds layers). */
export const isModelClassName = isModelClass;

/** Appends segments to a JSON pointer (RFC 6901 escaping). */
export function pointer(base: string, ...segments: (string | number)[]): string {
  let out = base === '/' ? '' : base;
  for (const s of segments) out += '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1');
  return out === '' ? '/' : out;
}

/** The list of layer entries of a model object and where it sits (a Keras 2.1 Sequential config is a bare list). */
export function modelLayerList(model: JsonObject, modelPath = ''): { layers: JsonValue[]; path: string } | undefined {
  const inner = model.config;
  if (Array.isArray(inner)) return { layers: inner, path: pointer(modelPath, 'config') };
  if (isJsonObject(inner) && Array.isArray(inner.layers)) return { layers: inner.layers, path: pointer(modelPath, 'config', 'layers') };
  return undefined;
}

/** A layer's name: `config.name`, else the entry's own `name`. */
export function layerNameOf(layer: JsonObject): string {
  return layerName(layer) ?? '';
}

export interface LayerVisit {
  /** The layer object itself: `{class_name, config, ...}`. */
  layer: KerasObject;
  className: string;
  name: string;
  /** JSON pointer of `layer` inside the walked root. */
  path: string;
  /** Name of the top-level layer of the root model that holds this one (itself when top level). */
  topLevel: string;
  /** Names of the enclosing layers and models below the root, outermost first. */
  parents: string[];
  /** How it is held: an entry of a model's layer list, or a sub-layer under a config key. */
  heldBy: 'model' | string;
}

/**
 * Visits every layer of a model object (`{class_name, config}`) depth first, in model order: the model's
 * layers, layers of nested models, and sub-layers held by wrappers under `LAYER_HOLDING_KEYS`. The root
 * model itself is not visited. Return `false` from `visit` to skip a layer's children.
 */
export function forEachLayer(root: JsonObject, visit: (v: LayerVisit) => boolean | void, rootPath = ''): void {
  const walkLayer = (layer: KerasObject, path: string, topLevel: string, parents: string[], heldBy: string): void => {
    const name = layerNameOf(layer);
    const top = topLevel === '' ? name : topLevel;
    if (visit({ layer, className: layer.class_name, name, path, topLevel: top, parents, heldBy }) === false) return;
    const inner = layer.config;
    const childParents = [...parents, name];
    if (isModelClassName(layer.class_name)) {
      walkModel(layer, path, top, childParents);
      return;
    }
    if (!isJsonObject(inner)) return;
    for (const key of LAYER_HOLDING_KEYS) {
      const v = inner[key];
      if (isKerasObject(v)) walkLayer(v, pointer(path, 'config', key), top, childParents, key);
      else if (Array.isArray(v)) {
        v.forEach((item, i) => {
          if (isKerasObject(item)) walkLayer(item, pointer(path, 'config', key, i), top, childParents, key);
        });
      }
    }
  };
  const walkModel = (model: JsonObject, path: string, topLevel: string, parents: string[]): void => {
    const list = modelLayerList(model, path);
    if (!list) return;
    list.layers.forEach((entry, i) => {
      if (isKerasObject(entry)) walkLayer(entry, pointer(list.path, i), topLevel, parents, 'model');
    });
  };
  walkModel(root, rootPath, '', []);
}

// ---------------------------------------------------------------------------------------------------------
// Tensor references in inbound nodes.

/** `[layer_name, node_index, tensor_index]` of a tensor a node consumes. */
export type TensorRef = [string, number, number];

/** Keras 3: `{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [l, n, t]}}`. */
export function keras3TensorRef(v: unknown): TensorRef | undefined {
  if (!isJsonObject(v) || v.class_name !== '__keras_tensor__' || !isJsonObject(v.config)) return undefined;
  const h = v.config.keras_history;
  if (Array.isArray(h) && h.length >= 3 && typeof h[0] === 'string' && typeof h[1] === 'number' && typeof h[2] === 'number') {
    return [h[0], h[1], h[2]];
  }
  return undefined;
}

/** tf.keras 2: a tensor passed as a keyword is serialized as `[layer_name, node_index, tensor_index]`. */
export function keras2TensorRef(v: unknown): TensorRef | undefined {
  if (Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && Number.isInteger(v[1]) && Number.isInteger(v[2])) {
    return [v[0], v[1] as number, v[2] as number];
  }
  return undefined;
}

/** Every tensor reference inside a (possibly nested) argument value, in depth-first order. */
export function collectTensorRefs(v: unknown, dialect: 'keras2' | 'keras3'): TensorRef[] {
  const direct = dialect === 'keras3' ? keras3TensorRef(v) : keras2TensorRef(v);
  if (direct) return [direct];
  if (Array.isArray(v)) return v.flatMap((x) => collectTensorRefs(x, dialect));
  if (isJsonObject(v) && !(dialect === 'keras3' && isKerasObject(v))) {
    return Object.keys(v).flatMap((k) => collectTensorRefs(v[k], dialect));
  }
  return [];
}

/** True when the value holds at least one tensor reference. */
export function holdsTensor(v: unknown, dialect: 'keras2' | 'keras3'): boolean {
  return collectTensorRefs(v, dialect).length > 0;
}

/**
 * True when `bwd` is `fwd` run backwards (the same class and config but for the name and go_backwards):
 * the backward layer Bidirectional would build itself.
 */
export function isMirrorLayer(fwd: KerasObject, bwd: KerasObject): boolean {
  if (fwd.class_name !== bwd.class_name || !isJsonObject(fwd.config) || !isJsonObject(bwd.config)) return false;
  const a: JsonObject = { ...fwd.config };
  const b: JsonObject = { ...bwd.config };
  if (Boolean(a.go_backwards) === Boolean(b.go_backwards)) return false;
  for (const o of [a, b]) {
    delete o.name;
    delete o.go_backwards;
  }
  return stableJson(a) === stableJson(b);
}

/** JSON text with object keys sorted, for comparing configs. */
export function stableJson(v: JsonValue): string {
  if (Array.isArray(v)) return '[' + v.map(stableJson).join(',') + ']';
  if (isJsonObject(v)) return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + stableJson(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
