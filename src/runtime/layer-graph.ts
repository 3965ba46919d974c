/**
 * The layers of a model config and which feeds which, for drawing: a Sequential model is a chain; a
 * functional model's edges come from each layer's inbound nodes (tf.keras 2's `[layer, node, tensor,
 * kwargs]` entries or Keras 3's `keras_history`, keyword tensors included). Keras 3's operation nodes (the
 * `NotEqual` that computes an Embedding's mask, a `matmul`) are nodes like layers. Nested models are one
 * node each.
 */
import { layerEntries, layerName } from '../model/config.js';
import type { JsonObject, JsonValue } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { type TensorRef, collectTensorRefs, keras2TensorRef } from './config-walk.js';

export interface LayerGraph {
  nodes: { name: string; className: string }[];
  /** Producer to consumer, each pair once. */
  edges: { from: string; to: string }[];
}

/** The tensors one inbound node consumes, in either dialect. */
function nodeRefs(node: JsonValue): TensorRef[] {
  if (isJsonObject(node)) return collectTensorRefs(node, 'keras3');
  if (!Array.isArray(node)) return [];
  // tf.keras 2: a list of entries, or (TFOpLambda) one entry bare.
  const entries = typeof node[0] === 'string' ? [node] : node;
  return entries.flatMap((e) => {
    if (!Array.isArray(e)) return [];
    const ref = keras2TensorRef(e.slice(0, 3));
    return [...(ref ? [ref] : []), ...collectTensorRefs(e[3] ?? null, 'keras2')];
  });
}

export function layerGraph(config: JsonObject): LayerGraph {
  const layers = layerEntries(config);
  const nodes = layers.map((l) => ({ name: layerName(l) ?? '?', className: String(l.class_name ?? '?') }));
  const edges: LayerGraph['edges'] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string) => {
    const key = JSON.stringify([from, to]);
    if (!seen.has(key)) edges.push({ from, to }), seen.add(key);
  };
  if (config.class_name === 'Sequential') {
    for (let i = 1; i < nodes.length; i++) add(nodes[i - 1].name, nodes[i].name);
    return { nodes, edges };
  }
  const names = new Set(nodes.map((n) => n.name));
  for (const l of layers) {
    const to = layerName(l) ?? '?';
    const inbound = Array.isArray(l.inbound_nodes) ? l.inbound_nodes : [];
    for (const node of inbound) for (const [from] of nodeRefs(node)) if (names.has(from)) add(from, to);
  }
  return { nodes, edges };
}
