import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/readers/index.js';
import { layerName, listItemNames, toSnakeCase } from '../../src/model/config.js';
import type { JsonObject } from '../../src/model/types.js';
import {
  kerasWeightNames,
  layerStructure,
  spellWeightName,
  treeLayers,
  weightSlots,
} from '../../src/model/weight-names.js';
import { pythonFloat, pythonJsonDumps } from '../../src/writers/py-json.js';
import { GOLDEN, keras3GoldenCases } from '../helpers/paths.js';

describe('Keras weight names from the object tree', () => {
  for (const name of keras3GoldenCases()) {
    const dir = join(GOLDEN, name);
    it(`${name}: names derived from model.keras are the ones Keras wrote in model.h5 (and model.tfkeras2.h5)`, async () => {
      const archive = await readModel(join(dir, 'model.keras'));
      const legacy = await readModel(join(dir, 'model.h5'));
      const tf2 = existsSync(join(dir, 'model.tfkeras2.h5')) ? await readModel(join(dir, 'model.tfkeras2.h5')) : undefined;
      const configs = new Map(treeLayers(archive.config!).map(({ layer }) => [layerName(layer)!, layer]));
      for (const lw of archive.weights) {
        const current = lw.weights.map((w) => w.name);
        expect(current.every((n) => /vars\/\d+$/.test(n))).toBe(true);
        const k3 = kerasWeightNames(configs.get(lw.layer), lw.layer, current, 'keras3');
        expect(k3, lw.layer).toEqual(legacy.weights.find((l) => l.layer === lw.layer)!.weights.map((w) => w.name));
        // (layers without weights are named as each generation names them: input_1 / input_layer)
        if (tf2 && current.length > 0) {
          const k2 = kerasWeightNames(configs.get(lw.layer), lw.layer, current, 'keras2');
          expect(k2, lw.layer).toEqual(tf2.weights.find((l) => l.layer === lw.layer)!.weights.map((w) => w.name));
        }
      }
    });
  }

  const layer = (class_name: string, config: JsonObject): JsonObject => ({ class_name, config });

  it('orders trainable before non-trainable, frozen layers all non-trainable', () => {
    const bn = layer('BatchNormalization', { name: 'bn', center: false });
    expect(weightSlots(layerStructure(bn)!).map((s) => [s.names.keras3, s.index, s.trainable])).toEqual([
      ['bn/gamma', 0, true],
      ['bn/moving_mean', 1, false],
      ['bn/moving_variance', 2, false],
    ]);
    const seq = layer('Sequential', {
      name: 'inner',
      layers: [layer('Dense', { name: 'd' }), layer('BatchNormalization', { name: 'b1' }), layer('BatchNormalization', { name: 'b2' })],
    });
    const slots = weightSlots(layerStructure(seq)!);
    expect(slots.map((s) => `${s.treePath}/${s.index}:${s.names.keras2}`)).toEqual([
      'layers/dense/0:d/kernel:0',
      'layers/dense/1:d/bias:0',
      'layers/batch_normalization/0:b1/gamma:0',
      'layers/batch_normalization/1:b1/beta:0',
      'layers/batch_normalization_1/0:b2/gamma:0',
      'layers/batch_normalization_1/1:b2/beta:0',
      'layers/batch_normalization/2:b1/moving_mean:0',
      'layers/batch_normalization/3:b1/moving_variance:0',
      'layers/batch_normalization_1/2:b2/moving_mean:0',
      'layers/batch_normalization_1/3:b2/moving_variance:0',
    ]);
    const frozen = layer('Dense', { name: 'f', trainable: false });
    expect(weightSlots(layerStructure(frozen)!).every((s) => !s.trainable)).toBe(true);
  });

  it('knows the wrappers and cells: Bidirectional(GRU), TimeDistributed, MultiHead with hidden_dim', () => {
    const bi = layer('Bidirectional', { name: 'bidirectional', layer: layer('GRU', { name: 'gru', use_bias: true }) });
    expect(weightSlots(layerStructure(bi)!).map((s) => [s.treePath, s.names.keras3, s.names.keras2])).toEqual([
      ['forward_layer/cell', 'bidirectional/forward_gru/gru_cell/kernel', 'bidirectional/forward_gru/gru_cell/kernel:0'],
      ['forward_layer/cell', 'bidirectional/forward_gru/gru_cell/recurrent_kernel', 'bidirectional/forward_gru/gru_cell/recurrent_kernel:0'],
      ['forward_layer/cell', 'bidirectional/forward_gru/gru_cell/bias', 'bidirectional/forward_gru/gru_cell/bias:0'],
      ['backward_layer/cell', 'bidirectional/backward_gru/gru_cell/kernel', 'bidirectional/backward_gru/gru_cell/kernel:0'],
      ['backward_layer/cell', 'bidirectional/backward_gru/gru_cell/recurrent_kernel', 'bidirectional/backward_gru/gru_cell/recurrent_kernel:0'],
      ['backward_layer/cell', 'bidirectional/backward_gru/gru_cell/bias', 'bidirectional/backward_gru/gru_cell/bias:0'],
    ]);
    const td = layer('TimeDistributed', { name: 'time_distributed', layer: layer('Dense', { name: 'dense' }) });
    expect(weightSlots(layerStructure(td)!).map((s) => [s.treePath, s.names.keras3, s.names.keras2])).toEqual([
      ['layer', 'time_distributed/dense/kernel', 'time_distributed/kernel:0'],
      ['layer', 'time_distributed/dense/bias', 'time_distributed/bias:0'],
    ]);
    const mh = layer('MultiHead', {
      name: 'mh',
      hidden_dim: 4,
      use_bias: true,
      layers: [layer('Dense', { name: 'a' }), layer('Dense', { name: 'b', use_bias: false })],
    });
    expect(weightSlots(layerStructure(mh)!).map((s) => [s.treePath, s.index, s.names.keras3])).toEqual([
      ['', 0, 'mh/mh_W'],
      ['', 1, 'mh/mh_b'],
      ['layer', 0, 'mh/sub_0/a/kernel'],
      ['layer', 1, 'mh/sub_0/a/bias'],
      ['layers/dense_1', 0, 'mh/sub_1/b/kernel'],
    ]);
  });

  it('keeps names that are already Keras names, spelled for the generation; unknown classes get path names', () => {
    expect(kerasWeightNames(undefined, 'x', ['x/k:0', 'x/b'], 'keras3')).toEqual(['x/k', 'x/b']);
    expect(kerasWeightNames(undefined, 'x', ['x/k:0', 'x/b'], 'keras2')).toEqual(['x/k:0', 'x/b:0']);
    const custom = layer('MyBlock', { name: 'blk' });
    expect(kerasWeightNames(custom, 'blk', ['layers/my_block/vars/0', 'layers/my_block/att/vars/1'], 'keras3')).toEqual(['blk/0', 'blk/att/1']);
    expect(spellWeightName('dense/kernel:0', 'tfjs')).toBe('dense/kernel');
    expect(toSnakeCase('MultiHeadAttention')).toBe('multi_head_attention');
    expect(toSnakeCase('Conv2D')).toBe('conv2d');
    expect(listItemNames(['Dense', 'LSTM', 'Dense', 'Dense'])).toEqual(['dense', 'lstm', 'dense_1', 'dense_2']);
  });
});

describe("Python's json.dumps", () => {
  it('formats floats like repr and escapes like ensure_ascii', () => {
    // values and expected text from CPython 3 json.dumps
    const cases: [number, string][] = [
      [0.05, '0.05'],
      [1e-5, '1e-05'],
      [1e-4, '0.0001'],
      [1.5e16, '1.5e+16'],
      [123456789012345.6, '123456789012345.6'],
      [-2.5, '-2.5'],
      [1e-7, '1e-07'],
      [1e300, '1e+300'],
      [5e-324, '5e-324'],
      [0.1 + 0.2, '0.30000000000000004'],
      [140309011660304, '140309011660304'],
    ];
    for (const [x, text] of cases) expect(pythonFloat(x)).toBe(text);
    expect(pythonJsonDumps({ a: [1, 2, { b: null, c: 'é\n"' }], d: {}, e: [], f: true })).toBe(
      '{"a": [1, 2, {"b": null, "c": "\\u00e9\\n\\""}], "d": {}, "e": [], "f": true}',
    );
  });
});
