import { describe, expect, it } from 'vitest';
import { H5Group, serializeH5 } from '../../src/writers/h5-builder.js';
import { type H5Group as ReadGroup, openH5, readStringAttr, readStringListAttr, readWeight } from '../../src/readers/h5.js';
import { DEFAULT_LIMITS } from '../../src/readers/h5.js';
// Node's platform (h5wasm's Node build opening files in place), as the package's Node entries install it.
import '../../src/readers/io/node.js';
import { KerasInteropError } from '../../src/errors.js';
import { type H5DatasetNode, type H5GroupNode, h5AttrBytes, h5DatasetBytes, h5Header, h5List, h5ReadAllAttributes, superblock } from './h5-inspect.js';
import { writeTemp } from './helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');

function read(path: string) {
  return openH5(path);
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
    const file = writeTemp(tmp, 'kinds.h5', serializeH5(root));

    // superblock version 0 with 8-byte addresses and lengths, its end-of-file address the file's size
    expect(superblock(file)).toMatchObject({ version: 0, offsetSize: 8, lengthSize: 8 });
    expect(superblock(file).endOfFile).toBe(BigInt(superblock(file).fileSize));
    const header = await h5Header(file);
    const vlen = (cset: string) => ({ class: 'string', vlen: true, cset, strpad: 'nullterm' });
    expect(header.attrs.keras_version).toMatchObject({ type: vlen('utf8'), shape: [] });
    expect(header.attrs.model_config).toMatchObject({ type: vlen('ascii'), shape: [] });
    const mwHeader = header.members.model_weights as H5GroupNode;
    expect(mwHeader.attrs.layer_names).toMatchObject({ type: vlen('ascii'), shape: [2] });
    expect(mwHeader.attrs.fixed0).toEqual({
      type: { class: 'string', size: 7, vlen: false, cset: 'ascii', strpad: 'nullpad' },
      shape: [2],
      maxshape: [2],
    });
    expect((mwHeader.members.empty as H5GroupNode).attrs.weight_names).toEqual({
      type: { class: 'float', size: 8, order: 'LE', signed: false, vlen: false },
      shape: [0],
      maxshape: [0],
    });
    // fixed-length strings padded with NULs to their size, as h5py writes them
    expect(Buffer.from(await h5AttrBytes(file, '/model_weights', 'fixed0')).toString('latin1')).toBe('ab\0\0\0\0\0dense_1');

    const h5 = await read(file);
    try {
      const r = h5 as unknown as ReadGroup;
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
    const file = writeTemp(tmp, 'dtypes.h5', serializeH5(root));

    const h5 = await read(file);
    try {
      const budget = { used: 0 };
      const get = (p: string) => readWeight((h5 as unknown as ReadGroup).get(p) as never, p, file, DEFAULT_LIMITS, budget);
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
    // float16 through the HDF5 library's own view of the file (our reader keeps raw bits)
    expect(Buffer.from(await h5DatasetBytes(file, 'w/f16')).equals(Buffer.from(f16.buffer))).toBe(true);
    const w = (await h5Header(file)).members.w as H5GroupNode;
    const ds = (name: string) => w.members[name] as H5DatasetNode;
    expect(ds('f16').type).toEqual({ class: 'float', size: 2, order: 'LE', signed: false, vlen: false });
    expect(ds('bool').type).toEqual({
      class: 'enum', size: 1, order: 'LE', signed: true, vlen: false,
      enumMembers: { FALSE: 0, TRUE: 1 },
      base: { class: 'integer', size: 1, order: 'LE', signed: true, vlen: false },
    });
    expect(ds('scalar')).toMatchObject({ type: { class: 'float', size: 4, order: 'LE' }, shape: [] });
    expect(ds('f32')).toMatchObject({ type: { class: 'float', size: 4 }, shape: [5], maxshape: [5], chunks: null, filters: [] });
    expect(ds('i64').type).toMatchObject({ class: 'integer', size: 8, signed: true });
    expect(ds('u64').type).toMatchObject({ class: 'integer', size: 8, signed: false });
    expect(ds('empty')).toMatchObject({ shape: [0, 4] });
  });

  it('finds every member of a group too large for one B-tree node (multi-level symbol table)', async () => {
    const root = new H5Group();
    const names = Array.from({ length: 700 }, (_, i) => `layer_${(i * 7919) % 700}`);
    for (const [i, n] of names.entries()) root.dataset(`g/${n}`, 'int32', [1], new Int32Array([i]));
    const file = writeTemp(tmp, 'many.h5', serializeH5(root));
    const listed = (await h5List(file)).filter((l) => l.startsWith('/g/'));
    expect(listed.length).toBe(700);
    const h5 = await read(file);
    try {
      const g = (h5 as unknown as ReadGroup).get('g') as ReadGroup;
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
    const file = writeTemp(tmp, 'heap.h5', serializeH5(root));
    const h5 = await read(file);
    try {
      const r = h5 as unknown as ReadGroup;
      expect(readStringAttr(r, 'model_config', file)).toBe(big);
      const a = r.get('a') as ReadGroup;
      expect(readStringListAttr(a, 'names', file)).toEqual(many);
      expect(readStringAttr(a, 'unicode', file)).toBe('héllo ✓');
    } finally {
      h5.close();
    }
    // the HDF5 library itself reads every attribute back (as h5dump -A would)
    expect(await h5ReadAllAttributes(file)).toBe(3);
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
