import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/runtime/backend.js';
import { ScaledDotProductAttention } from '../../src/layers/index.js';
import { KerasInteropError } from '../../src/errors.js';
import { Rng, expectClose, nd, refDotAttention, trailingMask } from './attention-reference.js';
import { maskTensor, ndTensor as t } from './attention-tensors.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('ScaledDotProductAttention vs the plain-JS reference', () => {
  let seed = 500;
  for (const mode of ['self', 'qkv'] as const) {
    for (const historyOnly of [false, true]) {
      for (const masked of [false, true]) {
        for (const returnAttention of [false, true]) {
          const s = seed++;
          it(`${mode} history_only=${historyOnly} mask=${masked} return_attention=${returnAttention}`, async () => {
            const rng = new Rng(s);
            const B = 3;
            const [Tq, Tk, D, Dv] = mode === 'self' ? [6, 6, 4, 4] : [5, 7, 4, 3];
            const q = rng.randn([B, Tq, D]);
            const k = mode === 'self' ? q : rng.randn([B, Tk, D]);
            const v = mode === 'self' ? q : rng.randn([B, Tk, Dv]);
            const keyMask = masked ? trailingMask([Tk, Tk - 2, 2], Tk) : undefined;
            const layer = new ScaledDotProductAttention({ returnAttention, historyOnly });
            let out: tf.Tensor | tf.Tensor[];
            if (mode === 'self') {
              out = layer.apply(t(q), keyMask ? { mask: maskTensor(keyMask) } : {}) as tf.Tensor | tf.Tensor[];
            } else {
              // A list of masks: Python uses the key's (index 1).
              const masks = keyMask ? [maskTensor(trailingMask([1, 1, 1], Tq)), maskTensor(keyMask), null] : undefined;
              out = layer.apply([t(q), t(k), t(v)], masks ? { mask: masks } : {}) as tf.Tensor | tf.Tensor[];
            }
            expect(layer.weights).toEqual([]);
            const expected = refDotAttention(q, k, v, historyOnly, keyMask);
            expect(Array.isArray(out)).toBe(returnAttention);
            const [o, a] = Array.isArray(out) ? out : [out];
            expect(o!.shape).toEqual([B, Tq, Dv]);
            expectClose(await o!.data(), expected.out, { skipRows: expected.saturated, label: 'output' });
            if (a) {
              expect(a.shape).toEqual([B, Tq, Tk]);
              expectClose(await a.data(), expected.att, { skipRows: expected.saturated, label: 'attention' });
            }
          });
        }
      }
    }
  }

  it('self-attention from Embedding(mask_zero) inside a model, query mask carried on', async () => {
    const rng = new Rng(77);
    const table = rng.randn([6, 4], 0.5);
    const input = tf.input({ shape: [5], dtype: 'int32' });
    const emb = tf.layers.embedding({ inputDim: 6, outputDim: 4, maskZero: true, weights: [t(table)] });
    const layer = new ScaledDotProductAttention({});
    const model = tf.model({ inputs: input, outputs: layer.apply(emb.apply(input)) as tf.SymbolicTensor });
    const tokens = [
      [1, 2, 3, 4, 0],
      [5, 1, 0, 0, 0],
    ];
    const got = model.predict(tf.tensor2d(tokens, undefined, 'int32')) as tf.Tensor;
    const x = nd([2, 5, 4]);
    tokens.forEach((row, i) => row.forEach((tok, j) => x.data.set(table.data.subarray(tok * 4, tok * 4 + 4), (i * 5 + j) * 4)));
    const expected = refDotAttention(x, x, x, false, tokens.map((r) => r.map((tok) => tok !== 0)));
    expectClose(await got.data(), expected.out);
  });

  it('masks, shapes and errors as Python', () => {
    const layer = new ScaledDotProductAttention({ returnAttention: true });
    const qm = maskTensor(trailingMask([2], 3));
    const km = maskTensor(trailingMask([1], 4));
    expect(layer.computeMask([tf.ones([1, 3, 2])], [qm, km, km])).toEqual([qm, null]);
    expect(new ScaledDotProductAttention({}).computeMask(tf.ones([1, 3, 2]), qm)).toBe(qm);
    expect(layer.computeOutputShape([
      [null, 5, 3],
      [null, 4, 3],
      [null, 4, 6],
    ])).toEqual([
      [null, 5, 6],
      [null, 5, 4],
    ]);
    expect(new ScaledDotProductAttention({}).computeOutputShape([null, 5, 3])).toEqual([null, 5, 3]);
    expect(() => layer.apply([tf.ones([1, 2, 2]), tf.ones([1, 2, 2])])).toThrow(KerasInteropError);
  });
});

describe('ScaledDotProductAttention config', () => {
  it('round-trips through fromConfig and serializes with the Python keys', async () => {
    const layer = new ScaledDotProductAttention({ name: 'sdpa', returnAttention: true, historyOnly: true });
    const config = layer.getConfig();
    expect((ScaledDotProductAttention.fromConfig(ScaledDotProductAttention, config) as ScaledDotProductAttention).getConfig()).toEqual(config);
    const inputs = [tf.input({ shape: [4, 2] }), tf.input({ shape: [3, 2] }), tf.input({ shape: [3, 5] })];
    const model = tf.model({ inputs, outputs: layer.apply(inputs) as tf.SymbolicTensor[] });
    const json = model.toJSON(undefined, false) as unknown as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
    const saved = json.config.layers.find((l) => l.class_name === 'ScaledDotProductAttention')!.config;
    expect(saved['return_attention']).toBe(true);
    expect(saved['history_only']).toBe(true);
    const reloaded = await tf.models.modelFromJSON(json as unknown as Parameters<typeof tf.models.modelFromJSON>[0]);
    const xs = [tf.randomNormal([2, 4, 2]), tf.randomNormal([2, 3, 2]), tf.randomNormal([2, 3, 5])];
    const [a, b] = [reloaded.predict(xs) as tf.Tensor[], model.predict(xs) as tf.Tensor[]];
    expect(a[0]!.shape).toEqual([2, 4, 5]);
    expect(Array.from(await a[1]!.data())).toEqual(Array.from(await b[1]!.data()));
  });
});
