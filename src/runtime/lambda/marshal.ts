/**
 * A reader for the part of CPython's `marshal` format that a Keras `Lambda` stores: the bytes of
 * `marshal.dumps(function.__code__)`. It reads code objects and the constants they hold (None, booleans,
 * ints, floats, complex numbers, strings, bytes, tuples, lists, sets, dicts, Ellipsis) and back-references
 * (`FLAG_REF` / `r`), never anything that could run code: marshal itself has no such type, and nothing
 * read here is ever executed.
 *
 * Type codes and the wire form of each come from CPython's `Python/marshal.c`; they have been stable
 * since Python 3.4 (refs, short ASCII strings). The code object's own field list changed with the
 * interpreter (3.8 added `co_posonlyargcount`; 3.11 replaced the name tuples by `co_localsplusnames` and
 * `co_localspluskinds` and added `co_qualname` and `co_exceptiontable`). The bytes do not say which
 * interpreter wrote them, so each layout is tried and the one the whole stream parses under is kept (see
 * `CODE_LAYOUTS`).
 *
 * Untrusted input: every length is checked against the bytes left before anything is allocated, nesting
 * and object counts are bounded, and every failure is a `MarshalError` naming the byte offset.
 */

/** A value marshal can hold, as far as code objects use them. */
export type PyObject =
  | { t: 'none' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'complex'; re: number; im: number }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'tuple' | 'list' | 'set' | 'frozenset'; items: PyObject[] }
  | { t: 'dict'; entries: [PyObject, PyObject][] }
  | { t: 'ellipsis' }
  | { t: 'stopiteration' }
  | { t: 'code'; code: CodeObject };

/** Which code-object field list the bytes follow. */
export type CodeLayout = 'py35' | 'py38' | 'py311';

/** The interpreter versions each layout was written by. */
export const LAYOUT_VERSIONS: Readonly<Record<CodeLayout, readonly string[]>> = {
  py35: ['3.5', '3.6', '3.7'],
  py38: ['3.8', '3.9', '3.10'],
  py311: ['3.11', '3.12', '3.13'],
};

/** A code object, with the name lists of every layout spelled the same way. */
export interface CodeObject {
  layout: CodeLayout;
  argcount: number;
  posonlyargcount: number;
  kwonlyargcount: number;
  stacksize: number;
  flags: number;
  /** The bytecode (`co_code`). */
  code: Uint8Array;
  consts: PyObject[];
  /** Global and attribute names (`co_names`). */
  names: string[];
  /** Arguments and locals (`co_varnames`). */
  varnames: string[];
  /** Names of cells this function creates for inner functions (`co_cellvars`). */
  cellvars: string[];
  /** Names this function reads from its closure (`co_freevars`). */
  freevars: string[];
  /**
   * The slot list `LOAD_DEREF`'s argument indexes: `cellvars + freevars` before 3.11, every local-plus
   * slot from 3.11 on (`co_localsplusnames`).
   */
  derefNames: string[];
  filename: string;
  name: string;
  qualname: string;
  firstlineno: number;
}

/** `co_flags` bits that matter for translating a function (CPython `Include/code.h`). */
export const CO_VARARGS = 0x04;
export const CO_VARKEYWORDS = 0x08;
export const CO_GENERATOR = 0x20;
export const CO_COROUTINE = 0x80;
export const CO_ITERABLE_COROUTINE = 0x100;
export const CO_ASYNC_GENERATOR = 0x200;

/** `co_localspluskinds` bits (3.11+). */
const CO_FAST_LOCAL = 0x20;
const CO_FAST_CELL = 0x40;
const CO_FAST_FREE = 0x80;

