/**
 * inspect says what predict needs first: the inputs and outputs, in order, with shapes (None for a free
 * dimension) and dtypes; and, for a model that cannot run, every layer in the way, one line each, with
 * the advice once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import type { JsonObject, KerasModel } from '../src/model/types.js';
import { readModel } from '../src/readers/index.js';
import { writeHdf5 } from '../src/writers/hdf5.js';
import { GOLDEN } from './helpers/paths.js';
import { fileTempDir } from './helpers/tmp.js';

const tmp = fileTempDir('ki-inspect-');

async function inspect(file: string, json = false) {
  const r = await runCli('inspect', file, '--backend', 'cpu', ...(json ? ['--json'] : []));
  expect(r.code, r.err).toBe(0);
  return r.out;
}

async function written(model: KerasModel, name: string): Promise<string> {
  const file = join(tmp, name);
  writeFileSync(file, await writeHdf5(model));
  return file;
}

/** The golden model with some layers' classes renamed to classes nobody registered. */
async function withUnknownClasses(renames: Record<string, string>): Promise<string> {
  const m = await readModel(join(GOLDEN, 'sa_additive_basic', 'model.h5'));
  const config = structuredClone(m.config) as JsonObject;
  for (const l of (config.config as JsonObject).layers as JsonObject[]) {
    const cls = renames[l.class_name as string];
    if (cls) l.class_name = cls;
  }
  return written({ ...m, config }, 'unknown-classes.h5');
}

describe('inspect: inputs and outputs', () => {
  it('lists them in predict order with names, shapes (None) and dtypes, in text and JSON', async () => {
    const file = join(GOLDEN, 'kmha_cross_masked', 'model.h5');
    const s = JSON.parse(await inspect(file, true));
    expect(s.inputs).toEqual([
      { name: 'query', shape: [null, 5, 6], dtype: 'float32' },
      { name: 'value', shape: [null, 7, 4], dtype: 'float32' },
      { name: 'key', shape: [null, 7, 3], dtype: 'float32' },
      { name: 'attention_mask', shape: [null, 5, 7], dtype: 'float32' },
    ]);
    expect(s.outputs.map((o: { shape: unknown }) => o.shape)).toEqual([
      [null, 5, 7],
      [null, 2, 5, 7],
    ]);
    const text = await inspect(file);
    const at = text.split('\n').indexOf('inputs (predict --inputs takes them in this order):');
    expect(at).toBeGreaterThan(0);
    expect(text.split('\n').slice(at + 1, at + 5).map((l) => l.trim().split(/\s+/))).toEqual([
      ['0', 'query', '(None,', '5,', '6)', 'float32'],
      ['1', 'value', '(None,', '7,', '4)', 'float32'],
      ['2', 'key', '(None,', '7,', '3)', 'float32'],
      ['3', 'attention_mask', '(None,', '5,', '7)', 'float32'],
    ]);
    expect(text).not.toMatch(/\[,|, ,/);
  });

  it('names the input tfjs makes for a Sequential model without an InputLayer', async () => {
    const model: KerasModel = {
      source: { format: 'keras2-h5', file: 'seq.h5', kerasVersion: '2.13.1', backend: 'tensorflow', extras: {} },
      config: {
        class_name: 'Sequential',
        config: {
          name: 'sequential',
          layers: [
            { class_name: 'Dense', config: { name: 'hidden', units: 3, batch_input_shape: [null, 4], dtype: 'float32' } },
            { class_name: 'Dense', config: { name: 'out', units: 2 } },
          ],
        },
      },
      weights: [
        { layer: 'hidden', weights: [{ name: 'hidden/kernel:0', path: '', shape: [4, 3], dtype: 'float32', data: new Float32Array(12) }, { name: 'hidden/bias:0', path: '', shape: [3], dtype: 'float32', data: new Float32Array(3) }] },
        { layer: 'out', weights: [{ name: 'out/kernel:0', path: '', shape: [3, 2], dtype: 'float32', data: new Float32Array(6) }, { name: 'out/bias:0', path: '', shape: [2], dtype: 'float32', data: new Float32Array(2) }] },
      ],
    };
    const s = JSON.parse(await inspect(await written(model, 'seq.h5'), true));
    expect(s.inputs).toEqual([{ name: 'hidden_input', shape: [null, 4], dtype: 'float32' }]);
    expect(s.outputs).toEqual([{ name: 'out', shape: [null, 2], dtype: 'float32' }]);
  });
});

describe('inspect: a model that cannot run', () => {
  it('lists every blocking layer in one short line each and the advice once; the inputs still come from the config', async () => {
    const file = await withUnknownClasses({ SeqSelfAttention: 'MyAttention', Dense: 'MyDense' });
    const text = await inspect(file);
    const lines = text.split('\n');
    const head = lines.indexOf('cannot run on tfjs: these 2 layers stop it:');
    expect(head).toBeGreaterThan(0);
    expect(lines[head + 1]).toMatch(/^ {2}"seq_self_attention" \(MyAttention\): no implementation registered/);
    expect(lines[head + 2]).toMatch(/^ {2}"dense" \(MyDense\): no implementation registered/);
    for (const l of lines.slice(head, head + 3)) expect(l.length).toBeLessThan(130);
    expect(lines[head + 3]).toMatch(/^To run this model, .*registerLayer\('MyAttention', MyLayer\) \(and likewise for each class\).*--layers \.\/my-layers\.js/);
    expect(text.match(/registerLayer\(/g)).toHaveLength(1);
    expect(text).toContain('  0  tokens  (None, 8)  int32');
    // the outputs' shapes and dtypes are unknown when the model cannot be built
    expect(lines).toContain('outputs:       dense ?');
    expect(text).not.toContain('undefined');

    const s = JSON.parse(await inspect(file, true));
    expect(s.blocking.map((b: { layer: string; className: string }) => [b.layer, b.className])).toEqual([
      ['seq_self_attention', 'MyAttention'],
      ['dense', 'MyDense'],
    ]);
    expect(s.advice).toContain('--layers');
    expect(s.inputs).toEqual([{ name: 'tokens', shape: [null, 8], dtype: 'int32' }]);
    expect(s.outputs).toEqual([{ name: 'dense' }]);
    expect(s.notes.join('\n')).not.toContain('registerLayer');
  });
});
