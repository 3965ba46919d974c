/**
 * Protobuf at the wire level, for mutators that need more than a schema's decoder gives: a message as
 * a tree of fields in file order (tag, wire type, raw value), nested messages parsed where a schema
 * says a field holds one, and an encoder that writes the tree back, either honestly (lengths recomputed)
 * or with the lies a field carries (a declared length off by some bytes, a tag with another wire type
 * or field number, a varint padded to ten bytes). Unknown fields survive a round trip untouched.
 */

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

export interface WireField {
  field: number;
  wire: number;
  /** VARINT: the value as an unsigned 64-bit integer (two's complement for negatives). */
  varint?: bigint;
  /** LEN, I64, I32: the raw payload (for a parsed nested message, its bytes as read). */
  bytes?: Uint8Array;
  /** LEN fields a schema names as messages: their fields, when the payload parses. */
  children?: WireField[];
  /** The message type of `children` (a key of the schema). */
  type?: string;
  /** Lies written instead of the truth: the length declared differs by this much... */
  lengthDelta?: number;
  /** ...or the tag is written with this field number and wire type... */
  tag?: { field: number; wire: number };
  /** ...or the varints (tag, length, value) are written in ten bytes, as a non-canonical writer may. */
  padded?: boolean;
}

/** Message type → field number → the message type that field holds. */
export type WireSchema = Readonly<Record<string, Readonly<Record<number, string>>>>;

const MASK64 = (1n << 64n) - 1n;

export function varintBytes(value: bigint | number, padded = false): number[] {
  let v = BigInt.asUintN(64, BigInt(value)) & MASK64;
  const out: number[] = [];
  do {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  } while (v > 0n || (padded && out.length < 10));
  out[out.length - 1] &= 0x7f;
  return out;
}

class Reader {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): bigint | undefined {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) return undefined;
      const byte = this.b[this.pos++];
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v & MASK64;
    }
    return undefined;
  }
}

/**
 * The fields of one message; undefined when the bytes are not a well-formed message (a truncated
 * field, a length past the end, a group wire type). Nested messages that do not parse stay as bytes.
 */
export function parseMessage(bytes: Uint8Array, type: string, schema: WireSchema, depth = 0): WireField[] | undefined {
  const r = new Reader(bytes, 0, bytes.length);
  const fields: WireField[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === undefined) return undefined;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) return undefined;
    if (wire === WIRE.VARINT) {
      const v = r.varint();
      if (v === undefined) return undefined;
      fields.push({ field, wire, varint: v });
    } else if (wire === WIRE.I64 || wire === WIRE.I32) {
      const n = wire === WIRE.I64 ? 8 : 4;
      if (r.pos + n > r.end) return undefined;
      fields.push({ field, wire, bytes: bytes.slice(r.pos, r.pos + n) });
      r.pos += n;
    } else if (wire === WIRE.LEN) {
      const len = r.varint();
      if (len === undefined || len > BigInt(r.end - r.pos)) return undefined;
      const payload = bytes.slice(r.pos, r.pos + Number(len));
      r.pos += Number(len);
      const f: WireField = { field, wire, bytes: payload };
      const inner = schema[type]?.[field];
      // Bounded: a schema's recursion (graphs inside attributes) is walked as deep as the file goes,
      // but a mutant nests far past what a real model needs.
      if (inner && depth < 64) {
        const children = parseMessage(payload, inner, schema, depth + 1);
        if (children) Object.assign(f, { children, type: inner });
      }
      fields.push(f);
    } else {
      return undefined;
    }
  }
  return fields;
}

function payloadOf(f: WireField): Uint8Array {
  return f.children ? encodeMessage(f.children) : (f.bytes ?? new Uint8Array());
}

/** Writes fields back, each with its lies. */
export function encodeMessage(fields: readonly WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (p: Uint8Array | number[]) => {
    const u = p instanceof Uint8Array ? p : Uint8Array.from(p);
    parts.push(u);
    size += u.length;
  };
  for (const f of fields) {
    const tag = f.tag ?? { field: f.field, wire: f.wire };
    push(varintBytes((BigInt(tag.field) << 3n) | BigInt(tag.wire & 7), f.padded));
    if (f.wire === WIRE.VARINT) push(varintBytes(f.varint ?? 0n, f.padded));
    else if (f.wire === WIRE.LEN) {
      const p = payloadOf(f);
      push(varintBytes(Math.max(0, p.length + (f.lengthDelta ?? 0)), f.padded));
      push(p);
    } else push(f.bytes ?? new Uint8Array(f.wire === WIRE.I64 ? 8 : 4));
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Every field in the tree, parents before children, with the message each sits in. */
export function walkFields(fields: WireField[], parentType: string, visit: (f: WireField, inType: string, siblings: WireField[]) => void): void {
  for (const f of fields) {
    visit(f, parentType, fields);
    if (f.children) walkFields(f.children, f.type!, visit);
  }
}

/** The messages of one type anywhere in the tree (their field lists, to edit in place). */
export function messagesOfType(root: WireField[], rootType: string, type: string): WireField[][] {
  const out: WireField[][] = rootType === type ? [root] : [];
  walkFields(root, rootType, (f) => {
    if (f.children && f.type === type) out.push(f.children);
  });
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A LEN field holding a string. */
export function stringField(field: number, s: string): WireField {
  return { field, wire: WIRE.LEN, bytes: enc.encode(s) };
}

export function fieldText(f: WireField | undefined): string | undefined {
  return f?.wire === WIRE.LEN && f.bytes ? dec.decode(f.bytes) : undefined;
}

export function varintField(field: number, v: bigint | number): WireField {
  return { field, wire: WIRE.VARINT, varint: BigInt.asUintN(64, BigInt(v)) };
}

export function messageField(field: number, type: string, children: WireField[]): WireField {
  return { field, wire: WIRE.LEN, type, children };
}
