/**
 * Layers that only old Keras wrote, as the current layers Keras itself turns them into when it loads
 * such a file:
 * - `CuDNNLSTM`/`CuDNNGRU` become `LSTM`/`GRU(reset_after=True)` with their weights converted (cudnn.ts);
 * - Keras 1 layer configs get Keras 2's class and argument names, and their weights Keras 2's layout
 *   (keras1.ts);
 * - a Sequential whose first layer is a legacy `Merge` of branch models becomes the functional model Keras
 *   builds from it (legacy-merge.ts); the `Merge` layer itself stays (src/layers/merge.ts runs it).
 * A KerasModel in, a KerasModel out (config in the tf.keras 2 dialect, weights in the new layers' layout,
 * still listed by layer name); the same object when there is nothing to upgrade.
 *
 * Applied wherever a model leaves the file's own world: the runtime, the tfjs writer, `.keras` archives
 * and Keras 3 `.h5` files. A tf.keras 2 `.h5` written from such a model keeps it verbatim.
 */
import { KerasInteropError } from '../errors.js';
import { layerName } from '../model/config.js';
import type { JsonObject, JsonValue, KerasModel, LayerWeights } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { layerStructure, weightSlots } from '../model/weight-names.js';
import { forEachLayer, pointer } from './config-walk.js';
import { CUDNN_CLASSES, cudnnAsRnnConfig, cudnnWeightAsRnn, isCudnnLayer } from './cudnn.js';
import { isKeras1Layer, keras1AsKeras2, keras1Weights } from './keras1.js';
import { isLegacyMergeSequential, legacyMergeSequentialAsFunctional } from './legacy-merge.js';

/** What `upgradeLegacyLayers` rewrites in a config, one line a layer (empty: nothing). */
export function legacyLayerNotes(config: JsonObject | null): string[] {
  if (!config) return [];
  const notes: string[] = [];
  const sequential = (name: string) => `${name}: a Sequential whose first layer merges branch models, run as the functional model Keras builds from it`;
  if (isLegacyMergeSequential(config)) notes.push(sequential('the model'));
  forEachLayer(config, (v) => {
    const spec = CUDNN_CLASSES[v.className];
    if (spec) notes.push(`layer "${v.name}": ${v.className} runs as ${spec.rnn}${spec.rnn === 'GRU' ? '(reset_after=True)' : ''} with its weights converted as Keras does`);
    else if (isKeras1Layer(v.layer)) notes.push(`layer "${v.name}": a Keras 1 ${v.className} config, read with Keras 2's names (and its weights in Keras 2's layout)`);
    else if (isLegacyMergeSequential(v.layer)) notes.push(sequential(`model "${v.name}"`));
  });
  return notes;
}

/** True when the config holds anything `upgradeLegacyLayers` rewrites. */
export function hasLegacyLayers(config: JsonObject | null): boolean {
  return legacyLayerNotes(config).length > 0;
}

export function upgradeLegacyLayers(model: KerasModel): KerasModel {
  if (!hasLegacyLayers(model.config)) return model;
  const file = model.source.file;
  const original = model.config as JsonObject;
  const config = rewriteLayers(original, '', file) as JsonObject;
  const byName = layersByName(original);
  const weights = model.weights.map((lw) => upgradeWeights(lw, byName.get(lw.layer), file));
  return { ...model, config, weights };
}

/** Every layer of a config by name, top-level layers first (a legacy Merge's branch layers are top-level weights). */
function layersByName(config: JsonObject): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  const all: [string, JsonObject][] = [];
  forEachLayer(config, (v) => {
    if (v.parents.length === 0) out.set(v.name, v.layer);
    else all.push([v.name, v.layer]);
  });
  for (const [name, layer] of all) if (!out.has(name)) out.set(name, layer);
  return out;
}

function copyKeys(v: JsonObject, value: (k: string) => JsonValue): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: value(k), enumerable: true, writable: true, configurable: true });
  return out;
}

