/**
 * NumPy `.npy` reading and writing (format versions 1.0, 2.0 and 3.0), pure TypeScript.
 *
 * The header is a Python dict literal; it is parsed by a small literal parser (never evaluated).
 * Arrays come back in C (row-major) order and native little-endian layout: big-endian files are
 * byte-swapped and `fortran_order: True` files are transposed into C order, so values are never
 * silently misread. float16 is kept as raw uint16 bits (as elsewhere in the project); use
 * `toFloat64` or `float16BitsToNumber` for values.
 */
import { KerasInteropError } from '../errors.js';
import { formatShape } from '../model/shape.js';

export type NpyDtype =
  | 'float32'
  | 'float64'
  | 'int32'
  | 'int64'
  | 'bool'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'uint32';

export type NpyTypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Int8Array
  | Int16Array
  | Uint32Array;

export interface NpyArray {
  dtype: NpyDtype;
  /** Dimensions; `[]` for a 0-d (scalar) array. */
  shape: number[];
  /**
   * Row-major values. int64 → BigInt64Array, bool → Uint8Array of 0/1, float16 → Uint16Array of raw
   * IEEE half-precision bits.
   */
  data: NpyTypedArray;
}

interface DtypeInfo {
  dtype: NpyDtype;
  /** NumPy type character: f, i, u, b. */
  kind: 'f' | 'i' | 'u' | 'b';
  size: number;
}

const DTYPES: readonly DtypeInfo[] = [
  { dtype: 'float16', kind: 'f', size: 2 },
  { dtype: 'float32', kind: 'f', size: 4 },
  { dtype: 'float64', kind: 'f', size: 8 },
  { dtype: 'int8', kind: 'i', size: 1 },
  { dtype: 'int16', kind: 'i', size: 2 },
  { dtype: 'int32', kind: 'i', size: 4 },
  { dtype: 'int64', kind: 'i', size: 8 },
  { dtype: 'uint8', kind: 'u', size: 1 },
  { dtype: 'uint16', kind: 'u', size: 2 },
  { dtype: 'uint32', kind: 'u', size: 4 },
  { dtype: 'bool', kind: 'b', size: 1 },
];

/** All dtypes this module reads and writes. */
export const NPY_DTYPES: readonly NpyDtype[] = DTYPES.map((d) => d.dtype);

export function isNpyDtype(s: unknown): s is NpyDtype {
  return typeof s === 'string' && (NPY_DTYPES as readonly string[]).includes(s);
}

function infoOf(dtype: NpyDtype): DtypeInfo {
  const info = DTYPES.find((d) => d.dtype === dtype);
  if (!info) throw new KerasInteropError('UNSUPPORTED_DTYPE', `dtype ${String(dtype)} is not one of ${NPY_DTYPES.join(', ')}`);
  return info;
}

/** Bytes per element of a dtype. */
export function npyItemSize(dtype: NpyDtype): number {
  return infoOf(dtype).size;
}

