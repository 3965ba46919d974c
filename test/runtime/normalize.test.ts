import { describe, expect, it } from 'vitest';
import { isKerasInteropError } from '../../src/errors.js';
import type { JsonObject, JsonValue } from '../../src/model/types.js';
import { forEachLayer } from '../../src/runtime/config-walk.js';
import {
  KERAS_MULTI_HEAD_MHA,
  classResolutions,
  normalizeConfig,
  normalizeConfigDetailed,
  resolveClassName,
} from '../../src/runtime/normalize.js';
import { itWild } from '../helpers/wild.js';
import { type ConfigCase, goldenConfigCases, readConfig, wildConfigCases, wildPath } from './support.js';

const cases: ConfigCase[] = [...goldenConfigCases(), ...wildConfigCases()];

type Layer = { class_name: string; name?: string; config: JsonObject; inbound_nodes?: JsonValue[] };

function layersOf(model: JsonObject): Layer[] {
  return (model.config as JsonObject).layers as unknown as Layer[];
}

function layer(model: JsonObject, name: string): Layer {
  const l = layersOf(model).find((x) => x.name === name || x.config.name === name);
  if (!l) throw new Error(`no layer ${name}`);
  return l;
}

/** Every object in a JSON tree, with its JSON pointer. */
function objects(v: JsonValue, path = ''): [string, JsonObject][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => objects(x, `${path}/${i}`));
  if (v === null || typeof v !== 'object') return [];
  return [[path, v], ...Object.keys(v).flatMap((k) => objects(v[k], `${path}/${k}`))];
}

async function normalizedCase(id: string): Promise<{ raw: JsonObject; out: ReturnType<typeof normalizeConfigDetailed> }> {
  const c = cases.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  const raw = await readConfig(c);
  return { raw, out: normalizeConfigDetailed(raw) };
}

describe('normalizeConfig on every golden and real config', () => {
  it('covers the golden cases', () => {
    expect(cases.filter((c) => c.id.startsWith('golden/')).length).toBeGreaterThanOrEqual(50);
  });

  itWild('covers the real files', () => {
    expect(cases.filter((c) => c.id.startsWith('wild/')).map((c) => c.id.split('/')[1].slice(0, 2))).toEqual(
      expect.arrayContaining(['01', '02', '04', '06', '09', '11', '17', '19', '20', '21', '22', '24', '28']),
    );
  });

  for (const c of cases) {
    it(`${c.id}: tfjs dialect, input untouched`, async () => {
      const raw = await readConfig(c);
      const before = structuredClone(raw);
      const out = normalizeConfig(raw);
      expect(raw).toEqual(before);

      const cls = out.class_name as string;
      expect(['Functional', 'Model', 'Sequential']).toContain(cls);
      expect(Array.isArray((out.config as JsonObject).layers)).toBe(true);
      for (const [path, o] of objects(out)) {
        // Keras object wrappers only: a Lambda's config has a `module` of its own.
        if (typeof o.class_name === 'string') {
          for (const k of ['module', 'registered_name', 'build_config', 'compile_config', 'shared_object_id']) {
            expect(o[k], `${path}/${k}`).toBeUndefined();
          }
        }
        expect(o.class_name, path).not.toBe('__keras_tensor__');
        expect(o.class_name, path).not.toBe('DTypePolicy');
        expect(o.class_name, path).not.toBe('NotEqual');
        expect(o.class_name, path).not.toBe('Any');
      }
      forEachLayer(out, (v) => {
        if (v.className === 'InputLayer') {
          expect(Array.isArray(v.layer.config && (v.layer.config as JsonObject).batch_input_shape), v.path).toBe(true);
          expect((v.layer.config as JsonObject).batch_shape).toBeUndefined();
          expect((v.layer.config as JsonObject).optional).toBeUndefined();
        }
        expect(typeof (v.layer.config as JsonObject).dtype === 'object' && (v.layer.config as JsonObject).dtype !== null).toBe(false);
      });
      if (cls !== 'Sequential') {
        const inner = out.config as JsonObject;
        for (const key of ['input_layers', 'output_layers']) {
          const refs = inner[key] as JsonValue[];
          expect(refs.length).toBeGreaterThan(0);
          for (const r of refs) expect(r).toEqual([expect.any(String), expect.any(Number), expect.any(Number)]);
        }
        for (const l of layersOf(out)) {
          expect(typeof l.name).toBe('string');
          for (const node of l.inbound_nodes ?? []) {
            expect(Array.isArray(node)).toBe(true);
            for (const entry of node as JsonValue[][]) {
              expect(entry).toEqual([expect.any(String), expect.any(Number), expect.any(Number), expect.any(Object)]);
              const kwargs = entry[3] as JsonObject;
              expect(kwargs.mask ?? null).toBeNull();
              expect(Object.keys(kwargs)).not.toContain('mask');
            }
          }
        }
      }
    });
  }
});

