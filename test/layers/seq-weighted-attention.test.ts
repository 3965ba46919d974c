import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/runtime/backend.js';
import { SeqWeightedAttention } from '../../src/layers/index.js';
import { Rng, expectClose, nd, refSeqWeightedAttention, trailingMask } from './attention-reference.js';
import { maskTensor, ndTensor as t } from './attention-tensors.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('SeqWeightedAttention vs the plain-JS reference', () => {
  let seed = 300;
  for (const useBias of [true, false]) {
    for (const masked of [false, true]) {
      for (const returnAttention of [false, true]) {
        const s = seed++;
        it(`use_bias=${useBias} mask=${masked} return_attention=${returnAttention}`, async () => {
          const rng = new Rng(s);
          const [B, T, F] = [3, 6, 4];
          const x = rng.randn([B, T, F]);
          const W = rng.randn([F, 1], 0.5);
          const b = useBias ? rng.randn([1], 0.5) : null;
          const mask = masked ? trailingMask([6, 3, 1], T) : undefined;
          const layer = new SeqWeightedAttention({ name: 'swa', useBias, returnAttention });
          layer.build([null, null, F]);
          expect(layer.weights.map((w) => w.originalName.split('/').pop())).toEqual(useBias ? ['swa_W', 'swa_b'] : ['swa_W']);
          layer.setWeights([t(W), ...(b ? [t(b)] : [])]);
          const out = layer.apply(t(x), mask ? { mask: maskTensor(mask) } : {}) as tf.Tensor | tf.Tensor[];
          const expected = refSeqWeightedAttention(x, W, b, mask);
          expect(Array.isArray(out)).toBe(returnAttention);
          const [v, a] = Array.isArray(out) ? out : [out];
          expect(v!.shape).toEqual([B, F]);
          expectClose(await v!.data(), expected.out, { label: 'output' });
          if (a) {
            expect(a.shape).toEqual([B, T]);
            expectClose(await a.data(), expected.att, { label: 'attention' });
          }
        });
      }
    }
  }

  it('gives zero weight to masked steps and consumes the mask in a model', async () => {
    const rng = new Rng(9);
    const table = rng.randn([6, 3], 0.5);
    const input = tf.input({ shape: [5], dtype: 'int32' });
    const emb = tf.layers.embedding({ inputDim: 6, outputDim: 3, maskZero: true, weights: [t(table)] });
    const layer = new SeqWeightedAttention({ returnAttention: true });
    const outs = layer.apply(emb.apply(input)) as tf.SymbolicTensor[];
    expect(outs.map((o) => o.shape)).toEqual([
      [null, 3],
      [null, 5],
    ]);
    const model = tf.model({ inputs: input, outputs: outs });
    const W = rng.randn([3, 1]);
    const b = rng.randn([1]);
    layer.setWeights([t(W), t(b)]);
    const tokens = [
      [1, 2, 3, 0, 0],
      [5, 0, 0, 0, 0],
    ];
    const [v, a] = model.predict(tf.tensor2d(tokens, undefined, 'int32')) as tf.Tensor[];
    const x = nd([2, 5, 3]);
    tokens.forEach((row, i) => row.forEach((tok, j) => x.data.set(table.data.subarray(tok * 3, tok * 3 + 3), (i * 5 + j) * 3)));
    const expected = refSeqWeightedAttention(x, W, b, tokens.map((r) => r.map((tok) => tok !== 0)));
    expectClose(await v!.data(), expected.out, { label: 'output' });
    expectClose(await a!.data(), expected.att, { label: 'attention' });
    const att = (await a!.array()) as number[][];
    expect(att[1]!.slice(1)).toEqual([0, 0, 0, 0]);
  });

  it('returns no mask, and the Python output shapes', () => {
    const m = maskTensor(trailingMask([2], 3));
    expect(new SeqWeightedAttention({}).computeMask(tf.ones([1, 3, 2]), m)).toBeNull();
    expect(new SeqWeightedAttention({ returnAttention: true }).computeMask(tf.ones([1, 3, 2]), m)).toEqual([null, null]);
    expect(new SeqWeightedAttention({}).computeOutputShape([null, 7, 4])).toEqual([null, 4]);
    expect(new SeqWeightedAttention({ returnAttention: true }).computeOutputShape([null, 7, 4])).toEqual([
      [null, 4],
      [null, 7],
    ]);
  });
});

describe('SeqWeightedAttention config', () => {
  it('round-trips through fromConfig and serializes with the Python keys', async () => {
    const layer = new SeqWeightedAttention({ name: 'w', useBias: false, returnAttention: true });
    const config = layer.getConfig();
    expect((SeqWeightedAttention.fromConfig(SeqWeightedAttention, config) as SeqWeightedAttention).getConfig()).toEqual(config);
    const input = tf.input({ shape: [4, 2] });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor[] });
    const json = model.toJSON(undefined, false) as unknown as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
    const saved = json.config.layers.find((l) => l.class_name === 'SeqWeightedAttention')!.config;
    expect(saved['use_bias']).toBe(false);
    expect(saved['return_attention']).toBe(true);
    const reloaded = await tf.models.modelFromJSON(json as unknown as Parameters<typeof tf.models.modelFromJSON>[0]);
    reloaded.setWeights(model.getWeights());
    const x = tf.randomNormal([2, 4, 2]);
    const [a, b] = [reloaded.predict(x) as tf.Tensor[], model.predict(x) as tf.Tensor[]];
    expect(Array.from(await a[0]!.data())).toEqual(Array.from(await b[0]!.data()));
  });
});
