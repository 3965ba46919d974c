import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/runtime/backend.js';
import { ResidualScaledDotProductAttention } from '../../src/layers/index.js';
import { KerasInteropError } from '../../src/errors.js';
import { Rng, expectClose, nd, refDotAttention, trailingMask } from './attention-reference.js';
import { maskTensor, ndTensor as t } from './attention-tensors.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('ResidualScaledDotProductAttention vs the plain-JS reference', () => {
  let seed = 700;
  for (const mode of ['[x, prev]', '[q, k, v, prev]'] as const) {
    for (const historyOnly of [false, true]) {
      for (const masked of [false, true]) {
        for (const returnAttention of [false, true]) {
          const s = seed++;
          it(`${mode} history_only=${historyOnly} mask=${masked} return_attention=${returnAttention}`, async () => {
            const rng = new Rng(s);
            const B = 2;
            const self = mode === '[x, prev]';
            const [Tq, Tk, D, Dv] = self ? [5, 5, 4, 4] : [4, 6, 3, 5];
            const q = rng.randn([B, Tq, D]);
            const k = self ? q : rng.randn([B, Tk, D]);
            const v = self ? q : rng.randn([B, Tk, Dv]);
            const prev = rng.randn([B, Tq, Tk]);
            const keyMask = masked ? trailingMask([Tk - 1, 2], Tk) : undefined;
            const layer = new ResidualScaledDotProductAttention({ returnAttention, historyOnly });
            const inputs = self ? [t(q), t(prev)] : [t(q), t(k), t(v), t(prev)];
            // Python takes mask[0] for [x, prev] and mask[1] (the key's) for four inputs.
            const masks = keyMask ? (self ? [maskTensor(keyMask), null] : [null, maskTensor(keyMask), null, null]) : undefined;
            const out = layer.apply(inputs, masks ? { mask: masks } : {}) as tf.Tensor[];
            const expected = refDotAttention(q, k, v, historyOnly, keyMask, prev);
            expect(out.length).toBe(returnAttention ? 3 : 2);
            expect(out[0]!.shape).toEqual([B, Tq, Dv]);
            expectClose(await out[0]!.data(), expected.out, { skipRows: expected.saturated, label: 'output' });
            // The new logits are QK^T/sqrt(d) + prev before any penalty.
            expect(out[1]!.shape).toEqual([B, Tq, Tk]);
            expectClose(await out[1]!.data(), expected.logits, { label: 'new prev' });
            if (returnAttention) expectClose(await out[2]!.data(), expected.att, { skipRows: expected.saturated, label: 'attention' });
          });
        }
      }
    }
  }

  it('chains two layers in a model: the second adds the first one\'s logits', async () => {
    const rng = new Rng(31);
    const x = rng.randn([2, 4, 3]);
    const prev0 = nd([2, 4, 4]);
    const xIn = tf.input({ shape: [4, 3] });
    const pIn = tf.input({ shape: [4, 4] });
    const [h1, p1] = new ResidualScaledDotProductAttention({ historyOnly: true }).apply([xIn, pIn]) as tf.SymbolicTensor[];
    const [h2, p2] = new ResidualScaledDotProductAttention({}).apply([h1!, p1!]) as tf.SymbolicTensor[];
    const model = tf.model({ inputs: [xIn, pIn], outputs: [h2!, p2!] });
    const [o2, l2] = model.predict([t(x), t(prev0)]) as tf.Tensor[];
    const first = refDotAttention(x, x, x, true, undefined, prev0);
    const second = refDotAttention(first.out, first.out, first.out, false, undefined, first.logits);
    expectClose(await o2!.data(), second.out, { label: 'output' });
    expectClose(await l2!.data(), second.logits, { label: 'logits' });
  });

  it('shapes, masks and errors', () => {
    const layer = new ResidualScaledDotProductAttention({ returnAttention: true });
    expect(layer.computeOutputShape([
      [null, 5, 3],
      [null, 6, 3],
      [null, 6, 2],
      [null, 5, 6],
    ])).toEqual([
      [null, 5, 2],
      [null, 5, 6],
      [null, 5, 6],
    ]);
    expect(new ResidualScaledDotProductAttention({}).computeOutputShape([
      [null, 5, 3],
      [null, 5, 5],
    ])).toEqual([
      [null, 5, 3],
      [null, 5, 5],
    ]);
    const m = maskTensor(trailingMask([2], 3));
    expect(new ResidualScaledDotProductAttention({}).computeMask([tf.ones([1, 3, 2]), tf.ones([1, 3, 3])], [m, m])).toEqual([m, null]);
    expect(layer.computeMask([tf.ones([1, 3, 2]), tf.ones([1, 3, 3])], [m, m])).toEqual([m, null, null]);
    expect(() => layer.apply(tf.ones([1, 3, 2]))).toThrow(KerasInteropError);
  });
});

describe('ResidualScaledDotProductAttention config', () => {
  it('round-trips through fromConfig and serializes with the Python keys', async () => {
    const layer = new ResidualScaledDotProductAttention({ name: 'rs', returnAttention: false, historyOnly: true });
    const config = layer.getConfig();
    expect(
      (ResidualScaledDotProductAttention.fromConfig(ResidualScaledDotProductAttention, config) as ResidualScaledDotProductAttention).getConfig(),
    ).toEqual(config);
    const inputs = [tf.input({ shape: [4, 2] }), tf.input({ shape: [4, 4] })];
    const model = tf.model({ inputs, outputs: layer.apply(inputs) as tf.SymbolicTensor[] });
    const json = model.toJSON(undefined, false) as unknown as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
    const saved = json.config.layers.find((l) => l.class_name === 'ResidualScaledDotProductAttention')!.config;
    expect(saved['return_attention']).toBe(false);
    expect(saved['history_only']).toBe(true);
    const reloaded = await tf.models.modelFromJSON(json as unknown as Parameters<typeof tf.models.modelFromJSON>[0]);
    const xs = [tf.randomNormal([2, 4, 2]), tf.randomNormal([2, 4, 4])];
    const [a, b] = [reloaded.predict(xs) as tf.Tensor[], model.predict(xs) as tf.Tensor[]];
    expect(Array.from(await a[1]!.data())).toEqual(Array.from(await b[1]!.data()));
  });
});
