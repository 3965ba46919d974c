/**
 * The few protobuf messages a Keras SavedModel reader needs, written for this project from the field
 * numbers TensorFlow and tf-keras use on disk (see shared formats notes, section 4). Everything else in
 * those files (graph_def, signatures, functions, ...) is an unknown field here and is skipped by the
 * decoder, which keeps decoding cheap and the surface small.
 */
import protobuf from 'protobufjs';

export const SAVEDMODEL_PROTO = `
syntax = "proto3";
package kerasinterop.tf;

enum DataType {
  DT_INVALID = 0;
  DT_FLOAT = 1;
  DT_DOUBLE = 2;
  DT_INT32 = 3;
  DT_UINT8 = 4;
  DT_INT16 = 5;
  DT_INT8 = 6;
  DT_STRING = 7;
  DT_COMPLEX64 = 8;
  DT_INT64 = 9;
  DT_BOOL = 10;
  DT_QINT8 = 11;
  DT_QUINT8 = 12;
  DT_QINT32 = 13;
  DT_BFLOAT16 = 14;
  DT_QINT16 = 15;
  DT_QUINT16 = 16;
  DT_UINT16 = 17;
  DT_COMPLEX128 = 18;
  DT_HALF = 19;
  DT_RESOURCE = 20;
  DT_VARIANT = 21;
  DT_UINT32 = 22;
  DT_UINT64 = 23;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message VersionDef {
  int32 producer = 1;
  int32 min_consumer = 2;
  repeated int32 bad_consumers = 3;
}

message SavedModel {
  int64 saved_model_schema_version = 1;
  repeated MetaGraphDef meta_graphs = 2;
}

message MetaGraphDef {
  message MetaInfoDef {
    string meta_graph_version = 1;
    repeated string tags = 4;
    string tensorflow_version = 5;
    string tensorflow_git_version = 6;
  }
  MetaInfoDef meta_info_def = 1;
  SavedObjectGraph object_graph_def = 7;
}

message SavedObjectGraph {
  repeated SavedObject nodes = 1;
}

message ObjectReference {
  int32 node_id = 1;
  string local_name = 2;
}

message SlotVariableReference {
  int32 original_variable_node_id = 1;
  string slot_name = 2;
  int32 slot_variable_node_id = 3;
}

message SavedObject {
  repeated ObjectReference children = 1;
  repeated SlotVariableReference slot_variables = 3;
  oneof kind {
    SavedUserObject user_object = 4;
    Opaque asset = 5;
    Opaque function = 6;
    SavedVariable variable = 7;
    Opaque bare_concrete_function = 8;
    Opaque constant = 9;
    Opaque resource = 10;
    Opaque captured_tensor = 12;
  }
  string registered_name = 13;
  repeated ObjectReference dependencies = 15;
}

// A message whose content we never read; only which kind a node is matters.
message Opaque {}

message SavedUserObject {
  string identifier = 1;
  VersionDef version = 2;
  string metadata = 3;
}

message SavedVariable {
  DataType dtype = 1;
  TensorShapeProto shape = 2;
  bool trainable = 3;
  int32 synchronization = 4;
  int32 aggregation = 5;
  string name = 6;
  string device = 7;
}

message TrackableObjectGraph {
  message TrackableObject {
    message SerializedTensor {
      string name = 1;
      string full_name = 2;
      string checkpoint_key = 3;
    }
    repeated ObjectReference children = 1;
    repeated SerializedTensor attributes = 2;
    repeated SlotVariableReference slot_variables = 3;
  }
  repeated TrackableObject nodes = 1;
}

// tf-keras's keras_metadata.pb (its own SavedObject, not TensorFlow's).
message SavedMetadata {
  message KerasObject {
    int32 node_id = 2;
    string node_path = 3;
    string identifier = 4;
    string metadata = 5;
    VersionDef version = 6;
  }
  repeated KerasObject nodes = 1;
}

message BundleHeaderProto {
  enum Endianness {
    LITTLE = 0;
    BIG = 1;
  }
  int32 num_shards = 1;
  Endianness endianness = 2;
  VersionDef version = 3;
}

message TensorSliceProto {
  message Extent {
    int64 start = 1;
    int64 length = 2;
  }
  repeated Extent extent = 1;
}

message BundleEntryProto {
  DataType dtype = 1;
  TensorShapeProto shape = 2;
  int32 shard_id = 3;
  int64 offset = 4;
  int64 size = 5;
  fixed32 crc32c = 6;
  repeated TensorSliceProto slices = 7;
}
`;

// ------------------------------------------------------------------------------------------------
// Plain shapes of the decoded messages (what `decode*` below return). int64 fields come back as
// `number | Long`; `toSafeNumber` turns them into numbers, refusing values past 2^53.

export interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}
export type Int64 = number | LongLike;

