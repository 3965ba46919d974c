/**
 * A zip writer that can lie: every field a reader trusts (names, sizes, CRCs, methods, offsets,
 * entry counts) can be set independently of the data, and names may repeat. Only for the fuzzer.
 */
import { deflateSync } from 'fflate';
import { crc32 } from '../../src/readers/zip.js';

export { crc32 };

export interface ZipEntrySpec {
  name: string;
  data: Uint8Array;
  /** 0 stored, 8 deflate; anything else is written as given with the data stored. */
  method?: number;
  /** The bytes written as the entry's payload; default: `data`, deflated for method 8. */
  payload?: Uint8Array;
  crc?: number;
  /** Declared inflated size (both headers). */
  size?: number;
  /** Declared compressed size (both headers). */
  csize?: number;
  /** The name in the central directory, when it should differ from the local header's. */
  centralName?: string;
  flags?: number;
  /** Extra field bytes (both headers). */
  extra?: Uint8Array;
}

export interface ZipSpec {
  entries: ZipEntrySpec[];
  /** Entry count declared in the end record. */
  count?: number;
  /** Central directory offset declared in the end record (relative shift when `cdOffsetShift`). */
  cdOffset?: number;
  cdOffsetShift?: number;
  cdSize?: number;
  comment?: Uint8Array;
  /** Declared comment length, when it should differ from the comment's. */
  commentLength?: number;
}

const enc = new TextEncoder();

export function writeZip(spec: ZipSpec): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of spec.entries) {
    const method = e.method ?? 0;
    const payload = e.payload ?? (method === 8 ? deflateSync(e.data) : e.data);
    const crc = e.crc ?? crc32(e.data);
    const size = e.size ?? e.data.length;
    const csize = e.csize ?? payload.length;
    const name = enc.encode(e.name);
    const cname = enc.encode(e.centralName ?? e.name);
    const extra = e.extra ?? new Uint8Array(0);
    const local = new Uint8Array(30 + name.length + extra.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, e.flags ?? 0, true);
    lv.setUint16(8, method & 0xffff, true);
    lv.setUint16(10, 0, true);
    lv.setUint16(12, 0x21, true);
    lv.setUint32(14, crc >>> 0, true);
    lv.setUint32(18, csize >>> 0, true);
    lv.setUint32(22, size >>> 0, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extra.length, true);
    local.set(name, 30);
    local.set(extra, 30 + name.length);
    const central = new Uint8Array(46 + cname.length + extra.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, e.flags ?? 0, true);
    cv.setUint16(10, method & 0xffff, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc >>> 0, true);
    cv.setUint32(20, csize >>> 0, true);
    cv.setUint32(24, size >>> 0, true);
    cv.setUint16(28, cname.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, offset, true);
    central.set(cname, 46);
    central.set(extra, 46 + cname.length);
    locals.push(local, payload);
    centrals.push(central);
    offset += local.length + payload.length;
  }
  const cdStart = offset;
  const cdSize = centrals.reduce((a, c) => a + c.length, 0);
  const comment = spec.comment ?? new Uint8Array(0);
  const end = new Uint8Array(22 + comment.length);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  const count = spec.count ?? spec.entries.length;
  ev.setUint16(8, count & 0xffff, true);
  ev.setUint16(10, count & 0xffff, true);
  ev.setUint32(12, (spec.cdSize ?? cdSize) >>> 0, true);
  ev.setUint32(16, (spec.cdOffset ?? cdStart + (spec.cdOffsetShift ?? 0)) >>> 0, true);
  ev.setUint16(20, (spec.commentLength ?? comment.length) & 0xffff, true);
  end.set(comment, 22);
  const parts = [...locals, ...centrals, end];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
