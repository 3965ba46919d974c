/**
 * Keras 3's object-tree weights layout (`model.weights.h5`, and the weights inside `.keras`
 * archives), mapped onto the KerasModel order (each layer's legacy `layer.weights` order).
 *
 * Keras 3 saves each Python object once, under the first path its traversal reaches: a model's
 * `layers` list first, items named by the snake_case of their class (`dense`, `dense_1`, ...), then
 * other attributes public before private, in sorted order. Each object's own variables sit in
 * `vars/<i>`. The traversal order is not the order of `layer.weights`, so the classes whose children
 * matter say, below, in which order their children's weights count.
 */
import { KerasInteropError } from '../errors.js';
import type { JsonObject, LayerWeights, Weight } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { layerEntries, listItemNames, pythonClassName } from '../model/config.js';
import { isKeras3Operation } from '../runtime/ops/operation-node.js';
import { TreeGroup } from './keras3-tree.js';
import {
  type H5Group,
  type ReadLimits,
  getMember,
  isDataset,
  joinPath,
  memberNames,
  numericMembers,
  readStringAttr,
  readWeight,
  type WeightReads,
} from './h5.js';

interface Ctx {
  file: string;
  limits: ReadLimits;
  budget: WeightReads;
}

interface Collected {
  weight: Weight;
  trainable: boolean;
}

