/**
 * A structural check of the HDF5 metadata that the HDF5 library trusts before it allocates or loops,
 * run before h5wasm opens a file. Version 0/1 structures (what h5py and Keras write by default) carry no
 * checksums, and the fuzzer found corrupted ones that make HDF5, natively as well as in h5wasm:
 * - loop forever, walking a global heap collection whose object header says size 0 (h5dump hangs too);
 * - allocate up to its whole heap, for an attribute whose datatype size or variable-length string length
 *   was changed, before it finds the data is not there (and then abort, which leaves h5wasm unusable);
 * - read past its buffers, for a heap object longer than the string it holds.
 * So, walking from the superblock through object headers (continuation chunks included), group B-trees,
 * symbol nodes and local heaps: every block lies inside the file, every attribute's data fits its
 * message, and every variable-length string it references is a global heap object of exactly that
 * length in a well-formed collection. Structures of later versions carry checksums HDF5 verifies itself
 * and are left to it, as are sizes of offsets and lengths other than 8.
 */
import { KerasInteropError } from '../errors.js';
import type { ByteSource } from './io/source.js';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** Bounds on the walk itself, far beyond any Keras file. */
const MAX_OBJECTS = 1_000_000;
const MAX_VLEN_ELEMENTS = 1_000_000;
/** An object header chunk or a global heap collection (one holds a whole model_config string). */
const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

const pad8 = (n: number): number => (n + 7) & ~7;

class Walk {
  private readonly objects = new Set<number>();
  private readonly nodes = new Set<number>();
  private readonly groups = new Set<number>();
  private readonly heaps = new Map<number, { size: number; data: number }>();
  private readonly collections = new Map<number, Map<number, number>>();
  private work = 0;
  base = 0;
  leafK = 0;
  internalK = 0;

  readonly size: number;

  constructor(
    private readonly src: ByteSource,
    private readonly label: string,
  ) {
    this.size = src.size;
  }

  fail(what: string, place?: string): never {
    throw new KerasInteropError('HDF5_INVALID', `corrupted HDF5 structure: ${what}`, { file: this.label, place });
  }

