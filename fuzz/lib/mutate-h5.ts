/**
 * HDF5-aware byte mutations. Keras files and ours use superblock version 0 and version 1 object
 * headers, which carry no checksums, so header fields can be changed in place: dataspace dimensions
 * and ranks, datatype classes and sizes, attribute name/type/space sizes, layout addresses and sizes,
 * message sizes, superblock fields, and the fields after the TREE/HEAP/SNOD/GCOL signatures.
 * Sites are found by scanning for version 1 message headers whose bodies parse.
 */
import type { Rng } from './rng.js';

export interface Field {
  off: number;
  width: 1 | 2 | 4 | 8;
  what: string;
}

function u16(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8);
}

function u32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** Fields of a dataspace body at `at` (sizes of lengths: 8); undefined when it does not parse. */
function dataspaceFields(b: Uint8Array, at: number, limit: number, what: string): Field[] | undefined {
  const version = b[at];
  const rank = b[at + 1];
  const flags = b[at + 2];
  if ((version !== 1 && version !== 2) || rank > 32 || flags > 3) return undefined;
  const dimsAt = at + (version === 1 ? 8 : 4);
  const need = dimsAt - at + rank * 8 * (flags & 1 ? 2 : 1);
  if (need > limit) return undefined;
  const fields: Field[] = [{ off: at + 1, width: 1, what: `${what}.rank` }];
  for (let d = 0; d < rank; d++) fields.push({ off: dimsAt + d * 8, width: 8, what: `${what}.dim${d}` });
  if (flags & 1) for (let d = 0; d < rank; d++) fields.push({ off: dimsAt + (rank + d) * 8, width: 8, what: `${what}.maxdim${d}` });
  if (version === 2) fields.push({ off: at + 3, width: 1, what: `${what}.type` });
  return fields;
}

function datatypeFields(b: Uint8Array, at: number, what: string): Field[] | undefined {
  const version = b[at] >> 4;
  const cls = b[at] & 0x0f;
  if (version < 1 || version > 4 || cls > 10) return undefined;
  const size = u32(b, at + 4);
  if (size === 0 || size > 1 << 16) return undefined;
  return [
    { off: at, width: 1, what: `${what}.class` },
    { off: at + 1, width: 1, what: `${what}.bits0` },
    { off: at + 4, width: 4, what: `${what}.size` },
  ];
}

