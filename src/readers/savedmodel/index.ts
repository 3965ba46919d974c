/**
 * tf.keras 2 SavedModel folders (`model.save('dir')` under TF 2): the Keras config from the Keras
 * metadata, the weights from the variables bundle, tied together through the object graphs. A layer's
 * weights are its object's `variables` list (Keras's `layer.weights` order); where each variable's value
 * sits in the checkpoint comes from the checkpoint's own object graph, never from parsing key names.
 */
import { KerasInteropError } from '../../errors.js';
import { type FileSet, readFileOf, subFiles } from '../io/source.js';
import type { JsonObject, JsonValue, KerasModel, LayerWeights, Weight } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';
import { DEFAULT_LIMITS, type ReadLimits } from '../h5.js';
import type { ReadOptions } from '../hdf5.js';
import { type BundleEntry, TensorBundle } from './bundle.js';
import { type KerasNode, readKerasMetadata } from './metadata.js';
import { childNamed, pairObjectGraphs, reachable } from './object-graph.js';
import {
  type SavedModelMsg,
  type SavedObjectMsg,
  type TrackableObjectMsg,
  dataTypeName,
  decodeMessage,
  int64ToNumber,
} from './protos.js';

export { crc32c, maskCrc, unmaskCrc } from './crc32c.js';
export { decodeKerasJson } from './metadata.js';