  /** `len` bytes at absolute offset `at`, all inside the file. */
  read(at: number, len: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(at) || at < 0 || len < 0 || at + len > this.size) {
      this.fail(`${what} at offset ${at} (${len} bytes) lies outside the ${this.size}-byte file`);
    }
    const got = len > 0 ? this.src.read(at, len) : new Uint8Array(0);
    // A source that ends early (a file truncated while read) reads as zeros, as a short read did.
    if (got.length === len) return got;
    const buf = new Uint8Array(len);
    buf.set(got);
    return buf;
  }

  /** An address field (relative to the base address) as an absolute offset. */
  addr(b: Uint8Array, at: number): number {
    return this.base + u64(b, at);
  }

  count(): void {
    if (++this.work > MAX_OBJECTS) this.fail(`more than ${MAX_OBJECTS} metadata blocks`);
  }

  object(at: number, place: string): void {
    if (this.objects.has(at)) return;
    this.objects.add(at);
    this.count();
    const prefix = this.read(at, 16, `object header of ${place}`);
    if (prefix[0] === 0x4f && prefix[1] === 0x48 && prefix[2] === 0x44 && prefix[3] === 0x52) return; // OHDR: version 2, checksummed
    if (prefix[0] !== 1) this.fail(`object header at offset ${at} has version ${prefix[0]}`, place);
    const chunks: [number, number][] = [[at + 16, u32(prefix, 8)]];
    const seen = new Set<number>();
    while (chunks.length) {
      const [start, len] = chunks.pop()!;
      if (len > MAX_BLOCK_BYTES) this.fail(`object header chunk at offset ${start} is ${len} bytes`, place);
      if (seen.has(start)) this.fail(`object header continuation at offset ${start} is reached twice`, place);
      seen.add(start);
      this.count();
      const chunk = this.read(start, len, `object header chunk of ${place}`);
      for (let q = 0; q + 8 <= chunk.length; ) {
        const type = u16(chunk, q);
        const msize = u16(chunk, q + 2);
        const body = q + 8;
        if (body + msize > chunk.length) this.fail(`object header message at offset ${start + q} runs past its chunk`, place);
        const msg = chunk.subarray(body, body + msize);
        if (type === 0x10 && msize >= 16) chunks.push([this.addr(msg, 0), u64(msg, 8)]);
        else if (type === 0x11 && msize >= 16) this.group(this.addr(msg, 0), this.addr(msg, 8), place);
        else if (type === 0x0c) this.attribute(msg, start + body, place);
        q = body + msize;
      }
    }
  }

  /** A symbol-table group: its local heap and its B-tree of symbol nodes. */
  group(btree: number, heap: number, place: string): void {
    // A group is reached from its object header and, again, from the scratch pad of its entry.
    if (this.groups.has(btree)) return;
    this.groups.add(btree);
    this.btree(btree, this.localHeap(heap, place), place);
  }

  /** The local heap holding a group's link names: its data segment's size and offset. */
  localHeap(at: number, place: string): { size: number; data: number } {
    const known = this.heaps.get(at);
    if (known !== undefined) return known;
    const h = this.read(at, 32, `local heap of ${place}`);
    if (!isSig(h, 'HEAP')) this.fail(`local heap at offset ${at} has no HEAP signature`, place);
    const heap = { size: u64(h, 8), data: this.addr(h, 24) };
    if (heap.data + heap.size > this.size) this.fail(`local heap data at offset ${heap.data} (${heap.size} bytes) lies outside the file`, place);
    this.heaps.set(at, heap);
    return heap;
  }

  btree(at: number, heap: { size: number; data: number }, place: string): void {
    if (this.nodes.has(at)) this.fail(`group B-tree node at offset ${at} is reached twice`, place);
    this.nodes.add(at);
    this.count();
    const h = this.read(at, 24, `group B-tree node of ${place}`);
    if (!isSig(h, 'TREE')) this.fail(`group B-tree node at offset ${at} has no TREE signature`, place);
    if (h[4] !== 0) this.fail(`group B-tree node at offset ${at} has node type ${h[4]}`, place);
    const level = h[5];
    const entries = u16(h, 6);
    if (entries > 2 * this.internalK) this.fail(`group B-tree node at offset ${at} holds ${entries} entries, more than 2K = ${2 * this.internalK}`, place);
    const body = this.read(at + 24, (2 * entries + 1) * 8, `group B-tree node of ${place}`);
    for (let i = 0; i < entries; i++) {
      const child = this.addr(body, 8 + 16 * i);
      if (level > 0) this.btree(child, heap, place);
      else this.symbolNode(child, heap, place);
    }
  }

  symbolNode(at: number, heap: { size: number; data: number }, place: string): void {
    if (this.nodes.has(at)) this.fail(`symbol node at offset ${at} is reached twice`, place);
    this.nodes.add(at);
    this.count();
    const h = this.read(at, 8, `symbol node of ${place}`);
    if (!isSig(h, 'SNOD')) this.fail(`symbol node at offset ${at} has no SNOD signature`, place);
    const n = u16(h, 6);
    if (n > 2 * this.leafK) this.fail(`symbol node at offset ${at} holds ${n} entries, more than 2K = ${2 * this.leafK}`, place);
    const body = this.read(at + 8, 40 * n, `symbol node of ${place}`);
    for (let i = 0; i < n; i++) this.entry(body, 40 * i, heap, place);
  }

  /** A symbol table entry: the object it names, and the group addresses cached in its scratch pad. */
  entry(b: Uint8Array, at: number, heap: { size: number; data: number }, place: string): void {
    const nameAt = u64(b, at);
    if (nameAt >= heap.size) this.fail(`symbol table entry names offset ${nameAt} of a ${heap.size}-byte local heap`, place);
    const raw = this.read(heap.data + nameAt, Math.min(256, heap.size - nameAt), 'link name');
    const end = raw.indexOf(0);
    const name = new TextDecoder().decode(raw.subarray(0, end < 0 ? raw.length : end));
    const child = place.endsWith('/') ? place + name : `${place}/${name}`;
    this.object(this.addr(b, at + 8), child);
    if (u32(b, at + 16) === 1) this.group(this.addr(b, at + 24), this.addr(b, at + 32), child);
  }

  attribute(msg: Uint8Array, at: number, place: string): void {
    const version = msg[0];
    if (version < 1 || version > 3 || msg.length < 8) return;
    const flags = msg[1];
    if (version >= 2 && flags & 3) return; // shared datatype or dataspace: elsewhere in the file
    const nameSize = u16(msg, 2);
    const dtSize = u16(msg, 4);
    const dsSize = u16(msg, 6);
    const nameAt = version === 3 ? 9 : 8;
    const dtAt = nameAt + (version === 1 ? pad8(nameSize) : nameSize);
    const dsAt = dtAt + (version === 1 ? pad8(dtSize) : dtSize);
    const dataAt = dsAt + (version === 1 ? pad8(dsSize) : dsSize);
    const name = new TextDecoder().decode(msg.subarray(nameAt, Math.min(msg.length, nameAt + Math.max(0, nameSize - 1))));
    const where = `${place}@${name}`;
    if (dataAt > msg.length || dtSize < 8) this.fail(`attribute message at offset ${at} declares parts longer than the message`, where);
    const elementSize = u32(msg, dtAt + 4);
    const count = dataspaceCount(msg.subarray(dsAt, dsAt + dsSize));
    if (count === undefined) this.fail(`attribute "${name}" has an unreadable dataspace`, where);
    const dataBytes = count * elementSize;
    if (dataBytes > msg.length - dataAt) {
      this.fail(`attribute "${name}" declares ${count} element(s) of ${elementSize} bytes, its message holds ${msg.length - dataAt}`, where);
    }
    if ((msg[dtAt] & 0x0f) !== 9) return;
    // Variable length: each element is a length and a global heap ID (collection address, object index).
    if (elementSize !== 16) this.fail(`variable-length attribute "${name}" has elements of ${elementSize} bytes, expected 16`, where);
    if (count > MAX_VLEN_ELEMENTS) this.fail(`attribute "${name}" holds ${count} variable-length elements`, where);
    // The base type follows the 8-byte header; HDF5 sizes its buffers by it (a string's is one byte).
    const baseSize = dtSize >= 16 ? u32(msg, dtAt + 12) : 0;
    const isString = (msg[dtAt + 1] & 0x0f) === 1;
    if (baseSize === 0 || (isString && baseSize !== 1) || baseSize > 64) {
      this.fail(`variable-length attribute "${name}" has a base type of ${baseSize} bytes`, where);
    }
    for (let i = 0; i < count; i++) {
      const e = dataAt + 16 * i;
      const length = u32(msg, e);
      if (length === 0) continue; // HDF5 reads nothing from the heap for an empty sequence
      const objectSize = this.heapObject(this.addr(msg, e + 4), u32(msg, e + 12), where);
      if (objectSize !== length * baseSize) {
        this.fail(`attribute "${name}" element ${i} has length ${length} × ${baseSize} bytes, its global heap object holds ${objectSize}`, where);
      }
    }
  }

  /** The size of object `index` of the global heap collection at `at`, the collection walked as HDF5 does. */
  heapObject(at: number, index: number, place: string): number {
    let objects = this.collections.get(at);
    if (!objects) {
      this.count();
      const h = this.read(at, 16, 'global heap collection');
      if (!isSig(h, 'GCOL')) this.fail(`global heap collection at offset ${at} has no GCOL signature`, place);
      const size = u64(h, 8);
      if (size < 16 || size > MAX_BLOCK_BYTES) this.fail(`global heap collection at offset ${at} is ${size} bytes`, place);
      const c = this.read(at, size, 'global heap collection');
      objects = new Map();
      for (let p = 16; p + 16 <= size; ) {
        const idx = u16(c, p);
        const osize = u64(c, p + 8);
        // HDF5 steps by the object's size: a free-space object of size 0 makes it loop forever.
        const step = idx > 0 ? 16 + pad8(osize) : osize;
        if (step < 16 || p + step > size) {
          this.fail(`global heap collection at offset ${at}: object ${idx} at ${at + p} of ${osize} bytes does not fit the collection`, place);
        }
        if (idx > 0) objects.set(idx, osize);
        p += step;
      }
      this.collections.set(at, objects);
    }
    const s = objects.get(index);
    if (s === undefined) this.fail(`global heap collection at offset ${at} has no object ${index}`, place);
    return s;
  }
}

