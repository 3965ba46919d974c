/**
 * `KerasInterop>NoMask` and the config pass that places it: a call Keras made with `mask=None` gets no
 * mask in tfjs either, on both of tfjs's execution paths (predict's executor, and apply/nested models),
 * expressed in the graph so that it survives a save and load.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import { NO_MASK_CLASS_NAME, NoMask } from '../../src/layers/no-mask.js';
import type { JsonObject, JsonValue } from '../../src/model/types.js';
import { buildTopology, insertNoMaskLayers } from '../../src/runtime/topology.js';
import { savedInMemory } from '../helpers/tfjs-memory.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function layers(config: JsonObject): JsonObject[] {
  return (config.config as JsonObject).layers as JsonObject[];
}

function byName(config: JsonObject, name: string): JsonObject {
  const l = layers(config).find((x) => x.name === name);
  if (!l) throw new Error(`no layer ${name}`);
  return l;
}

const functional = (entries: JsonObject[], inputs: string[], outputs: string[]): JsonObject => ({
  class_name: 'Functional',
  config: { name: 'm', layers: entries, input_layers: inputs.map((n) => [n, 0, 0]), output_layers: outputs.map((n) => [n, 0, 0]) },
});

describe('insertNoMaskLayers', () => {
  const config = functional(
    [
      { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 4, 3] }, inbound_nodes: [] },
      { class_name: 'Masking', name: 'masking', config: { name: 'masking', mask_value: 0 }, inbound_nodes: [[['x', 0, 0, {}]]] },
      { class_name: 'Dense', name: 'pool_no_mask', config: { name: 'pool_no_mask', units: 3 }, inbound_nodes: [[['masking', 0, 0, {}]]] },
      {
        class_name: 'MultiHeadAttention',
        name: 'pool',
        config: { name: 'pool', num_heads: 1, key_dim: 2 },
        inbound_nodes: [
          [['masking', 0, 0, { input_roles: ['query', 'value'] }], ['pool_no_mask', 0, 0, { input_roles: ['query', 'value'] }]],
          [['masking', 0, 0, { input_roles: ['query', 'value'] }], ['masking', 0, 0, { input_roles: ['query', 'value'] }]],
        ],
      },
    ],
    ['x'],
    ['pool'],
  );

  it('puts one NoMask per call just before the layer, carrying each of the call’s input tensors once', () => {
    const before = JSON.stringify(config);
    const out = insertNoMaskLayers(config, ['pool']);
    expect(JSON.stringify(config)).toBe(before);
    expect(layers(out).map((l) => l.name)).toEqual(['x', 'masking', 'pool_no_mask', 'pool_no_mask_1', 'pool_no_mask_1_1', 'pool']);
    // `pool_no_mask` was taken by a real layer: the first call's NoMask got a fresh name.
    expect(byName(out, 'pool_no_mask_1')).toEqual({
      class_name: NO_MASK_CLASS_NAME,
      name: 'pool_no_mask_1',
      config: { name: 'pool_no_mask_1', trainable: false },
      inbound_nodes: [[['masking', 0, 0, {}], ['pool_no_mask', 0, 0, {}]]],
    });
    // tfjs's predict frees a tensor that one node reads twice too early: the NoMask reads it once.
    expect(byName(out, 'pool_no_mask_1_1').inbound_nodes).toEqual([[['masking', 0, 0, {}]]]);
    expect(byName(out, 'pool').inbound_nodes).toEqual([
      [['pool_no_mask_1', 0, 0, { input_roles: ['query', 'value'] }], ['pool_no_mask_1', 0, 1, { input_roles: ['query', 'value'] }]],
      [['pool_no_mask_1_1', 0, 0, { input_roles: ['query', 'value'] }], ['pool_no_mask_1_1', 0, 0, { input_roles: ['query', 'value'] }]],
    ]);
    expect(byName(out, 'masking')).toBe(byName(config, 'masking'));
  });

  it('reaches layers of nested functional models and leaves everything else alone', () => {
    const inner = functional(
      [
        { class_name: 'InputLayer', name: 'ix', config: { name: 'ix', batch_input_shape: [null, 4, 3] }, inbound_nodes: [] },
        { class_name: 'GlobalAveragePooling1D', name: 'inner_pool', config: { name: 'inner_pool' }, inbound_nodes: [[['ix', 0, 0, {}]]] },
      ],
      ['ix'],
      ['inner_pool'],
    );
    const outer = functional(
      [
        { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 4, 3] }, inbound_nodes: [] },
        { ...inner, name: 'inner', inbound_nodes: [[['x', 0, 0, {}]]] },
      ],
      ['x'],
      ['inner'],
    );
    const out = insertNoMaskLayers(outer, ['inner_pool']);
    const innerOut = byName(out, 'inner');
    expect(layers(innerOut).map((l) => [l.name, l.class_name])).toEqual([
      ['ix', 'InputLayer'],
      ['inner_pool_no_mask', NO_MASK_CLASS_NAME],
      ['inner_pool', 'GlobalAveragePooling1D'],
    ]);
    expect(byName(out, 'x')).toBe(byName(outer, 'x'));
    expect(insertNoMaskLayers(outer, [])).toBe(outer);
    expect(insertNoMaskLayers(outer, ['nothing_by_that_name'])).toEqual(outer);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** x → Masking(0) → GlobalAveragePooling1D (ours: a masked average over the unmasked steps). */