/** A deep copy of a config with every legacy layer object replaced, wherever it sits (wrappers, nested models). */
function rewriteLayers(v: JsonValue, path: string, file: string): JsonValue {
  if (Array.isArray(v)) return v.map((x, i) => rewriteLayers(x, pointer(path, i), file));
  if (!isJsonObject(v)) return v;
  const place = { file, place: pointer(path, 'config') };
  if (isLegacyMergeSequential(v)) return rewriteLayers(legacyMergeSequentialAsFunctional(v, place), path, file);
  let layer: JsonObject = v;
  if (isKeras1Layer(layer)) {
    const spelled = keras1AsKeras2(layer.class_name, layer.config, place);
    layer = copyKeys(layer, (k) => (k === 'class_name' || k === 'config' ? spelled[k] : layer[k]));
  }
  if (isCudnnLayer(layer)) {
    const plain = cudnnAsRnnConfig(layer.class_name, layer.config, place);
    const cudnn = layer;
    layer = copyKeys(cudnn, (k) => (k === 'class_name' || k === 'config' ? plain[k] : cudnn[k]));
  }
  // a functional entry keeps its name and inbound nodes; held layers are rewritten too
  const done = layer;
  return copyKeys(done, (k) => rewriteLayers(done[k], pointer(path, k), file));
}

/** A top-level layer's weights in the upgraded layers' layout (its config as the file has it). */
function upgradeWeights(lw: LayerWeights, layer: JsonObject | undefined, file: string): LayerWeights {
  if (!layer || lw.weights.length === 0) return lw;
  const place = `weights of layer "${lw.layer}"`;
  let weights = lw.weights;
  if (layersWithin(layer).some(isKeras1Layer) && isJsonObject(layer.config) && typeof layer.class_name === 'string') {
    weights = keras1Weights(layer as JsonObject & { class_name: string; config: JsonObject }, weights, { file, place });
  }
  const cudnn = layersWithin(layer).filter(isCudnnLayer);
  if (cudnn.length > 0) weights = cudnnWeights(lw.layer, layer, cudnn, weights, file);
  return weights === lw.weights ? lw : { ...lw, weights };
}

/** The weights of CuDNN parts converted, located by Keras's weight order. */
function cudnnWeights(name: string, layer: JsonObject, cudnn: ReturnType<typeof layersWithin>, weights: LayerWeights['weights'], file: string): LayerWeights['weights'] {
  const place = `weights of layer "${name}"`;
  const structure = layerStructure(layer);
  const slots = structure ? weightSlots(structure) : [];
  if (slots.length !== weights.length) {
    throw new KerasInteropError(
      'WEIGHTS_MISMATCH',
      `layer "${name}" holds a CuDNN layer; its ${weights.length} weights in the file do not match the ${slots.length} Keras gives it (${slots.map((s) => s.names.keras2).join(', ')})`,
      { file, place },
    );
  }
  return weights.map((w, i) => {
    const { object, index } = slots[i];
    if (!(object.className in CUDNN_CLASSES)) return w;
    // a Bidirectional's halves are its layer's name with `forward_` / `backward_` in front
    const bare = object.name.replace(/^(forward|backward)_/, '');
    const owner = cudnn.find((l) => layerName(l) === object.name) ?? cudnn.find((l) => layerName(l) === bare);
    if (!isCudnnLayer(owner)) throw new KerasInteropError('CONFIG_INVALID', `weight "${w.name}" belongs to CuDNN layer "${object.name}", which the config does not name`, { file, place });
    return cudnnWeightAsRnn(object.className, object.vars[index].name, owner.config.units as number, w, { file, place: w.path || place });
  });
}

/** A layer and every layer inside it (wrapped layers, nested models' layers). */
function layersWithin(layer: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  forEachLayer({ class_name: 'Functional', config: { layers: [layer] } }, (v) => void out.push(v.layer));
  return out;
}
