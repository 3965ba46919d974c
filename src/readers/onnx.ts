/**
 * What `inspect` says about an .onnx file: producer, IR and opset versions, inputs and outputs with their
 * types and shapes, the operators used and how often, the initializers (and whether their bytes live in
 * a data file), and the metadata. Decoded with our own .proto (proto.ts).
 */
import { readFileSync } from 'node:fs';
import { KerasInteropError } from '../errors.js';
import { DATA_TYPE_NAMES, decodeOnnx } from '../writers/onnx/proto.js';

export interface OnnxValueSummary {
  name: string;
  dtype: string;
  /** Sizes, or the symbolic names of dynamic dimensions (null when unnamed). */
  shape: (number | string | null)[];
}

export interface OnnxFileSummary {
  file: string;
  format: 'onnx';
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  inputs: OnnxValueSummary[];
  outputs: OnnxValueSummary[];
  nodes: number;
  /** Operator → how many nodes use it (subgraphs included), sorted by name. */
  ops: Record<string, number>;
  initializers: number;
  initializerBytes: number;
  /** Initializers whose bytes are in a separate data file. */
  externalInitializers: number;
  metadata: Record<string, string>;
}

type Msg = Record<string, unknown>;

function list(v: unknown): Msg[] {
  return Array.isArray(v) ? (v as Msg[]) : [];
}

function valueSummary(v: Msg): OnnxValueSummary {
  const t = ((v.type as Msg | undefined)?.tensor_type ?? {}) as Msg;
  const dims = list((t.shape as Msg | undefined)?.dim);
  return {
    name: String(v.name ?? ''),
    dtype: DATA_TYPE_NAMES[Number(t.elem_type ?? 0)] ?? `type ${String(t.elem_type ?? 0)}`,
    shape: dims.map((d) => (d.dim_value !== undefined ? Number(d.dim_value) : typeof d.dim_param === 'string' ? d.dim_param : null)),
  };
}

function countOps(graph: Msg, ops: Record<string, number>): number {
  let n = 0;
  for (const node of list(graph.node)) {
    n++;
    const key = node.domain ? `${String(node.domain)}.${String(node.op_type)}` : String(node.op_type);
    ops[key] = (ops[key] ?? 0) + 1;
    for (const a of list(node.attribute)) {
      if (a.g) n += countOps(a.g as Msg, ops);
      for (const sub of list(a.graphs)) n += countOps(sub, ops);
    }
  }
  return n;
}

/** Reads and summarizes an .onnx file; a file that does not decode is PROTO_INVALID. */
export function readOnnxSummary(file: string): OnnxFileSummary {
  let model: Msg;
  try {
    model = decodeOnnx('ModelProto', readFileSync(file));
  } catch (e) {
    throw new KerasInteropError('PROTO_INVALID', `not a valid ONNX ModelProto: ${(e as Error).message}`, { file }, { cause: e });
  }
  const graph = (model.graph ?? {}) as Msg;
  const ops: Record<string, number> = {};
  const nodes = countOps(graph, ops);
  let initializerBytes = 0;
  let externalInitializers = 0;
  for (const t of list(graph.initializer)) {
    if (Number(t.data_location ?? 0) === 1) {
      externalInitializers++;
      const length = list(t.external_data).find((e) => e.key === 'length');
      initializerBytes += Number(length?.value ?? 0);
    } else if (t.raw_data instanceof Uint8Array) initializerBytes += t.raw_data.length;
  }
  const initializerNames = new Set(list(graph.initializer).map((t) => String(t.name)));
  return {
    file,
    format: 'onnx',
    irVersion: Number(model.ir_version ?? 0),
    producer: [model.producer_name, model.producer_version].filter((p) => typeof p === 'string' && p !== '').join(' '),
    opsets: list(model.opset_import).map((o) => ({ domain: String(o.domain ?? ''), version: Number(o.version ?? 0) })),
    // Graph inputs that have initializers are constants (IR < 4 listed them as inputs).
    inputs: list(graph.input).filter((v) => !initializerNames.has(String(v.name))).map(valueSummary),
    outputs: list(graph.output).map(valueSummary),
    nodes,
    ops: Object.fromEntries(Object.entries(ops).sort(([a], [b]) => a.localeCompare(b))),
    initializers: list(graph.initializer).length,
    initializerBytes,
    externalInitializers,
    metadata: Object.fromEntries(list(model.metadata_props).map((p) => [String(p.key ?? ''), String(p.value ?? '')])),
  };
}

function shapeText(s: OnnxValueSummary['shape']): string {
  return `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
}

export function formatOnnxSummary(s: OnnxFileSummary, backendLine: string): string {
  const lines = [
    `file:          ${s.file}`,
    `format:        ONNX (IR ${s.irVersion}; opsets ${s.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')})`,
    `producer:      ${s.producer || 'unknown'}`,
    `backend:       ${backendLine}`,
    '',
    ...s.inputs.map((v) => `input  ${v.name}: ${v.dtype} ${shapeText(v.shape)}`),
    ...s.outputs.map((v) => `output ${v.name}: ${v.dtype} ${shapeText(v.shape)}`),
    '',
    `${s.nodes} nodes: ${Object.entries(s.ops).map(([op, n]) => `${op} ${n}`).join(', ')}`,
    `${s.initializers} initializers, ${s.initializerBytes} bytes${s.externalInitializers ? ` (${s.externalInitializers} in a data file)` : ''}`,
    ...Object.entries(s.metadata).map(([k, v]) => `metadata ${k}: ${v}`),
  ];
  return lines.join('\n');
}
