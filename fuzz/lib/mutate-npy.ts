/** .npy mutations: the header dict (shape, descr, fortran_order), the header length and version. */
import type { Rng } from './rng.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface NpyParts {
  major: number;
  header: string;
  data: Uint8Array;
}

export function splitNpy(b: Uint8Array): NpyParts | undefined {
  if (b.length < 10 || b[0] !== 0x93 || dec.decode(b.subarray(1, 6)) !== 'NUMPY') return undefined;
  const major = b[6];
  const lenBytes = major === 1 ? 2 : 4;
  const len = lenBytes === 2 ? b[8] | (b[9] << 8) : (b[8] | (b[9] << 8) | (b[10] << 16) | (b[11] << 24)) >>> 0;
  const start = 8 + lenBytes;
  return { major, header: dec.decode(b.subarray(start, start + len)), data: b.subarray(start + len) };
}

export function joinNpy(p: { major: number; minor?: number; header: string; data: Uint8Array; declaredLength?: number }): Uint8Array {
  const lenBytes = p.major === 1 ? 2 : 4;
  const header = enc.encode(p.header);
  const out = new Uint8Array(8 + lenBytes + header.length + p.data.length);
  out.set([0x93, ...enc.encode('NUMPY'), p.major & 0xff, (p.minor ?? 0) & 0xff], 0);
  const len = p.declaredLength ?? header.length;
  const v = new DataView(out.buffer);
  if (lenBytes === 2) v.setUint16(8, len & 0xffff, true);
  else v.setUint32(8, len >>> 0, true);
  out.set(header, 8 + lenBytes);
  out.set(p.data, 8 + lenBytes + header.length);
  return out;
}

const SHAPES = [
  '()', '(0,)', '(-1,)', '(2147483648,)', '(4294967296, 4294967296)', '(9007199254740993,)', '(1e9,)', '(3.5,)', "('a',)",
  '(None,)', '(' + '1, '.repeat(1000) + ')', '(100000, 100000)', '(3, 6)', '(3, 6, 8, 1)', '(1,)', '[3, 6, 8]', '(3,,6)',
];
const DESCRS = ['<f8', '>f4', '|b1', '<i8', '<u8', '<c8', '|O', 'O', '<U10', '|S5', '<f2', '<i4', '|u1', '<V8', "[('a', '<f4')]", 'float32', '', '<f16', '<M8[s]'];

/** One mutation of a .npy file; undefined when the bytes are not one. */
export function mutateNpy(rng: Rng, b: Uint8Array): { name: string; bytes: Uint8Array } | undefined {
  const parts = splitNpy(b);
  if (!parts) return undefined;
  let header = parts.header;
  let name: string;
  let declaredLength: number | undefined;
  let major = parts.major;
  let minor: number | undefined;
  let data = parts.data;
  switch (rng.int(8)) {
    case 0:
      header = header.replace(/'shape':\s*\([^)]*\)/, `'shape': ${rng.pick(SHAPES)}`);
      name = 'npy:shape';
      break;
    case 1:
      header = header.replace(/'descr':\s*'[^']*'/, `'descr': ${rng.chance(0.8) ? `'${rng.pick(DESCRS)}'` : rng.pick(['None', '1', '[]'])}`);
      name = 'npy:descr';
      break;
    case 2:
      header = header.replace(/'fortran_order':\s*\w+/, `'fortran_order': ${rng.pick(['True', 'None', '1', "'yes'"])}`);
      name = 'npy:fortran_order';
      break;
    case 3:
      declaredLength = rng.pick([0, 1, header.length - 1, header.length + 1, header.length + 1000, 0xffff, 0xffffffff]);
      name = 'npy:header_length';
      break;
    case 4:
      major = rng.pick([0, 2, 3, 4, 255]);
      minor = rng.pick([0, 1, 255]);
      name = 'npy:version';
      break;
    case 5:
      header = rng.pick([
        '{}', '', '{', "{'descr': '<f4'}", header.replace('{', "{'descr': '<f8', "), header + header,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': __import__('os').system('true'), }",
        header.replace(/\s+$/, ''), '\u0000'.repeat(64), "{'__proto__': 1, 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
      ]);
      name = 'npy:dict';
      break;
    case 6:
      data = rng.chance(0.5) ? data.subarray(0, rng.int(data.length + 1)) : Uint8Array.from([...data, ...rng.bytes(rng.pick([1, 3, 4, 64]))]);
      name = 'npy:data_length';
      break;
    default:
      header = header.replace(/\d+/, String(rng.pick([0, 1, 2 ** 31, 2 ** 53, 99999999])));
      name = 'npy:dim';
  }
  return { name, bytes: joinNpy({ major, minor, header, data, declaredLength }) };
}
