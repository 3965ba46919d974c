/**
 * Zip archives with stored (uncompressed) members, written as parts: a member's bytes may be deferred
 * (a `.keras` archive's `model.weights.h5`, whose weights are read as they are written), so its CRC-32
 * is known only once they have been written. The central directory, written after every member, is
 * made then; a member's local header gets its CRC as a patch written at the end (`Patch`).
 * No zip64: members and the archive stay under 4 GiB, checked up front.
 */
import { KerasInteropError } from '../errors.js';
import { crc32Update } from '../readers/zip.js';
import { type Part, type Patch, partBytes, partSize, partsSize } from './parts.js';

export interface ZipMember {
  /** ASCII path inside the archive. */
  name: string;
  parts: Part[];
  mtime: Date;
  /** The host system recorded in "version made by" (3: Unix). */
  os: number;
  /** External attributes (Unix mode in the high 16 bits). */
  attrs: number;
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const VERSION = 20;
const ZIP32_LIMIT = 0xffffffff;

/** MS-DOS date and time (local time, 2-second resolution), as zip records them. */
function dosDateTime(d: Date): number {
  const y = d.getFullYear() - 1980;
  if (y < 0 || y > 127) throw new KerasInteropError('WRITE_FAILED', `zip cannot record the date ${d.toISOString()}`);
  return ((y << 25) | ((d.getMonth() + 1) << 21) | (d.getDate() << 16) | (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1)) >>> 0;
}

interface Entry {
  member: ZipMember;
  name: Uint8Array;
  size: number;
  offset: number;
  crc: number;
  /** Parts whose bytes have gone through the CRC so far. */
  tapped: number;
}

function header(e: Entry, central: boolean): Uint8Array {
  const b = new Uint8Array((central ? 46 : 30) + e.name.length);
  const v = new DataView(b.buffer);
  let at = 0;
  v.setUint32(at, central ? CENTRAL : LOCAL, true);
  at += 4;
  if (central) {
    v.setUint8(at++, VERSION);
    v.setUint8(at++, e.member.os);
  }
  v.setUint16(at, VERSION, true); // version needed
  v.setUint16(at + 2, 0, true); // flags
  v.setUint16(at + 4, 0, true); // stored
  v.setUint32(at + 6, dosDateTime(e.member.mtime), true);
  v.setUint32(at + 10, e.crc >>> 0, true);
  v.setUint32(at + 14, e.size, true);
  v.setUint32(at + 18, e.size, true);
  v.setUint16(at + 22, e.name.length, true);
  v.setUint16(at + 24, 0, true); // extra
  at += 26;
  if (central) {
    // comment length, disk, internal attributes: 0
    v.setUint32(at + 6, e.member.attrs >>> 0, true);
    v.setUint32(at + 10, e.offset, true);
    at += 14;
  }
  b.set(e.name, at);
  return b;
}

/** The archive's parts, and the patches (local-header CRCs) to write after them. */
export function storedZipParts(members: ZipMember[]): { parts: Part[]; patches: () => Patch[] } {
  const enc = new TextEncoder();
  const entries: Entry[] = [];
  const parts: Part[] = [];
  let offset = 0;
  for (const member of members) {
    const size = partsSize(member.parts);
    if (size >= ZIP32_LIMIT) {
      throw new KerasInteropError('WRITE_FAILED', `${member.name} is ${size} bytes; zip members over 4 GiB (zip64) are not supported`);
    }
    const e: Entry = { member, name: enc.encode(member.name), size, offset, crc: 0, tapped: 0 };
    entries.push(e);
    const local = header(e, false);
    parts.push(local);
    for (const p of member.parts) {
      parts.push({
        size: partSize(p),
        bytes: () => {
          const b = partBytes(p);
          e.crc = crc32Update(e.crc, b);
          e.tapped++;
          return b;
        },
      });
    }
    offset += local.length + size;
  }
  if (offset >= ZIP32_LIMIT) throw new KerasInteropError('WRITE_FAILED', `the archive would be ${offset} bytes; over 4 GiB (zip64) is not supported`);
  const complete = () => {
    for (const e of entries) {
      if (e.tapped !== e.member.parts.length) {
        throw new KerasInteropError('INTERNAL', `zip member ${e.member.name}: its bytes were not all written once, in order, before the directory`);
      }
    }
  };
  const cdSize = entries.reduce((a, e) => a + 46 + e.name.length, 0);
  parts.push({
    size: cdSize + 22,
    bytes: () => {
      complete();
      const out = new Uint8Array(cdSize + 22);
      let at = 0;
      for (const e of entries) {
        const h = header(e, true);
        out.set(h, at);
        at += h.length;
      }
      const v = new DataView(out.buffer, at);
      v.setUint32(0, END, true);
      v.setUint16(8, entries.length, true);
      v.setUint16(10, entries.length, true);
      v.setUint32(12, cdSize, true);
      v.setUint32(16, offset, true);
      return out;
    },
  });
  const patches = (): Patch[] => {
    complete();
    return entries.map((e) => {
      const crc = new Uint8Array(4);
      new DataView(crc.buffer).setUint32(0, e.crc >>> 0, true);
      return { offset: e.offset + 14, bytes: crc };
    });
  };
  return { parts, patches };
}