export class MarshalError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset} of the marshalled code)`);
    this.name = 'MarshalError';
  }
}

const FLAG_REF = 0x80;
/** Deeper nesting than any code object needs (CPython's own limit is 2000). */
const MAX_DEPTH = 64;
/** Objects in one stream; a one-line function has a few dozen. */
const MAX_OBJECTS = 200_000;
/** Digits of a marshalled long (15 bits each): 1,000 digits is a 15,000-bit integer. */
const MAX_LONG_DIGITS = 1000;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

class Reader {
  pos = 0;
  refs: (PyObject | undefined)[] = [];
  objects = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly layout: CodeLayout,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string, at = this.pos): never {
    throw new MarshalError(message, at);
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      this.fail(`${what} needs ${n} bytes but ${this.bytes.length - this.pos} are left`);
    }
  }

  u8(): number {
    this.need(1, 'a byte');
    return this.bytes[this.pos++];
  }

  i32(): number {
    this.need(4, 'a 32-bit integer');
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8, 'a binary float');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length field, checked against what is left (each item takes at least `minItemBytes`). */
  length(what: string, minItemBytes: number, short = false): number {
    const at = this.pos;
    const n = short ? this.u8() : this.i32();
    if (n < 0) this.fail(`${what} has a negative length ${n}`, at);
    if (n * minItemBytes > this.bytes.length - this.pos) {
      this.fail(`${what} declares ${n} items but only ${this.bytes.length - this.pos} bytes are left`, at);
    }
    return n;
  }

  object(depth: number): PyObject {
    if (depth > MAX_DEPTH) this.fail(`objects nested deeper than ${MAX_DEPTH}`);
    if (++this.objects > MAX_OBJECTS) this.fail(`more than ${MAX_OBJECTS} objects`);
    const at = this.pos;
    const code = this.u8();
    const flag = (code & FLAG_REF) !== 0;
    const type = String.fromCharCode(code & ~FLAG_REF);
    // CPython numbers a flagged object when it starts reading it, so containers come before their items.
    let slot = -1;
    if (flag) {
      slot = this.refs.length;
      this.refs.push(undefined);
    }
    const v = this.body(type, at, depth);
    if (slot >= 0) this.refs[slot] = v;
    return v;
  }

  private body(type: string, at: number, depth: number): PyObject {
    switch (type) {
      case 'N':
        return { t: 'none' };
      case 'F':
        return { t: 'bool', v: false };
      case 'T':
        return { t: 'bool', v: true };
      case '.':
        return { t: 'ellipsis' };
      case 'S':
        return { t: 'stopiteration' };
      case 'i':
        return { t: 'int', v: BigInt(this.i32()) };
      case 'l':
        return { t: 'int', v: this.long() };
      case 'g':
        return { t: 'float', v: this.f64() };
      case 'f':
        return { t: 'float', v: this.asciiFloat() };
      case 'y':
        return { t: 'complex', re: this.f64(), im: this.f64() };
      case 'x':
        return { t: 'complex', re: this.asciiFloat(), im: this.asciiFloat() };
      case 's':
        return { t: 'bytes', v: this.take(this.length('a bytes object', 1), 'a bytes object') };
      case 'u':
      case 't':
        return { t: 'str', v: utf8.decode(this.take(this.length('a string', 1), 'a string')) };
      case 'a':
      case 'A':
        return { t: 'str', v: latin1.decode(this.take(this.length('an ASCII string', 1), 'an ASCII string')) };
      case 'z':
      case 'Z':
        return { t: 'str', v: latin1.decode(this.take(this.length('an ASCII string', 1, true), 'an ASCII string')) };
      case '(':
        return { t: 'tuple', items: this.items(this.length('a tuple', 1), depth) };
      case ')':
        return { t: 'tuple', items: this.items(this.length('a tuple', 1, true), depth) };
      case '[':
        return { t: 'list', items: this.items(this.length('a list', 1), depth) };
      case '<':
        return { t: 'set', items: this.items(this.length('a set', 1), depth) };
      case '>':
        return { t: 'frozenset', items: this.items(this.length('a frozenset', 1), depth) };
      case '{':
        return { t: 'dict', entries: this.dict(depth) };
      case 'r': {
        const i = this.i32();
        if (i < 0 || i >= this.refs.length) this.fail(`reference ${i} to an object that was not read (${this.refs.length} so far)`, at);
        const v = this.refs[i];
        if (v === undefined) this.fail(`reference ${i} to an object still being read (a cycle)`, at);
        return v;
      }
      case 'c':
        return { t: 'code', code: this.codeBody(depth) };
      default:
        return this.fail(`unknown marshal type code 0x${(type.charCodeAt(0) | 0).toString(16)}`, at);
    }
  }

  private items(n: number, depth: number): PyObject[] {
    const out: PyObject[] = [];
    for (let i = 0; i < n; i++) out.push(this.object(depth + 1));
    return out;
  }

  private dict(depth: number): [PyObject, PyObject][] {
    const out: [PyObject, PyObject][] = [];
    for (;;) {
      // A dict ends with a NULL ('0') where the next key would be.
      this.need(1, 'a dict entry');
      if (this.bytes[this.pos] === 0x30) {
        this.pos++;
        return out;
      }
      const k = this.object(depth + 1);
      out.push([k, this.object(depth + 1)]);
    }
  }

  /** `TYPE_LONG`: a signed digit count, then 15-bit digits, least significant first. */
  private long(): bigint {
    const at = this.pos;
    const n = this.i32();
    const count = Math.abs(n);
    if (count > MAX_LONG_DIGITS) this.fail(`an integer of ${count} digits (at most ${MAX_LONG_DIGITS} are read)`, at);
    this.need(count * 2, 'an integer');
    let v = 0n;
    for (let i = count - 1; i >= 0; i--) {
      const d = this.view.getUint16(this.pos + i * 2, true);
      if (d > 0x7fff) this.fail(`an integer digit ${d} above 15 bits`, this.pos + i * 2);
      v = (v << 15n) | BigInt(d);
    }
    this.pos += count * 2;
    return n < 0 ? -v : v;
  }

  /** The pre-3.x `TYPE_FLOAT`: one length byte, then the repr text. */
  private asciiFloat(): number {
    const at = this.pos;
    const text = latin1.decode(this.take(this.length('a float', 1, true), 'a float'));
    const s = text.trim().toLowerCase();
    const v = s === 'inf' || s === '+inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' || s === '-nan' ? NaN : Number(s);
    if (Number.isNaN(v) && !s.endsWith('nan')) this.fail(`a float written as ${JSON.stringify(text.slice(0, 40))}`, at);
    return v;
  }

  private int(what: string): number {
    const at = this.pos;
    const v = this.i32();
    if (v < 0) this.fail(`${what} is negative (${v})`, at);
    return v;
  }

  private str(what: string, depth: number): string {
    const at = this.pos;
    const o = this.object(depth + 1);
    if (o.t !== 'str') this.fail(`${what} should be a string, found ${o.t}`, at);
    return o.v;
  }

  private bytesField(what: string, depth: number): Uint8Array {
    const at = this.pos;
    const o = this.object(depth + 1);
    if (o.t !== 'bytes') this.fail(`${what} should be bytes, found ${o.t}`, at);
    return o.v;
  }

  private tuple(what: string, depth: number): PyObject[] {
    const at = this.pos;
    const o = this.object(depth + 1);
    if (o.t !== 'tuple') this.fail(`${what} should be a tuple, found ${o.t}`, at);
    return o.items;
  }

  private names(what: string, depth: number): string[] {
    const at = this.pos;
    return this.tuple(what, depth).map((o, i) => {
      if (o.t !== 'str') this.fail(`${what}[${i}] should be a string, found ${o.t}`, at);
      return o.v;
    });
  }

  private codeBody(depth: number): CodeObject {
    const argcount = this.int('co_argcount');
    const posonlyargcount = this.layout === 'py35' ? 0 : this.int('co_posonlyargcount');
    const kwonlyargcount = this.int('co_kwonlyargcount');
    if (this.layout !== 'py311') this.int('co_nlocals');
    const stacksize = this.int('co_stacksize');
    const flags = this.i32();
    const code = this.bytesField('co_code', depth);
    const consts = this.tuple('co_consts', depth);
    const names = this.names('co_names', depth);
    let varnames: string[];
    let cellvars: string[];
    let freevars: string[];
    let derefNames: string[];
    if (this.layout === 'py311') {
      const at = this.pos;
      const plus = this.names('co_localsplusnames', depth);
      const kinds = this.bytesField('co_localspluskinds', depth);
      if (kinds.length !== plus.length) this.fail(`co_localspluskinds has ${kinds.length} entries for ${plus.length} names`, at);
      varnames = plus.filter((_, i) => (kinds[i] & CO_FAST_LOCAL) !== 0);
      cellvars = plus.filter((_, i) => (kinds[i] & CO_FAST_CELL) !== 0 && (kinds[i] & CO_FAST_LOCAL) === 0);
      freevars = plus.filter((_, i) => (kinds[i] & CO_FAST_FREE) !== 0);
      derefNames = plus;
    } else {
      varnames = this.names('co_varnames', depth);
      freevars = this.names('co_freevars', depth);
      cellvars = this.names('co_cellvars', depth);
      derefNames = [...cellvars, ...freevars];
    }
    const filename = this.str('co_filename', depth);
    const name = this.str('co_name', depth);
    const qualname = this.layout === 'py311' ? this.str('co_qualname', depth) : name;
    const firstlineno = this.i32();
    this.bytesField(this.layout === 'py311' ? 'co_linetable' : 'co_lnotab', depth);
    if (this.layout === 'py311') this.bytesField('co_exceptiontable', depth);
    if (argcount + kwonlyargcount > varnames.length) {
      this.fail(`the code object declares ${argcount + kwonlyargcount} arguments but names ${varnames.length} locals`);
    }
    if (posonlyargcount > argcount) this.fail(`co_posonlyargcount ${posonlyargcount} exceeds co_argcount ${argcount}`);
    return {
      layout: this.layout,
      argcount,
      posonlyargcount,
      kwonlyargcount,
      stacksize,
      flags,
      code,
      consts,
      names,
      varnames,
      cellvars,
      freevars,
      derefNames,
      filename,
      name,
      qualname,
      firstlineno,
    };
  }
}

/** The layouts in the order they are tried. */
export const CODE_LAYOUTS: readonly CodeLayout[] = ['py311', 'py38', 'py35'];

export interface ReadCodeResult {
  code: CodeObject;
  /** Why each other layout did not fit, for messages. */
  rejected: { layout: CodeLayout; reason: string }[];
}

/**
 * Reads `marshal.dumps(code)` bytes: one code object and nothing after it. Every code-object layout is
 * tried; exactly one must read the whole stream.
 */
export function readCodeObject(bytes: Uint8Array): ReadCodeResult {
  if (bytes.length === 0) throw new MarshalError('no bytes', 0);
  if ((bytes[0] & ~FLAG_REF) !== 0x63) {
    throw new MarshalError(`expected a code object (type 'c'), found type code 0x${bytes[0].toString(16)}`, 0);
  }
  const fits: CodeObject[] = [];
  const rejected: { layout: CodeLayout; reason: string }[] = [];
  for (const layout of CODE_LAYOUTS) {
    const r: Reader = new Reader(bytes, layout);
    try {
      const o = r.object(0);
      if (r.pos !== bytes.length) r.fail(`${bytes.length - r.pos} bytes follow the code object`);
      if (o.t !== 'code') r.fail('not a code object', 0);
      fits.push(o.code);
    } catch (e) {
      if (!(e instanceof MarshalError)) throw e;
      rejected.push({ layout, reason: e.message });
    }
  }
  if (fits.length === 0) {
    throw new MarshalError(
      `the bytes are no code object of Python 3.5 to 3.13: ${rejected.map((r) => `as ${LAYOUT_VERSIONS[r.layout].join('/')}: ${r.reason}`).join('; ')}`,
      0,
    );
  }
  if (fits.length > 1) {
    // Field lists differ in count and in types, so two readings of one stream are not expected.
    throw new MarshalError(`the bytes read as a code object of several Python versions (${fits.map((c) => LAYOUT_VERSIONS[c.layout][0]).join(', ')})`, 0);
  }
  return { code: fits[0], rejected };
}

/** The JavaScript number of a Python int when it is exactly representable, else undefined. */
export function safeInt(v: bigint): number | undefined {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : undefined;
}
