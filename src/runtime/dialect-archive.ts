/**
 * A Keras 3 legacy `.h5` config in the form Keras 3 writes into a `.keras` archive. Keras 3's legacy
 * `.h5` keeps everything inside a layer as the archive does, but writes the model and the entries of its
 * layer lists bare (`{class_name, config}`, plus `name` and `inbound_nodes`): no `module`,
 * `registered_name` or `build_config`, which Keras 3 needs to load an archive ("Could not locate class
 * 'Functional'"). This puts them back, the inverse of `toKeras3Config(..., { legacyH5: true })`:
 * `module` and `registered_name` as the Keras 3 conversion gives them, `build_config` as Keras 3
 * records the build of each layer's first call (the input shapes its inbound node holds; for
 * Sequential models the shapes tfjs infers), inner configs and calls verbatim. Pure.
 */
import { KerasInteropError } from '../errors.js';
import type { JsonObject, JsonValue } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { type KerasObject, isKerasObject, isModelClassName, layerNameOf, modelLayerList } from './config-walk.js';
import { type OutputShapes, keras3RecordsBuild, toKeras3Config } from './dialect.js';

/** Whether a Keras 3 model config is written bare, as Keras 3's legacy `.h5` writes it. */
export function isLegacyH5Form(config: JsonObject): boolean {
  return !Object.prototype.hasOwnProperty.call(config, 'module');
}

function entryName(l: JsonObject): string {
  return typeof l.name === 'string' ? l.name : layerNameOf(l);
}

/** The shape of a `__keras_tensor__` argument, or a list of them. */
function argShape(v: JsonValue | undefined): JsonValue | undefined {
  if (isJsonObject(v) && v.class_name === '__keras_tensor__' && isJsonObject(v.config) && Array.isArray(v.config.shape)) return v.config.shape;
  if (Array.isArray(v) && v.length > 0) {
    const shapes = v.map(argShape);
    return shapes.every((s) => s !== undefined) ? (shapes as JsonValue[]) : undefined;
  }
  return undefined;
}

/** Keras 3's record of a layer's first call: `input_shape`, or for Keras's MultiHeadAttention its `shapes_dict`. */
function buildFromNode(cls: string, module: JsonValue | undefined, node: JsonValue | undefined): JsonObject | undefined {
  if (!isJsonObject(node) || !Array.isArray(node.args)) return undefined;
  const kwargs = isJsonObject(node.kwargs) ? node.kwargs : {};
  if (cls === 'MultiHeadAttention' && module === 'keras.layers') {
    const query = argShape(node.args[0]);
    const value = argShape(node.args[1] ?? kwargs.value);
    if (!query || !value) return undefined;
    const key = argShape(node.args[2] ?? kwargs.key ?? undefined);
    return { shapes_dict: key ? { query_shape: query, value_shape: value, key_shape: key } : { query_shape: query, value_shape: value } };
  }
  const shape = argShape(node.args[0]);
  return shape === undefined ? undefined : { input_shape: shape };
}

function restoreModel(legacy: KerasObject, converted: JsonObject, path: string, file: string | undefined): JsonObject {
  const list = modelLayerList(legacy, path);
  const convertedLayers = isJsonObject(converted.config) && Array.isArray(converted.config.layers) ? converted.config.layers : [];
  const byName = new Map(convertedLayers.filter(isKerasObject).map((l) => [entryName(l), l]));
  const sequential = legacy.class_name === 'Sequential';
  const layers = (list?.layers ?? []).map((l) => {
    if (!isKerasObject(l)) return l;
    const c = byName.get(entryName(l));
    if (!c) throw new KerasInteropError('CONFIG_INVALID', `layer "${entryName(l)}" has no Keras 3 form`, { file, place: path });
    let out: JsonObject;
    if (isModelClassName(l.class_name)) out = restoreModel(l, c, path, file);
    else {
      out = { module: c.module ?? null, class_name: c.class_name, config: structuredClone(l.config), registered_name: c.registered_name ?? null };
      const first = Array.isArray(l.inbound_nodes) ? l.inbound_nodes[0] : undefined;
      const build = sequential ? c.build_config : keras3RecordsBuild(String(c.class_name), c.module) ? buildFromNode(String(c.class_name), c.module, first) : undefined;
      if (build !== undefined) out.build_config = structuredClone(build);
    }
    // name, inbound_nodes (and whatever else the entry holds) after the wrapper, as Keras orders them
    for (const key of Object.keys(l)) {
      if (key !== 'class_name' && key !== 'config') Object.defineProperty(out, key, { value: structuredClone(l[key]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  });
  const inner: JsonObject = isJsonObject(legacy.config) ? { ...structuredClone(legacy.config), layers } : { layers };
  const out: JsonObject = { module: converted.module ?? null, class_name: converted.class_name, config: inner, registered_name: converted.registered_name ?? null };
  if (converted.build_config !== undefined) out.build_config = converted.build_config;
  return out;
}

/** A Keras 3 legacy `.h5` model config as a `.keras` archive holds it (see the file comment). */
export function legacyH5ToArchiveConfig(config: JsonObject, opts: { outputShapes?: OutputShapes; file?: string } = {}): JsonObject {
  if (!isKerasObject(config) || !isModelClassName(config.class_name)) {
    throw new KerasInteropError('CONFIG_INVALID', 'expected a model config: an object with "class_name" (Functional, Model or Sequential) and "config"', {
      file: opts.file,
      place: '/',
    });
  }
  return restoreModel(config, toKeras3Config(config, opts), '', opts.file);
}
