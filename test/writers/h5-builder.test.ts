import { afterAll, describe, expect, it } from 'vitest';
import { H5Group, serializeH5 } from '../../src/writers/h5-builder.js';
import { type H5Group as ReadGroup, openH5, readStringAttr, readStringListAttr, readWeight } from '../../src/readers/h5.js';
import { DEFAULT_LIMITS } from '../../src/readers/h5.js';
import { fileSource } from '../../src/io/node.js';
import { KerasInteropError } from '../../src/errors.js';
import { datasetFileBytes, h5Attr, h5Header, h5List, tempDir, writeTemp } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function read(path: string) {
  const src = fileSource(path);
  const h5 = await openH5(src);
  return { file: h5.file, close: () => (h5.close(), src.close?.()) };
}

describe('HDF5 builder', () => {
  it('writes superblock 0, old-style groups and the string kinds h5py writes', async () => {
    const root = new H5Group();
    root.setAttr('keras_version', { kind: 'vlen-string', cset: 'utf8', value: '3.16.0' });
    root.setAttr('model_config', { kind: 'vlen-string', cset: 'ascii', value: '{"a": 1}' });
    const g = root.group('model_weights');
    g.setAttr('layer_names', { kind: 'vlen-string-array', cset: 'ascii', values: ['dense', 'dense_1'] });
    g.setAttr('fixed0', { kind: 'fixed-string-array', cset: 'ascii', size: 7, values: ['ab', 'dense_1'] });
    g.group('empty').setAttr('weight_names', { kind: 'numeric', dtype: 'float64', shape: [0], data: new Float64Array(0) });
    const file = writeTemp(tmp.dir, 'kinds.h5', serializeH5(root));

    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('h5debug', [file, '0'], { encoding: 'utf8' })).toMatch(/Superblock version number:\s+0/);
    const header = h5Header(file);
    expect(header).toContain('ATTRIBUTE "keras_version" {\n      DATATYPE  H5T_STRING {\n         STRSIZE H5T_VARIABLE;\n         STRPAD H5T_STR_NULLTERM;\n         CSET H5T_CSET_UTF8;');
    expect(header).toContain('ATTRIBUTE "model_config" {\n      DATATYPE  H5T_STRING {\n         STRSIZE H5T_VARIABLE;\n         STRPAD H5T_STR_NULLTERM;\n         CSET H5T_CSET_ASCII;');
    expect(header).toContain('STRSIZE 7;\n            STRPAD H5T_STR_NULLPAD;\n            CSET H5T_CSET_ASCII;');
    expect(header).toContain('ATTRIBUTE "weight_names" {\n            DATATYPE  H5T_IEEE_F64LE\n            DATASPACE  SIMPLE { ( 0 ) / ( 0 ) }');
    expect(h5Attr(file, '/model_weights/fixed0')).toContain('(0): "ab\\000\\000\\000\\000\\000", "dense_1"');

    const h5 = await read(file);
    try {
      const r = h5.file as unknown as ReadGroup;
      expect(readStringAttr(r, 'keras_version', file)).toBe('3.16.0');
      const mw = r.get('model_weights') as ReadGroup;
      expect(readStringListAttr(mw, 'layer_names', file)).toEqual(['dense', 'dense_1']);
      expect(readStringListAttr(mw, 'fixed', file)).toEqual(['ab', 'dense_1']);
      expect(readStringListAttr(mw.get('empty') as ReadGroup, 'weight_names', file)).toEqual([]);
    } finally {
      h5.close();
    }
  });

  it('round-trips every weight dtype bit for bit, scalars and empty tensors included', async () => {
    const root = new H5Group();
    const f32 = new Float32Array([1.5, -0, Number.NaN, 3.4028234663852886e38, 1e-45]);
    const f64 = new Float64Array([Math.PI, -1e-300, Number.POSITIVE_INFINITY]);
    const f16 = new Uint16Array([0x3c00, 0x8001, 0x7bff, 0x7e01, 0xfc00]);
    root.dataset('w/f32', 'float32', [5], f32);
    root.dataset('w/f64', 'float64', [3, 1], f64);
    root.dataset('w/f16', 'float16', [5], f16);
    root.dataset('w/i8', 'int8', [2], new Int8Array([-128, 127]));
    root.dataset('w/u16', 'uint16', [2], new Uint16Array([0, 65535]));
    root.dataset('w/i32', 'int32', [2, 2], new Int32Array([-1, 2, -3, 2147483647]));
    root.dataset('w/i64', 'int64', [2], new BigInt64Array([-(2n ** 63n), 2n ** 62n + 7n]));
    root.dataset('w/u64', 'uint64', [1], new BigUint64Array([2n ** 64n - 1n]));
    root.dataset('w/bool', 'bool', [3], new Uint8Array([1, 0, 1]));
    root.dataset('w/scalar', 'float32', [], new Float32Array([7.25]));
    root.dataset('w/empty', 'float32', [0, 4], new Float32Array(0));
    const file = writeTemp(tmp.dir, 'dtypes.h5', serializeH5(root));

    const h5 = await read(file);
    try {
      const budget = { used: 0 };
      const get = (p: string) => readWeight((h5.file as unknown as ReadGroup).get(p) as never, p, file, DEFAULT_LIMITS, budget);
      const same = (a: ArrayBufferView, b: ArrayBufferView) =>
        Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      expect(same(get('w/f32').data, f32)).toBe(true);
      expect(get('w/f64').shape).toEqual([3, 1]);
      expect(same(get('w/f64').data, f64)).toBe(true);
      expect(Array.from(get('w/i8').data as Int8Array)).toEqual([-128, 127]);
      expect(Array.from(get('w/u16').data as Uint16Array)).toEqual([0, 65535]);
      expect(Array.from(get('w/i32').data as Int32Array)).toEqual([-1, 2, -3, 2147483647]);
      expect(Array.from(get('w/i64').data as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 62n + 7n]);
      expect(Array.from(get('w/u64').data as BigUint64Array)).toEqual([2n ** 64n - 1n]);
      const b = get('w/bool');
      expect(b.dtype).toBe('bool');
      expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 1]);
      const s = get('w/scalar');
      expect(s.shape).toEqual([]);
      expect(Array.from(s.data as Float32Array)).toEqual([7.25]);
      expect(get('w/empty').shape).toEqual([0, 4]);
    } finally {
      h5.close();
    }
    // float16 through the HDF5 library's own view of the file (h5wasm cannot read float16)
    expect(Buffer.from(datasetFileBytes(file, 'w/f16')).equals(Buffer.from(f16.buffer))).toBe(true);
    const header = h5Header(file);
    expect(header).toContain('DATASET "f16" {\n         DATATYPE  16-bit little-endian floating-point 16-bit precision');
    expect(header).toMatch(/DATASET "bool" \{\n\s+DATATYPE\s+H5T_ENUM \{\n\s+H5T_STD_I8LE;\n\s+"FALSE"\s+0;\n\s+"TRUE"\s+1;/);
    expect(header).toContain('DATASET "scalar" {\n         DATATYPE  H5T_IEEE_F32LE\n         DATASPACE  SCALAR');
  });

  it('finds every member of a group too large for one B-tree node (multi-level symbol table)', async () => {
    const root = new H5Group();
    const names = Array.from({ length: 700 }, (_, i) => `layer_${(i * 7919) % 700}`);
    for (const [i, n] of names.entries()) root.dataset(`g/${n}`, 'int32', [1], new Int32Array([i]));
    const file = writeTemp(tmp.dir, 'many.h5', serializeH5(root));
    const listed = h5List(file).filter((l) => l.startsWith('/g/'));
    expect(listed.length).toBe(700);
    const h5 = await read(file);
    try {
      const g = (h5.file as unknown as ReadGroup).get('g') as ReadGroup;
      expect(g.keys().length).toBe(700);
      for (const [i, n] of names.entries()) {
        const ds = g.get(n) as unknown as { value: Int32Array };
        expect(ds.value[0]).toBe(i);
      }
    } finally {
      h5.close();
    }
  });

  it('stores large variable-length strings and many of them across global heap collections', async () => {
    const root = new H5Group();
    const big = 'x'.repeat(3_000_000);
    root.setAttr('model_config', { kind: 'vlen-string', cset: 'ascii', value: big });
    const many = Array.from({ length: 3000 }, (_, i) => `name_${i}_${'y'.repeat(i % 500)}`);
    root.group('a').setAttr('names', { kind: 'vlen-string-array', cset: 'ascii', values: many });
    root.group('a').setAttr('unicode', { kind: 'vlen-string', cset: 'utf8', value: 'héllo ✓' });
    const file = writeTemp(tmp.dir, 'heap.h5', serializeH5(root));
    const h5 = await read(file);
    try {
      const r = h5.file as unknown as ReadGroup;
      expect(readStringAttr(r, 'model_config', file)).toBe(big);
      const a = r.get('a') as ReadGroup;
      expect(readStringListAttr(a, 'names', file)).toEqual(many);
      expect(readStringAttr(a, 'unicode', file)).toBe('héllo ✓');
    } finally {
      h5.close();
    }
    const { execFileSync } = await import('node:child_process');
    expect(() => execFileSync('h5dump', ['-A', file], { stdio: 'pipe', maxBuffer: 1 << 28 })).not.toThrow();
  });

  it('refuses an attribute too large for an object header, and name clashes', () => {
    const root = new H5Group();
    root.setAttr('huge', { kind: 'fixed-string-array', cset: 'ascii', size: 70000, values: ['a'] });
    expect(() => serializeH5(root)).toThrow(KerasInteropError);
    expect(() => serializeH5(root)).toThrow(/exceeds HDF5's limit of 65535/);
    const g = new H5Group();
    g.dataset('a/b', 'float32', [1], new Float32Array(1));
    expect(() => g.dataset('a/b', 'float32', [1], new Float32Array(1))).toThrow(/already exists/);
    expect(() => g.group('a/b/c')).toThrow(/a dataset of that name exists/);
    expect(() => g.dataset('x', 'float32', [2], new Float32Array(3))).toThrow(/holds 3 values/);
  });
});