/** Protobuf caps messages at 2 GiB; no real saved_model.pb or keras_metadata.pb comes near. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;
const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';

interface ListedVariable {
  name: string;
  path: string;
  shape: number[];
  dtype: string;
}

/** Reads a SavedModel from its folder's files (`saved_model.pb`, `keras_metadata.pb`, `variables/`). */
export async function readSavedModel(files: FileSet, opts: ReadOptions = {}): Promise<KerasModel> {
  const dir = files.name;
  const limits: ReadLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const maxProto = Math.min(MAX_PROTO_BYTES, limits.maxTotalBytes);
  const savedModel = readSavedModelProto(files, maxProto);
  const meta = savedModel.metaGraphs?.[0];
  const objects: SavedObjectMsg[] = meta?.objectGraphDef?.nodes ?? [];
  const pbFile = files.label('saved_model.pb');
  if (objects.length === 0) {
    throw new KerasInteropError(
      'CONFIG_MISSING',
      'not a Keras model: saved_model.pb has no object graph (a TensorFlow 1 SavedModel or a bare graph), so there is no Keras config to rebuild',
      { file: pbFile, place: 'meta_graphs[0].object_graph_def' },
    );
  }

  const keras = readKerasMetadata(files, objects, { maxBytes: maxProto, maxConfigDepth: opts.maxConfigDepth });
  if (!keras) {
    throw new KerasInteropError(
      'CONFIG_MISSING',
      'not a Keras model: there is no keras_metadata.pb and no Keras metadata in saved_model.pb. This SavedModel was written by ' +
        'TensorFlow without Keras (tf.saved_model.save of a tf.Module, or Keras 3 model.export()), so it holds functions but no Keras config. ' +
        'If it came from a Keras model, save that model with model.save("model.h5") or model.save("model.keras") instead',
      { file: dir },
    );
  }
  const metaFile = files.label(keras.source);
  const byNode = new Map<number, KerasNode>();
  for (const n of keras.nodes) if (!byNode.has(n.nodeId)) byNode.set(n.nodeId, n);
  const root = byNode.get(0);
  const rootMeta = root?.metadata ?? {};
  // The root's own class_name/config (as an HDF5 model_config holds them); `model_config` says the same.
  const wrapped = isJsonObject(rootMeta.model_config) ? rootMeta.model_config : {};
  const hasOwn = typeof rootMeta.class_name === 'string' && isJsonObject(rootMeta.config);
  const className = hasOwn ? rootMeta.class_name : wrapped.class_name;
  const innerConfig = hasOwn ? rootMeta.config : wrapped.config;
  if (typeof className !== 'string' || !isJsonObject(innerConfig)) {
    const subclassed = root?.identifier === '_tf_keras_model';
    throw new KerasInteropError(
      'CONFIG_MISSING',
      subclassed
        ? `not a rebuildable Keras model: the root is a subclassed Model (${String(className ?? '?')}) whose get_config() was not saved; only its Python code can rebuild it`
        : 'not a Keras model: the Keras metadata has no root node with "class_name" and "config"',
      { file: metaFile, place: 'root' },
    );
  }
  const modelConfig: JsonObject = innerConfig;
  const kerasNodes: KerasNode[] = keras.nodes;
  const config: JsonObject = { class_name: className, config: modelConfig };

  const extras: Record<string, JsonValue> = { metadata_source: keras.source };
  const info = meta?.metaInfoDef;
  if (info?.tensorflowVersion) extras.tensorflow_version = info.tensorflowVersion;
  if (info?.tags?.length) extras.tags = info.tags;
  const schema = int64ToNumber(savedModel.savedModelSchemaVersion);
  if (schema !== undefined) extras.saved_model_schema_version = schema;
  if (rootMeta.training_config !== undefined) extras.training_config = rootMeta.training_config;

  const hasVariables = objects.some((o) => o.variable);
  const variables = subFiles(files, 'variables');
  if (!hasVariables && !variables.stat('variables.index')) {
    extras.layer_tree = layerTree(keras.nodes, objects, new Map());
    return {
      source: { format: 'savedmodel', file: dir, kerasVersion: str(rootMeta.keras_version), backend: str(rootMeta.backend), extras },
      config,
      weights: topLevelLayers(objects, byNode, innerConfig, metaFile).map((l) => ({ layer: l.name, weights: [] })),
    };
  }

  const bundle = new TensorBundle(variables, { maxTensorBytes: limits.maxTensorBytes, maxIndexBytes: maxProto });
  try {
    return readWithBundle();
  } finally {
    bundle.close();
  }

  function readWithBundle(): KerasModel {
    const graphEntry = bundle.entries.get(OBJECT_GRAPH_KEY);
    if (!graphEntry) {
      throw new KerasInteropError('PROTO_INVALID', `the checkpoint has no ${OBJECT_GRAPH_KEY} entry, so its values cannot be tied to the model's objects`, {
        file: bundle.indexFile,
      });
    }
    const [graphBytes] = bundle.readStrings(graphEntry, `the checkpoint object graph (${OBJECT_GRAPH_KEY})`);
    let checkpoint: TrackableObjectMsg[];
    try {
      checkpoint = decodeMessage('TrackableObjectGraph', graphBytes ?? new Uint8Array(0)).nodes ?? [];
    } catch (e) {
      throw new KerasInteropError('PROTO_INVALID', `cannot decode TrackableObjectGraph (${(e as Error).message})`, {
        file: bundle.shardFile(graphEntry.shardId),
        place: `key "${OBJECT_GRAPH_KEY}"`,
      });
    }
    const pairing = pairObjectGraphs(objects, checkpoint);
    const keyOf = (savedId: number): string | undefined => {
      const t = pairing.checkpointOf.get(savedId);
      const attrs = t === undefined ? [] : (checkpoint[t].attributes ?? []);
      return (attrs.find((a) => a.name === 'VARIABLE_VALUE') ?? attrs[0])?.checkpointKey;
    };

    let totalBytes = 0;
    const usedKeys = new Set<string>([OBJECT_GRAPH_KEY]);
    const widened: string[] = [];
    const readVariable = (savedId: number, layer: string): Weight => {
      const v = objects[savedId].variable;
      const t = pairing.checkpointOf.get(savedId);
      const opName = v?.name || (t !== undefined ? checkpoint[t].attributes?.[0]?.fullName : undefined) || `node ${savedId}`;
      const name = opName.includes(':') ? opName : `${opName}:0`;
      const what = `weight "${name}" of layer "${layer}"`;
      const key = keyOf(savedId);
      if (key === undefined) {
        throw new KerasInteropError('WEIGHTS_MISMATCH', `${what} has no value in the checkpoint (its object is not in the checkpoint's object graph)`, {
          file: bundle.indexFile,
          place: `object_graph_def.nodes[${savedId}]`,
        });
      }
      const entry = bundle.entries.get(key);
      if (!entry) {
        throw new KerasInteropError('WEIGHTS_MISMATCH', `${what}: the checkpoint names key "${key}" but the index has no such entry`, { file: bundle.indexFile });
      }
      checkAgainstSaved(entry, v, what, pbFile, savedId);
      totalBytes += entry.size;
      if (totalBytes > limits.maxTotalBytes) {
        throw new KerasInteropError('LIMIT_EXCEEDED', `weights exceed ${limits.maxTotalBytes} bytes in all (raise --max-total-bytes)`, { file: bundle.indexFile, place: `key "${key}"` });
      }
      const decoded = bundle.readTensor(entry, what);
      if (decoded.widenedFrom) widened.push(`${name} (${decoded.widenedFrom})`);
      usedKeys.add(key);
      return { name, path: key, shape: entry.shape.slice(), dtype: decoded.dtype, data: decoded.data };
    };

    const layers = topLevelLayers(objects, byNode, modelConfig, metaFile);
    const weights: LayerWeights[] = layers.map((l) => ({
      layer: l.name,
      weights: variablesOf(objects, l.nodeId, pbFile).map((id) => readVariable(id, l.name)),
    }));

    // Everything else in the checkpoint: listed (not model weights) and checksum-verified.
    const optimizerRoot = childNamed(checkpoint[0], 'optimizer');
    const optimizerNodes = optimizerRoot === undefined ? new Set<number>() : reachable(checkpoint, optimizerRoot);
    const metricNodes = new Set<number>();
    for (const n of kerasNodes) {
      const t = pairing.checkpointOf.get(n.nodeId);
      if (n.identifier === '_tf_keras_metric' && t !== undefined) for (const id of reachable(checkpoint, t)) metricNodes.add(id);
    }
    const optimizer: ListedVariable[] = [];
    const metrics: ListedVariable[] = [];
    const other: ListedVariable[] = [];
    for (const [t, node] of checkpoint.entries()) {
      for (const a of node.attributes ?? []) {
        const key = a.checkpointKey ?? '';
        if (usedKeys.has(key)) continue;
        const entry = bundle.entries.get(key);
        if (!entry) continue;
        usedKeys.add(key);
        const name = a.fullName || key;
        const group = optimizerNodes.has(t) ? optimizer : metricNodes.has(t) ? metrics : other;
        const kind = group === optimizer ? 'optimizer variable' : group === metrics ? 'metric variable' : 'checkpoint value';
        bundle.verify(entry, `${kind} "${name}"`);
        group.push(listed(name, entry));
      }
    }
    for (const [key, entry] of bundle.entries) {
      if (usedKeys.has(key)) continue;
      bundle.verify(entry, `checkpoint value "${key}"`);
      other.push(listed(key, entry));
    }
    extras.optimizer_variables = optimizer as unknown as JsonValue;
    extras.metric_variables = metrics as unknown as JsonValue;
    if (other.length) extras.other_checkpoint_values = other as unknown as JsonValue;
    if (widened.length) extras.widened_dtypes = widened;
    extras.layer_tree = layerTree(kerasNodes, objects, new Map(weights.flatMap((l) => l.weights.map((w) => [w.path, w.name]))), keyOf);

    return {
      source: { format: 'savedmodel', file: dir, kerasVersion: str(rootMeta.keras_version), backend: str(rootMeta.backend), extras },
      config,
      weights,
    };
  }
}

