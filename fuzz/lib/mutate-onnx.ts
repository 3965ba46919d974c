/**
 * ONNX mutations, on the protobuf wire (protobuf-wire.ts) with the ModelProto's structure in hand:
 * - wire lies in any field anywhere in the tree: declared lengths off by a few bytes or by gigabytes,
 *   tags with another wire type or field number, varints padded to ten bytes, fields dropped, doubled
 *   or moved, payloads cut short;
 * - tensors (initializers and attribute tensors): dims absurd, added or dropped, data types unknown or
 *   unfit, raw_data shorter or longer than dims × type, typed data beside or instead of it, the int64 /
 *   int32 constants that feed Reshape, Slice, Gather and friends set to absurd values;
 * - external data: locations that escape the folder (traversal, absolute, /dev/zero, the model itself,
 *   a folder, 5,000 characters, NUL), offsets and lengths past the data file's end, negative, not numbers,
 *   keys dropped or doubled, data_location values that do not exist; the data file cut short or gone;
 * - opset imports and IR versions absurd, missing or doubled;
 * - nodes: op types and domains swapped, inputs dangling or cyclic, outputs produced twice, nodes dropped,
 *   doubled or reordered; attributes of the wrong type, absurd ints, dropped, subgraphs removed, the main
 *   graph as a subgraph, subgraphs nested 10 to 20,000 deep;
 * - graph inputs, outputs and value_info with unknown element types and absurd dimensions;
 * - metadata of a megabyte, and format-blind byte mutations of either file.
 * The files carry no checksum: a changed number reads as a different model, which the contract allows.
 */
import { mutateBytes } from './mutate-bytes.js';
import {
  WIRE,
  type WireField,
  type WireSchema,
  encodeMessage,
  fieldText,
  messageField,
  messagesOfType,
  parseMessage,
  stringField,
  varintBytes,
  varintField,
  walkFields,
} from './protobuf-wire.js';
import type { Rng } from './rng.js';

/** The ONNX IR's message fields (onnx.proto field numbers) that hold messages. */
export const ONNX_SCHEMA: WireSchema = {
  ModelProto: { 7: 'GraphProto', 8: 'OperatorSetIdProto', 14: 'StringStringEntryProto' },
  GraphProto: { 1: 'NodeProto', 5: 'TensorProto', 11: 'ValueInfoProto', 12: 'ValueInfoProto', 13: 'ValueInfoProto' },
  NodeProto: { 5: 'AttributeProto' },
  AttributeProto: { 5: 'TensorProto', 6: 'GraphProto', 10: 'TensorProto', 11: 'GraphProto' },
  ValueInfoProto: { 2: 'TypeProto' },
  TypeProto: { 1: 'TypeProto.Tensor' },
  'TypeProto.Tensor': { 2: 'TensorShapeProto' },
  TensorShapeProto: { 1: 'Dimension' },
  TensorProto: { 13: 'StringStringEntryProto' },
};

/** Field numbers used below. */
const F = {
  model: { ir: 1, graph: 7, opset: 8, metadata: 14 },
  graph: { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 },
  node: { input: 1, output: 2, name: 3, op: 4, attribute: 5, domain: 7 },
  attr: { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, graphs: 11, type: 20 },
  tensor: { dims: 1, dataType: 2, floatData: 4, int64Data: 7, name: 8, raw: 9, external: 13, location: 14 },
  entry: { key: 1, value: 2 },
  opset: { domain: 1, version: 2 },
  valueInfo: { name: 1, type: 2 },
} as const;

export const ONNX_FILE = 'model.onnx';
export const ONNX_DATA_FILE = 'model.onnx.data';

export interface OnnxMutation {
  name: string;
  /** The model's folder: model.onnx, and model.onnx.data where the seed has one (or had one). */
  files: Map<string, Uint8Array>;
}

const I64 = (n: number | bigint) => BigInt.asUintN(64, BigInt(n));

