/**
 * Op calls in a functional model's layer list, whichever front-end recorded them (tf.keras 2's
 * TFOpLambda / SlicingOpLambda, Keras 3's operation nodes), as the runtime's `KerasInterop>Op` layers.
 */
import { KerasInteropError } from '../../errors.js';
import type { JsonObject } from '../../model/types.js';
import { type TensorRef, stableJson } from '../config-walk.js';
import { decodeKeras3Operation } from './keras3-node.js';
import { opLayerConfig } from './op-layer-config.js';
import { isKeras3Operation } from './operation-node.js';
import { TF_OP_LAYER_CLASSES, decodeTfOpLayer } from './tf-op-lambda.js';

/** Whether a layer-list entry (as the file has it) is an op call rather than a layer. */
export function isOpEntry(entry: JsonObject): boolean {
  return (typeof entry.class_name === 'string' && TF_OP_LAYER_CLASSES.has(entry.class_name)) || isKeras3Operation(entry);
}

export interface OpLayerEntry {
  /** The `KerasInterop>Op` layer's config. */
  config: JsonObject;
  /** The tensors each call (inbound node) reads, in input order. */
  nodes: TensorRef[][];
}

/**
 * The op layer of one op entry (as the file has it, at JSON pointer `path`). A layer called more than
 * once must be called with the same non-tensor arguments each time (one op layer serves all its calls).
 */
export function opLayerEntry(entry: JsonObject, name: string, path: string, file?: string): OpLayerEntry {
  const calls = isKeras3Operation(entry) ? decodeKeras3Operation(entry, path, file) : decodeTfOpLayer(entry, path, file);
  if (calls.length === 0) throw new KerasInteropError('CONFIG_INVALID', `op "${name}" is never called (no inbound nodes)`, { file, place: path });
  const configs = calls.map((c) => opLayerConfig(name, c.call));
  const first = stableJson(configs[0]);
  const differs = configs.findIndex((c) => stableJson(c) !== first);
  if (differs > 0) {
    throw new KerasInteropError('UNSUPPORTED_OP', `op "${name}" is called ${calls.length} times with different arguments (call ${differs} differs from call 0); one op layer cannot serve both`, { file, place: path });
  }
  calls.forEach((c, j) => {
    if (c.inputs.length === 0) throw new KerasInteropError('UNSUPPORTED_OP', `op "${name}" call ${j} reads no tensor (a constant computation)`, { file, place: path });
  });
  return { config: configs[0], nodes: calls.map((c) => c.inputs) };
}
