import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/readers/index.js';
import { convertModel } from '../../src/writers/index.js';
import { KerasInteropError } from '../../src/errors.js';
import { GOLDEN } from '../helpers/paths.js';
import { expectSameWeights } from './helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');

describe('convertModel', () => {
  it('writes .h5 and .keras files that read back the same, leaving nothing else behind', async () => {
    const m = await readModel(join(GOLDEN, 'transformer_block', 'model.keras'));
    const dir = join(tmp, 'a');
    mkdirSync(dir);
    const seen: { path: string; done: number; total: number }[] = [];
    const h5 = await convertModel(m, 'h5', join(dir, 'out.h5'), { progress: (p) => seen.push(p) });
    expect(h5).toEqual([join(dir, 'out.h5')]);
    // Progress climbs to the file's size, every report about the file being written.
    const size = statSync(h5[0]).size;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.path === h5[0] && p.total === size)).toBe(true);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
    expect(seen[seen.length - 1].done).toBe(size);
    const keras = await convertModel(m, 'keras', join(dir, 'out.keras'));
    expect(keras).toEqual([join(dir, 'out.keras')]);
    expect(readdirSync(dir).sort()).toEqual(['out.h5', 'out.keras']);
    expectSameWeights(await readModel(h5[0]), m);
    expectSameWeights(await readModel(keras[0]), m, { names: true });
    // a folder as `out`: the file is named after the source
    const written = await convertModel(m, 'h5', dir);
    expect(written).toEqual([join(dir, 'model.h5')]);
    // overwrite in place
    await convertModel(m, 'h5', join(dir, 'out.h5'));
    expect(readdirSync(dir).sort()).toEqual(['model.h5', 'out.h5', 'out.keras']);
  });

  it('says what it cannot do yet, and writes nothing then', async () => {
    const m = await readModel(join(GOLDEN, 'mha_self', 'model.tfkeras2.h5'));
    const dir = join(tmp, 'b');
    mkdirSync(dir);
    for (const [to, opts, pattern] of [
      ['h5', { quantize: 'uint8' }, /--quantize applies to tfjs output/],
      ['keras', { generation: 'keras2' }, /\.keras archives are Keras 3/],
      ['tfjs', { generation: 'keras3' }, /--generation applies to h5 output/],
      ['h5', { generation: 'keras4' as 'keras3' }, /unknown generation/],
    ] as const) {
      const err = await convertModel(m, to, join(dir, `x.${to}`), opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KerasInteropError);
      expect((err as KerasInteropError).code).toBe('USAGE');
      expect((err as Error).message).toMatch(pattern);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