/** Values a 64-bit varint field is set to: the boundaries of every integer width, and nonsense. */
function absurdVarint(rng: Rng, old: bigint): bigint {
  const signed = BigInt.asIntN(64, old);
  return I64(
    rng.pick<bigint>([
      0n, 1n, -1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 53n + 1n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 31n), -(2n ** 63n),
      signed + 1n, signed - 1n, signed * 2n, signed * 1000n, BigInt(rng.int(2 ** 31)),
    ]),
  );
}

function one(fields: WireField[], field: number): WireField | undefined {
  return fields.find((f) => f.field === field);
}

function all(fields: WireField[], field: number): WireField[] {
  return fields.filter((f) => f.field === field);
}

function setVarint(fields: WireField[], field: number, v: bigint | number): void {
  const f = one(fields, field);
  if (f) Object.assign(f, { wire: WIRE.VARINT, varint: I64(v), bytes: undefined, children: undefined });
  else fields.push(varintField(field, v));
}

function setString(fields: WireField[], field: number, s: string): void {
  const f = one(fields, field);
  const next = stringField(field, s);
  if (f) Object.assign(f, next, { children: undefined });
  else fields.push(next);
}

function remove(fields: WireField[], pred: (f: WireField) => boolean): void {
  for (let i = fields.length - 1; i >= 0; i--) if (pred(fields[i])) fields.splice(i, 1);
}

const clone = (f: WireField): WireField => ({ ...f, children: f.children?.map(clone) });

// ---------------------------------------------------------------------------------------------------
// Wire lies

function wireLie(rng: Rng, root: WireField[]): string {
  const every: { f: WireField; siblings: WireField[]; inType: string }[] = [];
  walkFields(root, 'ModelProto', (f, inType, siblings) => every.push({ f, siblings, inType }));
  if (every.length === 0) return 'wire:empty';
  const { f, siblings, inType } = rng.pick(every);
  const where = `${inType}.${f.field}`;
  const op = rng.int(9);
  if (op === 0 && f.wire === WIRE.LEN) {
    f.lengthDelta = rng.pick([1, 2, 7, -1, -2, 2 ** 31, 2 ** 32, 2 ** 40, -(f.bytes?.length ?? 0)]);
    return `wire:length-${f.lengthDelta > 0 ? 'long' : 'short'}:${where}`;
  }
  if (op === 1) {
    f.tag = { field: f.field, wire: rng.pick([0, 1, 2, 3, 4, 5, 6, 7].filter((w) => w !== f.wire)) };
    return `wire:wire-type-${f.tag.wire}:${where}`;
  }
  if (op === 2) {
    f.tag = { field: rng.pick([0, 1, 2, 3, 5, 7, 9, 13, 14, 20, 2 ** 29 - 1, f.field + 1]), wire: f.wire };
    return `wire:field-number:${where}`;
  }
  if (op === 3 && f.wire === WIRE.VARINT) {
    f.varint = absurdVarint(rng, f.varint ?? 0n);
    return `wire:varint:${where}`;
  }
  if (op === 4) {
    f.padded = true;
    return `wire:padded:${where}`;
  }
  if (op === 5) {
    siblings.splice(siblings.indexOf(f), 1);
    return `wire:drop:${where}`;
  }
  if (op === 6) {
    siblings.splice(siblings.indexOf(f), 0, ...Array.from({ length: rng.pick([1, 1, 2, 100]) }, () => clone(f)));
    return `wire:duplicate:${where}`;
  }
  if (op === 7) {
    siblings.splice(siblings.indexOf(f), 1);
    siblings.splice(rng.int(siblings.length + 1), 0, f);
    return `wire:move:${where}`;
  }
  if (f.wire === WIRE.LEN) {
    const p = f.children ? encodeMessage(f.children) : (f.bytes ?? new Uint8Array());
    Object.assign(f, { children: undefined, bytes: p.slice(0, rng.int(p.length + 1)) });
    return `wire:cut:${where}`;
  }
  f.varint = I64(rng.pick([-1n, 2n ** 63n]));
  return `wire:varint:${where}`;
}

// ---------------------------------------------------------------------------------------------------
// Tensors and external data