function maskedPoolModel(): JsonObject {
  return functional(
    [
      { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 4, 2], dtype: 'float32' }, inbound_nodes: [] },
      { class_name: 'Masking', name: 'masking', config: { name: 'masking', mask_value: 0 }, inbound_nodes: [[['x', 0, 0, {}]]] },
      { class_name: 'GlobalAveragePooling1D', name: 'pool', config: { name: 'pool' }, inbound_nodes: [[['masking', 0, 0, {}]]] },
    ],
    ['x'],
    ['pool'],
  );
}

// Steps 1 and 3 of the first sample are all zeros (masked).
const X = [1, 2, 0, 0, 3, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];
const MASKED_MEAN = [2, 3, 1, 1];
const PLAIN_MEAN = [1, 1.5, 1, 1];

function values(t: tf.Tensor | tf.Tensor[]): number[] {
  return Array.from((Array.isArray(t) ? t[0] : t).dataSync()).map((v) => Math.round(v * 1e6) / 1e6);
}

describe('NoMask stops the mask on every tfjs execution path', () => {
  it('without it the pooling averages only unmasked steps; with it, all steps (predict, apply, nested)', async () => {
    const x = tf.tensor(X, [2, 4, 2]);
    const masked = await buildTopology(maskedPoolModel());
    expect(values(masked.predict(x) as tf.Tensor)).toEqual(MASKED_MEAN);

    const config = insertNoMaskLayers(maskedPoolModel(), ['pool']);
    const noMask = await buildTopology(config);
    expect(noMask.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Masking', NO_MASK_CLASS_NAME, 'GlobalAveragePooling1D']);
    // predict(): tfjs's executor would hand the Masking layer's mask on to the next layers through its shared kwargs.
    expect(values(noMask.predict(x) as tf.Tensor)).toEqual(PLAIN_MEAN);
    expect(values(noMask.predict(x) as tf.Tensor)).toEqual(PLAIN_MEAN);
    // apply(): the per-node path (runInternalGraph) tfjs uses for nested models.
    expect(values(noMask.apply(x) as tf.Tensor)).toEqual(PLAIN_MEAN);
    const outer = tf.model({ inputs: noMask.inputs, outputs: noMask.apply(noMask.inputs) as tf.SymbolicTensor });
    expect(values(outer.predict(x) as tf.Tensor)).toEqual(PLAIN_MEAN);
  });

  it('survives tfjs’s own save and load (the graph says it, no patched instance)', async () => {
    const noMask = await buildTopology(insertNoMaskLayers(maskedPoolModel(), ['pool']));
    const saved = await savedInMemory(noMask);
    expect(JSON.stringify(saved.modelTopology)).toContain(NO_MASK_CLASS_NAME);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    expect(values(loaded.predict(tf.tensor(X, [2, 4, 2])) as tf.Tensor)).toEqual(PLAIN_MEAN);
  });

  it('is an identity on one or several inputs, with no mask out', () => {
    const layer = new NoMask({ name: 'n' });
    const a = tf.tensor([1, 2, 3], [1, 3]);
    const b = tf.tensor([4, 5], [1, 2]);
    const kwargs: { mask?: tf.Tensor } = { mask: tf.ones([1, 3]) };
    expect(values(layer.call(a, kwargs as never))).toEqual([1, 2, 3]);
    expect(kwargs.mask).toBeUndefined();
    const both = layer.call([a, b], {}) as tf.Tensor[];
    expect(both.map((t) => Array.from(t.dataSync()))).toEqual([[1, 2, 3], [4, 5]]);
    expect(layer.computeMask(a, tf.ones([1, 3]))).toBeNull();
    expect(layer.computeMask([a, b], [tf.ones([1, 3]), tf.ones([1, 2])])).toEqual([null, null]);
    expect(layer.computeOutputShape([[null, 3], [null, 2]])).toEqual([[null, 3], [null, 2]]);
    expect((layer.getConfig() as Record<string, JsonValue>).name).toBe('n');
  });
});
