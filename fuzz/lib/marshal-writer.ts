/**
 * Writes marshal bytes of a code object in each Python layout (CPython `Python/marshal.c`, w_object):
 * the fuzzer's Lambda mutator rewrites functions with it, and tests feed the reader functions of Python
 * versions this machine does not have, assembled by hand.
 */
import type { CodeLayout } from '../../src/runtime/lambda/marshal.js';

/**
 * A constant: None, bool, int (number or bigint), float (`{ float }`), str, tuple (array), Ellipsis, a
 * back-reference to the n-th flagged object (`{ ref }`), or a constant written with FLAG_REF (`{ flagged }`).
 */
export type Const =
  | null
  | boolean
  | number
  | bigint
  | string
  | { float: number }
  | { ellipsis: true }
  | { ref: number }
  | { flagged: Const }
  | Const[];

export interface CodeSpec {
  layout: CodeLayout;
  argcount?: number;
  posonlyargcount?: number;
  kwonlyargcount?: number;
  stacksize?: number;
  flags?: number;
  code: number[];
  consts?: Const[];
  names?: string[];
  varnames?: string[];
  freevars?: string[];
  cellvars?: string[];
  name?: string;
}

class Writer {
  out: number[] = [];

  u8(v: number): void {
    this.out.push(v & 0xff);
  }

  i32(v: number): void {
    for (let i = 0; i < 4; i++) this.u8(v >> (8 * i));
  }

  bytes(type: number, data: number[]): void {
    this.u8(type);
    this.i32(data.length);
    this.out.push(...data);
  }

  str(s: string): void {
    const data = [...new TextEncoder().encode(s)];
    if (data.length < 256 && data.every((b) => b < 128)) {
      this.u8(0x7a); // 'z': short ASCII
      this.u8(data.length);
      this.out.push(...data);
    } else this.bytes(0x75, data); // 'u'
  }

  tuple(items: Const[]): void {
    this.u8(0x28); // '('
    this.i32(items.length);
    for (const c of items) this.const(c);
  }

  const(c: Const): void {
    if (c === null) this.u8(0x4e);
    else if (c === true) this.u8(0x54);
    else if (c === false) this.u8(0x46);
    else if (typeof c === 'number' || typeof c === 'bigint') this.int(BigInt(c));
    else if (typeof c === 'string') this.str(c);
    else if (Array.isArray(c)) this.tuple(c);
    else if ('ref' in c) {
      this.u8(0x72);
      this.i32(c.ref);
    } else if ('flagged' in c) {
      const at = this.out.length;
      this.const(c.flagged);
      this.out[at] |= 0x80;
    } else if ('float' in c) {
      this.u8(0x67);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, c.float, true);
      this.out.push(...b);
    } else this.u8(0x2e);
  }

  int(v: bigint): void {
    if (v >= -(2n ** 31n) && v < 2n ** 31n) {
      this.u8(0x69);
      this.i32(Number(v));
      return;
    }
    // 'l': digit count (signed), 15-bit digits, least significant first.
    const digits: number[] = [];
    let m = v < 0n ? -v : v;
    while (m > 0n) {
      digits.push(Number(m & 0x7fffn));
      m >>= 15n;
    }
    this.u8(0x6c);
    this.i32(v < 0n ? -digits.length : digits.length);
    for (const d of digits) {
      this.u8(d);
      this.u8(d >> 8);
    }
  }

  names(list: string[]): void {
    this.u8(0x28);
    this.i32(list.length);
    for (const s of list) this.str(s);
  }
}

/** `marshal.dumps(code)` of a code object laid out as `spec.layout` writes it. */
export function marshalCode(spec: CodeSpec): Uint8Array {
  const w = new Writer();
  const varnames = spec.varnames ?? ['x'];
  const freevars = spec.freevars ?? [];
  const cellvars = spec.cellvars ?? [];
  w.u8(0xe3); // 'c' | FLAG_REF
  w.i32(spec.argcount ?? 1);
  if (spec.layout !== 'py35') w.i32(spec.posonlyargcount ?? 0);
  w.i32(spec.kwonlyargcount ?? 0);
  if (spec.layout !== 'py311') w.i32(varnames.length);
  w.i32(spec.stacksize ?? 8);
  w.i32(spec.flags ?? 0x43);
  w.bytes(0x73, spec.code);
  w.tuple(spec.consts ?? [null]);
  w.names(spec.names ?? []);
  if (spec.layout === 'py311') {
    w.names([...varnames, ...cellvars.filter((c) => !varnames.includes(c)), ...freevars]);
    const kinds = [
      ...varnames.map((v) => (cellvars.includes(v) ? 0x60 : 0x20)),
      ...cellvars.filter((c) => !varnames.includes(c)).map(() => 0x40),
      ...freevars.map(() => 0x80),
    ];
    w.bytes(0x73, kinds);
  } else {
    w.names(varnames);
    w.names(freevars);
    w.names(cellvars);
  }
  w.str('<test>');
  w.str(spec.name ?? '<lambda>');
  if (spec.layout === 'py311') w.str(spec.name ?? '<lambda>');
  w.i32(1);
  w.bytes(0x73, []);
  if (spec.layout === 'py311') w.bytes(0x73, []);
  return Uint8Array.from(w.out);
}

/** Base64, as Keras stores the bytes in a config. */
export function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(text);
}