const DATA_TYPES = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 22, 23, 99, -1];
const DTYPE_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

function tensorBytes(t: WireField[]): number | undefined {
  const size = DTYPE_BYTES[Number(one(t, F.tensor.dataType)?.varint ?? 0n)];
  if (size === undefined) return undefined;
  return all(t, F.tensor.dims).reduce((a, d) => a * Number(BigInt.asIntN(64, d.varint ?? 0n)), size);
}

function mutateDims(rng: Rng, t: WireField[]): string {
  const dims = all(t, F.tensor.dims);
  const op = rng.int(5);
  if (op === 0 && dims.length) {
    const d = rng.pick(dims);
    d.varint = absurdVarint(rng, d.varint ?? 0n);
    return 'dim';
  }
  if (op === 1) {
    t.push(varintField(F.tensor.dims, rng.pick([0, 1, 2, 2 ** 31, -1])));
    return 'add-dim';
  }
  if (op === 2 && dims.length) {
    remove(t, (f) => f === dims[dims.length - 1]);
    return 'drop-dim';
  }
  if (op === 3) {
    remove(t, (f) => f.field === F.tensor.dims);
    t.push(...Array.from({ length: rng.pick([33, 64, 100]) }, () => varintField(F.tensor.dims, rng.pick([1, 2]))));
    return 'rank-huge';
  }
  for (const d of dims) d.varint = 0n;
  return 'dims-zero';
}

function mutateTensorData(rng: Rng, t: WireField[]): string {
  const raw = one(t, F.tensor.raw);
  const dtype = Number(one(t, F.tensor.dataType)?.varint ?? 0n);
  const op = rng.int(6);
  if (op === 0 && raw?.bytes) {
    raw.bytes = raw.bytes.slice(0, rng.int(raw.bytes.length));
    return 'raw-short';
  }
  if (op === 1 && raw?.bytes) {
    const extra = rng.pick([1, 3, 4, 4096]);
    const b = new Uint8Array(raw.bytes.length + extra);
    b.set(raw.bytes);
    raw.bytes = b;
    return 'raw-long';
  }
  if (op === 2) {
    remove(t, (f) => f.field === F.tensor.raw);
    return 'raw-none';
  }
  if (op === 3) {
    // Typed data beside (or instead of) raw_data, with a count that may not match the dims.
    if (rng.chance(0.5)) remove(t, (f) => f.field === F.tensor.raw);
    const n = rng.pick([0, 1, 5, 1000]);
    const packed = new Uint8Array(n * 4);
    t.push(dtype === 7 ? { field: F.tensor.int64Data, wire: WIRE.LEN, bytes: Uint8Array.from({ length: n }, () => 1) } : { field: F.tensor.floatData, wire: WIRE.LEN, bytes: packed });
    return 'typed-data';
  }
  if ((op === 4 || op === 5) && raw?.bytes && (dtype === 6 || dtype === 7) && raw.bytes.length >= 4) {
    // An integer constant: the shape of a Reshape, the starts of a Slice, an axis, an index.
    const width = dtype === 7 ? 8 : 4;
    const b = raw.bytes.slice();
    const v = new DataView(b.buffer);
    const at = rng.int(Math.floor(b.length / width)) * width;
    const value = rng.pick<bigint>([0n, -1n, -2n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 40n, 2n ** 62n, -(2n ** 62n), 2n ** 63n - 1n, -(2n ** 63n), 1000000n]);
    if (width === 8) v.setBigInt64(at, value, true);
    else v.setInt32(at, Number(BigInt.asIntN(32, value)), true);
    raw.bytes = b;
    return 'int-constant';
  }
  if (raw?.bytes && dtype === 1 && raw.bytes.length >= 4) {
    const b = raw.bytes.slice();
    new DataView(b.buffer).setFloat32(rng.int(b.length >> 2) * 4, rng.pick([NaN, Infinity, -Infinity, 3e38, -0]), true);
    raw.bytes = b;
    return 'float-constant';
  }
  setVarint(t, F.tensor.dataType, rng.pick(DATA_TYPES));
  return 'data-type';
}