/** The `descr` string NumPy writes for a dtype on a little-endian machine (`<f4`, `|b1`, ...). */
export function npyDescr(dtype: NpyDtype): string {
  const info = infoOf(dtype);
  return `${info.size === 1 ? '|' : '<'}${info.kind}${info.size}`;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;
/** Headers longer than this are refused before parsing (NumPy's own default limit is 10 000). */
const MAX_HEADER_LENGTH = 1 << 20;
const MAX_NESTING = 16;

function fail(file: string | undefined, place: string, message: string): never {
  throw new KerasInteropError('NPY_INVALID', message, { file, place });
}

// ---------------------------------------------------------------------------------------------
// Python literal parser (the subset NumPy headers use)
// ---------------------------------------------------------------------------------------------

type PyValue =
  | { t: 'str'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'tuple'; v: PyValue[] }
  | { t: 'list'; v: PyValue[] }
  | { t: 'dict'; v: Map<string, PyValue> };

class LiteralParser {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly file: string | undefined,
  ) {}

  private err(message: string): never {
    fail(this.file, 'header', `${message} at character ${this.pos} of header ${JSON.stringify(truncate(this.src, 200))}`);
  }

  private ws(): void {
    while (this.pos < this.src.length && /[ \t\r\n]/.test(this.src[this.pos]!)) this.pos++;
  }

  parseTop(): PyValue {
    const v = this.value(0);
    this.ws();
    if (this.pos !== this.src.length) this.err('unexpected text after the header dict');
    return v;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_NESTING) this.err('header nested too deeply');
    this.ws();
    const c = this.src[this.pos];
    if (c === undefined) this.err('unexpected end of header');
    if (c === '{') return this.dict(depth);
    if (c === '(') return this.tuple(depth);
    if (c === '[') return this.list(depth);
    if (c === "'" || c === '"') return { t: 'str', v: this.string() };
    if ((c === 'u' || c === 'b') && (this.src[this.pos + 1] === "'" || this.src[this.pos + 1] === '"')) {
      this.pos++;
      return { t: 'str', v: this.string() };
    }
    if (/[-+0-9]/.test(c)) return this.int();
    const word = /^[A-Za-z_]+/.exec(this.src.slice(this.pos))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.pos += word.length;
      return word === 'None' ? { t: 'none' } : { t: 'bool', v: word === 'True' };
    }
    this.err(`unexpected ${JSON.stringify(c)}; expected a Python literal (dict, tuple, str, int, True/False)`);
  }

  private string(): string {
    const quote = this.src[this.pos]!;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || c === '\n') this.err('unterminated string');
      this.pos++;
      if (c === quote) return out;
      if (c === '\\') {
        const e = this.src[this.pos];
        if (e === undefined) this.err('unterminated string');
        this.pos++;
        const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };
        if (Object.hasOwn(simple, e)) out += simple[e];
        else this.err(`unsupported escape \\${e} in string`);
      } else {
        out += c;
      }
    }
  }

  private int(): PyValue {
    const m = /^[-+]?[0-9]+[lL]?/.exec(this.src.slice(this.pos, this.pos + 64));
    if (!m) this.err('malformed number');
    const text = m[0];
    if (/^[-+]?[0-9]+\.|^[-+]?[0-9]+[eE]/.test(this.src.slice(this.pos, this.pos + 66))) this.err('expected an integer');
    this.pos += text.length;
    const digits = text.replace(/[lL]$/, '');
    if (/^[-+]?0[0-9]/.test(digits)) this.err('integers with leading zeros are not valid Python');
    return { t: 'int', v: BigInt(digits) };
  }

  private items(close: string, depth: number): { items: PyValue[]; trailingComma: boolean } {
    const items: PyValue[] = [];
    let trailingComma = false;
    this.pos++; // opening bracket
    for (;;) {
      this.ws();
      if (this.src[this.pos] === close) {
        this.pos++;
        return { items, trailingComma };
      }
      items.push(this.value(depth + 1));
      this.ws();
      const c = this.src[this.pos];
      trailingComma = false;
      if (c === ',') {
        this.pos++;
        trailingComma = true;
      } else if (c !== close) {
        this.err(`expected ',' or '${close}'`);
      }
    }
  }

  private tuple(depth: number): PyValue {
    const { items, trailingComma } = this.items(')', depth);
    // `(3)` is just the number 3 in Python; `(3,)` is a tuple.
    if (items.length === 1 && !trailingComma) return items[0]!;
    return { t: 'tuple', v: items };
  }

  private list(depth: number): PyValue {
    return { t: 'list', v: this.items(']', depth).items };
  }

  private dict(depth: number): PyValue {
    const map = new Map<string, PyValue>();
    this.pos++;
    for (;;) {
      this.ws();
      if (this.src[this.pos] === '}') {
        this.pos++;
        return { t: 'dict', v: map };
      }
      const key = this.value(depth + 1);
      if (key.t !== 'str') this.err('header dict keys must be strings');
      this.ws();
      if (this.src[this.pos] !== ':') this.err("expected ':' after a dict key");
      this.pos++;
      const value = this.value(depth + 1);
      if (map.has(key.v)) this.err(`duplicate key '${key.v}'`);
      map.set(key.v, value);
      this.ws();
      const c = this.src[this.pos];
      if (c === ',') this.pos++;
      else if (c !== '}') this.err("expected ',' or '}'");
    }
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

function pyRepr(v: PyValue): string {
  switch (v.t) {
    case 'str':
      return `'${v.v}'`;
    case 'int':
      return v.v.toString();
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'tuple':
      return v.v.length === 1 ? `(${pyRepr(v.v[0]!)},)` : `(${v.v.map(pyRepr).join(', ')})`;
    case 'list':
      return `[${v.v.map(pyRepr).join(', ')}]`;
    case 'dict':
      return `{${[...v.v].map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(', ')}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// descr
// ---------------------------------------------------------------------------------------------

interface ParsedDescr {
  info: DtypeInfo;
  /** Byte order of the data in the file. */
  littleEndian: boolean;
}

function parseDescr(descr: PyValue, file: string | undefined): ParsedDescr {
  const place = 'header: descr';
  if (descr.t !== 'str') {
    fail(
      file,
      place,
      `descr ${truncate(pyRepr(descr), 120)} is a structured or sub-array dtype; expected a simple dtype string such as '<f4' (supported: ${NPY_DTYPES.join(', ')})`,
    );
  }
  const s = descr.v;
  const m = /^([<>=|]?)([a-zA-Z?])(\d*)$/.exec(s);
  if (!m) fail(file, place, `descr '${s}' is not a NumPy dtype string; expected e.g. '<f4', '<i8', '|b1'`);
  const order = m[1]!;
  let kind = m[2]!;
  let size = m[3] === '' ? NaN : Number(m[3]);
  if (kind === '?') {
    kind = 'b';
    if (Number.isNaN(size)) size = 1;
  }
  const info = DTYPES.find((d) => d.kind === kind && d.size === size);
  if (!info) {
    fail(
      file,
      place,
      `descr '${s}' is not a supported dtype; expected one of ${DTYPES.map((d) => npyDescr(d.dtype)).join(', ')} (or the same with '>' or '=' byte order)`,
    );
  }
  if (info.size === 1) return { info, littleEndian: true };
  if (order === '|') {
    fail(file, place, `descr '${s}': byte order '|' (not applicable) is only meaningful for 1-byte types; expected '<', '>' or '='`);
  }
  if (order === '>') return { info, littleEndian: false };
  if (order === '<') return { info, littleEndian: true };
  // '=' or no prefix: native order of the machine; NumPy itself never writes this for multi-byte types.
  return { info, littleEndian: HOST_LITTLE_ENDIAN };
}

// ---------------------------------------------------------------------------------------------
// parse
// ---------------------------------------------------------------------------------------------

export interface NpyHeader {
  version: [number, number];
  descr: string;
  dtype: NpyDtype;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the array data. */
  dataOffset: number;
}

/** Reads and validates the header only. */
export function parseNpyHeader(bytes: Uint8Array, file?: string): NpyHeader {
  if (!(bytes instanceof Uint8Array)) fail(file, 'file', 'expected the bytes of a .npy file (Uint8Array)');
  if (bytes.length < 10) {
    fail(file, 'magic', `file is ${bytes.length} bytes, too short for a .npy file (expected at least the 10-byte preamble \\x93NUMPY, version, header length)`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      const got = [...bytes.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      fail(file, 'magic', `not a .npy file: expected the magic string \\x93NUMPY (93 4e 55 4d 50 59), got ${got}`);
    }
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!(major === 1 || major === 2 || major === 3) || minor !== 0) {
    fail(file, 'version', `unsupported .npy format version ${major}.${minor}; expected 1.0, 2.0 or 3.0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else {
    if (bytes.length < 12) fail(file, 'header length', `file is ${bytes.length} bytes, too short for a version ${major}.0 preamble (12 bytes)`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  }
  if (headerLength > MAX_HEADER_LENGTH) {
    fail(file, 'header length', `declared header length ${headerLength} bytes exceeds the limit of ${MAX_HEADER_LENGTH}`);
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.length) {
    fail(file, 'header', `truncated: header declares ${headerLength} bytes but only ${bytes.length - headerStart} follow the preamble`);
  }
  const headerBytes = bytes.subarray(headerStart, dataOffset);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    } catch {
      fail(file, 'header', 'version 3.0 header is not valid UTF-8');
    }
  } else {
    let s = '';
    for (let i = 0; i < headerBytes.length; i++) s += String.fromCharCode(headerBytes[i]!);
    text = s; // latin-1
  }

  const dict = new LiteralParser(text, file).parseTop();
  if (dict.t !== 'dict') fail(file, 'header', `header is not a dict literal: ${truncate(text.trim(), 200)}`);
  const keys = [...dict.v.keys()];
  const expected = ['descr', 'fortran_order', 'shape'];
  if (keys.length !== 3 || !expected.every((k) => dict.v.has(k))) {
    fail(file, 'header', `header keys are [${keys.map((k) => `'${k}'`).join(', ')}]; expected exactly 'descr', 'fortran_order', 'shape'`);
  }
  const { info, littleEndian } = parseDescr(dict.v.get('descr')!, file);

  const fo = dict.v.get('fortran_order')!;
  if (fo.t !== 'bool') fail(file, 'header: fortran_order', `fortran_order is ${truncate(pyRepr(fo), 80)}; expected True or False`);

  const sh = dict.v.get('shape')!;
  if (sh.t !== 'tuple') fail(file, 'header: shape', `shape is ${truncate(pyRepr(sh), 80)}; expected a tuple of non-negative integers such as (3, 4), (5,) or ()`);
  const shape: number[] = [];
  sh.v.forEach((d, i) => {
    if (d.t !== 'int' || d.v < 0n || d.v > BigInt(Number.MAX_SAFE_INTEGER)) {
      fail(file, 'header: shape', `shape[${i}] is ${truncate(pyRepr(d), 40)}; expected a non-negative integer`);
    }
    shape.push(Number(d.v));
  });
  const descr = (dict.v.get('descr') as { t: 'str'; v: string }).v;
  return { version: [major, minor], descr, dtype: info.dtype, littleEndian, fortranOrder: fo.v, shape, dataOffset };
}

/** Parses a `.npy` file's bytes. Every problem raises KerasInteropError('NPY_INVALID') naming the place. */
export function parseNpy(bytes: Uint8Array, file?: string): NpyArray {
  const h = parseNpyHeader(bytes, file);
  const itemSize = npyItemSize(h.dtype);
  const available = bytes.length - h.dataOffset;
  // Element count, checked against the bytes present before anything is allocated.
  let count = 1;
  if (h.shape.includes(0)) {
    count = 0;
  } else {
    for (const d of h.shape) {
      count *= d;
      if (count * itemSize > available) {
        fail(
          file,
          'data',
          `truncated: shape (${h.shape.join(', ')}) of ${h.dtype} needs ${describeBytes(h.shape, itemSize)} but only ${available} bytes of data are present`,
        );
      }
    }
  }
  const nbytes = count * itemSize;
  if (nbytes !== available) {
    fail(file, 'data', `${available - nbytes} unexpected bytes after the array data (shape (${h.shape.join(', ')}) of ${h.dtype} is ${nbytes} bytes, ${available} present)`);
  }
  const raw = bytes.slice(h.dataOffset, h.dataOffset + nbytes); // own, aligned buffer
  if (itemSize > 1 && h.littleEndian !== HOST_LITTLE_ENDIAN) byteSwap(raw, itemSize);
  let data = makeTyped(h.dtype, raw.buffer, count);
  if (h.dtype === 'bool') {
    for (let i = 0; i < raw.length; i++) {
      if (raw[i]! > 1) fail(file, 'data', `bool element ${i} has byte value ${raw[i]}; expected 0 or 1`);
    }
  }
  if (h.fortranOrder && h.shape.length > 1 && count > 0) data = fortranToC(data, h.shape);
  return { dtype: h.dtype, shape: h.shape, data };
}

function describeBytes(shape: number[], itemSize: number): string {
  const total = shape.reduce((a, b) => a * BigInt(b), BigInt(itemSize));
  return `${total} bytes`;
}

function byteSwap(buf: Uint8Array, size: number): void {
  for (let i = 0; i + size <= buf.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = buf[a]!;
      buf[a] = buf[b]!;
      buf[b] = t;
    }
  }
}

