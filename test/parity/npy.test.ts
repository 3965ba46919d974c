import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KerasInteropError } from '../../src/errors.js';
import {
  encodeNpy,
  encodeNpyHeader,
  float16BitsToNumber,
  npyFromValues,
  numberToFloat16Bits,
  parseNpy,
  parseNpyHeader,
  toFloat64,
  type NpyArray,
} from '../../src/parity/npy.js';
import { readNpyFile, readNpyFileSync, writeNpyFile, writeNpyFileSync } from '../../src/parity/npy-file.js';
import { FIXTURES_DIR, goldenCaseDirs, wildCaseDirs } from './paths.js';
import { tempDir } from '../helpers/tmp.js';

const enc = new TextEncoder();

/** Builds .npy bytes by hand: magic, version, header length, header text (padded like NumPy), data. */
function rawNpy(header: string, data: Uint8Array = new Uint8Array(0), version = 1, pad = true): Uint8Array {
  const lenBytes = version === 1 ? 2 : 4;
  let h = header;
  if (pad) {
    const hlen = h.length + 1;
    h += ' '.repeat(64 - ((8 + lenBytes + hlen) % 64)) + '\n';
  }
  const hb = enc.encode(h);
  const out = new Uint8Array(8 + lenBytes + hb.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, hb.length, true);
  else dv.setUint32(8, hb.length, true);
  out.set(hb, 8 + lenBytes);
  out.set(data, 8 + lenBytes + hb.length);
  return out;
}

function f32bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function expectNpyError(fn: () => unknown, pattern: RegExp, code = 'NPY_INVALID'): KerasInteropError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KerasInteropError);
  const err = caught as KerasInteropError;
  expect(err.code).toBe(code);
  expect(err.message).toMatch(pattern);
  return err;
}

function allNpyFiles(): { path: string; caseDir: string; file: string }[] {
  const out: { path: string; caseDir: string; file: string }[] = [];
  for (const dir of [...goldenCaseDirs(), ...wildCaseDirs()]) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.npy'))) out.push({ path: join(dir, f), caseDir: dir, file: f });
  }
  return out;
}

describe('golden .npy files', () => {
  const files = allNpyFiles();

  it('finds the golden files', () => {
    expect(goldenCaseDirs().length).toBeGreaterThanOrEqual(19);
    expect(files.length).toBeGreaterThanOrEqual(50);
  });

  it('parses every golden .npy with the shape and dtype case.json declares', () => {
    let checked = 0;
    for (const { path, caseDir, file } of files) {
      const arr = readNpyFileSync(path);
      const c = JSON.parse(readFileSync(join(caseDir, 'case.json'), 'utf8')) as {
        inputs: { file: string; shape: number[]; dtype: string }[];
        outputs: { file: string; shape: number[]; dtype: string }[];
      };
      const spec = [...c.inputs, ...c.outputs].find((t) => t.file === file);
      expect(spec, `${path} is listed in case.json`).toBeDefined();
      expect(arr.shape).toEqual(spec!.shape);
      expect(arr.dtype).toBe(spec!.dtype);
      expect(arr.data.length).toBe(spec!.shape.reduce((a, b) => a * b, 1));
      if (arr.dtype === 'float32') {
        expect(arr.data).toBeInstanceOf(Float32Array);
        // golden values are real numbers drawn from seeded computations
        expect(Array.from(arr.data as Float32Array).every(Number.isFinite)).toBe(true);
      }
      if (arr.dtype === 'int32') expect(arr.data).toBeInstanceOf(Int32Array);
      checked++;
    }
    expect(checked).toBe(files.length);
  });

  it('re-encodes every golden .npy byte-identically and round-trips bit-exactly', () => {
    for (const { path } of files) {
      const original = new Uint8Array(readFileSync(path));
      const arr = parseNpy(original, path);
      const encoded = encodeNpy(arr);
      expect(Buffer.compare(Buffer.from(encoded), Buffer.from(original)), path).toBe(0);
      const again = parseNpy(encoded);
      expect(again.shape).toEqual(arr.shape);
      expect(again.dtype).toBe(arr.dtype);
      expect(new Uint8Array(again.data.buffer, again.data.byteOffset, again.data.byteLength)).toEqual(
        new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength),
      );
    }
  });

  it('reads known golden values', () => {
    const dir = goldenCaseDirs().find((d) => d.endsWith('sa_additive_basic'))!;
    const tokens = readNpyFileSync(join(dir, 'input_0.npy'));
    expect(tokens.dtype).toBe('int32');
    // token inputs: ids >= 0, padded with trailing zeros
    const t = Array.from(tokens.data as Int32Array);
    expect(t.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    const header = parseNpyHeader(new Uint8Array(readFileSync(join(dir, 'input_0.npy'))));
    expect(header).toMatchObject({ version: [1, 0], descr: '<i4', fortranOrder: false, shape: [3, 8], dataOffset: 128 });
  });
});