describe('node-call convention', () => {
  const mhaNode = [
    ['query', 0, 0],
    ['value', 0, 0],
    ['key', 0, 0],
    ['attention_mask', 0, 0],
  ].map((r) => [...r, { return_attention_scores: true, input_roles: ['query', 'value', 'key', 'attention_mask'] }]);

  it('kmha_cross_masked (Keras 3): key and attention_mask keywords become inputs 3 and 4', async () => {
    for (const id of ['golden/kmha_cross_masked/model.h5', 'golden/kmha_cross_masked/model.keras']) {
      const { out } = await normalizedCase(id);
      const mha = layer(out.config, 'multi_head_attention');
      expect(mha.class_name).toBe('MultiHeadAttention');
      expect(mha.inbound_nodes).toEqual([mhaNode]);
      expect((out.config.config as JsonObject).output_layers).toEqual([
        ['multi_head_attention', 0, 0],
        ['multi_head_attention', 0, 1],
      ]);
      expect((out.config.config as JsonObject).input_layers).toEqual([
        ['query', 0, 0],
        ['value', 0, 0],
        ['key', 0, 0],
        ['attention_mask', 0, 0],
      ]);
    }
  });

  it('kmha_cross_masked (tf.keras 2): the value/key/attention_mask keywords give the same node', async () => {
    const { out } = await normalizedCase('golden/kmha_cross_masked/model.tfkeras2.h5');
    expect(layer(out.config, 'multi_head_attention').inbound_nodes).toEqual([mhaNode]);
  });

  it('transformer_block: self-attention (query, value), list arguments of Add, mask=None dropped', async () => {
    for (const id of ['golden/transformer_block/model.h5', 'golden/transformer_block/model.tfkeras2.h5']) {
      const { out } = await normalizedCase(id);
      expect(layer(out.config, 'multi_head_attention').inbound_nodes).toEqual([
        [
          ['input_layer', 0, 0, { input_roles: ['query', 'value'] }],
          ['input_layer', 0, 0, { input_roles: ['query', 'value'] }],
        ],
      ]);
      expect(layer(out.config, 'add').inbound_nodes).toEqual([
        [
          ['input_layer', 0, 0, {}],
          ['dropout_1', 0, 0, {}],
        ],
      ]);
      expect(layer(out.config, 'global_average_pooling1d').inbound_nodes).toEqual([[['layer_normalization_1', 0, 0, {}]]]);
    }
  });

  itWild('wild 04 (tf.keras 2.10): MultiHeadAttention value= keyword tensor becomes the second input', async () => {
    const { out } = await normalizedCase('wild/04_btc_transformer_mha_tfoplambda/transformer_BTC.h5');
    expect(layer(out.config, 'multi_head_attention').inbound_nodes).toEqual([
      [
        ['layer_normalization', 0, 0, { input_roles: ['query', 'value'] }],
        ['layer_normalization', 0, 0, { input_roles: ['query', 'value'] }],
      ],
    ]);
    // TFOpLambda writes its single entry bare and passes `y` as a keyword tensor: an op layer reading both.
    const add = layer(out.config, 'tf.__operators__.add');
    expect(add.class_name).toBe('KerasInterop>Op');
    expect(add.config).toEqual({ name: 'tf.__operators__.add', trainable: false, op: 'add', arguments: { x: { input: 0 }, y: { input: 1 } } });
    expect(add.inbound_nodes).toEqual([
      [
        ['dropout', 0, 0, {}],
        ['input_1', 0, 0, {}],
      ],
    ]);
  });

  it('keras-self-attention list inputs keep their order (sdpa_qkv, rsdpa_realformer)', async () => {
    const { out } = await normalizedCase('golden/sdpa_qkv/model.h5');
    expect(layer(out.config, 'scaled_dot_product_attention').inbound_nodes).toEqual([
      [
        ['query', 0, 0, {}],
        ['key', 0, 0, {}],
        ['value', 0, 0, {}],
      ],
    ]);
    const r = await normalizedCase('golden/rsdpa_realformer/model.h5');
    expect(layer(r.out.config, 'residual_scaled_dot_product_attention').inbound_nodes).toEqual([
      [
        ['embedding', 0, 0, {}],
        ['prev', 0, 0, {}],
      ],
    ]);
  });

  it('Keras 3 mask pseudo-layers go, with the mask keywords that read them', async () => {
    const { raw, out } = await normalizedCase('golden/sa_additive_masking/model.h5');
    expect(layersOf(raw).map((l) => l.class_name)).toEqual(['InputLayer', 'NotEqual', 'Masking', 'Any', 'SeqSelfAttention', 'Dense']);
    expect(layersOf(out.config).map((l) => l.class_name)).toEqual(['InputLayer', 'Masking', 'SeqSelfAttention', 'Dense']);
    expect(layer(out.config, 'seq_self_attention').inbound_nodes).toEqual([[['masking', 0, 0, {}]]]);
    expect(out.removedLayers.map((r) => [r.name, r.className, r.path])).toEqual([
      ['not_equal', 'NotEqual', '/config/layers/1'],
      ['any', 'Any', '/config/layers/3'],
    ]);
    const b = await normalizedCase('golden/sa_additive_basic/model.h5');
    expect(layer(b.out.config, 'bidirectional').inbound_nodes).toEqual([[['embedding', 0, 0, {}]]]);
  });

  it('Keras 3 calls recorded with mask=None are reported (Keras 3 ran them without a mask)', async () => {
    const k3 = await normalizedCase('golden/sa_additive_basic/model.h5');
    expect(k3.out.callsWithoutMask).toContain('seq_self_attention');
    expect(k3.out.callsWithoutMask).not.toContain('bidirectional');
    // tf.keras 2 files record no masks: Keras 3, reloading them, hands a mask only to the direct consumers
    // of Embedding(mask_zero)/Masking, so everything else runs without one.
    const k2 = await normalizedCase('golden/sa_additive_basic/model.tfkeras2.h5');
    expect(k2.out.callsWithoutMask).toEqual(['seq_self_attention', 'dense']);
    // A model with no mask-producing layer has nothing to stop.
    const plain = await normalizedCase('golden/transformer_block/model.tfkeras2.h5');
    expect(plain.out.callsWithoutMask).toEqual([]);
  });

  it('an explicit mask tensor from a real layer becomes an input with role "mask" (both dialects)', () => {
    const k3 = normalizeConfig(functional3([
      input3('x', [null, 4, 3]),
      input3('m', [null, 4], 'bool'),
      {
        class_name: 'Dense',
        config: { name: 'd', units: 2 },
        name: 'd',
        inbound_nodes: [{ args: [tensor3('x')], kwargs: { mask: tensor3('m') } }],
      },
    ], ['x', 'm'], 'd'));
    expect(layer(k3, 'd').inbound_nodes).toEqual([
      [
        ['x', 0, 0, { input_roles: ['inputs', 'mask'] }],
        ['m', 0, 0, { input_roles: ['inputs', 'mask'] }],
      ],
    ]);
    const k2 = normalizeConfig({
      class_name: 'Functional',
      config: {
        name: 'f',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 4, 3] }, inbound_nodes: [] },
          { class_name: 'InputLayer', name: 'm', config: { name: 'm', batch_input_shape: [null, 4], dtype: 'bool' }, inbound_nodes: [] },
          { class_name: 'Dense', name: 'd', config: { name: 'd', units: 2 }, inbound_nodes: [[['x', 0, 0, { mask: ['m', 0, 0], training: false }]]] },
        ],
        input_layers: [['x', 0, 0], ['m', 0, 0]],
        output_layers: [['d', 0, 0]],
      },
    });
    expect(layer(k2, 'd').inbound_nodes).toEqual([
      [
        ['x', 0, 0, { training: false, input_roles: ['inputs', 'mask'] }],
        ['m', 0, 0, { training: false, input_roles: ['inputs', 'mask'] }],
      ],
    ]);
  });

  it('Keras MultiHeadAttention keywords follow the table order whatever order the file has', () => {
    const out = normalizeConfig(functional3([
      input3('q', [null, 2, 3]),
      input3('v', [null, 4, 3]),
      input3('am', [null, 2, 4]),
      {
        class_name: 'MultiHeadAttention',
        config: { name: 'mha', num_heads: 1, key_dim: 2 },
        name: 'mha',
        inbound_nodes: [{ args: [tensor3('q')], kwargs: { attention_mask: tensor3('am'), use_causal_mask: true, value: tensor3('v'), training: false } }],
      },
    ], ['q', 'v', 'am'], 'mha'));
    const kwargs = { use_causal_mask: true, training: false, input_roles: ['query', 'value', 'attention_mask'] };
    expect(layer(out, 'mha').inbound_nodes).toEqual([[['q', 0, 0, kwargs], ['v', 0, 0, kwargs], ['am', 0, 0, kwargs]]]);
  });
});

