/**
 * A small HDF5 writer: a tree of groups, datasets and attributes in memory, serialized to the bytes
 * h5py writes with the HDF5 library's default ("earliest") format: superblock version 0, version 1
 * object headers, old-style groups (symbol table: v1 B-tree, local heap, symbol nodes), contiguous
 * datasets, variable-length strings in global heap collections.
 *
 * Why not h5wasm: its writer cannot create float16 datasets (weights must round-trip bit for bit),
 * nor h5py's string kinds (it writes UTF-8 strings space-padded and fixed-length ones null-terminated,
 * where Keras files hold null-terminated UTF-8 and null-padded fixed-length strings), nor bool
 * enums, and it writes superblock version 2. Writing the format directly also keeps the writers free
 * of temporary files: bytes in, bytes out.
 *
 * Format facts (HDF5 File Format Specification, checked byte for byte against Keras-written files
 * with h5debug): every object-header message is padded to 8 bytes and at most 65535 bytes long; a
 * group's B-tree node holds up to 32 children and a symbol node up to 8 entries (the K values in the
 * superblock); a local heap's empty free list is the offset 1; global heap collections are at least
 * 4096 bytes and end with a free-space object (index 0) whose size counts its own header.
 */
import { KerasInteropError } from '../errors.js';
import { type WeightData, type WeightDType, bytesPerElement } from '../model/types.js';
import { type Part, concatParts, partSize } from './parts.js';

export type H5Cset = 'ascii' | 'utf8';

export type H5AttrValue =
  /** A scalar variable-length string (h5py: a Python `str` is UTF-8, `bytes` ASCII). */
  | { kind: 'vlen-string'; cset: H5Cset; value: string }
  /** A 1-D variable-length string array (h5py: a list of `bytes`). */
  | { kind: 'vlen-string-array'; cset: H5Cset; values: string[] }
  /** A 1-D fixed-length, null-padded string array (h5py: a NumPy `S<size>` array). */
  | { kind: 'fixed-string-array'; cset: H5Cset; size: number; values: string[] }
  /** A numeric array (h5py: an empty list is a zero-length float64 array). */
  | { kind: 'numeric'; dtype: WeightDType; shape: number[]; data: WeightData };

export interface H5Attribute {
  name: string;
  value: H5AttrValue;
}

/** A dataset's values: in hand, or made when the dataset is written (a weight streamed from its source). */
export type H5DatasetData = WeightData | (() => WeightData);

export class H5Dataset {
  readonly attrs: H5Attribute[] = [];
  constructor(
    readonly dtype: WeightDType,
    readonly shape: number[],
    readonly data: H5DatasetData,
  ) {}

  setAttr(name: string, value: H5AttrValue): this {
    setAttr(this.attrs, name, value);
    return this;
  }
}

/** The values must fill the shape, each as wide as the dtype (a float64 array is no float32 dataset). */
function checkValues(data: WeightData, dtype: WeightDType, shape: number[], place: string): void {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new KerasInteropError('WRITE_FAILED', `dataset holds ${data.length} values, its shape [${shape.join(', ')}] says ${count}`, { place });
  }
  if (count > 0 && data.BYTES_PER_ELEMENT !== bytesPerElement(dtype)) {
    throw new KerasInteropError('WRITE_FAILED', `a ${dtype} dataset was given ${data.BYTES_PER_ELEMENT}-byte values`, { place });
  }
}

function setAttr(attrs: H5Attribute[], name: string, value: H5AttrValue): void {
  const at = attrs.findIndex((a) => a.name === name);
  if (at >= 0) attrs[at] = { name, value };
  else attrs.push({ name, value });
}

function splitPath(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) {
    if (p === '.') throw new KerasInteropError('WRITE_FAILED', `HDF5 path "${path}" has a "." component`, { place: path });
  }
  if (parts.length === 0) throw new KerasInteropError('WRITE_FAILED', `empty HDF5 path "${path}"`, { place: path });
  return parts;
}

export class H5Group {
  /** Attributes in creation order (the order they are written in the object header). */
  readonly attrs: H5Attribute[] = [];
  readonly children = new Map<string, H5Group | H5Dataset>();

