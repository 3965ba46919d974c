/**
 * TensorFlow tensor bundles (`variables/variables.index` + `variables.data-XXXXX-of-YYYYY`): the index
 * table maps checkpoint keys to BundleEntryProto (dtype, shape, shard, offset, size, masked CRC-32C);
 * the tensors' bytes sit in the shards. Every read is bounds-checked against the shard's real size and
 * every tensor's checksum is verified before its bytes are used.
 */
import { KerasInteropError } from '../../errors.js';
import { type ByteSource, type FileSet, owned, readFileOf } from '../io/source.js';
import type { WeightData, WeightDType } from '../../model/types.js';
import { crc32cUpdate, maskCrc } from './crc32c.js';
import { type BundleEntryMsg, type TensorShapeMsg, dataTypeName, decodeMessage, int64ToNumber } from './protos.js';
import { ByteCursor, readTable } from './sstable.js';

export const DT_FLOAT = 1;
export const DT_STRING = 7;
export const DT_BFLOAT16 = 14;
export const DT_HALF = 19;

export interface BundleEntry {
  key: string;
  dtype: number;
  /** Dims; -1 would be unknown, which a stored tensor never has (refused). */
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  /** Masked CRC-32C of the tensor's stored bytes. */
  crc32c: number;
  /** Partitioned variables store slices under other keys; not supported. */
  sliced: boolean;
}

export interface BundleLimits {
  maxTensorBytes: number;
  /** Largest index file or string tensor read whole into memory. */
  maxIndexBytes: number;
}

/** What a numeric tensor decodes to, in the KerasModel's types. */
export interface DecodedTensor {
  dtype: WeightDType;
  data: WeightData;
  /** Set when the stored dtype was widened (bfloat16 → float32, exactly). */
  widenedFrom?: string;
}

const ITEM_BYTES: Record<number, number> = {
  1: 4, 2: 8, 3: 4, 4: 1, 5: 2, 6: 1, 9: 8, 10: 1, 14: 2, 17: 2, 19: 2, 22: 4, 23: 8,
};

const CHUNK = 16 * 1024 * 1024;

export class TensorBundle {
  readonly numShards: number;
  readonly littleEndian: boolean;
  readonly entries = new Map<string, BundleEntry>();
  private readonly shards = new Map<number, ByteSource>();

  /** `files`: the `variables/` folder of the SavedModel. */
  constructor(
    readonly files: FileSet,
    private readonly limits: BundleLimits,
    readonly prefix = 'variables',
  ) {
    const indexFile = this.indexFile;
    const st = files.stat(`${prefix}.index`);
    if (!st) {
      throw new KerasInteropError('FILE_NOT_FOUND', 'the SavedModel has no variables index', { file: indexFile });
    }
    const size = st.size;
    if (size > limits.maxIndexBytes) {
      throw new KerasInteropError('LIMIT_EXCEEDED', `index file is ${size} bytes, more than the ${limits.maxIndexBytes} accepted`, { file: indexFile });
    }
    const table = readTable(readFileOf(files, `${prefix}.index`), { file: indexFile, maxBlockBytes: limits.maxIndexBytes });
    const header = table.length > 0 && table[0].key === '' ? table[0] : undefined;
    if (!header) {
      throw new KerasInteropError('PROTO_INVALID', 'the index has no bundle header (its first key should be "")', { file: indexFile, place: 'key ""' });
    }
    const h = this.decode(() => decodeMessage('BundleHeaderProto', header.value), 'key "" (BundleHeaderProto)');
    this.numShards = h.numShards ?? 0;
    if (!Number.isInteger(this.numShards) || this.numShards < 1 || this.numShards > 100000) {
      throw new KerasInteropError('PROTO_INVALID', `bundle header declares ${this.numShards} data shards`, { file: indexFile, place: 'BundleHeaderProto.num_shards' });
    }
    this.littleEndian = (h.endianness ?? 0) === 0;
    for (const { key, value } of table.slice(1)) {
      const place = `key "${key}"`;
      const m = this.decode(() => decodeMessage('BundleEntryProto', value), place);
      this.entries.set(key, this.checkEntry(key, m, place));
    }
  }

  get indexFile(): string {
    return this.files.label(`${this.prefix}.index`);
  }

  private shardName(shardId: number): string {
    const pad = (n: number) => String(n).padStart(5, '0');
    return `${this.prefix}.data-${pad(shardId)}-of-${pad(this.numShards)}`;
  }

  shardFile(shardId: number): string {
    return this.files.label(this.shardName(shardId));
  }

  close(): void {
    for (const s of this.shards.values()) s.close?.();
    this.shards.clear();
  }

  private decode<T>(f: () => T, place: string): T {
    try {
      return f();
    } catch (e) {
      throw new KerasInteropError('PROTO_INVALID', `cannot decode the index entry (${(e as Error).message})`, { file: this.indexFile, place }, { cause: e });
    }
  }