/** Walk order of an object's attribute children: public before private, then sorted. */
function walkOrder(names: string[]): string[] {
  return [...names].sort((a, b) => {
    const pa = a.startsWith('_') ? 1 : 0;
    const pb = b.startsWith('_') ? 1 : 0;
    if (pa !== pb) return pa - pb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function ownVars(group: TreeGroup, ownerName: string, ctx: Ctx, trainable: (i: number) => boolean): Collected[] {
  const vars = group.child('vars')?.real;
  if (!vars) return [];
  return numericMembers(vars, ctx.file).map((k) => {
    const ds = getMember(vars, k, ctx.file);
    if (!isDataset(ds)) {
      throw new KerasInteropError('HDF5_INVALID', 'expected a dataset', { file: ctx.file, place: joinPath(vars.path, k) });
    }
    return { weight: readWeight(ds, `${ownerName}/vars/${k}`, ctx.file, ctx.limits, ctx.budget), trainable: trainable(Number(k)) };
  });
}

function childGroups(group: TreeGroup): string[] {
  return walkOrder(group.childNames().filter((k) => k !== 'vars'));
}

function innerConfig(layer: JsonObject | undefined): JsonObject {
  return layer && isJsonObject(layer.config) ? layer.config : {};
}

const RNN_CLASSES = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D']);
const MODEL_CLASSES = new Set(['Functional', 'Sequential', 'Model']);

/** Collects an object's weights in its `layer.weights` order. `layer` is its config when known. */
function collect(group: TreeGroup, path: string, layer: JsonObject | undefined, ctx: Ctx): Collected[] {
  const cls = layer ? pythonClassName(layer) : undefined;
  const cfg = innerConfig(layer);
  const frozen = cfg.trainable === false;
  const mark = (xs: Collected[]): Collected[] => (frozen ? xs.map((x) => ({ ...x, trainable: false })) : xs);
  const sub = (name: string, subLayer?: JsonObject): Collected[] => {
    const g = group.child(name);
    return g ? collect(g, `${path}/${name}`, subLayer, ctx) : [];
  };

  if (cls === 'BatchNormalization' || cls === 'SyncBatchNormalization') {
    return mark(ownVars(group, path, ctx, (i) => i < 2));
  }
  if (cls && MODEL_CLASSES.has(cls)) {
    const layers = layerEntries(layer!).filter((l) => !isKeras3Operation(l));
    const names = listItemNames(layers.map(pythonClassName));
    const list = group.child('layers');
    const out: Collected[] = [];
    layers.forEach((l, i) => {
      const g = list?.child(names[i]);
      if (g) out.push(...collect(g, `${path}/layers/${names[i]}`, l, ctx));
    });
    return mark(out);
  }
  if (cls === 'Bidirectional') {
    const fwd = isJsonObject(cfg.layer) ? cfg.layer : undefined;
    const bwd = isJsonObject(cfg.backward_layer) ? cfg.backward_layer : fwd;
    return mark([...ownVars(group, path, ctx, () => true), ...sub('forward_layer', fwd), ...sub('backward_layer', bwd)]);
  }
  if (cls && RNN_CLASSES.has(cls)) {
    return mark([...ownVars(group, path, ctx, () => true), ...sub('cell')]);
  }
  if (cls === 'TimeDistributed') {
    return mark([...ownVars(group, path, ctx, () => true), ...sub('layer', isJsonObject(cfg.layer) ? cfg.layer : undefined)]);
  }
  if (cls === 'MultiHeadAttention' && !('head_num' in cfg)) {
    // Keras's own; before Keras 3.0.3 the projections were private attributes.
    const pick = (n: string) => (group.child(n) ? n : `_${n}`);
    return mark([
      ...ownVars(group, path, ctx, () => true),
      ...['query_dense', 'key_dense', 'value_dense', 'output_dense'].flatMap((n) => sub(pick(n))),
    ]);
  }
  if (cls === 'MultiHead') {
    return mark(collectMultiHead(group, path, cfg, ctx));
  }
  // Any other layer: its own variables, then its children in traversal order.
  const out = ownVars(group, path, ctx, () => true);
  for (const child of childGroups(group)) out.push(...sub(child));
  return mark(out);
}

/** keras-multi-head's wrapper: own W, b, then each sub-layer (the first may be saved as `layer`). */
function collectMultiHead(group: TreeGroup, path: string, cfg: JsonObject, ctx: Ctx): Collected[] {
  let subLayers: JsonObject[];
  if (Array.isArray(cfg.layers)) subLayers = cfg.layers.filter(isJsonObject);
  else if (Array.isArray(cfg.layer)) subLayers = cfg.layer.filter(isJsonObject);
  else if (isJsonObject(cfg.layer)) subLayers = Array.from({ length: Number(cfg.layer_num ?? 1) }, () => cfg.layer as JsonObject);
  else subLayers = [];
  const out = ownVars(group, path, ctx, () => true);
  const names = listItemNames(subLayers.map(pythonClassName));
  const list = group.child('layers');
  subLayers.forEach((l, i) => {
    const g = list?.child(names[i]);
    if (g) {
      out.push(...collect(g, `${path}/layers/${names[i]}`, l, ctx));
    } else {
      // Saved once, under the first path that reached it: the wrapper's `layer` attribute.
      const first = group.child('layer');
      if (!first || i !== 0) {
        throw new KerasInteropError('HDF5_MISSING', `sub-layer ${i} (${names[i]}) of MultiHead has no weights group`, {
          file: ctx.file,
          place: joinPath(list?.path ?? joinPath(group.path, 'layers'), names[i]),
        });
      }
      out.push(...collect(first, `${path}/layer`, l, ctx));
    }
  });
  return out;
}

function legacyOrder(xs: Collected[]): Weight[] {
  return [...xs.filter((x) => x.trainable), ...xs.filter((x) => !x.trainable)].map((x) => x.weight);
}

/**
 * Reads the object-tree layout. With the model's config, weights come per top-level layer in the
 * model's layer order; without one, each top-level group is listed with its weights in traversal order.
 */
export function readKeras3WeightsTree(
  root: H5Group,
  config: JsonObject | null,
  file: string,
  limits: ReadLimits,
  reads: WeightReads = { used: 0 },
): LayerWeights[] {
  const ctx: Ctx = { file, limits, budget: reads };
  const layersGroup = TreeGroup.root(root, file).child('layers');
  if (!config) {
    if (!layersGroup) return [];
    return (layersGroup.real ? memberNames(layersGroup.real, file) : layersGroup.childNames()).map((name) => {
      const g = layersGroup.child(name);
      if (!g) {
        // Listed by the group, yet nothing opens under that name (a damaged symbol table).
        throw new KerasInteropError('HDF5_INVALID', `member "${name}" is listed but cannot be opened`, { file, place: joinPath(layersGroup.path, name) });
      }
      const vars = g.child('vars')?.real;
      const layer = (vars && readStringAttr(vars, 'name', file)) ?? name;
      return { layer, weights: collect(g, `layers/${name}`, undefined, ctx).map((c) => c.weight) };
    });
  }
  const layers = layerEntries(config).filter((l) => !isKeras3Operation(l));
  const names = listItemNames(layers.map(pythonClassName));
  return layers.map((l, i) => {
    const layerName = String(innerConfig(l).name ?? l.name ?? names[i]);
    // Some Keras versions write no group for a layer without variables (Add in 3.10); a layer that
    // does need weights is caught when the weights are assigned.
    const g = layersGroup?.child(names[i]);
    if (!g) return { layer: layerName, weights: [] };
    return { layer: layerName, weights: legacyOrder(collect(g, `layers/${names[i]}`, l, ctx)) };
  });
}