function isSig(b: Uint8Array, sig: string): boolean {
  return b[0] === sig.charCodeAt(0) && b[1] === sig.charCodeAt(1) && b[2] === sig.charCodeAt(2) && b[3] === sig.charCodeAt(3);
}

function u16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** An 8-byte field; beyond 2^53 (the undefined address included) it becomes Infinity, which no bound admits. */
function u64(b: Uint8Array, at: number): number {
  const hi = u32(b, at + 4);
  return hi >= 0x200000 ? Infinity : hi * 2 ** 32 + u32(b, at);
}

/** Elements of a version 1 or 2 dataspace message, or undefined when it does not parse. */
function dataspaceCount(ds: Uint8Array): number | undefined {
  const version = ds[0];
  const rank = ds[1];
  if ((version !== 1 && version !== 2) || rank > 32) return undefined;
  if (version === 2 && ds[3] === 2) return 0; // null dataspace
  const dimsAt = version === 1 ? 8 : 4;
  if (ds.length < dimsAt + 8 * rank) return undefined;
  let n = 1;
  for (let d = 0; d < rank; d++) n *= u64(ds, dimsAt + 8 * d);
  return n;
}

/**
 * Checks the HDF5 metadata of `src` (see above); throws HDF5_INVALID naming `label` when HDF5 could loop,
 * over-allocate or read past a buffer on it. Files that are not HDF5 are left to HDF5's own refusal.
 */
export function checkHdf5Structure(src: ByteSource, label = src.name): void {
  const size = src.size;
  const walk = new Walk(src, label);
  let sb = -1;
  for (let at = 0; at + 8 <= size && at <= 1 << 20; at = at === 0 ? 512 : at * 2) {
    const head = walk.read(at, 8, 'signature');
    if (SIGNATURE.every((x, i) => head[i] === x)) {
      sb = at;
      break;
    }
  }
  if (sb < 0 || sb + 96 > size) return;
  const s = walk.read(sb, 96, 'superblock');
  const version = s[8];
  if (version > 1 || s[13] !== 8 || s[14] !== 8) return;
  walk.leafK = u16(s, 16);
  walk.internalK = u16(s, 18);
  if (walk.leafK === 0 || walk.internalK === 0) walk.fail('superblock group K values are 0', '/');
  const p = version === 1 ? 28 : 24;
  const base = u64(s, p);
  if (!Number.isFinite(base) || base > size) walk.fail(`superblock base address ${base} lies outside the file`, '/');
  walk.base = base;
  const root = walk.read(sb + p + 32, 40, 'root group entry');
  walk.object(walk.addr(root, 8), '/');
  if (u32(root, 16) === 1) walk.group(walk.addr(root, 24), walk.addr(root, 32), '/');
}