  private checkEntry(key: string, m: BundleEntryMsg, place: string): BundleEntry {
    const bad = (what: string): never => {
      throw new KerasInteropError('PROTO_INVALID', what, { file: this.indexFile, place });
    };
    const shape = shapeOf(m.shape, (w) => bad(`tensor shape: ${w}`));
    const offset = int64ToNumber(m.offset);
    const size = int64ToNumber(m.size);
    if (offset === undefined || offset < 0) bad('tensor offset is negative or too large');
    if (size === undefined || size < 0) bad('tensor size is negative or too large');
    const shardId = m.shardId ?? 0;
    if (shardId < 0 || shardId >= this.numShards) bad(`shard ${shardId} does not exist (the bundle has ${this.numShards})`);
    return {
      key,
      dtype: m.dtype ?? 0,
      shape,
      shardId,
      offset: offset as number,
      size: size as number,
      crc32c: (m.crc32c ?? 0) >>> 0,
      sliced: (m.slices?.length ?? 0) > 0,
    };
  }

  private shard(id: number): ByteSource {
    let s = this.shards.get(id);
    if (!s) {
      if (!this.files.stat(this.shardName(id))) {
        throw new KerasInteropError('FILE_NOT_FOUND', `data shard ${id} of ${this.numShards} is missing`, { file: this.shardFile(id) });
      }
      s = this.files.open(this.shardName(id));
      this.shards.set(id, s);
    }
    return s;
  }

  /** Where an entry's bytes are, after checking they lie inside its shard. */
  private locate(e: BundleEntry, what: string): ByteSource {
    if (e.sliced) {
      throw new KerasInteropError('UNSUPPORTED_DTYPE', `${what} is a partitioned variable (stored in slices), which is not supported`, {
        file: this.indexFile,
        place: `key "${e.key}"`,
      });
    }
    const s = this.shard(e.shardId);
    if (e.offset + e.size > s.size) {
      throw new KerasInteropError(
        'PROTO_INVALID',
        `${what} needs bytes [${e.offset}, ${e.offset + e.size}) but the shard has only ${s.size} bytes (truncated file or bad offset)`,
        { file: s.name, place: `key "${e.key}"` },
      );
    }
    return s;
  }

  private mismatch(e: BundleEntry, what: string, actual: number): never {
    throw new KerasInteropError(
      'CHECKSUM_MISMATCH',
      `${what} fails its checksum (stored masked crc32c 0x${e.crc32c.toString(16)}, computed 0x${actual.toString(16)}): the data file is corrupt`,
      { file: this.shardFile(e.shardId), place: `key "${e.key}"` },
    );
  }

  /** The raw stored bytes of a tensor, checksum verified. `what` names the variable in errors. */
  readBytes(e: BundleEntry, what: string, limit = this.limits.maxTensorBytes): Uint8Array {
    if (e.size > limit) {
      throw new KerasInteropError('LIMIT_EXCEEDED', `${what} holds ${e.size} bytes, more than the ${limit} accepted${limit === this.limits.maxTensorBytes ? " (raise --max-tensor-bytes)" : ""}`, {
        file: this.indexFile,
        place: `key "${e.key}"`,
      });
    }
    const shard = this.locate(e, what);
    // Owned: numeric tensors are viewed through their buffer, and big-endian ones swapped in place.
    const bytes = owned(readFully(shard, e.offset, e.size));
    if (e.dtype !== DT_STRING) {
      const actual = maskCrc(crc32cUpdate(0, bytes));
      if (actual !== e.crc32c) this.mismatch(e, what, actual);
    }
    return bytes;
  }

  /** Checks a tensor's checksum without keeping its bytes (optimizer state, metrics). */
  verify(e: BundleEntry, what: string): void {
    if (e.dtype === DT_STRING) {
      this.readStrings(e, what);
      return;
    }
    const shard = this.locate(e, what);
    let crc = 0;
    for (let done = 0; done < e.size; ) {
      const n = Math.min(CHUNK, e.size - done);
      crc = crc32cUpdate(crc, readFully(shard, e.offset + done, n));
      done += n;
    }
    const actual = maskCrc(crc);
    if (actual !== e.crc32c) this.mismatch(e, what, actual);
  }