  constructor(readonly path: string = '/') {}

  setAttr(name: string, value: H5AttrValue): this {
    setAttr(this.attrs, name, value);
    return this;
  }

  hasAttr(name: string): boolean {
    return this.attrs.some((a) => a.name === name);
  }

  /** The group at `path` below this one, created with its parents when missing (like h5py). */
  group(path: string): H5Group {
    let g: H5Group = this;
    for (const part of splitPath(path)) {
      const child = g.children.get(part);
      if (child instanceof H5Dataset) {
        throw new KerasInteropError('WRITE_FAILED', `cannot create group "${part}": a dataset of that name exists`, {
          place: joinH5(g.path, part),
        });
      }
      if (child) {
        g = child;
      } else {
        const made: H5Group = new H5Group(joinH5(g.path, part));
        g.children.set(part, made);
        g = made;
      }
    }
    return g;
  }

  /**
   * Creates a dataset at `path` (a name with `/` makes intermediate groups, as h5py does). `data` may be
   * a loader, called when the dataset's bytes are written (its length is checked then).
   */
  dataset(path: string, dtype: WeightDType, shape: number[], data: H5DatasetData): H5Dataset {
    const parts = splitPath(path);
    const leaf = parts.pop()!;
    const parent = parts.length ? this.group(parts.join('/')) : this;
    if (parent.children.has(leaf)) {
      throw new KerasInteropError('WRITE_FAILED', `"${leaf}" already exists`, { place: joinH5(parent.path, leaf) });
    }
    if (typeof data !== 'function') checkValues(data, dtype, shape, joinH5(parent.path, leaf));
    const ds = new H5Dataset(dtype, [...shape], data);
    parent.children.set(leaf, ds);
    return ds;
  }

  get(path: string): H5Group | H5Dataset | undefined {
    let node: H5Group | H5Dataset | undefined = this;
    for (const part of path.split('/').filter((p) => p !== '')) {
      if (!(node instanceof H5Group)) return undefined;
      node = node.children.get(part);
    }
    return node;
  }
}

