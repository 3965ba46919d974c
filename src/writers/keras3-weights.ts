/**
 * Keras 3's object-tree weights layout (`model.weights.h5` inside `.keras`, and `.weights.h5`), the
 * exact inverse of src/readers/keras3-weights.ts: the model's `layers` list under `layers/<snake of
 * class>[_k]`, each object's own variables in `<path>/vars/<i>`, and (as Keras >= 3.6 writes) a
 * `vars` group for every object, weightless ones included, with a `name` attribute holding the
 * object's name.
 *
 * Where a weight goes: weights read from an object-tree file still carry their path
 * (`layers/lstm/cell/vars/1`) and go back exactly there; other weights (read from a legacy `.h5`)
 * are placed by the layer's structure (src/model/weight-names.ts), which undoes the legacy
 * trainable-first order; a layer whose structure is not known keeps its weights as its own variables.
 */
import { KerasInteropError } from '../errors.js';
import type { JsonObject, KerasModel, LayerWeights, Weight } from '../model/types.js';
import { isJsonObject, weightValues } from '../model/types.js';
import { layerName, pythonClassName } from '../model/config.js';
import { listItemNames } from '../model/config.js';
import { type LayerObject, layerStructure, parseTreeName, treeLayers, treeObjects, weightSlots } from '../model/weight-names.js';
import { type H5Group } from './h5-builder.js';

export interface Keras3TreeOptions {
  /** The Keras version the file claims; `vars` groups carry a `name` attribute from 3.6 on. */
  kerasVersion?: string;
}

/** Whether a Keras 3 version writes the `name` attribute of `vars` groups (3.6 and later). */
export function writesVarsNames(version: string | undefined): boolean {
  const m = version ? /^(\d+)\.(\d+)/.exec(version) : null;
  if (!m) return true;
  return Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= 6);
}

function hasWeights(o: LayerObject): boolean {
  return o.vars.length > 0 || o.children.some(hasWeights);
}

/** Whether every weight of the layer carries an object-tree path inside the layer's own group. */
function recordedPaths(weights: Weight[], base: string): boolean {
  return (
    weights.length > 0 &&
    weights.every((w) => {
      const t = parseTreeName(w.name);
      return t !== undefined && (t.owner === base || t.owner.startsWith(`${base}/`));
    })
  );
}

/**
 * A MultiHead saved from its original Python object keeps a template in `layer` and its first
 * sub-layer under `layers/<class>`; the reader takes the latter. Loaded from its config, the first
 * sub-layer *is* `layer`, which Keras's traversal reaches first: its weights go there.
 */
function multiHeadFirstAsLayer(owners: string[], base: string, layer: JsonObject | undefined): string[] {
  if (!layer || pythonClassName(layer) !== 'MultiHead') return owners;
  const asLayer = `${base}/layer`;
  if (owners.some((o) => o === asLayer || o.startsWith(`${asLayer}/`))) return owners;
  const c = isJsonObject(layer.config) ? layer.config : {};
  const subs = Array.isArray(c.layers) ? c.layers.filter(isJsonObject) : [];
  if (!subs.length) return owners;
  const first = `${base}/layers/${listItemNames(subs.map(pythonClassName))[0]}`;
  return owners.map((o) => (o === first ? asLayer : o.startsWith(`${first}/`) ? asLayer + o.slice(first.length) : o));
}

class TreeWriter {
  constructor(
    private readonly root: H5Group,
    private readonly names: boolean,
  ) {}

  /** The `vars` group of the object at `path` ('' = the root), with its `name`. */
  vars(path: string, name: string | undefined): H5Group {
    const vars = this.root.group(path ? `${path}/vars` : 'vars');
    if (this.names && name !== undefined) vars.setAttr('name', { kind: 'vlen-string', cset: 'utf8', value: name });
    return vars;
  }

  put(owner: string, index: number, w: Weight): void {
    const vars = this.root.group(`${owner}/vars`);
    if (vars.children.has(String(index))) {
      throw new KerasInteropError('WRITE_FAILED', `two weights map to ${owner}/vars/${index}`, { place: `/${owner}/vars/${index}` });
    }
    vars.dataset(String(index), w.dtype, w.shape, weightValues(w));
  }

