import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { KmhMultiHeadAttention } from '../../src/layers/multi-head-attention.js';
import { KerasInteropError } from '../../src/errors.js';
import { useBackend } from '../../src/runtime/backend.js';
import { goldenDir, h5LayerConfig, h5LayerWeights, npyTensor, rng, withinTolerance } from './multi-head-golden-helpers.js';
import { randomArray, seedWeights as seedLayerWeights } from './seeded-values.js';

beforeAll(async () => {
  await useBackend('cpu');
  tf.serialization.registerClass(KmhMultiHeadAttention);
});

interface Seq {
  shape: [number, number, number];
  values: Float32Array;
  tensor: tf.Tensor;
}

function seq(shape: [number, number, number], seed: number): Seq {
  const values = randomArray(rng(seed), shape[0] * shape[1] * shape[2]);
  return { shape, values, tensor: tf.tensor(values, shape) };
}

type Act = (x: number) => number;
const relu: Act = (x) => Math.max(0, x);
const linear: Act = (x) => x;

/**
 * Plain keras-multi-head MultiHeadAttention in Float64: projections (+bias, activation), per head
 * scores q·k/√d minus 10000 for masked keys and (history_only) future keys, softmax, values, Wo.
 */
function reference(args: {
  q: Seq;
  k: Seq;
  v: Seq;
  w: Float32Array[];
  useBias: boolean;
  heads: number;
  act: Act;
  keyMask?: number[][];
  historyOnly?: boolean;
}): Float64Array {
  const { q, k, v, heads, act } = args;
  const [B, Lq, Dq] = q.shape;
  const Lk = k.shape[1];
  const Dk = k.shape[2];
  const F = v.shape[2];
  const d = F / heads;
  const [Wq, bq, Wk, bk, Wv, bv, Wo, bo] = args.useBias
    ? args.w
    : [args.w[0], undefined, args.w[1], undefined, args.w[2], undefined, args.w[3], undefined];
  const proj = (x: Seq, W: Float32Array, b: Float32Array | undefined, D: number) => {
    const [bb, L] = x.shape;
    const out = new Float64Array(bb * L * F);
    for (let i = 0; i < bb * L; i++) {
      for (let f = 0; f < F; f++) {
        let s = b ? b[f] : 0;
        for (let j = 0; j < D; j++) s += x.values[i * D + j] * W[j * F + f];
        out[i * F + f] = act(s);
      }
    }
    return out;
  };
  const Q = proj(q, Wq, bq, Dq);
  const K = proj(k, Wk, bk, Dk);
  const V = proj(v, Wv, bv, F);
  const out = new Float64Array(B * Lq * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < Lq; t++) {
      const concat = new Float64Array(F);
      for (let h = 0; h < heads; h++) {
        const e: number[] = [];
        for (let s = 0; s < Lk; s++) {
          let dot = 0;
          for (let i = 0; i < d; i++) dot += Q[(b * Lq + t) * F + h * d + i] * K[(b * Lk + s) * F + h * d + i];
          let val = dot / Math.sqrt(d);
          if (args.historyOnly && s > t) val -= 10000;
          if (args.keyMask) val -= 10000 * (1 - args.keyMask[b][s]);
          e.push(val);
        }
        const m = Math.max(...e);
        const ex = e.map((x) => Math.exp(x - m));
        const sum = ex.reduce((x, y) => x + y, 0);
        for (let s = 0; s < Lk; s++) {
          for (let i = 0; i < d; i++) concat[h * d + i] += (ex[s] / sum) * V[(b * Lk + s) * F + h * d + i];
        }
      }
      for (let f = 0; f < F; f++) {
        let s = bo ? bo[f] : 0;
        for (let j = 0; j < F; j++) s += concat[j] * Wo[j * F + f];
        out[(b * Lq + t) * F + f] = act(s);
      }
    }
  }
  return out;
}

function seedWeights(layer: KmhMultiHeadAttention, seed: number): Float32Array[] {
  return seedLayerWeights(layer, seed, 0.7);
}

function expectClose(actual: tf.Tensor, expected: Float64Array, shape: number[]): void {
  expect(actual.shape).toEqual(shape);
  const a = actual.dataSync();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - expected[i]));
  expect(worst).toBeLessThan(2e-5);
}