export interface TensorShapeMsg {
  dim?: { size?: Int64; name?: string }[];
  unknownRank?: boolean;
}
export interface VersionDefMsg {
  producer?: number;
  minConsumer?: number;
}
export interface ObjectReferenceMsg {
  nodeId?: number;
  localName?: string;
}
export interface SlotVariableReferenceMsg {
  originalVariableNodeId?: number;
  slotName?: string;
  slotVariableNodeId?: number;
}
export interface SavedUserObjectMsg {
  identifier?: string;
  version?: VersionDefMsg;
  metadata?: string;
}
export interface SavedVariableMsg {
  dtype?: number;
  shape?: TensorShapeMsg;
  trainable?: boolean;
  name?: string;
  device?: string;
}
export interface SavedObjectMsg {
  children?: ObjectReferenceMsg[];
  slotVariables?: SlotVariableReferenceMsg[];
  kind?: string;
  userObject?: SavedUserObjectMsg;
  variable?: SavedVariableMsg;
  registeredName?: string;
  dependencies?: ObjectReferenceMsg[];
}
export interface SavedModelMsg {
  savedModelSchemaVersion?: Int64;
  metaGraphs?: {
    metaInfoDef?: { tags?: string[]; tensorflowVersion?: string; tensorflowGitVersion?: string };
    objectGraphDef?: { nodes?: SavedObjectMsg[] };
  }[];
}
export interface TrackableObjectMsg {
  children?: ObjectReferenceMsg[];
  attributes?: { name?: string; fullName?: string; checkpointKey?: string }[];
  slotVariables?: SlotVariableReferenceMsg[];
}
export interface TrackableObjectGraphMsg {
  nodes?: TrackableObjectMsg[];
}
export interface KerasObjectMsg {
  nodeId?: number;
  nodePath?: string;
  identifier?: string;
  metadata?: string;
  version?: VersionDefMsg;
}
export interface SavedMetadataMsg {
  nodes?: KerasObjectMsg[];
}
export interface BundleHeaderMsg {
  numShards?: number;
  endianness?: number;
  version?: VersionDefMsg;
}
export interface BundleEntryMsg {
  dtype?: number;
  shape?: TensorShapeMsg;
  shardId?: number;
  offset?: Int64;
  size?: Int64;
  crc32c?: number;
  slices?: unknown[];
}

export type MessageName =
  | 'SavedModel'
  | 'TrackableObjectGraph'
  | 'SavedMetadata'
  | 'BundleHeaderProto'
  | 'BundleEntryProto';

let root: protobuf.Root | undefined;

function type(name: MessageName): protobuf.Type {
  root ??= protobuf.parse(SAVEDMODEL_PROTO, { keepCase: false }).root;
  return root.lookupType(`kerasinterop.tf.${name}`);
}

/**
 * Decodes one message; throws protobufjs's own error on malformed input (the caller names the file).
 * Only message objects are returned (never class instances with prototype getters), so a field named
 * like `__proto__` in the data cannot reach an object's prototype.
 */
export function decodeMessage(name: 'SavedModel', bytes: Uint8Array): SavedModelMsg;
export function decodeMessage(name: 'TrackableObjectGraph', bytes: Uint8Array): TrackableObjectGraphMsg;
export function decodeMessage(name: 'SavedMetadata', bytes: Uint8Array): SavedMetadataMsg;
export function decodeMessage(name: 'BundleHeaderProto', bytes: Uint8Array): BundleHeaderMsg;
export function decodeMessage(name: 'BundleEntryProto', bytes: Uint8Array): BundleEntryMsg;
export function decodeMessage(name: MessageName, bytes: Uint8Array): unknown {
  const t = type(name);
  return t.toObject(t.decode(bytes), { enums: Number, defaults: false, oneofs: true, arrays: true });
}

/** Encodes a plain object as a message (tests synthesize SavedModels with it). */
export function encodeMessage(name: MessageName, value: Record<string, unknown>): Uint8Array {
  const t = type(name);
  const problem = t.verify(value);
  if (problem) throw new Error(`${name}: ${problem}`);
  return t.encode(t.fromObject(value)).finish();
}

/** An int64 field as a number; undefined when it does not fit exactly in a double. */
export function int64ToNumber(v: Int64 | undefined): number | undefined {
  if (v === undefined) return 0;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  const big = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  const signed = v.unsigned ? big : BigInt.asIntN(64, big);
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
  return Number(signed);
}

/** DataType enum value → TensorFlow's name (for messages). */
export const DATA_TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'float64',
  3: 'int32',
  4: 'uint8',
  5: 'int16',
  6: 'int8',
  7: 'string',
  8: 'complex64',
  9: 'int64',
  10: 'bool',
  11: 'qint8',
  12: 'quint8',
  13: 'qint32',
  14: 'bfloat16',
  15: 'qint16',
  16: 'quint16',
  17: 'uint16',
  18: 'complex128',
  19: 'float16',
  20: 'resource',
  21: 'variant',
  22: 'uint32',
  23: 'uint64',
};

export function dataTypeName(dt: number | undefined): string {
  const base = (dt ?? 0) > 100 ? (dt ?? 0) - 100 : (dt ?? 0);
  return DATA_TYPE_NAMES[base] ?? `DataType ${dt ?? 0}`;
}