/** Every header field worth corrupting, found by scanning for version 1 object-header messages. */
export function findH5Fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  if (b.length >= 96 && b[0] === 0x89 && b[1] === 0x48 && b[2] === 0x44 && b[3] === 0x46 && b[8] === 0) {
    out.push(
      { off: 13, width: 1, what: 'superblock.sizeof_offsets' },
      { off: 14, width: 1, what: 'superblock.sizeof_lengths' },
      { off: 16, width: 2, what: 'superblock.leaf_k' },
      { off: 18, width: 2, what: 'superblock.internal_k' },
      { off: 24, width: 8, what: 'superblock.base_address' },
      { off: 40, width: 8, what: 'superblock.eof_address' },
      { off: 64, width: 8, what: 'superblock.root_header_address' },
      { off: 72, width: 4, what: 'superblock.root_cache_type' },
      { off: 80, width: 8, what: 'superblock.root_btree_address' },
      { off: 88, width: 8, what: 'superblock.root_heap_address' },
    );
  }
  for (let i = 0; i + 16 <= b.length; i++) {
    // Signatures of the other metadata blocks.
    if (b[i] === 0x54 && b[i + 1] === 0x52 && b[i + 2] === 0x45 && b[i + 3] === 0x45) {
      out.push(
        { off: i + 4, width: 1, what: 'TREE.type' },
        { off: i + 5, width: 1, what: 'TREE.level' },
        { off: i + 6, width: 2, what: 'TREE.entries' },
        { off: i + 8, width: 8, what: 'TREE.left' },
        { off: i + 24, width: 8, what: 'TREE.key0' },
        { off: i + 32, width: 8, what: 'TREE.child0' },
      );
    } else if (b[i] === 0x48 && b[i + 1] === 0x45 && b[i + 2] === 0x41 && b[i + 3] === 0x50) {
      out.push(
        { off: i + 8, width: 8, what: 'HEAP.size' },
        { off: i + 16, width: 8, what: 'HEAP.free' },
        { off: i + 24, width: 8, what: 'HEAP.address' },
      );
    } else if (b[i] === 0x53 && b[i + 1] === 0x4e && b[i + 2] === 0x4f && b[i + 3] === 0x44) {
      out.push(
        { off: i + 6, width: 2, what: 'SNOD.count' },
        { off: i + 8, width: 8, what: 'SNOD.name_offset' },
        { off: i + 16, width: 8, what: 'SNOD.header_address' },
      );
    } else if (b[i] === 0x47 && b[i + 1] === 0x43 && b[i + 2] === 0x4f && b[i + 3] === 0x4c) {
      out.push({ off: i + 8, width: 8, what: 'GCOL.size' });
      if (i + 32 <= b.length) out.push({ off: i + 16, width: 2, what: 'GCOL.obj_index' }, { off: i + 24, width: 8, what: 'GCOL.obj_size' });
    }
    // Version 1 message header: type u16, size u16, flags u8, 3 reserved zero bytes.
    if (b[i + 5] !== 0 || b[i + 6] !== 0 || b[i + 7] !== 0 || b[i + 1] !== 0) continue;
    const type = b[i];
    const size = u16(b, i + 2);
    const body = i + 8;
    if (size % 8 !== 0 || size === 0 || body + size > b.length) continue;
    if (type === 0x01) {
      const f = dataspaceFields(b, body, size, 'dataspace');
      if (f) out.push({ off: i + 2, width: 2, what: 'dataspace.msg_size' }, ...f);
    } else if (type === 0x03) {
      const f = datatypeFields(b, body, 'datatype');
      if (f) out.push({ off: i + 2, width: 2, what: 'datatype.msg_size' }, ...f);
    } else if (type === 0x08 && b[body] === 3 && b[body + 1] <= 2) {
      const cls = b[body + 1];
      out.push({ off: body + 1, width: 1, what: 'layout.class' });
      if (cls === 1) out.push({ off: body + 2, width: 8, what: 'layout.address' }, { off: body + 10, width: 8, what: 'layout.size' });
      else if (cls === 0) out.push({ off: body + 2, width: 2, what: 'layout.compact_size' });
      else out.push({ off: body + 2, width: 1, what: 'layout.chunk_rank' }, { off: body + 3, width: 8, what: 'layout.btree_address' });
    } else if (type === 0x0c && b[body] === 1) {
      const nameSize = u16(b, body + 2);
      const dtSize = u16(b, body + 4);
      const dsSize = u16(b, body + 6);
      const dtAt = body + 8 + pad8(nameSize);
      const dsAt = dtAt + pad8(dtSize);
      if (dsAt + dsSize > body + size) continue;
      out.push(
        { off: body + 2, width: 2, what: 'attribute.name_size' },
        { off: body + 4, width: 2, what: 'attribute.datatype_size' },
        { off: body + 6, width: 2, what: 'attribute.dataspace_size' },
      );
      out.push(...(datatypeFields(b, dtAt, 'attribute.datatype') ?? []));
      out.push(...(dataspaceFields(b, dsAt, dsSize, 'attribute.dataspace') ?? []));
    } else if (type === 0x11) {
      out.push({ off: body, width: 8, what: 'symbol_table.btree' }, { off: body + 8, width: 8, what: 'symbol_table.heap' });
    } else if (type === 0x10) {
      out.push({ off: body, width: 8, what: 'continuation.address' }, { off: body + 8, width: 8, what: 'continuation.length' });
    }
  }
  return out;
}

function readField(b: Uint8Array, f: Field): bigint {
  let v = 0n;
  for (let k = f.width - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[f.off + k]);
  return v;
}

function writeField(b: Uint8Array, f: Field, v: bigint): void {
  const mask = (1n << BigInt(f.width * 8)) - 1n;
  let x = v & mask;
  for (let k = 0; k < f.width; k++) {
    b[f.off + k] = Number(x & 0xffn);
    x >>= 8n;
  }
}

function absurd(rng: Rng, old: bigint, width: number): bigint {
  const bits = BigInt(width * 8);
  const max = (1n << bits) - 1n;
  return rng.pick([
    0n, 1n, max, max - 1n, 1n << (bits - 1n), (1n << (bits - 1n)) - 1n, old + 1n, old - 1n, old * 2n, old << 8n,
    BigInt(rng.int(256)), 1n << 31n, 1n << 32n, 1n << 40n, 1n << 53n, 33n, 255n, 16n, 3n,
  ]);
}

export interface H5Mutation {
  name: string;
  bytes: Uint8Array;
}

/** Sets one to three header fields to absurd values; undefined when the bytes show no HDF5 headers. */
export function mutateH5Headers(rng: Rng, b: Uint8Array, fields = findH5Fields(b)): H5Mutation | undefined {
  if (!fields.length) return undefined;
  const out = Uint8Array.from(b);
  const names: string[] = [];
  // Dataspaces and datatypes are what the brief cares most about: favour them.
  const favoured = fields.filter((f) => /dataspace|datatype/.test(f.what));
  const n = rng.pick([1, 1, 2, 3]);
  for (let i = 0; i < n; i++) {
    const f = favoured.length && rng.chance(0.6) ? rng.pick(favoured) : rng.pick(fields);
    writeField(out, f, absurd(rng, readField(out, f), f.width));
    names.push(f.what);
  }
  return { name: `h5:${names.join('+')}`, bytes: out };
}