const LOCATIONS = [
  ONNX_DATA_FILE, `./${ONNX_DATA_FILE}`, `sub/../${ONNX_DATA_FILE}`, `../${ONNX_DATA_FILE}`, '../../../../../../../../etc/passwd', '/etc/passwd',
  '/dev/zero', '/dev/urandom', '/proc/self/mem', '.', '..', '', ONNX_FILE, 'missing.data', `${ONNX_DATA_FILE}\u0000.txt`, 'C:\\Windows\\win.ini',
  'file:///etc/passwd', 'x'.repeat(5000), '%2e%2e/%2e%2e/etc/passwd', `${ONNX_DATA_FILE}/`,
];

function externalEntries(rng: Rng, offset: number, length: number, dataSize: number): [string, string][] {
  const num = (legit: number) =>
    rng.chance(0.5)
      ? String(legit)
      : rng.pick([
          String(legit + 1), String(legit - 1), String(dataSize), String(dataSize + 1), '-1', '-4096', '4096', '1e3', '0x10', ' 12', '',
          'abc', '18446744073709551616', '9223372036854775807', '2147483648', '1099511627776', '0',
        ]);
  const entries: [string, string][] = [
    ['location', rng.chance(0.3) ? ONNX_DATA_FILE : rng.pick(LOCATIONS)],
    ['offset', num(offset)],
    ['length', num(length)],
  ];
  const op = rng.int(6);
  if (op === 0) entries.splice(rng.int(3), 1);
  else if (op === 1) entries.push([rng.pick(['location', 'offset', 'length']), rng.pick(['/etc/passwd', '0', '99999'])]);
  else if (op === 2) entries.push(['checksum', rng.pick(['', 'deadbeef', 'x'.repeat(64)])]);
  else if (op === 3) entries.push([rng.pick(['', 'unknown', '__proto__']), '1']);
  return entries;
}

function mutateExternal(rng: Rng, t: WireField[], dataSize: number): string {
  const entries = all(t, F.tensor.external).map((e) => [fieldText(one(e.children ?? [], F.entry.key)) ?? '', fieldText(one(e.children ?? [], F.entry.value)) ?? ''] as const);
  const get = (k: string) => Number(entries.find(([key]) => key === k)?.[1] ?? 0);
  const length = get('length') || (tensorBytes(t) ?? 0) || (one(t, F.tensor.raw)?.bytes?.length ?? 0);
  const fresh = externalEntries(rng, get('offset'), length, dataSize);
  remove(t, (f) => f.field === F.tensor.external || (f.field === F.tensor.raw && rng.chance(0.8)));
  for (const [key, value] of fresh) t.push(messageField(F.tensor.external, 'StringStringEntryProto', [stringField(F.entry.key, key), stringField(F.entry.value, value)]));
  setVarint(t, F.tensor.location, rng.chance(0.85) ? 1 : rng.pick([0, 2, 99, -1]));
  return `external:${fresh[0][0] === 'location' ? fresh[0][1].slice(0, 40).replace(/[^\x21-\x7e]/g, '?') || 'empty' : 'no-location'}`;
}

function mutateTensor(rng: Rng, root: WireField[], dataSize: number): string {
  const tensors = messagesOfType(root, 'ModelProto', 'TensorProto');
  if (!tensors.length) return 'tensor:none';
  const external = tensors.filter((t) => Number(one(t, F.tensor.location)?.varint ?? 0n) === 1);
  const r = rng.next();
  if (r < 0.35) {
    const t = external.length && rng.chance(0.6) ? rng.pick(external) : rng.pick(tensors);
    return `tensor:${mutateExternal(rng, t, dataSize)}`;
  }
  const t = rng.pick(tensors);
  if (r < 0.55) return `tensor:${mutateDims(rng, t)}`;
  return `tensor:${mutateTensorData(rng, t)}`;
}

// ---------------------------------------------------------------------------------------------------
// Model header: IR version, opsets, metadata