function makeTyped(dtype: NpyDtype, buffer: ArrayBufferLike, count: number): NpyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, count);
    case 'float64':
      return new Float64Array(buffer, 0, count);
    case 'int32':
      return new Int32Array(buffer, 0, count);
    case 'int64':
      return new BigInt64Array(buffer, 0, count);
    case 'bool':
    case 'uint8':
      return new Uint8Array(buffer, 0, count);
    case 'float16':
    case 'uint16':
      return new Uint16Array(buffer, 0, count);
    case 'int8':
      return new Int8Array(buffer, 0, count);
    case 'int16':
      return new Int16Array(buffer, 0, count);
    case 'uint32':
      return new Uint32Array(buffer, 0, count);
  }
}

function emptyLike(data: NpyTypedArray, n: number): NpyTypedArray {
  const Ctor = data.constructor as new (n: number) => NpyTypedArray;
  return new Ctor(n);
}

/** Reorders column-major (Fortran) data into row-major (C) order. */
function fortranToC(src: NpyTypedArray, shape: number[]): NpyTypedArray {
  const n = src.length;
  const out = emptyLike(src, n);
  const rank = shape.length;
  const fStride: number[] = new Array<number>(rank);
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fStride[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array<number>(rank).fill(0);
  let f = 0;
  const dst = out as unknown as { [i: number]: number | bigint };
  const from = src as unknown as { [i: number]: number | bigint };
  for (let c = 0; c < n; c++) {
    dst[c] = from[f]!;
    // advance the C-order odometer (last axis fastest), keeping the Fortran offset in step
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]!++;
      f += fStride[k]!;
      if (idx[k]! < shape[k]!) break;
      f -= fStride[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// encode
// ---------------------------------------------------------------------------------------------

type TypedCtor = abstract new (...args: never[]) => NpyTypedArray;

function expectedCtor(dtype: NpyDtype): TypedCtor {
  switch (dtype) {
    case 'float32':
      return Float32Array;
    case 'float64':
      return Float64Array;
    case 'int32':
      return Int32Array;
    case 'int64':
      return BigInt64Array;
    case 'bool':
    case 'uint8':
      return Uint8Array;
    case 'float16':
    case 'uint16':
      return Uint16Array;
    case 'int8':
      return Int8Array;
    case 'int16':
      return Int16Array;
    case 'uint32':
      return Uint32Array;
  }
}

/** Number of elements of a shape (1 for `[]`). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks that dtype, shape and data agree; throws NPY_INVALID naming what is wrong. */
export function validateNpyArray(arr: NpyArray, what = 'array'): void {
  if (!isNpyDtype(arr.dtype)) fail(undefined, `${what}.dtype`, `dtype ${String(arr.dtype)} is not one of ${NPY_DTYPES.join(', ')}`);
  if (!Array.isArray(arr.shape) || !arr.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(undefined, `${what}.shape`, `shape ${JSON.stringify(arr.shape)} is not a list of non-negative integers`);
  }
  const ctor = expectedCtor(arr.dtype);
  if (!(arr.data instanceof ctor)) {
    const got = (arr.data as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof arr.data;
    fail(undefined, `${what}.data`, `dtype ${arr.dtype} needs a ${ctor.name}, got ${got}`);
  }
  const n = shapeSize(arr.shape);
  if (arr.data.length !== n) {
    fail(undefined, `${what}.data`, `shape [${arr.shape.join(', ')}] has ${n} elements but data has ${arr.data.length}`);
  }
  if (arr.dtype === 'bool') {
    const d = arr.data as Uint8Array;
    for (let i = 0; i < d.length; i++) {
      if (d[i]! > 1) fail(undefined, `${what}.data`, `bool element ${i} is ${d[i]}; expected 0 or 1`);
    }
  }
}

/** The header bytes exactly as NumPy (>= 1.24, 2.x) writes them. */
export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  let header = `{'descr': '${npyDescr(dtype)}', 'fortran_order': False, 'shape': ${formatShape(shape)}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // Everything here is ASCII, so latin-1 (v1/v2) and the byte length agree.
  const hlen = header.length + 1;
  let version = 1;
  let lenBytes = 2;
  let padlen = ARRAY_ALIGN - ((8 + lenBytes + hlen) % ARRAY_ALIGN);
  if (hlen + padlen > 0xffff) {
    version = 2;
    lenBytes = 4;
    padlen = ARRAY_ALIGN - ((8 + lenBytes + hlen) % ARRAY_ALIGN);
  }
  const total = 8 + lenBytes + hlen + padlen;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, hlen + padlen, true);
  else view.setUint32(8, hlen + padlen, true);
  let p = 8 + lenBytes;
  for (let i = 0; i < header.length; i++) out[p++] = header.charCodeAt(i);
  for (let i = 0; i < padlen; i++) out[p++] = 0x20;
  out[p] = 0x0a;
  return out;
}

/** Encodes an array as a `.npy` file (v1 header, v2 if the header is too long), byte-identical to `numpy.save`. */
export function encodeNpy(arr: NpyArray): Uint8Array {
  validateNpyArray(arr);
  const header = encodeNpyHeader(arr.dtype, arr.shape);
  const itemSize = npyItemSize(arr.dtype);
  const d = arr.data;
  const body = new Uint8Array(d.buffer, d.byteOffset, d.length * itemSize);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  if (itemSize > 1 && !HOST_LITTLE_ENDIAN) byteSwap(out.subarray(header.length), itemSize);
  return out;
}

// ---------------------------------------------------------------------------------------------
// values
// ---------------------------------------------------------------------------------------------

/** IEEE 754 half-precision bits → number. */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → IEEE 754 half-precision bits, rounding to nearest even (as NumPy's astype(float16)). */
export function numberToFloat16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  if (a >= 65520) return sign | 0x7c00; // rounds to infinity
  if (a < 2 ** -14) {
    // subnormal (or zero): units of 2^-24, ties to even
    const q = a / 2 ** -24;
    let r = Math.round(q);
    if (r - q === 0.5 && r % 2 === 1) r -= 1;
    return sign | r; // r may be 1024 = smallest normal, which is the right encoding
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  const q = (a / 2 ** e - 1) * 1024;
  let m = Math.round(q);
  if (m - q === 0.5 && m % 2 === 1) m -= 1;
  let bits = ((e + 15) << 10) + m; // m = 1024 carries into the exponent correctly
  if (bits >= 0x7c00) bits = 0x7c00;
  return sign | bits;
}

/** All values as float64 (int64 via Number(), exact up to 2^53; bool as 0/1; float16 decoded). */
export function toFloat64(arr: Pick<NpyArray, 'dtype' | 'data'>): Float64Array {
  const d = arr.data;
  const out = new Float64Array(d.length);
  if (d instanceof BigInt64Array) {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
  } else if (arr.dtype === 'float16') {
    for (let i = 0; i < d.length; i++) out[i] = float16BitsToNumber(d[i] as number);
  } else {
    for (let i = 0; i < d.length; i++) out[i] = d[i] as number;
  }
  return out;
}

/**
 * Builds an NpyArray of `dtype` from plain numbers (float16 values are rounded to half precision,
 * integer types must hold integers in range, bool takes 0/1 or true/false).
 */
export function npyFromValues(dtype: NpyDtype, shape: number[], values: ArrayLike<number | boolean | bigint>): NpyArray {
  const n = shapeSize(shape);
  if (values.length !== n) fail(undefined, 'values', `shape [${shape.join(', ')}] has ${n} elements but ${values.length} values were given`);
  let data: NpyTypedArray;
  if (dtype === 'int64') {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (typeof v === 'bigint') out[i] = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) out[i] = BigInt(v);
      else fail(undefined, `values[${i}]`, `${String(v)} is not an integer for int64`);
    }
    data = out;
  } else {
    data = makeTyped(dtype, new ArrayBuffer(n * npyItemSize(dtype)), n);
    const w = data as unknown as { [i: number]: number };
    const info = infoOf(dtype);
    for (let i = 0; i < n; i++) {
      const raw = values[i]!;
      const v = typeof raw === 'boolean' ? (raw ? 1 : 0) : Number(raw);
      if (dtype === 'float16') w[i] = numberToFloat16Bits(v);
      else if (info.kind === 'f') w[i] = v;
      else {
        const lo = info.kind === 'b' ? 0 : info.kind === 'u' ? 0 : -(2 ** (info.size * 8 - 1));
        const hi = info.kind === 'b' ? 1 : info.kind === 'u' ? 2 ** (info.size * 8) - 1 : 2 ** (info.size * 8 - 1) - 1;
        if (!Number.isInteger(v) || v < lo || v > hi) fail(undefined, `values[${i}]`, `${String(raw)} does not fit ${dtype} (integers ${lo}..${hi})`);
        w[i] = v;
      }
    }
  }
  return { dtype, shape: [...shape], data };
}