describe('NumPy-written fixtures', () => {
  type Expected = Record<string, { dtype: string; shape: number[]; values: (number | string | null)[]; bits?: number[] }>;
  const expected = JSON.parse(readFileSync(join(FIXTURES_DIR, 'expected.json'), 'utf8')) as Expected;
  const decode = (v: number | string | null): number =>
    v === null ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v);
  const identical = new Set([
    'f32_3x4',
    'f64_2x3',
    'i32_vec',
    'i64_2x2',
    'bool_2x3',
    'f16_5',
    'i8_4',
    'u8_4',
    'i16_3',
    'u16_3',
    'u32_3',
    'scalar_f64',
    'empty_0x3',
    'empty_1d',
    'f32_big_first_dim',
    'f32_rank6',
  ]);

  for (const [name, exp] of Object.entries(expected)) {
    it(`reads ${name}`, () => {
      const bytes = new Uint8Array(readFileSync(join(FIXTURES_DIR, `${name}.npy`)));
      const arr = parseNpy(bytes, `${name}.npy`);
      expect(arr.dtype).toBe(exp.dtype);
      expect(arr.shape).toEqual(exp.shape);
      if (exp.bits) expect(Array.from(arr.data as Uint16Array)).toEqual(exp.bits);
      if (arr.dtype === 'int64') {
        expect(Array.from(arr.data as BigInt64Array).map(String)).toEqual(exp.values.map(String));
      } else {
        const got = Array.from(toFloat64(arr));
        const want = exp.values.map(decode);
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => expect(Object.is(g, want[i]) || g === want[i], `${name}[${i}]: ${g} vs ${want[i]}`).toBe(true));
      }
      const reencoded = encodeNpy(arr);
      if (identical.has(name)) expect(Buffer.compare(Buffer.from(reencoded), Buffer.from(bytes))).toBe(0);
      // always: round trip is bit-exact
      const back = parseNpy(reencoded);
      expect(back.shape).toEqual(arr.shape);
      expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength)).toEqual(
        Buffer.from(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength),
      );
    });
  }

  it('transposes fortran_order=True data into C order', () => {
    const arr = readNpyFileSync(join(FIXTURES_DIR, 'f32_fortran_2x3x4.npy'));
    expect(arr.shape).toEqual([2, 3, 4]);
    expect(Array.from(arr.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    // the raw file is in column-major order: element [1,0,0] = 12 comes second
    const raw = new Float32Array(new Uint8Array(readFileSync(join(FIXTURES_DIR, 'f32_fortran_2x3x4.npy'))).slice(128).buffer);
    expect(raw[1]).toBe(12);
  });

  it('byte-swaps big-endian files', () => {
    const f = readNpyFileSync(join(FIXTURES_DIR, 'f32_be_2x3.npy'));
    expect(Array.from(f.data as Float32Array)).toEqual([1.5, -2, 3.25, Math.fround(0.1), Math.fround(1e30), -7]);
    const i = readNpyFileSync(join(FIXTURES_DIR, 'i64_be_3.npy'));
    expect(Array.from(i.data as BigInt64Array)).toEqual([1n, -2n, 2n ** 40n]);
    // re-encoded little-endian, as NumPy would save the same values
    expect(new TextDecoder().decode(encodeNpy(f).subarray(10, 30))).toContain("'<f4'");
  });

  it('reads v2 and v3 headers', () => {
    expect(parseNpyHeader(new Uint8Array(readFileSync(join(FIXTURES_DIR, 'i32_v2_2x2.npy')))).version).toEqual([2, 0]);
    expect(parseNpyHeader(new Uint8Array(readFileSync(join(FIXTURES_DIR, 'f64_v3_3.npy')))).version).toEqual([3, 0]);
    const v2 = readNpyFileSync(join(FIXTURES_DIR, 'i32_v2_2x2.npy'));
    expect(Array.from(v2.data as Int32Array)).toEqual([1, 2, 3, 4]);
    // a v1 rewrite of the same array is what numpy.save writes
    expect(encodeNpy(v2)[6]).toBe(1);
  });
});