describe('dialect details', () => {
  it('DTypePolicy objects become dtype strings; mixed_float16 becomes float32 with a note', () => {
    const policy = (name: string): JsonObject => ({ module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null });
    const r = normalizeConfigDetailed(functional3([
      input3('x', [null, 3]),
      { module: 'keras.layers', class_name: 'Dense', config: { name: 'd', units: 2, dtype: policy('mixed_float16') }, registered_name: null, name: 'd', inbound_nodes: [{ args: [tensor3('x')], kwargs: {} }] },
      { module: 'keras.layers', class_name: 'Dense', config: { name: 'e', units: 2, dtype: policy('float32') }, registered_name: null, name: 'e', inbound_nodes: [{ args: [tensor3('d')], kwargs: {} }] },
    ], ['x'], 'e'));
    expect(layer(r.config, 'd').config.dtype).toBe('float32');
    expect(layer(r.config, 'e').config.dtype).toBe('float32');
    expect(r.notes.some((n) => n.message.includes('mixed_float16') && n.path.startsWith('/config/layers/1'))).toBe(true);
  });

  it('InputLayer: batch_shape → batch_input_shape, optional dropped, int64 → int32', () => {
    const r = normalizeConfigDetailed(functional3([input3('x', [null, 5], 'int64')], ['x'], 'x'));
    expect(layer(r.config, 'x').config).toEqual({ name: 'x', dtype: 'int32', sparse: false, batch_input_shape: [null, 5] });
    expect(r.notes.some((n) => n.message.includes('int64'))).toBe(true);
  });

  itWild('Keras 2.1.6 bare-list Sequential (wild 24) becomes {name, layers}', async () => {
    const { raw, out } = await normalizedCase('wild/24_thesis_k216_legacy_sequential/lstm_model.h5');
    expect(Array.isArray(raw.config)).toBe(true);
    expect(out.config.class_name).toBe('Sequential');
    const inner = out.config.config as JsonObject;
    expect(inner.name).toBe('sequential');
    expect((inner.layers as JsonValue[]).length).toBe((raw.config as JsonValue[]).length);
    expect(((inner.layers as Layer[])[0].config as JsonObject).batch_input_shape).toEqual([null, null, 1]);
  });

  it('Keras 3 Bidirectional: forward_ prefix undone and the mirrored backward_layer dropped', async () => {
    const { raw, out } = await normalizedCase('golden/sa_additive_basic/model.h5');
    const before = layer(raw, 'bidirectional').config;
    expect(((before.layer as JsonObject).config as JsonObject).name).toBe('forward_lstm');
    const bi = layer(out.config, 'bidirectional').config;
    expect(((bi.layer as JsonObject).config as JsonObject).name).toBe('lstm');
    expect(bi.backward_layer).toBeUndefined();
  });

  it('Keras 3 regularizers and initializers map to tfjs classes', async () => {
    const { out } = await normalizedCase('golden/sa_multiplicative/model.h5');
    const sa = layer(out.config, 'seq_self_attention').config;
    expect(sa.kernel_regularizer).toEqual({ class_name: 'L1L2', config: { l1: 0, l2: 1e-6 } });
    expect(sa.kernel_initializer).toEqual({ class_name: 'GlorotNormal', config: { seed: null, input_axes: null, output_axes: null } });
  });

  itWild('Keras 3 initializers of a real file (wild 19) map to tfjs classes', async () => {
    const w19 = await normalizedCase('wild/19_randomlist_bigru_masking_archive/model.keras');
    const gru = (layer(w19.out.config, 'bidirectional').config.layer as JsonObject).config as JsonObject;
    expect((gru.recurrent_initializer as JsonObject).class_name).toBe('Orthogonal');
  });

  it('input_layers/output_layers given as one triple become a list', async () => {
    const { raw, out } = await normalizedCase('golden/kmha_basic/model.h5');
    expect((raw.config as JsonObject).input_layers).toEqual(['input_layer', 0, 0]);
    expect((out.config.config as JsonObject).input_layers).toEqual([['input_layer', 0, 0]]);
  });

  it('references to a nested model count the node tfjs creates when building it', () => {
    const inner: JsonObject = {
      class_name: 'Functional',
      config: {
        name: 'inner',
        layers: [
          { class_name: 'InputLayer', name: 'ix', config: { name: 'ix', batch_input_shape: [null, 3] }, inbound_nodes: [] },
          { class_name: 'Dense', name: 'id', config: { name: 'id', units: 2 }, inbound_nodes: [[['ix', 0, 0, {}]]] },
        ],
        input_layers: [['ix', 0, 0]],
        output_layers: [['id', 0, 0]],
      },
      name: 'inner',
      inbound_nodes: [[['x', 0, 0, {}]]],
    };
    const out = normalizeConfig({
      class_name: 'Functional',
      config: {
        name: 'outer',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 3] }, inbound_nodes: [] },
          inner,
          { class_name: 'Dense', name: 'd', config: { name: 'd', units: 1 }, inbound_nodes: [[['inner', 0, 0, {}]]] },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['d', 0, 0]],
      },
    });
    expect(layer(out, 'd').inbound_nodes).toEqual([[['inner', 1, 0, {}]]]);
    expect(layer(out, 'inner').inbound_nodes).toEqual([[['x', 0, 0, {}]]]);
  });

  it('rejects graphs tfjs would loop on forever (unknown layer, missing node, cycle)', () => {
    const base = (nodes: JsonValue): JsonObject => ({
      class_name: 'Functional',
      config: {
        name: 'f',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 3] }, inbound_nodes: [] },
          { class_name: 'Dense', name: 'a', config: { name: 'a', units: 3 }, inbound_nodes: nodes },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['a', 0, 0]],
      },
    });
    const code = (cfg: JsonObject): string | undefined => {
      try {
        normalizeConfig(cfg);
        return undefined;
      } catch (e) {
        return isKerasInteropError(e) ? `${e.code}: ${e.message}` : String(e);
      }
    };
    expect(code(base([[['nowhere', 0, 0, {}]]]))).toMatch(/^CONFIG_INVALID: .*"nowhere"/);
    expect(code(base([[['x', 3, 0, {}]]]))).toMatch(/^CONFIG_INVALID: .*node 3/);
    expect(code(base([[['a', 0, 0, {}]]]))).toMatch(/^CONFIG_INVALID: .*cycle/);
    expect(code({ class_name: 'Dense', config: { units: 1 } })).toMatch(/^CONFIG_INVALID/);
  });

  /** How normalizing `cfg` fails: `CODE at place: message`. */
  const normalizeError = (cfg: JsonObject): string => {
    try {
      normalizeConfig(cfg);
    } catch (e) {
      return isKerasInteropError(e) ? `${e.code} at ${e.place}: ${e.message}` : String(e);
    }
    throw new Error('expected an error');
  };

  it('refuses output flags that are not booleans, naming the layer and the key (Python would read "x" as True)', () => {
    const seq = (lstm: JsonObject): JsonObject => ({
      class_name: 'Sequential',
      config: { name: 's', layers: [{ class_name: 'Bidirectional', config: { name: 'bi', batch_input_shape: [null, 4, 2], layer: { class_name: 'LSTM', config: { name: 'lstm', units: 3, ...lstm } } } }] },
    });
    expect(normalizeError(seq({ return_state: 'Concatenate' }))).toBe(
      'CONFIG_INVALID at /config/layers/0/config/layer/config/return_state: /config/layers/0/config/layer/config/return_state: layer "lstm": return_state must be true or false, found "Concatenate"',
    );
    expect(normalizeError(seq({ go_backwards: 1 }))).toMatch(/^CONFIG_INVALID at .*\/go_backwards: /);
    expect(() => normalizeConfig(seq({ return_state: null, return_sequences: true }))).not.toThrow();
  });

  it('refuses batch shapes that are not lists of sizes, and Sequential layers sharing a name', () => {
    const seq = (layers: JsonValue[]): JsonObject => ({ class_name: 'Sequential', config: { name: 's', layers } });
    const dense = (name: string, extra: JsonObject = {}) => ({ class_name: 'Dense', config: { name, units: 2, ...extra } });
    expect(normalizeError(seq([dense('a', { batch_input_shape: '%2e%2e%2f' })]))).toMatch(/^CONFIG_INVALID at \/config\/layers\/0\/config\/batch_input_shape: .*layer "a": batch_input_shape must be a list of sizes/);
    expect(normalizeError(seq([{ class_name: 'InputLayer', config: { name: 'x', batch_shape: [null, -3] } }, dense('a')]))).toMatch(/^CONFIG_INVALID at \/config\/layers\/0\/config\/batch_shape: /);
    expect(normalizeError(seq([dense('a', { batch_input_shape: [null, 3] }), dense('b'), dense('a')]))).toBe(
      'CONFIG_INVALID at /config/layers/2/config/name: /config/layers/2/config/name: two layers are named "a"',
    );
    expect(() => normalizeConfig(seq([dense('a', { batch_input_shape: [null, 3] }), dense('b')]))).not.toThrow();
  });

  it('keeps JSON keys such as __proto__ as data', () => {
    const raw = JSON.parse(
      '{"class_name":"Sequential","config":{"name":"s","layers":[{"class_name":"Dense","config":{"name":"d","units":1,"batch_input_shape":[null,2],"__proto__":{"polluted":true}}}]}}',
    ) as JsonObject;
    const out = normalizeConfig(raw);
    const d = ((out.config as JsonObject).layers as Layer[])[0].config;
    expect(Object.prototype.hasOwnProperty.call(d, '__proto__')).toBe(true);
    expect((d as { polluted?: boolean }).polluted).toBeUndefined();
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe('class resolution', () => {
  it('MultiHeadAttention: keras-multi-head (head_num), Keras (num_heads/key_dim), or a user class', () => {
    expect(resolveClassName('MultiHeadAttention', { head_num: 2 })).toMatchObject({ className: KERAS_MULTI_HEAD_MHA, origin: 'keras-multi-head' });
    expect(resolveClassName('MultiHeadAttention', { num_heads: 2, key_dim: 4 })).toMatchObject({ className: 'MultiHeadAttention', origin: 'keras' });
    expect(resolveClassName('MultiHeadAttention', { heads: 2 })).toMatchObject({ className: 'User>MultiHeadAttention', origin: 'user' });
    expect(resolveClassName('SeqSelfAttention', {})).toMatchObject({ origin: 'keras-self-attention' });
    expect(resolveClassName('SimpleAttention', {})).toMatchObject({ origin: 'user' });
  });

  it('reports the choice per layer, and the normalized config uses it', async () => {
    for (const id of ['golden/mha_self/model.h5', 'golden/mha_qkv/model.tfkeras2.h5']) {
      const { raw, out } = await normalizedCase(id);
      const r = classResolutions(raw).find((x) => x.className === 'MultiHeadAttention');
      expect(r).toMatchObject({ layer: 'multi_head_attention', resolvedClass: KERAS_MULTI_HEAD_MHA, origin: 'keras-multi-head', path: expect.stringMatching(/^\/config\/layers\/\d+$/) });
      expect(layer(out.config, 'multi_head_attention').class_name).toBe(KERAS_MULTI_HEAD_MHA);
      expect(out.resolutions.find((x) => x.layer === 'multi_head_attention')?.resolvedClass).toBe(KERAS_MULTI_HEAD_MHA);
    }
    const { raw } = await normalizedCase('golden/kmha_basic/model.h5');
    expect(classResolutions(raw).find((x) => x.layer === 'multi_head_attention')).toMatchObject({ resolvedClass: 'MultiHeadAttention', origin: 'keras' });
  });

  it('resolves layers nested in keras-multi-head MultiHead and Bidirectional', async () => {
    const { raw } = await normalizedCase('golden/mh_regularized_bilstm/model.h5');
    const res = classResolutions(raw);
    expect(res.find((r) => r.className === 'MultiHead')).toMatchObject({ origin: 'keras-multi-head' });
    expect(res.filter((r) => r.className === 'LSTM').length).toBeGreaterThanOrEqual(2);
    expect(res.every((r) => r.path.startsWith('/config/layers/'))).toBe(true);
  });
});

// --- tiny Keras 3 config builders for synthetic cases -------------------------------------------------

function tensor3(name: string): JsonObject {
  return { class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [name, 0, 0] } };
}

function input3(name: string, batchShape: (number | null)[], dtype = 'float32'): JsonObject {
  return {
    module: 'keras.layers',
    class_name: 'InputLayer',
    config: { batch_shape: batchShape, dtype, sparse: false, name, optional: false },
    registered_name: null,
    name,
    inbound_nodes: [],
  };
}

function functional3(layers: JsonObject[], inputs: string[], output: string): JsonObject {
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers,
      input_layers: inputs.length === 1 ? [inputs[0], 0, 0] : inputs.map((i) => [i, 0, 0]),
      output_layers: [output, 0, 0],
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: null,
  };
}