function mutateHeader(rng: Rng, model: WireField[]): string {
  const op = rng.int(6);
  if (op === 0) {
    // Most keep the first bytes an ONNX file starts with, so the file still reaches onnxruntime.
    setVarint(model, F.model.ir, rng.chance(0.8) ? rng.pick([1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 30]) : absurdVarint(rng, 8n));
    return 'header:ir-version';
  }
  const opsets = all(model, F.model.opset);
  if (op === 1 && opsets.length) {
    const o = rng.pick(opsets).children;
    if (o) setVarint(o, F.opset.version, rng.pick([0, 1, 6, 7, 13, 16, 18, 21, 23, 24, 99, 100000, -1, 2 ** 31]));
    return 'header:opset-version';
  }
  if (op === 2 && opsets.length) {
    const o = rng.pick(opsets).children;
    if (o) setString(o, F.opset.domain, rng.pick(['ai.onnx', 'com.microsoft', 'ai.onnx.ml', 'evil', 'com.ms.internal.nhwc', 'ai.onnx.preview.training', 'x'.repeat(300)]));
    return 'header:opset-domain';
  }
  if (op === 3) {
    const how = rng.int(3);
    if (how === 0) remove(model, (f) => f.field === F.model.opset);
    else {
      const n = how === 1 ? 1 : 1000;
      for (let i = 0; i < n; i++) {
        model.push(messageField(F.model.opset, 'OperatorSetIdProto', [stringField(F.opset.domain, how === 1 ? '' : `d${i}`), varintField(F.opset.version, rng.pick([1, 17, 99]))]));
      }
    }
    return `header:opsets-${['none', 'doubled', 'thousand'][how]}`;
  }
  // Metadata: a megabyte in one value, or ten thousand entries.
  if (rng.chance(0.5)) {
    model.push(messageField(F.model.metadata, 'StringStringEntryProto', [stringField(F.entry.key, 'k'), stringField(F.entry.value, 'v'.repeat(1 << 20))]));
    return 'header:metadata-huge';
  }
  for (let i = 0; i < 10000; i++) model.push(messageField(F.model.metadata, 'StringStringEntryProto', [stringField(F.entry.key, `k${i}`), stringField(F.entry.value, '')]));
  return 'header:metadata-many';
}

// ---------------------------------------------------------------------------------------------------
// Graph: nodes, attributes, value infos

const OPS = [
  'Loop', 'If', 'Scan', 'Reshape', 'Expand', 'Tile', 'ConstantOfShape', 'Range', 'Resize', 'Pad', 'Slice', 'Gather', 'GatherElements', 'GatherND',
  'ScatterND', 'Split', 'Concat', 'TopK', 'NonZero', 'Unique', 'Einsum', 'MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'LSTM', 'GRU', 'RNN', 'Attention',
  'LayerNormalization', 'Softmax', 'CumSum', 'OneHot', 'Trilu', 'Where', 'Compress', 'Squeeze', 'Unsqueeze', 'Transpose', 'ReduceSum', 'ArgMax',
  'Cast', 'Identity', 'Shape', 'Size', 'Constant', 'SequenceAt', 'SplitToSequence', 'StringNormalizer', 'Dropout', 'Foo', '',
];
const DOMAINS = ['com.microsoft', 'ai.onnx.ml', 'ai.onnx', 'evil', 'com.microsoft.nchwc'];

function valueNames(graph: WireField[]): string[] {
  const names: string[] = [];
  for (const n of all(graph, F.graph.node)) for (const o of all(n.children ?? [], F.node.output)) names.push(fieldText(o) ?? '');
  for (const v of [...all(graph, F.graph.input), ...all(graph, F.graph.initializer)]) {
    names.push(fieldText(one(v.children ?? [], v.field === F.graph.initializer ? F.tensor.name : F.valueInfo.name)) ?? '');
  }
  return names;
}

/**
 * The bytes of a graph whose only node holds, as attribute `body`, the next graph down: `depth` graphs
 * deep. Written outside in, every length known from the sizes below it (20,000 levels nested by
 * re-encoding would copy gigabytes).
 */
