/**
 * Keras 1 / 2.0's `Merge` outside its own layer:
 * - a Sequential whose first layer is a `Merge` of branch Sequentials (Keras 2.0 `Sequential.legacy_get_config`:
 *   `{"class_name": "Merge", "config": {..., "layers": [<branch Sequential>, ...]}}`) is the functional model
 *   Keras builds from it (`legacy_from_config`): each branch from an input named `<first layer>_input`,
 *   the Merge over the branches' outputs, then the remaining layers in a chain;
 * - for Keras 3 files, a Merge is the Keras merge layer of the same meaning (`Concatenate`, `Add`,
 *   `Multiply`, `Average`, `Maximum`, `Dot`); `cos` has none.
 */
import { KerasInteropError } from '../errors.js';
import { layerName, lookupTable } from '../model/config.js';
import type { JsonObject, JsonValue } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { isKerasObject, modelLayerList, pointer } from './config-walk.js';

type Where = { file?: string; place: string };

/** True for a Sequential config (bare list or `{layers}`) whose first layer is a legacy Merge of branches. */
export function isLegacyMergeSequential(model: JsonValue): boolean {
  if (!isKerasObject(model) || model.class_name !== 'Sequential') return false;
  const first = modelLayerList(model)?.layers[0];
  return isKerasObject(first) && first.class_name === 'Merge' && isJsonObject(first.config) && Array.isArray(first.config.layers);
}

/** The functional (`Model`) config Keras 2.0 builds from a Sequential with a legacy Merge first. */
export function legacyMergeSequentialAsFunctional(model: JsonObject, where: Where): JsonObject {
  const layers: JsonObject[] = [];
  const inputs: JsonValue[] = [];
  const output = chain(modelLayerList(model)?.layers ?? [], where.place, layers, inputs, where.file);
  const inner = model.config;
  const name = isJsonObject(inner) && typeof inner.name === 'string' ? inner.name : 'sequential';
  return { class_name: 'Model', config: { name, layers, input_layers: inputs, output_layers: [output] } };
}

/** Adds a Sequential's layers as functional entries; returns the reference to its output. */
function chain(list: JsonValue[], place: string, out: JsonObject[], inputs: JsonValue[], file?: string): JsonValue[] {
  let prev: JsonValue[] | undefined;
  list.forEach((entry, i) => {
    const here = pointer(place, i);
    if (!isKerasObject(entry) || !isJsonObject(entry.config)) throw new KerasInteropError('CONFIG_INVALID', 'a layer must be an object with "class_name" and "config"', { file, place: here });
    const name = layerName(entry);
    if (name === undefined) throw new KerasInteropError('CONFIG_INVALID', 'a layer of a legacy Sequential needs a name', { file, place: here });
    let inbound: JsonValue[][];
    let config = entry.config;
    if (i === 0 && entry.class_name === 'Merge' && Array.isArray(config.layers)) {
      inbound = config.layers.map((branch, b) => {
        const branchPlace = pointer(here, 'config', 'layers', b);
        const branchLayers = isKerasObject(branch) && branch.class_name === 'Sequential' ? modelLayerList(branch)?.layers : undefined;
        if (!branchLayers) throw new KerasInteropError('UNSUPPORTED_LAYER', `a branch of legacy Merge "${name}" must be a Sequential model`, { file, place: branchPlace });
        return [...chain(branchLayers, pointer(branchPlace, 'config'), out, inputs, file), {}];
      });
      const rest: JsonObject = {};
      for (const k of Object.keys(config)) if (k !== 'layers' && k !== 'node_indices' && k !== 'tensor_indices') rest[k] = config[k];
      config = rest;
    } else if (i === 0) {
      const shape = config.batch_input_shape;
      if (!Array.isArray(shape)) throw new KerasInteropError('CONFIG_INVALID', `the first layer "${name}" of a legacy Sequential needs batch_input_shape`, { file, place: here });
      const input = `${name}_input`;
      const dtype = config.input_dtype ?? config.dtype ?? 'float32';
      out.push({ name: input, class_name: 'InputLayer', config: { batch_input_shape: shape, dtype, sparse: false, name: input }, inbound_nodes: [] });
      inputs.push([input, 0, 0]);
      inbound = [[input, 0, 0, {}]];
    } else {
      inbound = [[...(prev as JsonValue[]), {}]];
    }
    out.push({ name, class_name: entry.class_name, config, inbound_nodes: [inbound] });
    prev = [name, 0, 0];
  });
  if (!prev) throw new KerasInteropError('CONFIG_INVALID', 'a legacy Sequential has no layers', { file, place });
  return prev;
}

const MERGE_LAYERS: Readonly<Record<string, string>> = lookupTable({
  concat: 'Concatenate',
  sum: 'Add',
  mul: 'Multiply',
  ave: 'Average',
  max: 'Maximum',
  dot: 'Dot',
});

/** A legacy Merge as the Keras merge layer computing the same (for Keras 3, which has no Merge). */
export function mergeAsMergeLayer(layer: JsonObject & { config: JsonObject }, where: Where): JsonObject {
  const c = layer.config;
  const cls = typeof c.mode === 'string' && (c.mode_type ?? 'raw') === 'raw' ? MERGE_LAYERS[c.mode] : undefined;
  if (!cls) {
    throw new KerasInteropError('UNSUPPORTED_LAYER', `legacy Merge "${String(c.name)}" with mode ${JSON.stringify(c.mode)} has no Keras 3 layer (concat, sum, mul, ave, max and dot have)`, where);
  }
  const config: JsonObject = { name: c.name ?? null, trainable: c.trainable ?? true, dtype: c.dtype ?? 'float32' };
  if (cls === 'Concatenate') config.axis = c.concat_axis ?? -1;
  if (cls === 'Dot') {
    config.axes = c.dot_axes ?? -1;
    config.normalize = false;
  }
  const out: JsonObject = {};
  for (const k of Object.keys(layer)) out[k] = k === 'class_name' ? cls : k === 'config' ? config : layer[k];
  return out;
}