describe('KmhMultiHeadAttention (keras-multi-head MultiHeadAttention)', () => {
  it('self-attention: weights Wq, bq, Wk, bk, Wv, bv, Wo, bo with Python names, relu by default', () => {
    const x = seq([2, 4, 6], 1);
    const layer = new KmhMultiHeadAttention({ name: 'Multi-Head', headNum: 3 });
    layer.apply(x.tensor);
    expect(layer.weights.map((w) => [w.originalName, w.shape])).toEqual([
      ['Multi-Head/Multi-Head_Wq', [6, 6]],
      ['Multi-Head/Multi-Head_bq', [6]],
      ['Multi-Head/Multi-Head_Wk', [6, 6]],
      ['Multi-Head/Multi-Head_bk', [6]],
      ['Multi-Head/Multi-Head_Wv', [6, 6]],
      ['Multi-Head/Multi-Head_bv', [6]],
      ['Multi-Head/Multi-Head_Wo', [6, 6]],
      ['Multi-Head/Multi-Head_bo', [6]],
    ]);
    const w = seedWeights(layer, 2);
    const expected = reference({ q: x, k: x, v: x, w, useBias: true, heads: 3, act: relu });
    expectClose(layer.apply(x.tensor) as tf.Tensor, expected, [2, 4, 6]);
  });

  it('[query, key, value] of different lengths and widths, no bias, linear activation', () => {
    const q = seq([2, 3, 5], 3);
    const k = seq([2, 6, 4], 4);
    const v = seq([2, 6, 8], 5);
    const layer = new KmhMultiHeadAttention({ name: 'mha_qkv', headNum: 2, useBias: false, activation: 'linear' });
    const out = layer.apply([q.tensor, k.tensor, v.tensor]) as tf.Tensor;
    expect(out.shape).toEqual([2, 3, 8]);
    expect(layer.weights.map((w) => w.shape)).toEqual([[5, 8], [4, 8], [8, 8], [8, 8]]);
    const w = seedWeights(layer, 6);
    const expected = reference({ q, k, v, w, useBias: false, heads: 2, act: linear });
    expectClose(layer.apply([q.tensor, k.tensor, v.tensor]) as tf.Tensor, expected, [2, 3, 8]);
    expect(layer.computeOutputShape([[null, 3, 5], [null, 6, 4], [null, 6, 8]])).toEqual([null, 3, 8]);
  });

  it('history_only masks future keys', () => {
    const x = seq([2, 5, 4], 7);
    const layer = new KmhMultiHeadAttention({ name: 'mha_hist', headNum: 2, historyOnly: true });
    layer.apply(x.tensor);
    const w = seedWeights(layer, 8);
    const expected = reference({ q: x, k: x, v: x, w, useBias: true, heads: 2, act: relu, historyOnly: true });
    expectClose(layer.apply(x.tensor) as tf.Tensor, expected, [2, 5, 4]);
  });

  it('masks keys with the key mask (mask[1] of a list, or the one mask of a single input)', () => {
    const q = seq([2, 3, 4], 9);
    const k = seq([2, 5, 4], 10);
    const v = seq([2, 5, 4], 11);
    const keyMask = [
      [1, 1, 0, 1, 0],
      [1, 0, 0, 0, 0],
    ];
    const layer = new KmhMultiHeadAttention({ name: 'mha_mask', headNum: 2, activation: 'tanh' });
    layer.apply([q.tensor, k.tensor, v.tensor]);
    const w = seedWeights(layer, 12);
    const mask = tf.tensor(keyMask.flat(), [2, 5], 'bool');
    const out = layer.apply([q.tensor, k.tensor, v.tensor], { mask: [null, mask, mask] }) as tf.Tensor;
    expectClose(out, reference({ q, k, v, w, useBias: true, heads: 2, act: Math.tanh, keyMask }), [2, 3, 4]);
    // Output mask is the query's.
    const qMask = tf.tensor([1, 1, 0, 1, 1, 1], [2, 3], 'bool');
    expect(Array.from((layer.computeMask([q.tensor, k.tensor, v.tensor], [qMask, mask, mask]) as tf.Tensor).dataSync())).toEqual([1, 1, 0, 1, 1, 1]);

    const self = new KmhMultiHeadAttention({ name: 'mha_self_mask', headNum: 2, historyOnly: true });
    self.apply(k.tensor);
    const ws = seedWeights(self, 13);
    const selfOut = self.apply(k.tensor, { mask }) as tf.Tensor;
    expectClose(selfOut, reference({ q: k, k, v: k, w: ws, useBias: true, heads: 2, act: relu, keyMask, historyOnly: true }), [2, 5, 4]);
  });

  it("activation 'hard_sigmoid' is Keras 3's relu6(x + 3) / 6, not tfjs's (Keras 2's) clip(0.2 x + 0.5, 0, 1)", () => {
    const x = seq([2, 4, 6], 14);
    const keras3: Act = (v) => Math.min(6, Math.max(0, v + 3)) / 6;
    const keras2: Act = (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5));
    for (const activation of ['hard_sigmoid', 'hardSigmoid']) {
      const layer = new KmhMultiHeadAttention({ name: `mha_hard_sigmoid_${activation}`, headNum: 2, activation });
      layer.apply(x.tensor);
      const w = seedWeights(layer, 15);
      const out = layer.apply(x.tensor) as tf.Tensor;
      expectClose(out, reference({ q: x, k: x, v: x, w, useBias: true, heads: 2, act: keras3 }), [2, 4, 6]);
      // The two formulas give outputs far apart here, so the check above tells them apart.
      const old = reference({ q: x, k: x, v: x, w, useBias: true, heads: 2, act: keras2 });
      const got = out.dataSync();
      expect(Math.max(...Array.from(got, (g, i) => Math.abs(g - old[i])))).toBeGreaterThan(1e-2);
      expect(layer.getConfig()['activation']).toBe(activation);
    }
  });

  it('getConfig round-trips the Python keys', () => {
    const config = {
      name: 'multi_head_attention', trainable: true, dtype: 'float32', headNum: 3, activation: 'relu', useBias: true,
      kernelInitializer: { className: 'GlorotNormal', config: { seed: null, inputAxes: null, outputAxes: null } },
      biasInitializer: { className: 'Zeros', config: {} },
      kernelRegularizer: { className: 'L2', config: { l2: 0.01 } }, biasRegularizer: null,
      kernelConstraint: { className: 'MaxNorm', config: { maxValue: 2, axis: 0 } }, biasConstraint: null, historyOnly: true,
    };
    const layer = KmhMultiHeadAttention.fromConfig(KmhMultiHeadAttention, config as unknown as tf.serialization.ConfigDict) as KmhMultiHeadAttention;
    expect(layer.getConfig()).toEqual(config);
    layer.apply(tf.zeros([1, 2, 6]));
    expect(layer.weights).toHaveLength(8);
    const again = KmhMultiHeadAttention.fromConfig(KmhMultiHeadAttention, layer.getConfig()) as KmhMultiHeadAttention;
    expect(again.getConfig()).toEqual(config);
  });

  it('rejects a head number that does not divide the value width', () => {
    const layer = new KmhMultiHeadAttention({ name: 'bad', headNum: 4 });
    expect(() => layer.apply(tf.zeros([1, 2, 6]))).toThrow(KerasInteropError);
    expect(() => new KmhMultiHeadAttention({ headNum: 0 })).toThrow(/head_num/);
  });
});