function nestedGraphBytes(depth: number): Uint8Array {
  const head = (parts: WireField[]) => encodeMessage(parts);
  const nodeHead = head([stringField(F.node.input, 'x'), stringField(F.node.output, 'y'), stringField(F.node.op, 'Loop')]);
  const attrHead = head([stringField(F.attr.name, 'body'), varintField(F.attr.type, 5)]);
  const tag = (field: number) => (field << 3) | WIRE.LEN;
  const prefixes: number[][] = [];
  let inner = 0;
  for (let i = 0; i < depth; i++) {
    const g = [tag(F.attr.g), ...varintBytes(inner)];
    const attrLen = attrHead.length + g.length + inner;
    const a = [tag(F.node.attribute), ...varintBytes(attrLen)];
    const nodeLen = nodeHead.length + a.length + attrLen;
    const prefix = [tag(F.graph.node), ...varintBytes(nodeLen), ...nodeHead, ...a, ...attrHead, ...g];
    prefixes.push(prefix);
    inner += prefix.length;
  }
  const out = new Uint8Array(inner);
  let at = 0;
  for (let i = prefixes.length - 1; i >= 0; i--) {
    out.set(prefixes[i], at);
    at += prefixes[i].length;
  }
  return out;
}

function mutateNode(rng: Rng, root: WireField[], graph: WireField[]): string {
  const nodes = all(graph, F.graph.node);
  if (!nodes.length) return 'node:none';
  const node = rng.pick(nodes);
  const n = node.children ?? [];
  const op = rng.int(11);
  if (op === 0) {
    const others = nodes.map((x) => fieldText(one(x.children ?? [], F.node.op)) ?? '');
    setString(n, F.node.op, rng.chance(0.3) ? rng.pick(others) : rng.pick(OPS));
    return 'node:op-type';
  }
  if (op === 1) {
    setString(n, F.node.domain, rng.pick(DOMAINS));
    return 'node:domain';
  }
  if (op === 2) {
    const inputs = all(n, F.node.input);
    const names = valueNames(graph);
    const how = rng.int(5);
    if (how === 0 && inputs.length) inputs[rng.int(inputs.length)].bytes = new TextEncoder().encode(rng.pick(['', 'dangling', names[names.length - 1] ?? 'x']));
    else if (how === 1) remove(n, (f) => f.field === F.node.input);
    else if (how === 2) for (let i = 0; i < 100; i++) n.splice(0, 0, stringField(F.node.input, rng.pick(names) ?? ''));
    else if (how === 3 && inputs.length) {
      // A cycle: the node reads its own output.
      const out = one(n, F.node.output);
      if (out?.bytes) inputs[0].bytes = out.bytes;
    } else n.push(stringField(F.node.input, rng.pick(names) ?? ''));
    return `node:inputs-${['rename', 'none', 'hundred', 'cycle', 'extra'][how]}`;
  }
  if (op === 3) {
    const outputs = all(n, F.node.output);
    const names = valueNames(graph);
    if (outputs.length && rng.chance(0.7)) outputs[rng.int(outputs.length)].bytes = new TextEncoder().encode(rng.pick([...names, '']));
    else remove(n, (f) => f.field === F.node.output);
    return 'node:outputs';
  }
  if (op === 4) {
    const how = rng.int(4);
    const i = graph.indexOf(node);
    if (how === 0) graph.splice(i, 1);
    else if (how === 1) graph.splice(i, 0, clone(node));
    else if (how === 2) {
      const order = graph.filter((f) => f.field === F.graph.node).reverse();
      let k = 0;
      for (let j = 0; j < graph.length; j++) if (graph[j].field === F.graph.node) graph[j] = order[k++];
    } else {
      // Five thousand Identity nodes in a chain after the graph's first input.
      const input = fieldText(one(one(graph, F.graph.input)?.children ?? [], F.valueInfo.name)) ?? 'x';
      for (let j = 0; j < 5000; j++) {
        graph.push(messageField(F.graph.node, 'NodeProto', [stringField(F.node.input, j ? `chain${j - 1}` : input), stringField(F.node.output, `chain${j}`), stringField(F.node.op, 'Identity'), stringField(F.node.name, `chain${j}`)]));
      }
    }
    return `node:${['drop', 'duplicate', 'reverse', 'chain'][how]}`;
  }
  if (op === 5) {
    // Subgraphs nested deeper than any parser's recursion limit, or just enough to reach it.
    const depth = rng.pick([10, 50, 101, 1000, 20000]);
    n.push(messageField(F.node.attribute, 'AttributeProto', [stringField(F.attr.name, 'body'), varintField(F.attr.type, 5), { field: F.attr.g, wire: WIRE.LEN, bytes: nestedGraphBytes(depth) }]));
    return `node:nested-${depth}`;
  }
  if (op === 6) {
    // The main graph (initializers and all) as a subgraph of one of its own nodes.
    const main = one(root, F.model.graph);
    if (main?.children) n.push(messageField(F.node.attribute, 'AttributeProto', [stringField(F.attr.name, rng.pick(['body', 'then_branch', 'else_branch'])), varintField(F.attr.type, 5), messageField(F.attr.g, 'GraphProto', main.children.map(clone))]));
    return 'node:main-graph-as-subgraph';
  }
  const attrs = all(n, F.node.attribute);
  if (!attrs.length) {
    n.push(messageField(F.node.attribute, 'AttributeProto', [stringField(F.attr.name, rng.pick(['axis', 'perm', 'to', 'direction', 'hidden_size'])), varintField(F.attr.type, 2), varintField(F.attr.i, absurdVarint(rng, 0n))]));
    return 'attr:added';
  }
  const a = rng.pick(attrs);
  const ac = a.children ?? [];
  const what = rng.int(6);
  if (what === 0) {
    remove(n, (f) => f === a);
    return 'attr:drop';
  }
  if (what === 1) {
    setVarint(ac, F.attr.type, rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99]));
    return 'attr:type';
  }
  if (what === 2) {
    const i = one(ac, F.attr.i);
    if (i) i.varint = absurdVarint(rng, i.varint ?? 0n);
    else ac.push(varintField(F.attr.i, absurdVarint(rng, 0n)));
    return 'attr:int';
  }
  if (what === 3) {
    const ints = all(ac, F.attr.ints);
    if (ints.length) rng.pick(ints).varint = absurdVarint(rng, 0n);
    else for (let i = 0; i < rng.pick([1, 10000]); i++) ac.push(varintField(F.attr.ints, rng.pick([0, -1, 2 ** 31, 1])));
    return 'attr:ints';
  }
  if (what === 4) {
    const g = one(ac, F.attr.g);
    if (g) remove(ac, (f) => f === g);
    else ac.push(messageField(F.attr.g, 'GraphProto', []));
    return g ? 'attr:graph-removed' : 'attr:graph-empty';
  }
  setString(ac, F.attr.name, rng.pick(['', 'axis', 'body', 'x'.repeat(1000)]));
  return 'attr:name';
}