  /**
   * A DT_STRING tensor: a varint64 length per element, a masked CRC-32C of those lengths (each as a
   * little-endian uint32, or uint64 past 4 GiB), then the bytes. The entry's CRC covers the lengths in
   * that fixed-width form, the stored length checksum, then the bytes.
   */
  readStrings(e: BundleEntry, what: string): Uint8Array[] {
    if (e.dtype !== DT_STRING) throw new KerasInteropError('PROTO_INVALID', `${what} is ${dataTypeName(e.dtype)}, expected a string tensor`, { file: this.indexFile, place: `key "${e.key}"` });
    // String tensors hold serialized protos (the object graph), bounded like the other proto files.
    const raw = this.readBytes(e, what, this.limits.maxIndexBytes);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const fail = (w: string): never => {
      throw new KerasInteropError('PROTO_INVALID', `${what}: string tensor ${w}`, { file: this.shardFile(e.shardId), place: `key "${e.key}"` });
    };
    if (count > raw.length) fail(`declares ${count} elements in ${raw.length} bytes`);
    const c = new ByteCursor(raw, raw.length, fail);
    const lengths: number[] = [];
    for (let i = 0; i < count; i++) lengths.push(c.varint(`length ${i}`));
    const fixed = new Uint8Array(lengths.length * 8);
    const view = new DataView(fixed.buffer);
    let fixedLength = 0;
    for (const len of lengths) {
      if (len > 0xffffffff) {
        view.setBigUint64(fixedLength, BigInt(len), true);
        fixedLength += 8;
      } else {
        view.setUint32(fixedLength, len, true);
        fixedLength += 4;
      }
    }
    const lengthsFixed = fixed.subarray(0, fixedLength);
    const storedLengthCrc = c.take(4, 'length checksum');
    const lengthCrc = maskCrc(crc32cUpdate(0, lengthsFixed));
    let crc = crc32cUpdate(crc32cUpdate(0, lengthsFixed), storedLengthCrc);
    crc = maskCrc(crc32cUpdate(crc, raw.subarray(c.pos)));
    if (crc !== e.crc32c || lengthCrc !== u32le(storedLengthCrc)) this.mismatch(e, what, crc);
    const out: Uint8Array[] = [];
    for (const len of lengths) out.push(c.take(len, 'element'));
    if (c.pos !== raw.length) fail(`has ${raw.length - c.pos} bytes after its last element`);
    return out;
  }

  /**
   * A numeric tensor decoded into the KerasModel's types. Its byte size must match its shape and dtype;
   * strings, complex, quantized and resource tensors are refused naming the variable.
   */
  readTensor(e: BundleEntry, what: string): DecodedTensor {
    const where = { file: this.indexFile, place: `key "${e.key}"` };
    const item = ITEM_BYTES[e.dtype];
    if (item === undefined) {
      const dt = dataTypeName(e.dtype);
      const hint = e.dtype === DT_STRING ? ' (string tensors, such as lookup-table vocabularies, are not weights a tfjs layer can hold)' : '';
      throw new KerasInteropError('UNSUPPORTED_DTYPE', `${what} has dtype ${dt}, which is not supported${hint}`, where);
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(count * item) || count * item !== e.size) {
      throw new KerasInteropError('PROTO_INVALID', `${what}: shape ${JSON.stringify(e.shape)} of ${dataTypeName(e.dtype)} needs ${count * item} bytes but the entry holds ${e.size}`, where);
    }
    const bytes = this.readBytes(e, what);
    if (!this.littleEndian && item > 1) swapBytes(bytes, item);
    const buf = bytes.buffer as ArrayBuffer;
    switch (e.dtype) {
      case 1: return { dtype: 'float32', data: new Float32Array(buf, 0, count) };
      case 2: return { dtype: 'float64', data: new Float64Array(buf, 0, count) };
      case 3: return { dtype: 'int32', data: new Int32Array(buf, 0, count) };
      case 4: return { dtype: 'uint8', data: bytes };
      case 5: return { dtype: 'int16', data: new Int16Array(buf, 0, count) };
      case 6: return { dtype: 'int8', data: new Int8Array(buf, 0, count) };
      case 9: return { dtype: 'int64', data: new BigInt64Array(buf, 0, count) };
      case 10: return { dtype: 'bool', data: bytes };
      case 17: return { dtype: 'uint16', data: new Uint16Array(buf, 0, count) };
      case 19: return { dtype: 'float16', data: new Uint16Array(buf, 0, count) };
      case 22: return { dtype: 'uint32', data: new Uint32Array(buf, 0, count) };
      case 23: return { dtype: 'uint64', data: new BigUint64Array(buf, 0, count) };
      case 14: {
        // bfloat16 is the top half of a float32: widening is exact.
        const bits = new Uint16Array(buf, 0, count);
        const out = new Uint32Array(count);
        for (let i = 0; i < count; i++) out[i] = bits[i] << 16;
        return { dtype: 'float32', data: new Float32Array(out.buffer), widenedFrom: 'bfloat16' };
      }
      default:
        throw new KerasInteropError('UNSUPPORTED_DTYPE', `${what} has dtype ${dataTypeName(e.dtype)}, which is not supported`, where);
    }
  }
}

function readFully(src: ByteSource, position: number, length: number): Uint8Array {
  const got = src.read(position, length);
  if (got.length < length) throw new KerasInteropError('PROTO_INVALID', `unexpected end of data at byte ${position + got.length}`, { file: src.name });
  return got;
}

function u32le(b: Uint8Array): number {
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

function swapBytes(bytes: Uint8Array, item: number): void {
  for (let i = 0; i + item <= bytes.length; i += item) bytes.subarray(i, i + item).reverse();
}

/** A stored shape as numbers; unknown rank or dims are refused. */
export function shapeOf(s: TensorShapeMsg | undefined, bad: (what: string) => never): number[] {
  if (s?.unknownRank) bad('unknown rank');
  const dims = (s?.dim ?? []).map((d) => int64ToNumber(d.size));
  let total = 1;
  for (const d of dims) {
    if (d === undefined || d < 0) bad(`dimension ${String(d)} is not a size`);
    total *= d as number;
    if (!Number.isSafeInteger(total)) bad('element count overflows');
  }
  return dims as number[];
}
