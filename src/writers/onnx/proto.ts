/**
 * The ONNX messages this project writes and reads, written for it from the field numbers and enum values
 * of the ONNX IR specification (onnx.proto, IR version 8). Only what a model file needs is declared:
 * training info, sparse tensors, functions and quantization annotations are unknown fields here, which
 * the decoder skips.
 */
import protobuf from 'protobufjs';

export const ONNX_PROTO = `
syntax = "proto2";
package kerasinterop.onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0;
    FLOAT = 1;
    INT = 2;
    STRING = 3;
    TENSOR = 4;
    GRAPH = 5;
    FLOATS = 6;
    INTS = 7;
    STRINGS = 8;
    TENSORS = 9;
    GRAPHS = 10;
  }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  optional string doc_string = 13;
  optional AttributeType type = 20;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  optional string domain = 7;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataLocation {
    DEFAULT = 0;
    EXTERNAL = 1;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  optional string doc_string = 12;
  repeated StringStringEntryProto external_data = 13;
  optional DataLocation data_location = 14;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** DataType code → the name onnxruntime's JavaScript API uses for tensors of that type. */
export const DATA_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** IR version 8 goes with opsets 17 and 18 (onnx/docs/Versioning.md). */
export const IR_VERSION = 8;
/** The ai.onnx opset every lowering targets. */
export const OPSET = 17;
/** Microsoft's contrib domain (only with `contribOps`). */
export const MS_DOMAIN = 'com.microsoft';

let root: protobuf.Root | undefined;

export type MessageName =
  | 'ModelProto'
  | 'GraphProto'
  | 'NodeProto'
  | 'TensorProto'
  | 'ValueInfoProto'
  | 'AttributeProto'
  | 'OperatorSetIdProto'
  | 'StringStringEntryProto';

export function onnxType(name: MessageName): protobuf.Type {
  root ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  return root.lookupType(`kerasinterop.onnx.${name}`);
}

/** Encodes a plain object as a message; field names as in the .proto above (snake_case). */
export function encodeOnnx(name: MessageName, value: Record<string, unknown>): Uint8Array {
  const t = onnxType(name);
  return t.encode(t.fromObject(value)).finish();
}

/**
 * Decodes a message into plain objects (never class instances, so a field value such as `__proto__`
 * cannot reach a prototype); int64 fields as numbers or Long-like objects, bytes as Uint8Array views.
 */
export function decodeOnnx(name: MessageName, bytes: Uint8Array): Record<string, unknown> {
  const t = onnxType(name);
  return t.toObject(t.decode(bytes), { enums: Number, defaults: false, oneofs: true, arrays: true, longs: Number }) as Record<string, unknown>;
}