function mutateValueInfo(rng: Rng, graph: WireField[]): string {
  const vis = [...all(graph, F.graph.input), ...all(graph, F.graph.output), ...all(graph, F.graph.valueInfo)];
  const op = rng.int(6);
  if (op === 0) {
    // value_info that contradicts what a node computes (onnxruntime merges it into shape inference).
    const names = valueNames(graph);
    const dims = Array.from({ length: rng.int(4) }, () => messageField(1, 'Dimension', [varintField(1, rng.pick([0, 1, 7, 2 ** 31, -1]))]));
    graph.push(messageField(F.graph.valueInfo, 'ValueInfoProto', [stringField(F.valueInfo.name, rng.pick(names) ?? ''), messageField(F.valueInfo.type, 'TypeProto', [messageField(1, 'TypeProto.Tensor', [varintField(1, rng.pick([1, 7, 8, 9, 99])), messageField(2, 'TensorShapeProto', dims)])])]));
    return 'value:contradicting-info';
  }
  if (!vis.length) return 'value:none';
  const v = rng.pick(vis);
  const vc = v.children ?? [];
  const kind = v.field === F.graph.input ? 'input' : v.field === F.graph.output ? 'output' : 'info';
  const tensor = one(one(vc, F.valueInfo.type)?.children ?? [], 1)?.children;
  const dims = tensor ? all(one(tensor, 2)?.children ?? [], 1) : [];
  if (op === 1 && tensor) {
    setVarint(tensor, 1, rng.pick([0, 2, 7, 8, 9, 10, 11, 16, 99, -1]));
    return `value:${kind}-elem-type`;
  }
  if (op === 2 && dims.length) {
    const d = rng.pick(dims).children ?? [];
    remove(d, (f) => f.field === 1 || f.field === 2);
    if (rng.chance(0.8)) d.push(varintField(1, absurdVarint(rng, 3n)));
    else d.push(stringField(2, rng.pick(['', 'N', 'x'.repeat(300)])));
    return `value:${kind}-dim`;
  }
  if (op === 3 && tensor) {
    const shape = one(tensor, 2);
    if (shape?.children && rng.chance(0.6)) shape.children.push(...Array.from({ length: rng.pick([1, 60]) }, () => messageField(1, 'Dimension', [varintField(1, 1)])));
    else remove(tensor, (f) => f.field === 2);
    return `value:${kind}-rank`;
  }
  if (op === 4) {
    const how = rng.int(3);
    const i = graph.indexOf(v);
    if (how === 0) graph.splice(i, 1);
    else if (how === 1) graph.splice(i, 0, clone(v));
    else remove(vc, (f) => f.field === F.valueInfo.type);
    return `value:${kind}-${['drop', 'duplicate', 'untyped'][how]}`;
  }
  setString(vc, F.valueInfo.name, rng.pick(['', 'missing', ...valueNames(graph)]));
  return `value:${kind}-name`;
}