itWild('support: the wild folder is where the tests look for it', () => {
  expect(wildPath('manifest.json')).toMatch(/manifest\.json$/);
});

describe('nested models', () => {
  const inner = (name: string) => ({
    class_name: 'Sequential',
    config: { name, layers: [{ class_name: 'Dense', config: { name: `${name}_dense`, units: 2, batch_input_shape: [null, 3] } }] },
  });

  it('tf.keras >= 2.4 references count the nested model own node (kept), Keras 3 references do not (+1 for tfjs)', async () => {
    const { normalizeConfig } = await import('../../src/runtime/normalize.js');
    const k2 = {
      class_name: 'Functional',
      config: {
        name: 'outer',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, 3] }, inbound_nodes: [] },
          { ...inner('inner'), name: 'inner', inbound_nodes: [[['x', 0, 0, {}]]] },
          { class_name: 'Dense', name: 'head', config: { name: 'head', units: 1 }, inbound_nodes: [[['inner', 1, 0, {}]]] },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['inner', 1, 0]],
      },
    };
    const out2 = normalizeConfig(k2 as unknown as JsonObject) as { config: { layers: { name: string; inbound_nodes: unknown }[]; output_layers: unknown } };
    expect(out2.config.layers[2].inbound_nodes).toEqual([[['inner', 1, 0, {}]]]);
    expect(out2.config.output_layers).toEqual([['inner', 1, 0]]);
    const kt = (l: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 3], dtype: 'float32', keras_history: [l, 0, 0] } });
    const k3 = {
      class_name: 'Functional',
      config: {
        name: 'outer',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_shape: [null, 3] }, inbound_nodes: [] },
          { ...inner('inner'), name: 'inner', inbound_nodes: [{ args: [kt('x')], kwargs: {} }] },
          { class_name: 'Dense', name: 'head', config: { name: 'head', units: 1 }, inbound_nodes: [{ args: [kt('inner')], kwargs: {} }] },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['inner', 0, 0]],
      },
    };
    const out3 = normalizeConfig(k3 as unknown as JsonObject) as { config: { layers: { inbound_nodes: unknown[][][] }[]; output_layers: unknown } };
    expect(out3.config.layers[2].inbound_nodes[0][0].slice(0, 3)).toEqual(['inner', 1, 0]);
    expect(out3.config.output_layers).toEqual([['inner', 1, 0]]);
  });
});
