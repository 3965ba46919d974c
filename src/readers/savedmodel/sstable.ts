/**
 * TensorFlow's `variables.index`: a LevelDB-format table (TF's fork in tensorflow/core/lib/io). Footer →
 * index block → data blocks; every block carries a type byte and a masked CRC-32C, which we check. Keys
 * are prefix-compressed against the previous key of the same block. Snappy blocks (TF's bundle writer
 * never makes them, but the format allows them) are inflated by a small bounds-checked decoder.
 */
import { KerasInteropError } from '../../errors.js';
import { crc32cUpdate, maskCrc } from './crc32c.js';

const FOOTER_BYTES = 48;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;
const TRAILER_BYTES = 5;

export interface BlockHandle {
  offset: number;
  size: number;
}

export interface TableEntry {
  key: string;
  value: Uint8Array;
}

export interface ReadTableOptions {
  /** Names the file in errors. */
  file: string;
  /** Largest block accepted after decompression (a Snappy block declares its own size). */
  maxBlockBytes?: number;
}

/** A cursor over bytes that refuses to read past its end. */
export class ByteCursor {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly end: number,
    readonly fail: (what: string) => never,
    start = 0,
  ) {
    this.pos = start;
  }

  /** A varint of up to 64 bits, as an exact number (refused beyond 2^53). */
  varint(what: string): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail(`${what}: varint runs past the end`);
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) this.fail(`${what}: varint ${result} is too large`);
        return result;
      }
      scale *= 128;
    }
    return this.fail(`${what}: varint longer than 10 bytes`);
  }

  take(n: number, what: string): Uint8Array {
    if (n < 0 || this.pos + n > this.end) this.fail(`${what}: ${n} bytes needed at offset ${this.pos}, only ${this.end - this.pos} left`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

export function decodeBlockHandle(c: ByteCursor, what: string): BlockHandle {
  return { offset: c.varint(`${what} offset`), size: c.varint(`${what} size`) };
}

/** Reads every entry of the table, in key order. */
export function readTable(bytes: Uint8Array, opts: ReadTableOptions): TableEntry[] {
  const { file } = opts;
  const fail = (place: string) => (what: string): never => {
    throw new KerasInteropError('PROTO_INVALID', `not a valid TensorFlow table: ${what}`, { file, place });
  };
  if (bytes.length < FOOTER_BYTES) fail('footer')(`file is ${bytes.length} bytes, shorter than the ${FOOTER_BYTES}-byte footer`);
  const footerAt = bytes.length - FOOTER_BYTES;
  if (u32(bytes, bytes.length - 8) !== MAGIC_LO || u32(bytes, bytes.length - 4) !== MAGIC_HI) {
    fail('footer')('the table magic number 0xdb4775248b80fb57 is missing from the last 8 bytes (truncated or not an index file)');
  }
  const footer = new ByteCursor(bytes, bytes.length - 8, fail('footer'), footerAt);
  decodeBlockHandle(footer, 'metaindex handle'); // TF writes no filter or meta blocks.
  const indexHandle = decodeBlockHandle(footer, 'index handle');
  const index = readBlock(bytes, indexHandle, 'index block', opts);
  const out: TableEntry[] = [];
  let last: Uint8Array | undefined;
  for (const [i, entry] of parseBlock(index, fail('index block')).entries()) {
    const handle = decodeBlockHandle(new ByteCursor(entry.value, entry.value.length, fail(`index entry ${i}`)), 'data block handle');
    const place = `data block ${i} (offset ${handle.offset})`;
    for (const e of parseBlock(readBlock(bytes, handle, place, opts), fail(place))) {
      if (last && compareBytes(last, e.key) >= 0) fail(place)('keys are not in increasing order');
      last = e.key;
      out.push({ key: new TextDecoder().decode(e.key), value: e.value });
    }
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** One block's contents, its trailer checked (and Snappy inflated). */
export function readBlock(bytes: Uint8Array, h: BlockHandle, place: string, opts: ReadTableOptions): Uint8Array {
  const fail = (what: string): never => {
    throw new KerasInteropError('PROTO_INVALID', `not a valid TensorFlow table: ${what}`, { file: opts.file, place });
  };
  if (h.offset + h.size + TRAILER_BYTES > bytes.length - FOOTER_BYTES) {
    fail(`block [${h.offset}, +${h.size}] and its 5-byte trailer run past the end of the data (${bytes.length - FOOTER_BYTES} bytes before the footer)`);
  }
  const contents = bytes.subarray(h.offset, h.offset + h.size);
  const type = bytes[h.offset + h.size];
  const stored = u32(bytes, h.offset + h.size + 1);
  const actual = maskCrc(crc32cUpdate(crc32cUpdate(0, contents), bytes.subarray(h.offset + h.size, h.offset + h.size + 1)));
  if (stored !== actual) {
    throw new KerasInteropError(
      'CHECKSUM_MISMATCH',
      `block checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}): the index file is corrupt`,
      { file: opts.file, place },
    );
  }
  if (type === 0) return contents;
  if (type === 1) return snappyDecompress(contents, opts.maxBlockBytes ?? 64 * 1024 ** 2, fail);
  return fail(`unknown block compression type ${type} (0 none and 1 Snappy are known)`);
}

interface RawEntry {
  key: Uint8Array;
  value: Uint8Array;
}

export function parseBlock(block: Uint8Array, fail: (what: string) => never): RawEntry[] {
  if (block.length < 4) fail(`block of ${block.length} bytes has no restart count`);
  const numRestarts = u32(block, block.length - 4);
  const restartsAt = block.length - 4 - 4 * numRestarts;
  if (numRestarts < 1 || restartsAt < 0) fail(`block of ${block.length} bytes cannot hold ${numRestarts} restart points`);
  const c = new ByteCursor(block, restartsAt, fail);
  const out: RawEntry[] = [];
  let prev = new Uint8Array(0);
  while (c.pos < restartsAt) {
    const shared = c.varint('entry shared length');
    const nonShared = c.varint('entry key length');
    const valueLength = c.varint('entry value length');
    if (shared > prev.length) fail(`entry at ${c.pos} shares ${shared} key bytes with a ${prev.length}-byte previous key`);
    const suffix = c.take(nonShared, 'entry key');
    const key = new Uint8Array(shared + nonShared);
    key.set(prev.subarray(0, shared));
    key.set(suffix, shared);
    out.push({ key, value: c.take(valueLength, 'entry value') });
    prev = key;
  }
  return out;
}

/** Snappy raw-format decompression (google/snappy format_description.txt), every copy bounds-checked. */
export function snappyDecompress(input: Uint8Array, maxBytes: number, fail: (what: string) => never): Uint8Array {
  const c = new ByteCursor(input, input.length, (w) => fail(`Snappy block: ${w}`));
  const length = c.varint('uncompressed length');
  if (length > maxBytes) fail(`Snappy block declares ${length} bytes, more than the ${maxBytes} accepted`);
  const out = new Uint8Array(length);
  let o = 0;
  while (c.pos < input.length) {
    const tag = input[c.pos++];
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len >= 60) {
          const extra = c.take(len - 59, 'literal length');
          len = 0;
          for (let i = extra.length - 1; i >= 0; i--) len = len * 256 + extra[i];
        }
        len += 1;
        if (o + len > length) fail('literal runs past the declared length');
        out.set(c.take(len, 'literal'), o);
        o += len;
        continue;
      }
      case 1:
        len = 4 + ((tag >>> 2) & 7);
        offset = ((tag >>> 5) << 8) | c.take(1, 'copy offset')[0];
        break;
      case 2: {
        len = 1 + (tag >>> 2);
        const b = c.take(2, 'copy offset');
        offset = b[0] | (b[1] << 8);
        break;
      }
      default: {
        len = 1 + (tag >>> 2);
        offset = u32(c.take(4, 'copy offset'), 0);
      }
    }
    if (offset === 0 || offset > o) fail(`copy reaches back ${offset} bytes from position ${o}`);
    if (o + len > length) fail('copy runs past the declared length');
    // Byte by byte: a copy may overlap its own output (run-length style).
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset];
  }
  if (o !== length) fail(`inflated to ${o} bytes, ${length} declared`);
  return out;
}