// ---------------------------------------------------------------------------------------------------

/** One mutation of an ONNX model folder (`model.onnx`, and `model.onnx.data` when the seed has one). */
export function mutateOnnx(rng: Rng, pristine: Map<string, Uint8Array>): OnnxMutation {
  const files = new Map(pristine);
  const model = files.get(ONNX_FILE)!;
  const data = files.get(ONNX_DATA_FILE);
  const r = rng.next();
  if (r < 0.15) {
    const m = mutateBytes(rng, model);
    files.set(ONNX_FILE, m.bytes);
    return { name: `bytes:${m.name}`, files };
  }
  if (r < 0.22 && data) {
    if (rng.chance(0.25)) {
      files.delete(ONNX_DATA_FILE);
      return { name: 'data:missing', files };
    }
    const m = mutateBytes(rng, data);
    files.set(ONNX_DATA_FILE, m.bytes);
    return { name: `data:${m.name}`, files };
  }
  const root = parseMessage(model, 'ModelProto', ONNX_SCHEMA);
  if (!root) throw new Error('fuzz corpus: a seed ONNX file does not parse');
  const graph = one(root, F.model.graph)?.children ?? [];
  let name: string;
  if (r < 0.4) name = wireLie(rng, root);
  else {
    const which = rng.weighted<string>([[4, 'tensor'], [1, 'header'], [4, 'node'], [2, 'value']]);
    // Mostly the main graph; a subgraph (a Scan or Loop body) when the model has one.
    const graphs = messagesOfType(root, 'ModelProto', 'GraphProto');
    const g = graphs.length > 1 && rng.chance(0.25) ? rng.pick(graphs.slice(1)) : graph;
    if (which === 'tensor') name = mutateTensor(rng, root, data?.length ?? 0);
    else if (which === 'header') name = mutateHeader(rng, root);
    else if (which === 'node') name = mutateNode(rng, root, g);
    else name = mutateValueInfo(rng, g);
  }
  files.set(ONNX_FILE, encodeMessage(root));
  return { name, files };
}