function joinH5(a: string, b: string): string {
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

// ---------------------------------------------------------------------------------------------
// Serialization

const UNDEF = 0xffffffffffffffffn;
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const GROUP_LEAF_K = 4; // symbol node: up to 2K = 8 entries
const GROUP_INTERNAL_K = 16; // B-tree node: up to 2K = 32 children
const SNOD_SIZE = 8 + 2 * GROUP_LEAF_K * 40;
const BTREE_SIZE = 24 + (2 * GROUP_INTERNAL_K + 1) * 8 + 2 * GROUP_INTERNAL_K * 8;
const GHEAP_MIN = 4096;
const GHEAP_TARGET = 1 << 20;
const MAX_MESSAGE = 0xffff;

const enc = new TextEncoder();
const align8 = (n: number): number => (n + 7) & ~7;

interface Block {
  addr: number;
  bytes: Uint8Array;
  view: DataView;
}

/** Bytes appended in order; small blocks are filled in place after allocation. */
class Sink {
  readonly parts: Part[] = [];
  size = 0;

  alloc(n: number): Block {
    const bytes = new Uint8Array(n);
    const addr = this.size;
    this.parts.push(bytes);
    this.size += n;
    return { addr, bytes, view: new DataView(bytes.buffer) };
  }

  /** Appends bytes without copying them, or a deferred part (weight data). */
  raw(bytes: Part): number {
    const addr = this.size;
    const n = partSize(bytes);
    if (n) this.parts.push(bytes);
    this.size += n;
    const pad = align8(this.size) - this.size;
    if (pad) this.alloc(pad);
    return addr;
  }
}

/** Little-endian writer over a byte block. */
class Cursor {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  ) {}
  u8(v: number): this {
    this.view.setUint8(this.pos, v);
    this.pos += 1;
    return this;
  }
  u16(v: number): this {
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
    return this;
  }
  u64(v: number | bigint): this {
    this.view.setBigUint64(this.pos, typeof v === 'bigint' ? v : BigInt(v), true);
    this.pos += 8;
    return this;
  }
  put(b: Uint8Array | number[]): this {
    this.bytes.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  skip(n: number): this {
    this.pos += n;
    return this;
  }
  to(n: number): this {
    this.pos = n;
    return this;
  }
}

function concatBytes(parts: (Uint8Array | number[])[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// --- datatype and dataspace messages ---------------------------------------------------------

function fixedPointType(size: number, signed: boolean): Uint8Array {
  const c = new Cursor(new Uint8Array(12));
  c.u8(0x10).u8(signed ? 0x08 : 0).u8(0).u8(0).u32(size).u16(0).u16(size * 8);
  return c.bytes;
}

function floatType(size: 2 | 4 | 8): Uint8Array {
  // exponent location/size, mantissa size, bias per IEEE 754 binary16/32/64
  const p = { 2: [10, 5, 10, 15], 4: [23, 8, 23, 127], 8: [52, 11, 52, 1023] }[size];
  const c = new Cursor(new Uint8Array(20));
  c.u8(0x11).u8(0x20).u8(size * 8 - 1).u8(0).u32(size);
  c.u16(0).u16(size * 8).u8(p[0]).u8(p[1]).u8(0).u8(p[2]).u32(p[3]);
  return c.bytes;
}

/** h5py's bool: an enum over int8 with FALSE = 0, TRUE = 1. */
function boolType(): Uint8Array {
  const base = fixedPointType(1, true);
  const names = ['FALSE', 'TRUE'].map((n) => {
    const b = new Uint8Array(align8(n.length + 1));
    b.set(enc.encode(n));
    return b;
  });
  const head = new Cursor(new Uint8Array(8));
  head.u8(0x18).u16(2).u8(0).u32(1);
  return concatBytes([head.bytes, base, ...names, [0, 1]]);
}

function numericType(dtype: WeightDType): Uint8Array {
  switch (dtype) {
    case 'float16':
      return floatType(2);
    case 'float32':
      return floatType(4);
    case 'float64':
      return floatType(8);
    case 'bool':
      return boolType();
    default: {
      const m = /^(u?)int(8|16|32|64)$/.exec(dtype);
      if (!m) throw new KerasInteropError('UNSUPPORTED_DTYPE', `cannot write dtype ${dtype} to HDF5`);
      return fixedPointType(Number(m[2]) / 8, m[1] === '');
    }
  }
}

const CSET = { ascii: 0, utf8: 1 } as const;

function vlenStringType(cset: H5Cset): Uint8Array {
  const c = new Cursor(new Uint8Array(20));
  // class 9 (variable-length), type 1 (string), padding 0 (null-terminated), character set
  c.u8(0x19).u8(0x01).u8(CSET[cset]).u8(0).u32(16);
  c.put(fixedPointType(1, false));
  return c.bytes;
}

function fixedStringType(cset: H5Cset, size: number): Uint8Array {
  const c = new Cursor(new Uint8Array(8));
  // class 3 (string), padding 1 (null-padded), character set in the high nibble
  c.u8(0x13).u8(0x01 | (CSET[cset] << 4)).u8(0).u8(0).u32(size);
  return c.bytes;
}

/** Version 1 dataspace; rank 0 is a scalar. Max dims are written equal to dims, as h5py does. */
function dataspace(shape: number[] | null): Uint8Array {
  if (shape === null) {
    const c = new Cursor(new Uint8Array(8));
    c.u8(1).u8(0).u8(0).u8(0).u32(0);
    return c.bytes;
  }
  const c = new Cursor(new Uint8Array(8 + 16 * shape.length));
  c.u8(1).u8(shape.length).u8(shape.length ? 1 : 0).u8(0).u32(0);
  for (const d of shape) c.u64(d);
  for (const d of shape) c.u64(d);
  return c.bytes;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function dataBytes(data: WeightData): Uint8Array {
  if (!LITTLE_ENDIAN && data.BYTES_PER_ELEMENT > 1) {
    throw new KerasInteropError('WRITE_FAILED', 'writing HDF5 needs a little-endian machine');
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// --- object headers --------------------------------------------------------------------------

interface Message {
  type: number;
  flags: number;
  data: Uint8Array;
}

const MSG = { dataspace: 0x01, datatype: 0x03, fill: 0x05, layout: 0x08, attribute: 0x0c, stab: 0x11 } as const;

function writeObjectHeader(sink: Sink, messages: Message[], place: string): number {
  let size = 0;
  for (const m of messages) {
    const padded = align8(m.data.length);
    if (padded > MAX_MESSAGE) {
      throw new KerasInteropError(
        'WRITE_FAILED',
        `an object-header message of ${padded} bytes exceeds HDF5's limit of ${MAX_MESSAGE} (an attribute too large for one object header)`,
        { place },
      );
    }
    size += 8 + padded;
  }
  const block = sink.alloc(16 + size);
  const c = new Cursor(block.bytes, block.view);
  c.u8(1).u8(0).u16(messages.length).u32(1).u32(size).u32(0);
  for (const m of messages) {
    c.u16(m.type).u16(align8(m.data.length)).u8(m.flags).skip(3);
    c.put(m.data);
    c.to(align8(c.pos));
  }
  return block.addr;
}

interface VlenRef {
  length: number;
  collection: number;
  index: number;
}

function attributeMessage(attr: H5Attribute, refs: Map<H5AttrValue, VlenRef[]>, place: string): Message {
  const v = attr.value;
  let type: Uint8Array;
  let space: Uint8Array;
  let data: Uint8Array;
  if (v.kind === 'vlen-string' || v.kind === 'vlen-string-array') {
    type = vlenStringType(v.cset);
    const items = refs.get(v)!;
    space = dataspace(v.kind === 'vlen-string' ? null : [items.length]);
    const c = new Cursor(new Uint8Array(16 * items.length));
    for (const r of items) c.u32(r.length).u64(r.collection).u32(r.index);
    data = c.bytes;
  } else if (v.kind === 'fixed-string-array') {
    type = fixedStringType(v.cset, v.size);
    space = dataspace([v.values.length]);
    data = new Uint8Array(v.size * v.values.length);
    v.values.forEach((s, i) => {
      const b = enc.encode(s);
      if (b.length > v.size) {
        throw new KerasInteropError('WRITE_FAILED', `string "${s}" is longer than the attribute's width ${v.size}`, { place });
      }
      data.set(b, i * v.size);
    });
  } else {
    type = numericType(v.dtype);
    space = dataspace(v.shape.length === 0 ? null : v.shape);
    data = dataBytes(v.data);
  }
  const name = enc.encode(attr.name);
  const nameField = new Uint8Array(align8(name.length + 1));
  nameField.set(name);
  const head = new Cursor(new Uint8Array(8));
  head.u8(1).u8(0).u16(name.length + 1).u16(type.length).u16(space.length);
  const pad = (b: Uint8Array) => {
    const out = new Uint8Array(align8(b.length));
    out.set(b);
    return out;
  };
  return { type: MSG.attribute, flags: 0, data: concatBytes([head.bytes, nameField, pad(type), pad(space), data]) };
}

// --- global heap -----------------------------------------------------------------------------

interface HeapObject {
  bytes: Uint8Array;
}

/** Plans the global heap collections holding every variable-length string of the tree. */
class GlobalHeap {
  private collections: HeapObject[][] = [[]];
  private sizes: number[] = [0];
  private pending: { value: H5AttrValue; items: { c: number; i: number; length: number }[] }[] = [];

  add(value: H5AttrValue, strings: string[]): void {
    const items = strings.map((s) => {
      const bytes = enc.encode(s);
      const need = 16 + align8(bytes.length);
      let c = this.collections.length - 1;
      if (this.collections[c].length > 0 && (this.sizes[c] + need > GHEAP_TARGET || this.collections[c].length >= 0xfffe)) {
        this.collections.push([]);
        this.sizes.push(0);
        c++;
      }
      this.collections[c].push({ bytes });
      this.sizes[c] += need;
      return { c, i: this.collections[c].length, length: bytes.length };
    });
    this.pending.push({ value, items });
  }

  /** Writes the collections and returns where each attribute's strings went. */
  write(sink: Sink): Map<H5AttrValue, VlenRef[]> {
    const addrs: number[] = [];
    this.collections.forEach((objs, ci) => {
      if (objs.length === 0) {
        addrs.push(0);
        return;
      }
      const used = 16 + this.sizes[ci];
      const size = Math.max(GHEAP_MIN, used + 16);
      const block = sink.alloc(size);
      const c = new Cursor(block.bytes, block.view);
      c.put(enc.encode('GCOL')).u8(1).skip(3).u64(size);
      objs.forEach((o, i) => {
        c.u16(i + 1).u16(0).u32(0).u64(o.bytes.length).put(o.bytes);
        c.to(align8(c.pos));
      });
      // free space: object 0, its size counting its own header
      const free = size - c.pos;
      c.u16(0).u16(0).u32(0).u64(free);
      addrs.push(block.addr);
    });
    const out = new Map<H5AttrValue, VlenRef[]>();
    for (const p of this.pending) {
      out.set(
        p.value,
        p.items.map((it) => ({ length: it.length, collection: addrs[it.c], index: it.i })),
      );
    }
    return out;
  }
}

function collectStrings(node: H5Group | H5Dataset, heap: GlobalHeap): void {
  for (const a of node.attrs) {
    if (a.value.kind === 'vlen-string') heap.add(a.value, [a.value.value]);
    else if (a.value.kind === 'vlen-string-array') heap.add(a.value, a.value.values);
  }
  if (node instanceof H5Group) for (const child of node.children.values()) collectStrings(child, heap);
}

// --- groups ----------------------------------------------------------------------------------

interface Written {
  header: number;
  /** For groups: the symbol table, cached in the parent's entry as HDF5 does. */
  btree?: number;
  heap?: number;
}

/** HDF5 orders a group's links by strcmp of the names' bytes. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function writeEntry(c: Cursor, nameOffset: number, w: Written): void {
  c.u64(nameOffset).u64(w.header);
  if (w.btree !== undefined && w.heap !== undefined) c.u32(1).u32(0).u64(w.btree).u64(w.heap);
  else c.u32(0).u32(0).skip(16);
}

function writeGroup(sink: Sink, g: H5Group, refs: Map<H5AttrValue, VlenRef[]>): Written {
  const entries = [...g.children.entries()]
    .map(([name, node]) => ({ name, bytes: enc.encode(name), node }))
    .sort((a, b) => compareBytes(a.bytes, b.bytes));
  const written = entries.map((e) => writeNode(sink, e.node, refs, joinH5(g.path, e.name)));

  // local heap: "" at offset 0, then each name null-terminated and padded to 8 bytes
  const offsets: number[] = [];
  let heapSize = 8;
  for (const e of entries) {
    offsets.push(heapSize);
    heapSize += align8(e.bytes.length + 1);
  }
  const heap = sink.alloc(32 + heapSize);
  {
    const c = new Cursor(heap.bytes, heap.view);
    c.put(enc.encode('HEAP')).u8(0).skip(3).u64(heapSize).u64(1).u64(heap.addr + 32);
    entries.forEach((e, i) => c.to(32 + offsets[i]).put(e.bytes));
  }

  // symbol nodes of up to 8 entries
  type Child = { addr: number; maxKey: number };
  let level: Child[] = [];
  for (let start = 0; start < entries.length; start += 2 * GROUP_LEAF_K) {
    const n = Math.min(2 * GROUP_LEAF_K, entries.length - start);
    const node = sink.alloc(SNOD_SIZE);
    const c = new Cursor(node.bytes, node.view);
    c.put(enc.encode('SNOD')).u8(1).u8(0).u16(n);
    for (let i = start; i < start + n; i++) writeEntry(c, offsets[i], written[i]);
    level.push({ addr: node.addr, maxKey: offsets[start + n - 1] });
  }

  // B-tree nodes of up to 32 children, level by level, until one root remains
  let depth = 0;
  let root: number | undefined;
  while (root === undefined) {
    const groups: Child[][] = [];
    for (let i = 0; i < level.length; i += 2 * GROUP_INTERNAL_K) groups.push(level.slice(i, i + 2 * GROUP_INTERNAL_K));
    if (groups.length === 0) groups.push([]);
    const blocks = groups.map(() => sink.alloc(BTREE_SIZE));
    const next: Child[] = [];
    groups.forEach((children, gi) => {
      const c = new Cursor(blocks[gi].bytes, blocks[gi].view);
      c.put(enc.encode('TREE')).u8(0).u8(depth).u16(children.length);
      c.u64(gi > 0 ? BigInt(blocks[gi - 1].addr) : UNDEF);
      c.u64(gi < groups.length - 1 ? BigInt(blocks[gi + 1].addr) : UNDEF);
      // key i is the largest name left of child i (key 0: the previous node's largest, or "")
      c.u64(gi > 0 ? groups[gi - 1][groups[gi - 1].length - 1].maxKey : 0);
      for (const ch of children) c.u64(ch.addr).u64(ch.maxKey);
      next.push({ addr: blocks[gi].addr, maxKey: children.length ? children[children.length - 1].maxKey : 0 });
    });
    if (next.length === 1) root = next[0].addr;
    level = next;
    depth++;
  }

  const stab = new Cursor(new Uint8Array(16));
  stab.u64(root).u64(heap.addr);
  const messages: Message[] = [{ type: MSG.stab, flags: 0, data: stab.bytes }];
  for (const a of g.attrs) messages.push(attributeMessage(a, refs, g.path));
  const header = writeObjectHeader(sink, messages, g.path);
  return { header, btree: root, heap: heap.addr };
}

function writeDataset(sink: Sink, ds: H5Dataset, refs: Map<H5AttrValue, VlenRef[]>, place: string): Written {
  const { data, shape } = ds;
  const bytes: Part =
    typeof data === 'function'
      ? {
          size: shape.reduce((a, b) => a * b, 1) * bytesPerElement(ds.dtype),
          bytes: () => {
            const values = data();
            checkValues(values, ds.dtype, shape, place);
            return dataBytes(values);
          },
        }
      : dataBytes(data);
  const size = partSize(bytes);
  const addr = size ? sink.raw(bytes) : undefined;
  const layout = new Cursor(new Uint8Array(18));
  layout.u8(3).u8(1).u64(addr === undefined ? UNDEF : BigInt(addr)).u64(size);
  // fill value message version 2: allocation late, fill time "if set", default value
  const fill = new Uint8Array([2, 2, 2, 1, 0, 0, 0, 0]);
  const messages: Message[] = [
    { type: MSG.dataspace, flags: 0, data: dataspace(ds.shape.length ? ds.shape : null) },
    { type: MSG.datatype, flags: 1, data: numericType(ds.dtype) },
    { type: MSG.fill, flags: 1, data: fill },
    { type: MSG.layout, flags: 0, data: layout.bytes },
  ];
  for (const a of ds.attrs) messages.push(attributeMessage(a, refs, place));
  return { header: writeObjectHeader(sink, messages, place) };
}

function writeNode(sink: Sink, node: H5Group | H5Dataset, refs: Map<H5AttrValue, VlenRef[]>, place = ''): Written {
  return node instanceof H5Group ? writeGroup(sink, node, refs) : writeDataset(sink, node, refs, place);
}

/** The file's bytes, as parts in order (weights are not copied; loaders are called as they are written). */
export function serializeH5Parts(root: H5Group): Part[] {
  const sink = new Sink();
  const superblock = sink.alloc(96);
  const heap = new GlobalHeap();
  collectStrings(root, heap);
  const refs = heap.write(sink);
  const w = writeGroup(sink, root, refs);
  const c = new Cursor(superblock.bytes, superblock.view);
  c.put(SIGNATURE).u8(0).u8(0).u8(0).u8(0).u8(0).u8(8).u8(8).u8(0);
  c.u16(GROUP_LEAF_K).u16(GROUP_INTERNAL_K).u32(0);
  c.u64(0).u64(UNDEF).u64(sink.size).u64(UNDEF);
  writeEntry(c, 0, w);
  return sink.parts;
}

export function serializeH5(root: H5Group): Uint8Array {
  return concatParts(serializeH5Parts(root));
}