  layer(base: string, name: string, layer: JsonObject | undefined, weights: Weight[]): void {
    const spec = layer ? layerStructure(layer) : undefined;
    const objects = spec ? treeObjects(spec).map((o) => ({ path: o.path ? `${base}/${o.path}` : base, object: o.object })) : [];
    if (recordedPaths(weights, base)) {
      // Back where they came from. Objects of the known structure get their `vars` when they hold
      // no weights or lie on the way to a recorded one (an older file may name them differently).
      const owners = multiHeadFirstAsLayer(weights.map((w) => parseTreeName(w.name)!.owner), base, layer);
      const known = new Map(objects.map((o) => [o.path, o.object.name]));
      for (const { path, object } of objects) {
        if (!hasWeights(object) || owners.some((o) => o === path || o.startsWith(`${path}/`))) this.vars(path, object.name);
      }
      weights.forEach((w, i) => {
        const owner = owners[i];
        if (!known.has(owner)) this.vars(owner, owner === base ? name : owner.slice(owner.lastIndexOf('/') + 1));
        this.put(owner, parseTreeName(w.name)!.index, w);
      });
      this.vars(base, name);
      return;
    }
    const slots = spec ? weightSlots(spec) : undefined;
    if (spec && slots && slots.length === weights.length) {
      for (const { path, object } of objects) this.vars(path, object.name);
      slots.forEach((s, i) => this.put(s.treePath ? `${base}/${s.treePath}` : base, s.index, weights[i]));
      return;
    }
    // Unknown class, or more weights than its config implies (a quantized Dense keeps its scales as
    // own variables too): the layer's own variables, in order.
    this.vars(base, name);
    weights.forEach((w, i) => this.put(base, i, w));
  }

  /** Without a config only weights that remember their own paths can be placed. */
  recordedOnly(model: KerasModel): void {
    const stray = model.weights.flatMap((lw) => lw.weights).find((w) => !parseTreeName(w.name));
    if (stray) {
      throw new KerasInteropError(
        'USAGE',
        `writing Keras 3's object layout needs the model config (weight "${stray.name}" has no object path); pass --config`,
        { file: model.source.file },
      );
    }
    for (const lw of model.weights) {
      // A weightless layer read without a config was listed under its group's name.
      const base = lw.weights.length ? parseTreeName(lw.weights[0].name)!.owner.split('/').slice(0, 2).join('/') : `layers/${lw.layer}`;
      this.layer(base, lw.layer, undefined, lw.weights);
    }
    // the model's own (empty) variables; its name is not known without the config
    this.vars('', undefined);
  }

  model(model: KerasModel, config: JsonObject): void {
    const byLayer = new Map<string, LayerWeights>();
    for (const lw of model.weights) byLayer.set(lw.layer, lw);
    const seen = new Set<string>();
    for (const { layer, item } of treeLayers(config)) {
      const name = layerName(layer) ?? item;
      const lw = byLayer.get(name);
      if (lw) seen.add(name);
      this.layer(`layers/${item}`, name, layer, lw?.weights ?? []);
    }
    for (const lw of model.weights) {
      if (!seen.has(lw.layer) && lw.weights.length > 0) {
        throw new KerasInteropError('WRITE_FAILED', `weights of layer "${lw.layer}" belong to no layer of the config`, {
          file: model.source.file,
        });
      }
    }
    const inner = isJsonObject(config.config) ? config.config : {};
    const modelName = typeof inner.name === 'string' ? inner.name : config.class_name === 'Sequential' ? 'sequential' : 'functional';
    this.vars('', modelName);
  }
}

/** Fills `root` with the model's weights in Keras 3's object-tree layout. */
export function buildKeras3WeightsTree(model: KerasModel, root: H5Group, opts: Keras3TreeOptions = {}): void {
  const w = new TreeWriter(root, writesVarsNames(opts.kerasVersion));
  if (model.config) w.model(model, model.config);
  else w.recordedOnly(model);
}
