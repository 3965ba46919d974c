/**
 * What the writer tests used h5dump, h5ls and h5debug for, through h5wasm (the HDF5 reference library
 * compiled to wasm, already a dependency), so the tests need nothing installed beside Node:
 * - `h5Header`: every group, dataset and attribute with its datatype (class, size, byte order, sign,
 *   string kind: variable or fixed size, padding, character set; enum members), dataspace, maxshape,
 *   chunking and filters, as `h5dump -H` shows them (and then some);
 * - `h5List`: the recursive listing `h5ls -r` prints;
 * - `h5DatasetBytes` / `h5AttrBytes`: the values exactly as the library reads them in the file's own
 *   type (float16 and fixed-length strings with their padding included), bypassing h5wasm's decoding;
 * - `superblock`: the superblock fields read straight from the file's bytes.
 */
import { readFileSync } from 'node:fs';
import h5wasm, { BrokenSoftLink, ExternalLink, Module } from 'h5wasm/node';

export interface H5Type {
  class: string;
  size: number;
  /** Byte order and sign: numbers only (HDF5 gives strings no order). */
  order?: 'LE' | 'BE';
  signed?: boolean;
  vlen: boolean;
  cset?: 'ascii' | 'utf8';
  strpad?: 'nullterm' | 'nullpad' | 'spacepad';
  enumMembers?: Record<string, number>;
  base?: H5Type;
}

export interface H5Space {
  /** null: a null dataspace; []: a scalar. */
  shape: number[] | null;
  maxshape: number[] | null;
}

export interface H5Attribute extends H5Space {
  type: H5Type;
}

export interface H5DatasetNode extends H5Space {
  kind: 'dataset';
  type: H5Type;
  chunks: number[] | null;
  filters: number[];
  attrs: Record<string, H5Attribute>;
}

export interface H5GroupNode {
  kind: 'group';
  attrs: Record<string, H5Attribute>;
  members: Record<string, H5Node>;
}

export type H5Node = H5GroupNode | H5DatasetNode | { kind: 'link' | 'datatype'; target: string };

const CLASSES = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'vlen', 'array'];
const STRPADS = ['nullterm', 'nullpad', 'spacepad'] as const;

type Metadata = InstanceType<typeof h5wasm.Dataset>['metadata'];

const NUMERIC = new Set(['integer', 'float', 'enum', 'bitfield', 'time']);

function typeOf(m: Metadata): H5Type {
  const t: H5Type = { class: CLASSES[m.type] ?? `class ${m.type}`, size: m.size, vlen: m.vlen };
  if (NUMERIC.has(t.class)) {
    t.order = m.littleEndian ? 'LE' : 'BE';
    t.signed = m.signed;
  }
  if (m.type === 3) {
    t.cset = m.cset === 1 ? 'utf8' : 'ascii';
    t.strpad = STRPADS[m.strpad ?? 0];
  }
  if (m.enum_type) {
    t.enumMembers = { ...m.enum_type.members };
    t.base = { class: CLASSES[m.enum_type.type] ?? `class ${m.enum_type.type}`, size: m.size, order: t.order, signed: m.signed, vlen: false };
  }
  if (m.vlen_type) t.base = typeOf({ ...m.vlen_type, chunks: null, maxshape: null, shape: null, total_size: 0 } as Metadata);
  if (m.array_type) t.base = typeOf(m.array_type as Metadata);
  return t;
}

async function withFile<T>(path: string, fn: (f: InstanceType<typeof h5wasm.File>) => T): Promise<T> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  if (f.file_id < 0n) throw new Error(`HDF5 cannot open ${path}`);
  try {
    return fn(f);
  } finally {
    f.close();
  }
}

function attrsOf(obj: InstanceType<typeof h5wasm.Group> | InstanceType<typeof h5wasm.Dataset>): Record<string, H5Attribute> {
  const out: Record<string, H5Attribute> = {};
  for (const [name, a] of Object.entries(obj.attrs)) {
    out[name] = { type: typeOf(a.metadata), shape: a.metadata.shape, maxshape: a.metadata.maxshape };
  }
  return out;
}

function nodeOf(entity: unknown, path: string): H5Node {
  if (entity instanceof h5wasm.Group) {
    const members: Record<string, H5Node> = {};
    for (const name of entity.keys()) members[name] = nodeOf(entity.get(name), `${path === '/' ? '' : path}/${name}`);
    return { kind: 'group', attrs: attrsOf(entity), members };
  }
  if (entity instanceof h5wasm.Dataset) {
    const m = entity.metadata;
    return {
      kind: 'dataset',
      type: typeOf(m),
      shape: m.shape,
      maxshape: m.maxshape,
      chunks: m.chunks,
      filters: entity.filters.map((f) => f.id),
      attrs: attrsOf(entity),
    };
  }
  if (entity instanceof h5wasm.Datatype) return { kind: 'datatype', target: path };
  if (entity instanceof BrokenSoftLink) return { kind: 'link', target: entity.target };
  if (entity instanceof ExternalLink) return { kind: 'link', target: `${entity.filename}:${entity.obj_path}` };
  throw new Error(`${path}: an HDF5 object h5wasm cannot describe`);
}