describe('encodeNpy', () => {
  it('writes NumPy-exact headers for 0-d, 1-d and n-d shapes', () => {
    const h0 = new TextDecoder().decode(encodeNpyHeader('float64', []));
    expect(h0.slice(10)).toBe("{'descr': '<f8', 'fortran_order': False, 'shape': (), }" + ' '.repeat(h0.length - 10 - 55 - 1) + '\n');
    expect(h0.length % 64).toBe(0);
    const h1 = new TextDecoder().decode(encodeNpyHeader('bool', [7]));
    expect(h1).toContain("{'descr': '|b1', 'fortran_order': False, 'shape': (7,), }");
    const h2 = new TextDecoder().decode(encodeNpyHeader('int64', [3, 4]));
    expect(h2).toContain("'shape': (3, 4), }");
    expect(h2.length).toBe(128);
    expect(h2.endsWith(' \n')).toBe(true);
  });

  it('switches to a v2 header when the header exceeds 65535 bytes', () => {
    const shape = new Array<number>(30000).fill(1);
    const arr: NpyArray = { dtype: 'float32', shape, data: new Float32Array([2.5]) };
    const bytes = encodeNpy(arr);
    expect(bytes[6]).toBe(2);
    const headerLen = new DataView(bytes.buffer).getUint32(8, true);
    expect((12 + headerLen) % 64).toBe(0);
    const back = parseNpy(bytes);
    expect(back.shape).toEqual(shape);
    expect(Array.from(back.data as Float32Array)).toEqual([2.5]);
  });

  it('rejects arrays whose data does not match dtype or shape', () => {
    expectNpyError(() => encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }), /4 elements but data has 3/);
    expectNpyError(() => encodeNpy({ dtype: 'int64', shape: [2], data: new Int32Array(2) }), /needs a BigInt64Array, got Int32Array/);
    expectNpyError(() => encodeNpy({ dtype: 'float32', shape: [-1], data: new Float32Array(0) }), /non-negative integers/);
    expectNpyError(() => encodeNpy({ dtype: 'bool', shape: [2], data: new Uint8Array([1, 3]) }), /bool element 1 is 3/);
  });

  it('encodes subarray views from their own offset', () => {
    const big = new Float32Array([9, 9, 1, 2, 3, 9]);
    const bytes = encodeNpy({ dtype: 'float32', shape: [3], data: big.subarray(2, 5) });
    expect(Array.from(parseNpy(bytes).data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('npyFromValues builds typed arrays and checks ranges', () => {
    expect(Array.from(npyFromValues('uint8', [2], [0, 255]).data as Uint8Array)).toEqual([0, 255]);
    expect(npyFromValues('int64', [2], [1, 2n]).data).toEqual(new BigInt64Array([1n, 2n]));
    expect(Array.from(npyFromValues('bool', [2], [true, false]).data as Uint8Array)).toEqual([1, 0]);
    expectNpyError(() => npyFromValues('int8', [1], [128]), /does not fit int8/);
    expectNpyError(() => npyFromValues('int32', [1], [1.5]), /does not fit int32/);
    expectNpyError(() => npyFromValues('float32', [2, 2], [1]), /4 elements but 1 values/);
  });
});

describe('float16', () => {
  it('decodes and encodes half-precision bits like NumPy', () => {
    // numpy: np.array([...], dtype=np.float16).view(np.uint16)
    const cases: [number, number][] = [
      [0, 0x0000],
      [1, 0x3c00],
      [-2.5, 0xc100],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [0.1, 0x2e66],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [v, bits] of cases) {
      expect(numberToFloat16Bits(v), `${v}`).toBe(bits);
      expect(float16BitsToNumber(bits)).toBe(v === 0.1 ? 0.0999755859375 : v);
    }
    expect(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(NaN)))).toBe(true);
    expect(numberToFloat16Bits(-0)).toBe(0x8000);
    // rounding: ties to even, overflow to infinity
    expect(numberToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(numberToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(numberToFloat16Bits(65520)).toBe(0x7c00);
    expect(numberToFloat16Bits(65519.99)).toBe(0x7bff);
    expect(numberToFloat16Bits(2047.5 * 2 ** -24 * 2 ** -0)).toBe(numberToFloat16Bits(2048 * 2 ** -24));
  });
});

describe('bad .npy input', () => {
  const good = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32bytes([1, 2]));

  it('accepts the hand-built reference file', () => {
    expect(Array.from(parseNpy(good).data as Float32Array)).toEqual([1, 2]);
  });

  it('rejects a bad magic string', () => {
    const b = good.slice();
    b[1] = 0x4f;
    const err = expectNpyError(() => parseNpy(b, 'x.npy'), /magic string/);
    expect(err.file).toBe('x.npy');
    expect(err.place).toBe('magic');
    expectNpyError(() => parseNpy(enc.encode('PK\u0003\u0004 this is a zip file')), /not a .npy file/);
    expectNpyError(() => parseNpy(new Uint8Array(3)), /too short/);
  });

  it('rejects unknown versions', () => {
    const b = good.slice();
    b[6] = 4;
    expectNpyError(() => parseNpy(b), /version 4\.0/);
  });

  it('rejects truncated files (header and data)', () => {
    for (let n = 0; n < good.length; n++) {
      expectNpyError(() => parseNpy(good.subarray(0, n), 't.npy'), /too short|truncated|magic/);
    }
    expectNpyError(() => parseNpy(good.subarray(0, good.length - 1)), /truncated: shape \(2\) of float32 needs 8 bytes but only 7/);
  });

  it('rejects trailing bytes after the data', () => {
    const b = new Uint8Array(good.length + 4);
    b.set(good);
    expectNpyError(() => parseNpy(b), /4 unexpected bytes after the array data/);
  });

  it('rejects a huge declared shape with few bytes before allocating', () => {
    const err = expectNpyError(
      () => parseNpy(rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 100000000000, 1000000), }", f32bytes([1]))),
      /truncated: shape \(100000000000, 100000000000, 1000000\) of float64 needs 80000000000000000000000000000 bytes but only 4 bytes/,
    );
    expect(err.place).toBe('data');
    expectNpyError(() => parseNpy(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }")), /shape\[0\]/);
    expectNpyError(() => parseNpy(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }")), /shape\[0\] is -1/);
  });

  it('rejects bad descr values', () => {
    const mk = (d: string) => rawNpy(`{'descr': ${d}, 'fortran_order': False, 'shape': (2,), }`, f32bytes([1, 2]));
    expectNpyError(() => parseNpy(mk("'<x4'")), /descr '<x4' is not a supported dtype/);
    expectNpyError(() => parseNpy(mk("'float32'")), /descr 'float32' is not a NumPy dtype string/);
    expectNpyError(() => parseNpy(mk("'<c8'")), /not a supported dtype/);
    expectNpyError(() => parseNpy(mk("'<U2'")), /not a supported dtype/);
    expectNpyError(() => parseNpy(mk("'|O'")), /not a NumPy dtype string|not a supported dtype/);
    expectNpyError(() => parseNpy(mk("'|f4'")), /byte order '\|'/);
    expectNpyError(() => parseNpy(mk("[('a', '<f4')]")), /structured/);
    expectNpyError(() => parseNpy(mk('4')), /structured or sub-array|expected a simple dtype/);
    const err = expectNpyError(() => parseNpy(mk("'<u8'"), 'q.npy'), /'<u8' is not a supported dtype/);
    expect(err.place).toBe('header: descr');
  });

  it('accepts = and | byte orders where meaningful', () => {
    const mk = (d: string, data: Uint8Array) => rawNpy(`{'descr': '${d}', 'fortran_order': False, 'shape': (2,), }`, data);
    expect(Array.from(parseNpy(mk('=f4', f32bytes([1, 2]))).data as Float32Array)).toEqual([1, 2]);
    expect(Array.from(parseNpy(mk('|u1', new Uint8Array([7, 8]))).data as Uint8Array)).toEqual([7, 8]);
    expect(Array.from(parseNpy(mk('<u1', new Uint8Array([7, 8]))).data as Uint8Array)).toEqual([7, 8]);
    expect(Array.from(parseNpy(mk('|i1', new Uint8Array([255, 1]))).data as Int8Array)).toEqual([-1, 1]);
    const b = parseNpy(mk('|b1', new Uint8Array([1, 0])));
    expect(b.dtype).toBe('bool');
    expectNpyError(() => parseNpy(mk('|b1', new Uint8Array([2, 0]))), /bool element 0 has byte value 2/);
  });

  it('rejects malformed header dicts without evaluating them', () => {
    const cases: [string, RegExp][] = [
      ["{'descr': '<f4', 'fortran_order': False}", /expected exactly 'descr', 'fortran_order', 'shape'/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", /expected exactly/],
      ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", /duplicate key/],
      ["{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", /fortran_order is 0; expected True or False/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", /shape is \[2\]; expected a tuple/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", /shape is 2; expected a tuple/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }", /expected an integer/],
      ["{'descr': __import__('os').system('x'), 'fortran_order': False, 'shape': (2,), }", /unexpected "_"/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", /unexpected text after/],
      ["{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }", /expected ',' or '}'|unterminated/],
      ['[1, 2]', /not a dict literal/],
      ['(((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))', /nested too deeply/],
      ['', /unexpected end of header/],
    ];
    for (const [h, re] of cases) expectNpyError(() => parseNpy(rawNpy(h, f32bytes([1, 2]))), re);
  });

  it('accepts headers NumPy also accepts (double quotes, no trailing comma, Python 2 longs)', () => {
    const a = parseNpy(rawNpy('{"descr": "<f4", "shape": (2L,), "fortran_order": False}', f32bytes([1, 2])));
    expect(a.shape).toEqual([2]);
    const s = parseNpy(rawNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (), }", f32bytes([5])));
    expect(s.shape).toEqual([]);
    expect(Array.from(s.data as Float32Array)).toEqual([5]);
  });

  it('rejects header lengths past the end of the file and an oversized v2 header', () => {
    const b = good.slice();
    new DataView(b.buffer).setUint16(8, 60000, true);
    expectNpyError(() => parseNpy(b), /header declares 60000 bytes but only/);
    const v2 = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32bytes([1, 2]), 2);
    new DataView(v2.buffer).setUint32(8, 0xfffffff0, true);
    expectNpyError(() => parseNpy(v2), /exceeds the limit/);
  });

  it('transposes a hand-made Fortran-order 2x3 file', () => {
    // C-order [[1,2,3],[4,5,6]] stored column-major: 1,4,2,5,3,6
    const f = parseNpy(rawNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f32bytes([1, 4, 2, 5, 3, 6])));
    expect(Array.from(f.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects v3 headers that are not UTF-8', () => {
    const b = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32bytes([1, 2]), 3);
    b[12 + 2] = 0xff;
    expectNpyError(() => parseNpy(b), /not valid UTF-8/);
  });
});

describe('npy files on disk', () => {
  it('writes and reads back files, async and sync', async () => {
    const { dir, cleanup } = tempDir('npy-');
    try {
      const arr = npyFromValues('float64', [2, 2], [1, -0, NaN, Infinity]);
      await writeNpyFile(join(dir, 'a.npy'), arr);
      writeNpyFileSync(join(dir, 'b.npy'), arr);
      const a = await readNpyFile(join(dir, 'a.npy'));
      const b = readNpyFileSync(join(dir, 'b.npy'));
      for (const x of [a, b]) {
        expect(x.shape).toEqual([2, 2]);
        const v = Array.from(x.data as Float64Array);
        expect(Object.is(v[1], -0)).toBe(true);
        expect(Number.isNaN(v[2])).toBe(true);
        expect(v[3]).toBe(Infinity);
      }
      expect(readFileSync(join(dir, 'a.npy'))).toEqual(readFileSync(join(dir, 'b.npy')));
    } finally {
      cleanup();
    }
  });

  it('reports missing files and unwritable paths', async () => {
    await expect(readNpyFile('/nonexistent/x.npy')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', file: '/nonexistent/x.npy' });
    expect(() => readNpyFileSync(FIXTURES_DIR)).toThrow(expect.objectContaining({ code: 'NPY_INVALID' }) as Error);
    await expect(writeNpyFile('/nonexistent/dir/x.npy', npyFromValues('int32', [1], [1]))).rejects.toMatchObject({
      code: 'WRITE_FAILED',
    });
    expect(existsSync('/nonexistent/dir/x.npy')).toBe(false);
  });
});