describe('KmhMultiHeadAttention against golden Keras 3.16 outputs', () => {
  it('mha_qkv: three inputs', async () => {
    const dir = goldenDir('mha_qkv');
    const h5 = join(dir, 'model.h5');
    const { config } = await h5LayerConfig(h5, 'multi_head_attention');
    expect(config.headNum).toBe(3);
    const layer = KmhMultiHeadAttention.fromConfig(KmhMultiHeadAttention, config as tf.serialization.ConfigDict) as KmhMultiHeadAttention;
    const inputs = [0, 1, 2].map((i) => npyTensor(join(dir, `input_${i}.npy`)));
    const symbolic = inputs.map((t) => tf.input({ shape: t.shape.slice(1) }));
    const model = tf.model({ inputs: symbolic, outputs: layer.apply(symbolic) as tf.SymbolicTensor });
    layer.setWeights(await h5LayerWeights(h5, 'multi_head_attention'));
    const out = model.predict(inputs) as tf.Tensor;
    expect(withinTolerance(out.dataSync(), npyTensor(join(dir, 'output_0.npy')).dataSync())).toBe(true);
    // Same values under the tf.keras 2 names.
    const tf2 = await h5LayerWeights(join(dir, 'model.tfkeras2.h5'), 'multi_head_attention');
    layer.setWeights(tf2);
    const out2 = model.predict(inputs) as tf.Tensor;
    expect(withinTolerance(out2.dataSync(), npyTensor(join(dir, 'output_0.npy')).dataSync())).toBe(true);
  });

  it('mha_self: self-attention followed by Dense', async () => {
    const dir = goldenDir('mha_self');
    const h5 = join(dir, 'model.h5');
    const layer = KmhMultiHeadAttention.fromConfig(
      KmhMultiHeadAttention,
      (await h5LayerConfig(h5, 'multi_head_attention')).config as tf.serialization.ConfigDict,
    ) as KmhMultiHeadAttention;
    const dense = tf.layers.dense((await h5LayerConfig(h5, 'dense')).config as unknown as Parameters<typeof tf.layers.dense>[0]);
    const x = npyTensor(join(dir, 'input_0.npy'));
    const input = tf.input({ shape: x.shape.slice(1) });
    const model = tf.model({ inputs: input, outputs: dense.apply(layer.apply(input)) as tf.SymbolicTensor });
    layer.setWeights(await h5LayerWeights(h5, 'multi_head_attention'));
    dense.setWeights(await h5LayerWeights(h5, 'dense'));
    const out = model.predict(x) as tf.Tensor;
    expect(withinTolerance(out.dataSync(), npyTensor(join(dir, 'output_0.npy')).dataSync())).toBe(true);
  });
});
