/**
 * An ONNX graph under construction: nodes, initializers, inputs and outputs, with names unique across the
 * graph and its subgraphs (Scan bodies). Lowerings add nodes through `op`; the serializer (serialize.ts)
 * turns a finished graph into protobuf parts. Knows nothing of Keras.
 */
import { KerasInteropError } from '../../errors.js';
import { DataType, type DataTypeCode } from './proto.js';

/** Element types the lowerings produce. */
export type ElemType = 'float32' | 'int32' | 'int64' | 'bool' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'uint32' | 'uint64';

export const ELEM_TYPE_CODES: Readonly<Record<ElemType, DataTypeCode>> = {
  float32: DataType.FLOAT,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
  float16: DataType.FLOAT16,
  float64: DataType.DOUBLE,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  int16: DataType.INT16,
  uint16: DataType.UINT16,
  uint32: DataType.UINT32,
  uint64: DataType.UINT64,
};

export const ELEM_BYTES: Readonly<Record<ElemType, number>> = {
  float32: 4, int32: 4, int64: 8, bool: 1, float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, uint32: 4, uint64: 8,
};

/** A dimension: a size, or a symbolic name (dynamic), or null (unknown, unnamed). */
export type Dim = number | string | null;

/** A tensor at a layer boundary: its name in the graph, element type and (static, partly known) shape. */
export interface Value {
  name: string;
  dtype: ElemType;
  shape: Dim[];
}

/** A float attribute (JavaScript numbers are ints unless wrapped). */
export interface FloatAttr {
  float: number;
}
export interface FloatsAttr {
  floats: number[];
}
export type AttrValue = number | string | number[] | string[] | FloatAttr | FloatsAttr | Graph;

export function float(value: number): FloatAttr {
  return { float: value };
}

export function floats(values: number[]): FloatsAttr {
  return { floats: values };
}

export interface NodeSpec {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttrValue>;
}

/** Initializer bytes: in hand, or made when the serializer reaches them (one tensor at a time). */
export interface InitializerSpec {
  name: string;
  dtype: ElemType;
  dims: number[];
  byteLength: number;
  bytes: Uint8Array | (() => Uint8Array);
}

/** Names unique over a graph and all its subgraphs (ONNX resolves outer-scope names inside subgraphs). */
class Names {
  private readonly used = new Set<string>();

  take(wanted: string): string {
    const base = wanted.replace(/\s+/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  reserve(name: string): void {
    if (this.used.has(name)) throw new KerasInteropError('INTERNAL', `ONNX name "${name}" is used twice`);
    this.used.add(name);
  }
}

export class Graph {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  /** Prefix of node and value names: the layer being lowered, so that profiles name it. */
  scope = '';
  /** Opset domains used besides the default one. */
  readonly domains: Set<string>;
  private readonly names: Names;
  private readonly constants: Map<string, string>;

  constructor(
    readonly name: string,
    parent?: Graph,
  ) {
    this.names = parent?.names ?? new Names();
    this.domains = parent?.domains ?? new Set();
    // Constants are initializers of the graph that made them; a subgraph may use its parent's (outer scope).
    this.constants = parent?.constants ?? new Map();
    this.root = parent?.root ?? this;
  }

  /** The outermost graph (constants and initializers go there, visible to every subgraph). */
  readonly root: Graph;

  /** A fresh value name under the current scope. */
  fresh(hint: string): string {
    return this.names.take(this.scope ? `${this.scope}/${hint}` : hint);
  }

  /** Claims an exact name (graph inputs). */
  reserve(name: string): string {
    this.names.reserve(name);
    return name;
  }

  /** `name` if free, else `name_1`, `name_2`, ... (no scope prefix). */
  unique(name: string): string {
    return this.names.take(name);
  }

  /** A subgraph (a Scan or Loop body) sharing this graph's names and constants. */
  subgraph(name: string): Graph {
    const g = new Graph(this.names.take(name), this);
    g.scope = this.scope;
    return g;
  }

  /** Adds a node with one output and returns the output's name. */
  op(op: string, inputs: string[], attributes: Record<string, AttrValue> = {}, domain = ''): string {
    return this.opN(op, inputs, 1, attributes, domain)[0];
  }

  /** Adds a node with `outputs` outputs (names given, or fresh). */
  opN(op: string, inputs: string[], outputs: number | string[], attributes: Record<string, AttrValue> = {}, domain = ''): string[] {
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => this.fresh(outputs === 1 ? op : `${op}_${i}`)) : outputs;
    if (domain !== '') this.domains.add(domain);
    this.nodes.push({ op, domain, name: this.names.take(this.scope ? `${this.scope}/${op}` : op), inputs, outputs: names, attributes });
    return names;
  }

  /** An initializer on the root graph. */
  initializer(hint: string, dtype: ElemType, dims: number[], bytes: Uint8Array | (() => Uint8Array), byteLength?: number): string {
    const size = dims.reduce((a, b) => a * b, 1) * ELEM_BYTES[dtype];
    const length = byteLength ?? (bytes instanceof Uint8Array ? bytes.length : size);
    if (length !== size) throw new KerasInteropError('INTERNAL', `initializer "${hint}" has ${length} bytes for dims [${dims.join(', ')}] of ${dtype}`);
    const name = this.names.take(hint);
    this.root.initializers.push({ name, dtype, dims, byteLength: length, bytes });
    return name;
  }

  /** A small constant tensor (shapes, axes, scalars), made once per distinct value. */
  constant(dtype: 'float32' | 'int64' | 'int32' | 'bool', values: readonly number[] | readonly boolean[], dims?: number[]): string {
    const shape = dims ?? [values.length];
    const key = `${dtype}|${shape.join(',')}|${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    let bytes: Uint8Array;
    if (dtype === 'float32') bytes = new Uint8Array(Float32Array.from(values as number[]).buffer);
    else if (dtype === 'int32') bytes = new Uint8Array(Int32Array.from(values as number[]).buffer);
    else if (dtype === 'int64') bytes = new Uint8Array(BigInt64Array.from((values as number[]).map((v) => BigInt(v))).buffer);
    else bytes = Uint8Array.from((values as boolean[]).map((v) => (v ? 1 : 0)));
    const saved = this.scope;
    this.scope = '';
    const hint = `const_${dtype}_${shape.length === 0 ? 'scalar' : values.length <= 4 ? (values as number[]).map(String).join('_').replace(/[^\w.-]/g, '') : shape.join('x')}`;
    const name = this.root.initializer(hint, dtype, shape, bytes);
    this.scope = saved;
    this.constants.set(key, name);
    return name;
  }

  /** int64 1-D constant: shapes, axes, starts/ends of Slice. */
  ints(values: readonly number[]): string {
    return this.constant('int64', values);
  }

  /** float32 scalar constant. */
  scalar(value: number): string {
    return this.constant('float32', [value], []);
  }

  /** Drops root initializers no node (in this graph or a subgraph) reads: weights a lowering viewed another way. */
  pruneInitializers(): void {
    const used = new Set<string>();
    const visit = (g: Graph) => {
      for (const n of g.nodes) {
        for (const i of n.inputs) used.add(i);
        for (const a of Object.values(n.attributes)) if (a instanceof Graph) visit(a);
      }
      for (const o of g.outputs) used.add(o.name);
    };
    visit(this);
    const keep = this.initializers.filter((t) => used.has(t.name));
    this.initializers.splice(0, this.initializers.length, ...keep);
  }
}