/** The structure `h5dump -H` prints: the root group with every member, attribute, datatype and dataspace. */
export function h5Header(path: string): Promise<H5GroupNode> {
  return withFile(path, (f) => nodeOf(f, '/') as H5GroupNode);
}

/** The same structure without one member of the root group (e.g. the optimizer state readers drop). */
export function withoutMember(root: H5GroupNode, name: string): H5GroupNode {
  const members = { ...root.members };
  delete members[name];
  return { ...root, members };
}

/** `h5ls -r`: one line per object, `/path Group` or `/path Dataset {d0, d1}`, in name order. */
export async function h5List(path: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = (node: H5Node, at: string) => {
    if (node.kind !== 'group') return;
    for (const name of Object.keys(node.members).sort()) {
      const child = node.members[name];
      const p = `${at}/${name}`;
      if (child.kind === 'dataset') lines.push(`${p} Dataset {${child.shape === null ? 'NULL' : child.shape.length === 0 ? 'SCALAR' : child.shape.join(', ')}}`);
      else lines.push(`${p} ${child.kind === 'group' ? 'Group' : child.kind}`);
      walk(child, p);
    }
  };
  walk(await h5Header(path), '');
  return lines;
}

function heapBytes(nbytes: number, read: (ptr: bigint) => void, reclaim: (ptr: bigint) => void): Uint8Array {
  const ptr = Module._malloc(Math.max(nbytes, 1));
  try {
    read(BigInt(ptr));
    const bytes = Module.HEAPU8.slice(ptr, ptr + nbytes);
    reclaim(BigInt(ptr));
    return bytes;
  } finally {
    Module._free(ptr);
  }
}

/** A dataset's values as the HDF5 library reads them in the file's own datatype (raw float16 bits too). */
export function h5DatasetBytes(path: string, dataset: string): Promise<Uint8Array> {
  return withFile(path, (f) => {
    const ds = f.get(dataset);
    if (!(ds instanceof h5wasm.Dataset)) throw new Error(`${path}: no dataset ${dataset}`);
    const m = ds.metadata;
    if (m.vlen) throw new Error(`${path}/${dataset}: variable-length values have no fixed bytes`);
    return heapBytes(
      m.size * m.total_size,
      (ptr) => Module.get_dataset_data(f.file_id, ds.path, null, null, null, ptr),
      () => undefined,
    );
  });
}

/** A fixed-size attribute's stored bytes (a fixed-length string array with its padding). */
export function h5AttrBytes(path: string, object: string, name: string): Promise<Uint8Array> {
  return withFile(path, (f) => {
    const m = Module.get_attribute_metadata(f.file_id, object, name);
    if (m.vlen) throw new Error(`${path}${object} @${name}: variable-length values have no fixed bytes`);
    return heapBytes(
      m.size * m.total_size,
      (ptr) => Module.get_attribute_data(f.file_id, object, name, ptr),
      () => undefined,
    );
  });
}

/** A string attribute's value, read by the HDF5 library. */
export function h5StringAttr(path: string, object: string, name: string): Promise<string> {
  return withFile(path, (f) => {
    const obj = object === '/' ? f : f.get(object);
    if (!(obj instanceof h5wasm.Group) && !(obj instanceof h5wasm.Dataset)) throw new Error(`${path}: no object ${object}`);
    const v = obj.attrs[name]?.value;
    if (typeof v !== 'string') throw new Error(`${path}${object} @${name}: not a string attribute`);
    return v;
  });
}

/** Reads every attribute value of every object (what `h5dump -A` does); returns how many it read. */
export function h5ReadAllAttributes(path: string): Promise<number> {
  return withFile(path, (f) => {
    let n = 0;
    const visit = (obj: InstanceType<typeof h5wasm.Group> | InstanceType<typeof h5wasm.Dataset>) => {
      for (const a of Object.values(obj.attrs)) {
        void a.value;
        n++;
      }
      if (obj instanceof h5wasm.Group) {
        for (const name of obj.keys()) {
          const child = obj.get(name);
          if (child instanceof h5wasm.Group || child instanceof h5wasm.Dataset) visit(child);
        }
      }
    };
    visit(f);
    return n;
  });
}

/** Superblock fields, from the file's bytes (HDF5 spec, "Superblock" format, versions 0 and 1). */
export function superblock(path: string): { version: number; offsetSize: number; lengthSize: number; endOfFile: bigint; fileSize: number } {
  const b = readFileSync(path);
  if (!b.subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error(`${path}: no HDF5 signature at 0`);
  const version = b[8];
  if (version > 1) throw new Error(`${path}: superblock version ${version}`);
  const offsetSize = b[13];
  const lengthSize = b[14];
  // after the fixed 24 bytes (v0; v1 adds 4): base address, free-space address, end-of-file address
  const at = (version === 0 ? 24 : 28) + 2 * offsetSize;
  return { version, offsetSize, lengthSize, endOfFile: b.readBigUInt64LE(at), fileSize: b.length };
}
