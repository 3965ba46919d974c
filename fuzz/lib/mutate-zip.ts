/**
 * .keras archive mutations at the zip level: traversal names, duplicated entries, declared sizes and
 * CRCs that lie, unknown compression methods, end-record fields, bombs, missing and extra entries.
 * The archive is rewritten with correct checksums unless the mutation is about the checksum.
 */
import { deflateSync } from 'fflate';
import type { Rng } from './rng.js';
import { type ZipEntrySpec, type ZipSpec, crc32, writeZip } from './zip-writer.js';

export const TRAVERSAL_NAMES = [
  '../config.json', '../../../../tmp/evil.json', '/etc/passwd', '/tmp/evil', 'C:\\evil.json', 'c:/evil', '\\\\server\\share\\x',
  'a/../../b', 'config.json/../../x', '..', '..\\..\\evil', 'config.json\u0000.txt', './../x', 'assets/../../x',
];

const enc = new TextEncoder();

/** Lazily built payloads shared by all cases of a worker (a bomb takes a while to deflate). */
const bombs = new Map<number, { payload: Uint8Array; crc: number }>();
function bomb(mb: number): { payload: Uint8Array; crc: number } {
  let b = bombs.get(mb);
  if (!b) {
    const zeros = new Uint8Array(mb << 20);
    b = { payload: deflateSync(zeros, { level: 9 }), crc: crc32(zeros) };
    bombs.set(mb, b);
  }
  return b;
}

export interface ZipMutation {
  name: string;
  bytes: Uint8Array;
}

export function mutateZip(rng: Rng, entries: [string, Uint8Array][]): ZipMutation {
  const specs: ZipEntrySpec[] = entries.map(([name, data]) => ({ name, data }));
  const spec: ZipSpec = { entries: specs };
  const pickEntry = () => rng.pick(specs);
  let name: string;
  switch (rng.int(17)) {
    case 0: {
      const e = pickEntry();
      e.name = rng.pick(TRAVERSAL_NAMES);
      name = 'zip:rename-traversal';
      break;
    }
    case 1:
      specs.splice(rng.int(specs.length + 1), 0, { name: rng.pick(TRAVERSAL_NAMES), data: rng.pick(entries)[1] });
      name = 'zip:add-traversal';
      break;
    case 2: {
      const e = pickEntry();
      const data = rng.chance(0.5) ? e.data : rng.bytes(rng.pick([0, 10, 1000]));
      specs.splice(rng.int(specs.length + 1), 0, { name: e.name, data });
      name = 'zip:duplicate';
      break;
    }
    case 3: {
      const e = pickEntry();
      e.size = rng.pick([0xffffffff, 0x7fffffff, 0x80000000, e.data.length + 1, Math.max(0, e.data.length - 1), 0, 1 << 30]);
      name = 'zip:declared-size';
      break;
    }
    case 4: {
      const e = pickEntry();
      e.crc = (e.crc ?? 0) ^ (1 << rng.int(32));
      name = 'zip:wrong-crc';
      break;
    }
    case 5:
      for (const e of specs) e.method = 8;
      name = 'zip:deflate-all';
      break;
    case 6: {
      const e = pickEntry();
      e.method = rng.pick([1, 6, 9, 12, 14, 93, 95, 98, 99, 0xffff]);
      name = 'zip:method';
      break;
    }
    case 7: {
      const e = pickEntry();
      if (rng.chance(0.5)) {
        e.method = 8;
        e.payload = e.data;
        name = 'zip:deflate-garbage';
      } else {
        e.method = 0;
        e.payload = deflateSync(e.data);
        name = 'zip:stored-deflated';
      }
      break;
    }
    case 8: {
      const e = pickEntry();
      e.csize = rng.pick([0, 1, 0xffffffff, 0x7fffffff, e.data.length * 2 + 1000]);
      name = 'zip:compressed-size';
      break;
    }
    case 9: {
      const e = pickEntry();
      if (rng.chance(0.5)) e.centralName = rng.pick(TRAVERSAL_NAMES);
      else {
        e.centralName = e.name;
        e.name = rng.pick(TRAVERSAL_NAMES);
      }
      name = 'zip:local-central-names-differ';
      break;
    }
    case 10:
      switch (rng.int(5)) {
        case 0:
          spec.count = rng.pick([0, specs.length + 1, 0xffff]);
          break;
        case 1:
          spec.cdOffsetShift = rng.pick([-1, 1, -46, 1 << 20]);
          break;
        case 2:
          spec.cdOffset = rng.pick([0, 0xffffffff, 0x7fffffff]);
          break;
        case 3:
          spec.cdSize = rng.pick([0, 1, 0xffffffff]);
          break;
        default:
          spec.comment = rng.bytes(rng.pick([1, 100]));
          spec.commentLength = rng.pick([0, 0xffff, 1000]);
      }
      name = 'zip:end-record';
      break;
    case 11: {
      const mb = rng.pick([8, 16, 32]);
      const e = specs.find((s) => s.name.endsWith('.h5')) ?? pickEntry();
      const b = bomb(mb);
      e.method = 8;
      e.payload = b.payload;
      e.data = new Uint8Array(0);
      e.size = mb << 20;
      e.crc = b.crc;
      name = `zip:bomb-${mb}MiB`;
      break;
    }
    case 12:
      specs.splice(rng.int(specs.length), 1);
      name = 'zip:drop-entry';
      break;
    case 13: {
      const n = rng.pick([2, 100, 3000]);
      for (let i = 0; i < n; i++) specs.push({ name: rng.chance(0.5) ? `assets/x${i}/` : `junk/${i}.bin`, data: new Uint8Array(rng.int(4)) });
      name = `zip:extra-entries-${n}`;
      break;
    }
    case 14: {
      const e = pickEntry();
      e.name = rng.pick([`${e.name}/`, '', ' ', e.name.toUpperCase(), `./${e.name}`, `${e.name} `, `dir/${e.name}`]);
      name = 'zip:rename';
      break;
    }
    case 15: {
      const e = pickEntry();
      e.flags = rng.pick([1, 8, 0x800, 0x41, 0xffff]);
      if (e.flags === 8 && rng.chance(0.5)) {
        e.size = 0;
        e.csize = 0;
        e.crc = 0;
      }
      name = 'zip:flags';
      break;
    }
    default: {
      // A zip64 extended-information field with the 32-bit sizes set to "see zip64".
      const e = pickEntry();
      const extra = new Uint8Array(4 + 16);
      const v = new DataView(extra.buffer);
      v.setUint16(0, 0x0001, true);
      v.setUint16(2, 16, true);
      v.setBigUint64(4, rng.pick([0xffffffffffffn, BigInt(e.data.length), 1n << 40n]), true);
      v.setBigUint64(12, rng.pick([0xffffffffffffn, BigInt(e.data.length)]), true);
      e.extra = extra;
      e.size = 0xffffffff;
      e.csize = rng.chance(0.5) ? 0xffffffff : undefined;
      name = 'zip:zip64';
    }
  }
  return { name, bytes: writeZip(spec) };
}

/** The archive rebuilt with correct checksums after replacing (or adding) one entry. */
export function rezip(entries: [string, Uint8Array][], replace: string, data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? enc.encode(data) : data;
  const specs = entries.map(([name, d]) => ({ name, data: name === replace ? bytes : d }));
  if (!entries.some(([n]) => n === replace)) specs.push({ name: replace, data: bytes });
  return writeZip({ entries: specs });
}
