/**
 * Keras's own description of the objects in a SavedModel: `keras_metadata.pb` (tf.keras ≥ TF 2.5), or
 * before that the `metadata` string of each Keras node's SavedUserObject in `saved_model.pb`. Each node
 * carries a JSON document; the root's holds the model's `class_name` and `config`.
 */
import { KerasInteropError } from '../../errors.js';
import { type FileSet, readFileOf } from '../io/source.js';
import type { JsonObject, JsonValue } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';
import { parseJsonText } from '../json.js';
import { type SavedObjectMsg, decodeMessage } from './protos.js';

export interface KerasNode {
  nodeId: number;
  /** `root`, `root.layer-0`, `root.layer_with_weights-0.cell`, ... */
  nodePath: string;
  /** `_tf_keras_layer`, `_tf_keras_network`, `_tf_keras_metric`, ... */
  identifier: string;
  /** The node's JSON, tuples and shapes already decoded. */
  metadata: JsonObject;
}

export interface KerasMetadata {
  nodes: KerasNode[];
  /** Where it came from. */
  source: 'keras_metadata.pb' | 'saved_model.pb';
}

const KERAS_IDENTIFIERS = new Set([
  '_tf_keras_layer',
  '_tf_keras_input_layer',
  '_tf_keras_rnn_layer',
  '_tf_keras_metric',
  '_tf_keras_network',
  '_tf_keras_sequential',
  '_tf_keras_model',
]);

/**
 * Keras's metadata JSON encoder writes tuples and TensorShapes as `{"class_name": "__tuple__" |
 * "TensorShape", "items": [...]}`; both become plain lists, as they are in an HDF5 config. Other wrapped
 * values (TypeSpec, __ellipsis__, __bytes__) stay as they are. Keys such as `__proto__` are kept as data.
 */
export function decodeKerasJson(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(decodeKerasJson);
  if (!isJsonObject(v)) return v;
  const keys = Object.keys(v);
  if ((v.class_name === '__tuple__' || v.class_name === 'TensorShape') && Array.isArray(v.items) && keys.length === 2) {
    return v.items.map(decodeKerasJson);
  }
  const out: JsonObject = {};
  for (const k of keys) {
    Object.defineProperty(out, k, { value: decodeKerasJson(v[k]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export interface MetadataOptions {
  maxBytes: number;
  maxConfigDepth?: number;
}

/** The Keras nodes of a SavedModel, or undefined when it holds no Keras metadata at all. */
export function readKerasMetadata(files: FileSet, objects: SavedObjectMsg[], opts: MetadataOptions): KerasMetadata | undefined {
  const file = files.label('keras_metadata.pb');
  const st = files.stat('keras_metadata.pb');
  if (st) {
    const size = st.size;
    if (size > opts.maxBytes) {
      throw new KerasInteropError('LIMIT_EXCEEDED', `keras_metadata.pb is ${size} bytes, more than the ${opts.maxBytes} accepted`, { file });
    }
    let decoded;
    try {
      decoded = decodeMessage('SavedMetadata', readFileOf(files, 'keras_metadata.pb'));
    } catch (e) {
      throw new KerasInteropError('PROTO_INVALID', `cannot decode SavedMetadata (${(e as Error).message})`, { file }, { cause: e });
    }
    const nodes: KerasNode[] = [];
    for (const [i, n] of (decoded.nodes ?? []).entries()) {
      const nodeId = n.nodeId ?? 0;
      if (nodeId < 0 || nodeId >= objects.length) {
        throw new KerasInteropError('PROTO_INVALID', `node_id ${nodeId} is not a node of saved_model.pb's object graph (${objects.length} nodes)`, {
          file,
          place: `nodes[${i}]`,
        });
      }
      const place = `nodes[${i}] (${n.nodePath ?? '?'}).metadata`;
      nodes.push({ nodeId, nodePath: n.nodePath ?? '', identifier: n.identifier ?? '', metadata: parseMetadata(n.metadata ?? '', file, place, opts) });
    }
    if (nodes.length > 0) return { nodes, source: 'keras_metadata.pb' };
  }
  return legacyMetadata(files, objects, opts);
}

/** Before TF 2.5: the metadata sits in each Keras node; node paths are the breadth-first paths from the root. */
function legacyMetadata(files: FileSet, objects: SavedObjectMsg[], opts: MetadataOptions): KerasMetadata | undefined {
  const file = files.label('saved_model.pb');
  const paths = breadthFirstPaths(objects);
  const nodes: KerasNode[] = [];
  for (const [id, path] of paths) {
    const user = objects[id].userObject;
    if (!user || !KERAS_IDENTIFIERS.has(user.identifier ?? '') || !user.metadata) continue;
    const place = `object_graph_def.nodes[${id}].user_object.metadata`;
    nodes.push({ nodeId: id, nodePath: path, identifier: user.identifier ?? '', metadata: parseMetadata(user.metadata, file, place, opts) });
  }
  return nodes.length > 0 ? { nodes, source: 'saved_model.pb' } : undefined;
}

/** Node id → `root.a.b` path, breadth first over `children`, first path wins (as Keras builds them). */
export function breadthFirstPaths(objects: SavedObjectMsg[]): Map<number, string> {
  const paths = new Map<number, string>([[0, 'root']]);
  const queue = [0];
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q];
    for (const c of objects[id]?.children ?? []) {
      const child = c.nodeId ?? 0;
      if (child < 0 || child >= objects.length || paths.has(child)) continue;
      paths.set(child, `${paths.get(id)}.${c.localName ?? ''}`);
      queue.push(child);
    }
  }
  return paths;
}

function parseMetadata(text: string, file: string, place: string, opts: MetadataOptions): JsonObject {
  if (text.trim() === '') return {};
  const value = parseJsonText(text, file, place, opts.maxConfigDepth);
  if (!isJsonObject(value)) {
    throw new KerasInteropError('CONFIG_INVALID', 'Keras node metadata should be a JSON object', { file, place });
  }
  return decodeKerasJson(value) as JsonObject;
}