function str(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function listed(name: string, e: BundleEntry): ListedVariable {
  return { name, path: e.key, shape: e.shape.slice(), dtype: dataTypeName(e.dtype) };
}

function readSavedModelProto(files: FileSet, maxBytes: number): SavedModelMsg {
  const file = files.label('saved_model.pb');
  const st = files.stat('saved_model.pb');
  if (!st) {
    const text = files.stat('saved_model.pbtxt') !== undefined;
    throw new KerasInteropError(text ? 'UNKNOWN_FORMAT' : 'FILE_NOT_FOUND', text ? 'text SavedModels (saved_model.pbtxt) are not supported' : 'no saved_model.pb', { file });
  }
  const size = st.size;
  if (size > maxBytes) throw new KerasInteropError('LIMIT_EXCEEDED', `saved_model.pb is ${size} bytes, more than the ${maxBytes} accepted`, { file });
  try {
    return decodeMessage('SavedModel', readFileOf(files, 'saved_model.pb'));
  } catch (e) {
    throw new KerasInteropError('PROTO_INVALID', `cannot decode SavedModel (${(e as Error).message})`, { file }, { cause: e });
  }
}

interface TopLevelLayer {
  nodeId: number;
  name: string;
}

/**
 * The model's layers in `model.layers` order: the root's `layer-<i>` children (Functional and Sequential
 * models track every layer so; `layer_with_weights-<j>` are the same objects again).
 */
function topLevelLayers(objects: SavedObjectMsg[], byNode: Map<number, KerasNode>, innerConfig: JsonObject, metaFile: string): TopLevelLayer[] {
  const indexed: { i: number; nodeId: number }[] = [];
  for (const c of objects[0].children ?? []) {
    const m = /^layer-(\d+)$/.exec(c.localName ?? '');
    if (m) indexed.push({ i: Number(m[1]), nodeId: c.nodeId ?? 0 });
  }
  indexed.sort((a, b) => a.i - b.i);
  if (indexed.length === 0 && (childNamed(objects[0], 'variables') !== undefined && variablesOf(objects, 0, metaFile).length > 0)) {
    throw new KerasInteropError(
      'CONFIG_INVALID',
      "the model's layers are not tracked as layer-<i> (a subclassed model), so its weights cannot be assigned to layers",
      { file: metaFile, place: 'root' },
    );
  }
  const configLayers = Array.isArray(innerConfig.layers) ? innerConfig.layers : [];
  return indexed.map(({ i, nodeId }) => {
    let name = byNode.get(nodeId)?.metadata.name;
    if (typeof name !== 'string') {
      // No metadata for this node: fall back to the config (Sequential configs start with their InputLayer).
      const named = configLayers.filter((l) => isJsonObject(l) && l.class_name !== 'InputLayer');
      const l = (configLayers.length > indexed.length ? named : configLayers)[i];
      name = isJsonObject(l) && isJsonObject(l.config) ? l.config.name : undefined;
    }
    if (typeof name !== 'string') {
      throw new KerasInteropError('CONFIG_INVALID', `cannot name the model's layer ${i} (object ${nodeId})`, { file: metaFile, place: `root.layer-${i}` });
    }
    return { nodeId, name };
  });
}

/** A layer's variables in `layer.weights` order: its `variables` list child, items `0`, `1`, ... */
function variablesOf(objects: SavedObjectMsg[], nodeId: number, file: string): number[] {
  const node = objects[nodeId];
  const list = childNamed(node, 'variables');
  if (list === undefined) {
    // Layers Keras did not wrap (none seen in tf.keras 2 files): their own variable children, in order.
    return (node?.children ?? []).map((c) => c.nodeId ?? 0).filter((id) => objects[id]?.variable);
  }
  const items = (objects[list]?.children ?? [])
    .map((c) => ({ i: Number(c.localName), id: c.nodeId ?? 0 }))
    .filter((c) => Number.isInteger(c.i))
    .sort((a, b) => a.i - b.i);
  return items.map(({ i, id }) => {
    if (!objects[id]?.variable) {
      throw new KerasInteropError('PROTO_INVALID', `item ${i} of the variables list of object ${nodeId} is not a variable (object ${id})`, {
        file,
        place: `object_graph_def.nodes[${list}]`,
      });
    }
    return id;
  });
}

function checkAgainstSaved(e: BundleEntry, v: SavedObjectMsg['variable'], what: string, file: string, savedId: number): void {
  if (!v) return;
  const place = `object_graph_def.nodes[${savedId}].variable`;
  if (v.dtype && v.dtype !== e.dtype) {
    throw new KerasInteropError('WEIGHTS_MISMATCH', `${what}: the SavedModel says ${dataTypeName(v.dtype)}, the checkpoint holds ${dataTypeName(e.dtype)}`, { file, place });
  }
  const dims = v.shape?.dim;
  if (dims && !v.shape?.unknownRank) {
    const declared = dims.map((d) => int64ToNumber(d.size));
    const ok = declared.length === e.shape.length && declared.every((d, i) => d === undefined || d < 0 || d === e.shape[i]);
    if (!ok) {
      throw new KerasInteropError('WEIGHTS_MISMATCH', `${what}: the SavedModel declares shape ${JSON.stringify(declared)}, the checkpoint holds ${JSON.stringify(e.shape)}`, { file, place });
    }
  }
}

function layerTree(
  nodes: KerasNode[],
  objects: SavedObjectMsg[],
  weightNames: Map<string, string>,
  keyOf?: (savedId: number) => string | undefined,
): JsonValue {
  return nodes.map((n) => {
    const m = n.metadata;
    const vars = variablesOf(objects, n.nodeId, 'saved_model.pb');
    return {
      node_path: n.nodePath,
      node_id: n.nodeId,
      identifier: n.identifier,
      class_name: typeof m.class_name === 'string' ? m.class_name : null,
      name: typeof m.name === 'string' ? m.name : null,
      weights: vars.map((id) => {
        const key = keyOf?.(id);
        const v = objects[id].variable;
        return (key !== undefined ? weightNames.get(key) : undefined) ?? `${v?.name ?? `node ${id}`}:0`;
      }),
    };
  });
}
