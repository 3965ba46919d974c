/**
 * Layers that only old Keras wrote, as the current layers Keras itself turns them into when it loads
 * such a file: `CuDNNLSTM`/`CuDNNGRU` become `LSTM`/`GRU(reset_after=True)` with their weights converted
 * (cudnn.ts). A KerasModel in, a KerasModel out (config in the tf.keras 2 dialect, weights in the new
 * layers' layout); the same object when there is nothing to upgrade.
 *
 * Applied wherever a model leaves the file's own world: the runtime, the tfjs writer, `.keras` archives
 * and Keras 3 `.h5` files (no Keras 3 has these classes). A tf.keras 2 `.h5` written from such a model
 * keeps them verbatim.
 */
import { KerasInteropError } from '../errors.js';
import { layerName } from '../model/config.js';
import type { JsonObject, JsonValue, KerasModel, LayerWeights } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { layerStructure, weightSlots } from '../model/weight-names.js';
import { forEachLayer, pointer } from './config-walk.js';
import { CUDNN_CLASSES, cudnnAsRnnConfig, cudnnWeightAsRnn, isCudnnLayer } from './cudnn.js';

/** True when the config holds a layer that `upgradeLegacyLayers` rewrites. */
export function hasLegacyLayers(config: JsonObject | null): boolean {
  if (!config) return false;
  let found = false;
  forEachLayer(config, (v) => {
    if (v.className in CUDNN_CLASSES) found = true;
  });
  return found;
}

export function upgradeLegacyLayers(model: KerasModel): KerasModel {
  if (!hasLegacyLayers(model.config)) return model;
  const file = model.source.file;
  const config = rewriteLayers(model.config as JsonObject, '', file) as JsonObject;
  const byName = new Map<string, JsonObject>();
  forEachLayer(model.config as JsonObject, (v) => {
    if (v.parents.length === 0) byName.set(v.name, v.layer);
  });
  const weights = model.weights.map((lw) => upgradeWeights(lw, byName.get(lw.layer), file));
  return { ...model, config, weights };
}

/** A deep copy of a config with every CuDNN layer object replaced, wherever it sits (wrappers, nested models). */
function rewriteLayers(v: JsonValue, path: string, file: string): JsonValue {
  if (Array.isArray(v)) return v.map((x, i) => rewriteLayers(x, pointer(path, i), file));
  if (!isJsonObject(v)) return v;
  if (isCudnnLayer(v)) {
    const plain = cudnnAsRnnConfig(v.class_name, v.config, { file, place: pointer(path, 'config') });
    // A functional entry keeps its name and inbound nodes.
    const out: JsonObject = {};
    for (const k of Object.keys(v)) out[k] = k === 'class_name' || k === 'config' ? plain[k] : rewriteLayers(v[k], pointer(path, k), file);
    return out;
  }
  const out: JsonObject = {};
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: rewriteLayers(v[k], pointer(path, k), file), enumerable: true, writable: true, configurable: true });
  return out;
}

/** A top-level layer's weights with those of its CuDNN parts converted, located by Keras's weight order. */
function upgradeWeights(lw: LayerWeights, layer: JsonObject | undefined, file: string): LayerWeights {
  const cudnn = layer ? layersWithin(layer).filter(isCudnnLayer) : [];
  if (cudnn.length === 0 || lw.weights.length === 0) return lw;
  const place = `weights of layer "${lw.layer}"`;
  const structure = layerStructure(layer as JsonObject);
  const slots = structure ? weightSlots(structure) : [];
  if (slots.length !== lw.weights.length) {
    throw new KerasInteropError(
      'WEIGHTS_MISMATCH',
      `layer "${lw.layer}" holds a CuDNN layer; its ${lw.weights.length} weights in the file do not match the ${slots.length} Keras gives it (${slots.map((s) => s.names.keras2).join(', ')})`,
      { file, place },
    );
  }
  const weights = lw.weights.map((w, i) => {
    const { object, index } = slots[i];
    if (!(object.className in CUDNN_CLASSES)) return w;
    // a Bidirectional's halves are its layer's name with `forward_` / `backward_` in front
    const bare = object.name.replace(/^(forward|backward)_/, '');
    const owner = cudnn.find((l) => layerName(l) === object.name) ?? cudnn.find((l) => layerName(l) === bare);
    if (!owner) throw new KerasInteropError('CONFIG_INVALID', `weight "${w.name}" belongs to CuDNN layer "${object.name}", which the config does not name`, { file, place });
    return cudnnWeightAsRnn(object.className, object.vars[index].name, owner.config.units as number, w, { file, place: w.path || place });
  });
  return { ...lw, weights };
}

/** A layer and every layer inside it (wrapped layers, nested models' layers). */
function layersWithin(layer: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  forEachLayer({ class_name: 'Functional', config: { layers: [layer] } }, (v) => void out.push(v.layer));
  return out;
}
