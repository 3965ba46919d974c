/**
 * A lowered graph as an ONNX file, in parts (src/writers/parts.ts): everything but the initializers' bytes
 * is encoded by protobufjs from our own .proto (proto.ts); each initializer's bytes are a deferred part,
 * made when the writer reaches it, after a hand-written field header (a length-delimited field is its tag,
 * its length as a varint, then the bytes, so the length is all the header needs). Large models put
 * their initializers in a separate data file (ONNX external data): protobuf caps a message at 2 GiB.
 */
import { KerasInteropError } from '../../errors.js';
import type { DeferredPart, Part } from '../parts.js';
import { partsSize } from '../parts.js';
import { type AttrValue, ELEM_TYPE_CODES, type Graph, type InitializerSpec, type NodeSpec, type Value } from './graph.js';
import { AttributeType, IR_VERSION, encodeOnnx } from './proto.js';

/** protobuf's limit on one message (2 GiB - 1), with room for the graph's own bytes. */
export const MAX_INLINE_BYTES = 2 ** 31 - 1 - 64 * 1024 * 1024;
/** Offsets in the data file are multiples of this (the spec asks for page multiples, for mmap). */
const DATA_ALIGNMENT = 4096;

export interface SerializeOptions {
  producerVersion: string;
  /** `key → value` entries of the model's metadata_props. */
  metadata?: Record<string, string>;
  /** Opsets to import. */
  opsets: { domain: string; version: number }[];
  /**
   * Where initializer bytes go: `inline` (in the .onnx), `external` (initializers of at least
   * `externalThreshold` bytes into the data file) or `auto` (external only when inline would pass
   * `MAX_INLINE_BYTES`). Default auto.
   */
  externalData?: 'auto' | 'inline' | 'external';
  /** Smallest initializer moved to the data file (default 1024 bytes). */
  externalThreshold?: number;
  /** The data file's name, relative to the .onnx file's folder (written into each tensor's `location`). */
  dataFileName?: string;
}

export interface SerializedOnnx {
  model: Part[];
  /** Present when initializers went to a data file. */
  data?: { fileName: string; parts: Part[] };
}

const WIRE_LEN = 2;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** The header of a length-delimited field: tag, then the length. */
function lenHeader(field: number, length: number): Uint8Array {
  return Uint8Array.from([...varint((field << 3) | WIRE_LEN), ...varint(length)]);
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function valueInfo(v: Value): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: ELEM_TYPE_CODES[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {})) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new KerasInteropError('INTERNAL', `attribute "${name}" = ${v} is not an integer; wrap floats with float()`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: utf8(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) return { name, type: AttributeType.INTS, ints: v };
    return { name, type: AttributeType.STRINGS, strings: (v as string[]).map(utf8) };
  }
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  return { name, type: AttributeType.GRAPH, g: graphObject(v, false) };
}

function nodeObject(n: NodeSpec): Record<string, unknown> {
  return {
    input: n.inputs,
    output: n.outputs,
    name: n.name,
    op_type: n.op,
    ...(n.domain ? { domain: n.domain } : {}),
    attribute: Object.entries(n.attributes).map(([k, v]) => attribute(k, v)),
  };
}

/** The graph without its initializers (a subgraph has none: every initializer sits on the root). */
function graphObject(g: Graph, root: boolean): Record<string, unknown> {
  if (!root && g.initializers.length > 0) throw new KerasInteropError('INTERNAL', `subgraph "${g.name}" holds initializers`);
  return { node: g.nodes.map(nodeObject), name: g.name, input: g.inputs.map(valueInfo), output: g.outputs.map(valueInfo) };
}

function deferredBytes(init: InitializerSpec): Part {
  if (init.bytes instanceof Uint8Array) return init.bytes;
  const make = init.bytes;
  const part: DeferredPart = { size: init.byteLength, bytes: make };
  return part;
}

/** Adjacent in-hand parts joined, so that the writer makes one write per tensor rather than per header. */
function coalesce(parts: Part[]): Part[] {
  const out: Part[] = [];
  let pending: Uint8Array[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    if (pending.length === 1) out.push(pending[0]);
    else {
      const joined = new Uint8Array(pending.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of pending) {
        joined.set(p, at);
        at += p.length;
      }
      out.push(joined);
    }
    pending = [];
  };
  for (const p of parts) {
    if (p instanceof Uint8Array && p.length < 1 << 16) pending.push(p);
    else {
      flush();
      out.push(p);
    }
  }
  flush();
  return out;
}

/** The ONNX file (and data file) of a lowered graph. */
export function serializeOnnx(graph: Graph, opts: SerializeOptions): SerializedOnnx {
  const inits = graph.initializers;
  const total = inits.reduce((a, t) => a + t.byteLength, 0);
  const mode = opts.externalData ?? 'auto';
  const threshold = opts.externalThreshold ?? 1024;
  const external = mode === 'external' || (mode === 'auto' && total > MAX_INLINE_BYTES);
  const dataFileName = opts.dataFileName ?? `${graph.name}.onnx.data`;
  const dataParts: Part[] = [];
  let dataSize = 0;

  const graphParts: Part[] = [encodeOnnx('GraphProto', graphObject(graph, true))];
  for (const init of inits) {
    const head = { dims: init.dims, data_type: ELEM_TYPE_CODES[init.dtype], name: init.name };
    if (external && init.byteLength >= threshold) {
      const pad = (DATA_ALIGNMENT - (dataSize % DATA_ALIGNMENT)) % DATA_ALIGNMENT;
      if (pad > 0) dataParts.push(new Uint8Array(pad));
      const offset = dataSize + pad;
      dataParts.push(deferredBytes(init));
      dataSize = offset + init.byteLength;
      const tensor = encodeOnnx('TensorProto', {
        ...head,
        data_location: 1,
        external_data: [
          { key: 'location', value: dataFileName },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(init.byteLength) },
        ],
      });
      graphParts.push(lenHeader(5, tensor.length), tensor);
      continue;
    }
    const tensorHead = encodeOnnx('TensorProto', head);
    const rawHead = lenHeader(9, init.byteLength);
    graphParts.push(lenHeader(5, tensorHead.length + rawHead.length + init.byteLength), tensorHead, rawHead, deferredBytes(init));
  }
  const graphSize = partsSize(graphParts);
  if (graphSize > 2 ** 31 - 1) {
    throw new KerasInteropError('WRITE_FAILED', `the ONNX graph takes ${graphSize} bytes, more than protobuf's 2 GiB; write its initializers as external data`);
  }
  const head = encodeOnnx('ModelProto', {
    ir_version: IR_VERSION,
    producer_name: 'keras-interop',
    producer_version: opts.producerVersion,
    opset_import: opts.opsets.map((o) => ({ domain: o.domain, version: o.version })),
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  const model = coalesce([head, lenHeader(7, graphSize), ...graphParts]);
  return { model, ...(external ? { data: { fileName: dataFileName, parts: coalesce(dataParts) } } : {}) };
}
