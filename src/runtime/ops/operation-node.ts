/**
 * The one rule telling a Keras 3 operation node of a functional graph from a layer of the same class name
 * (`Add`, `Multiply`, `Concatenate`, `Reshape`, `Softmax`, ...). No tfjs here: readers and writers ask
 * it too (Keras 3's object tree and weight files hold layers only).
 */
import type { JsonObject } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';

/** Module prefix of Keras 3's operations (`keras.src.ops.numpy`, `keras.src.ops.nn`, ...). */
const OPS_MODULE = /^keras(\.src)?\.ops(\.|$)/;

/**
 * Whether an entry of a functional model's layer list is a Keras 3 operation (a `keras.ops` call on a
 * KerasTensor) rather than a layer. A `.keras` archive says so by the entry's `module`. A Keras 3 legacy
 * `.h5` file drops `module`, and several operations share their class name with a layer (`Add`,
 * `Multiply`, `Concatenate`, `Reshape`, `Softmax`): there, an operation is a Keras 3 node (`{args,
 * kwargs}`) whose config holds only its name and the operation's arguments, while every layer's config
 * (in any Keras version) holds `trainable`.
 */
export function isKeras3Operation(entry: JsonObject): boolean {
  if (typeof entry.module === 'string') return OPS_MODULE.test(entry.module);
  if ('module' in entry) return false;
  if (entry.class_name === 'InputLayer' || entry.class_name === 'Functional' || entry.class_name === 'Sequential' || entry.class_name === 'Model') return false;
  const config = isJsonObject(entry.config) ? entry.config : undefined;
  if (!config || 'trainable' in config) return false;
  const nodes = Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
  return nodes.length > 0 && nodes.every(isJsonObject);
}
