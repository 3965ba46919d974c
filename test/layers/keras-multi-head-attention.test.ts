import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MultiHeadAttention } from '../../src/layers/keras-multi-head-attention.js';
import { KerasInteropError } from '../../src/errors.js';
import { useBackend } from '../../src/runtime/backend.js';
import { wildFile } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { goldenDir, h5LayerConfig, h5LayerWeights, npyTensor, rng, withinTolerance } from './multi-head-golden-helpers.js';
import { randomArray, seedWeights as seedLayerWeights } from './seeded-values.js';
import { savedInMemory } from '../helpers/tfjs-memory.js';

beforeAll(async () => {
  await useBackend('cpu');
  tf.serialization.registerClass(MultiHeadAttention);
});

// ---------------------------------------------------------------------------------------------
// Plain reference: nested loops in Float64 over Keras's formulas (EinsumDense projections,
// scaled dot product over the attention axes, masked softmax, output projection).
// ---------------------------------------------------------------------------------------------

function combos(shape: number[]): number[][] {
  let out: number[][] = [[]];
  for (const d of shape) {
    const next: number[][] = [];
    for (const prefix of out) for (let i = 0; i < d; i++) next.push([...prefix, i]);
    out = next;
  }
  return out;
}

function flatIndex(shape: number[], idx: number[]): number {
  let f = 0;
  for (let i = 0; i < shape.length; i++) f = f * shape[i] + idx[i];
  return f;
}

interface RefWeights {
  qk: Float32Array;
  qb?: Float32Array;
  kk: Float32Array;
  kb?: Float32Array;
  vk: Float32Array;
  vb?: Float32Array;
  ok: Float32Array;
  ob?: Float32Array;
}

interface RefArgs {
  q: Float32Array;
  qShape: number[];
  v: Float32Array;
  vShape: number[];
  k?: Float32Array;
  kShape?: number[];
  w: RefWeights;
  heads: number;
  keyDim: number;
  valueDim: number;
  outSize: number;
  /** Attention axes as input axes (1 .. rank-2). */
  attnAxes: number[];
  /** Combined mask: may query position qMid attend to key position kMid of batch b? */
  allowed?: (b: number, qMid: number[], kMid: number[]) => boolean;
  fullyMasked: 'uniform' | 'zeros';
}

/** Returns the output (B, ...mid, outSize) and the scores (B, other mids..., heads, q attn..., k attn...). */
function referenceMha(a: RefArgs): { out: Float64Array; scores: Float64Array } {
  const k = a.k ?? a.v;
  const kShape = a.kShape ?? a.vShape;
  const B = a.qShape[0];
  const qMidShape = a.qShape.slice(1, -1);
  const kMidShape = kShape.slice(1, -1);
  const dq = a.qShape[a.qShape.length - 1];
  const dk = kShape[kShape.length - 1];
  const dv = a.vShape[a.vShape.length - 1];
  const N = a.heads;
  const H = a.keyDim;
  const Hv = a.valueDim;
  const project = (x: Float32Array, d: number, pos: number, kernel: Float32Array, bias: Float32Array | undefined, n: number, h: number, width: number) => {
    let s = bias ? bias[n * width + h] : 0;
    for (let i = 0; i < d; i++) s += x[pos * d + i] * kernel[(i * N + n) * width + h];
    return s;
  };
  const qMids = combos(qMidShape);
  const kMids = combos(kMidShape);
  const mids = qMidShape.length;
  const attn = a.attnAxes.map((ax) => ax - 1);
  const other = Array.from({ length: mids }, (_, i) => i).filter((i) => !attn.includes(i));
  const out = new Float64Array(B * qMids.length * a.outSize);
  const scoreShape = [B, ...other.map((i) => qMidShape[i]), N, ...attn.map((i) => qMidShape[i]), ...attn.map((i) => kMidShape[i])];
  const scores = new Float64Array(scoreShape.reduce((x, y) => x * y, 1));
  for (let b = 0; b < B; b++) {
    for (const qm of qMids) {
      const qPos = b * qMids.length + flatIndex(qMidShape, qm);
      const context = new Float64Array(N * Hv);
      for (let n = 0; n < N; n++) {
        const keys = kMids.filter((km) => other.every((i) => km[i] === qm[i]));
        const logits = keys.map((km) => {
          const kPos = b * kMids.length + flatIndex(kMidShape, km);
          let s = 0;
          for (let h = 0; h < H; h++) {
            const qv = project(a.q, dq, qPos, a.w.qk, a.w.qb, n, h, H);
            const kv = project(k, dk, kPos, a.w.kk, a.w.kb, n, h, H);
            s += qv * kv;
          }
          return s / Math.sqrt(H);
        });
        const ok = keys.map((km) => (a.allowed ? a.allowed(b, qm, km) : true));
        let probs: number[];
        if (ok.every((x) => !x)) {
          probs = keys.map(() => (a.fullyMasked === 'uniform' ? 1 / keys.length : 0));
        } else {
          const m = Math.max(...logits.filter((_, i) => ok[i]));
          const e = logits.map((l, i) => (ok[i] ? Math.exp(l - m) : 0));
          const sum = e.reduce((x, y) => x + y, 0);
          probs = e.map((x) => x / sum);
        }
        keys.forEach((km, j) => {
          const sIdx = flatIndex(scoreShape, [b, ...other.map((i) => qm[i]), n, ...attn.map((i) => qm[i]), ...attn.map((i) => km[i])]);
          scores[sIdx] = probs[j];
          const vPos = b * kMids.length + flatIndex(kMidShape, km);
          for (let h = 0; h < Hv; h++) context[n * Hv + h] += probs[j] * project(a.v, dv, vPos, a.w.vk, a.w.vb, n, h, Hv);
        });
      }
      for (let o = 0; o < a.outSize; o++) {
        let s = a.w.ob ? a.w.ob[o] : 0;
        for (let n = 0; n < N; n++) for (let h = 0; h < Hv; h++) s += context[n * Hv + h] * a.w.ok[(n * Hv + h) * a.outSize + o];
        out[qPos * a.outSize + o] = s;
      }
    }
  }
  return { out, scores };
}

/** Seeded weights for a built layer, returned in the reference's layout. */
function seedWeights(layer: MultiHeadAttention, seed: number): RefWeights {
  const values = seedLayerWeights(layer, seed);
  const byName: Record<string, Float32Array> = {};
  layer.weights.forEach((w, i) => {
    byName[w.originalName.split('/').slice(-2).join('/')] = values[i];
  });
  return {
    qk: byName['query/kernel'],
    qb: byName['query/bias'],
    kk: byName['key/kernel'],
    kb: byName['key/bias'],
    vk: byName['value/kernel'],
    vb: byName['value/bias'],
    ok: byName['attention_output/kernel'],
    ob: byName['attention_output/bias'],
  };
}

function data(shape: number[], seed: number): { shape: number[]; values: Float32Array; tensor: tf.Tensor } {
  const values = randomArray(rng(seed), shape.reduce((a, b) => a * b, 1));
  return { shape, values, tensor: tf.tensor(values, shape) };
}

function expectClose(actual: tf.Tensor, expected: Float64Array, shape: number[], atol = 1e-5): void {
  expect(actual.shape).toEqual(shape);
  const a = actual.dataSync();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - expected[i]));
  expect(worst).toBeLessThan(atol);
}

describe('MultiHeadAttention (Keras)', () => {
  it('self-attention matches the reference, with weights in Keras order and shapes', () => {
    const x = data([2, 5, 6], 1);
    const layer = new MultiHeadAttention({ name: 'mha_self', numHeads: 3, keyDim: 4 });
    const out = layer.apply([x.tensor, x.tensor]) as tf.Tensor;
    expect(layer.weights.map((w) => [w.originalName.split('/').slice(-2).join('/'), w.shape])).toEqual([
      ['query/kernel', [6, 3, 4]],
      ['query/bias', [3, 4]],
      ['key/kernel', [6, 3, 4]],
      ['key/bias', [3, 4]],
      ['value/kernel', [6, 3, 4]],
      ['value/bias', [3, 4]],
      ['attention_output/kernel', [3, 4, 6]],
      ['attention_output/bias', [6]],
    ]);
    expect(out.shape).toEqual([2, 5, 6]);
    const w = seedWeights(layer, 11);
    const ref = referenceMha({ q: x.values, qShape: x.shape, v: x.values, vShape: x.shape, w, heads: 3, keyDim: 4, valueDim: 4, outSize: 6, attnAxes: [1], fullyMasked: 'uniform' });
    expectClose(layer.apply([x.tensor, x.tensor]) as tf.Tensor, ref.out, [2, 5, 6]);
    // One input is self-attention too.
    expectClose(layer.apply(x.tensor) as tf.Tensor, ref.out, [2, 5, 6]);
  });

  it('cross-attention with key, value_dim, output_shape, no bias, attention mask and scores', () => {
    const q = data([2, 4, 6], 2);
    const v = data([2, 7, 5], 3);
    const k = data([2, 7, 3], 4);
    const maskValues = new Float32Array(2 * 4 * 7).map((_, i) => ((i * 7) % 5 === 0 ? 0 : 1));
    const mask = tf.tensor(maskValues, [2, 4, 7]);
    const layer = new MultiHeadAttention({ name: 'mha_cross', numHeads: 2, keyDim: 3, valueDim: 5, useBias: false, outputShape: 7 });
    layer.apply([q.tensor, v.tensor, k.tensor, mask], { inputRoles: ['query', 'value', 'key', 'attentionMask'] });
    expect(layer.weights.map((w) => w.shape)).toEqual([[6, 2, 3], [3, 2, 3], [5, 2, 5], [2, 5, 7]]);
    const w = seedWeights(layer, 12);
    const [out, scores] = layer.apply([q.tensor, v.tensor, k.tensor, mask], {
      inputRoles: ['query', 'value', 'key', 'attentionMask'],
      returnAttentionScores: true,
    }) as tf.Tensor[];
    const ref = referenceMha({
      q: q.values, qShape: q.shape, v: v.values, vShape: v.shape, k: k.values, kShape: k.shape, w,
      heads: 2, keyDim: 3, valueDim: 5, outSize: 7, attnAxes: [1],
      allowed: (b, qm, km) => maskValues[(b * 4 + qm[0]) * 7 + km[0]] > 0,
      fullyMasked: 'zeros',
    });
    expectClose(out, ref.out, [2, 4, 7]);
    expectClose(scores, ref.scores, [2, 2, 4, 7]);
    // The roles may come in any order (keyword arguments appended after the positional ones).
    const again = layer.apply([k.tensor, q.tensor, mask, v.tensor], { inputRoles: ['key', 'query', 'attentionMask', 'value'] }) as tf.Tensor;
    expectClose(again, ref.out, [2, 4, 7]);
  });

  it('broadcasts a (T, S) attention mask over batch and heads', () => {
    const q = data([2, 3, 4], 5);
    const v = data([2, 5, 4], 6);
    const maskValues = Float32Array.from([1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0]);
    const layer = new MultiHeadAttention({ name: 'mha_mask2d', numHeads: 2, keyDim: 2, outputShape: [2, 3] });
    layer.apply([q.tensor, v.tensor]);
    const w = seedWeights(layer, 13);
    const out = layer.apply([q.tensor, v.tensor, tf.tensor(maskValues, [3, 5])], { inputRoles: ['query', 'value', 'attentionMask'] }) as tf.Tensor;
    const ref = referenceMha({
      q: q.values, qShape: q.shape, v: v.values, vShape: v.shape, w, heads: 2, keyDim: 2, valueDim: 2, outSize: 6,
      attnAxes: [1], allowed: (_b, qm, km) => maskValues[qm[0] * 5 + km[0]] > 0, fullyMasked: 'uniform',
    });
    expectClose(out, ref.out, [2, 3, 2, 3]);
  });

  it('combines query and value masks with the causal mask; fully masked rows follow the Keras path taken', () => {
    const x = data([2, 5, 4], 7);
    const padding = [
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1],
    ];
    const keep = tf.tensor(padding.flat(), [2, 5], 'bool');
    const layer = new MultiHeadAttention({ name: 'mha_causal', numHeads: 2, keyDim: 3 });
    layer.apply([x.tensor, x.tensor]);
    const w = seedWeights(layer, 14);
    const allowed = (b: number, qm: number[], km: number[]) => padding[b][qm[0]] === 1 && padding[b][km[0]] === 1 && qm[0] >= km[0];
    const base = { q: x.values, qShape: x.shape, v: x.values, vShape: x.shape, w, heads: 2, keyDim: 3, valueDim: 3, outSize: 4, attnAxes: [1], allowed };
    // 3-D inputs, no scores: Keras's fused dot-product path, padded query rows get uniform weights.
    const fused = layer.apply([x.tensor, x.tensor], { mask: [keep, keep], useCausalMask: true }) as tf.Tensor;
    expectClose(fused, referenceMha({ ...base, fullyMasked: 'uniform' }).out, [2, 5, 4]);
    // With scores: the Softmax layer zeroes fully masked rows.
    const [explicit, scores] = layer.apply([x.tensor, x.tensor], { mask: [keep, keep], useCausalMask: true, returnAttentionScores: true }) as tf.Tensor[];
    const ref = referenceMha({ ...base, fullyMasked: 'zeros' });
    expectClose(explicit, ref.out, [2, 5, 4]);
    expectClose(scores, ref.scores, [2, 2, 5, 5]);
    // Output mask is the query's mask.
    // Output masks: the query's mask, and none for the scores.
    const [outMask, scoresMask] = layer.computeMask([x.tensor, x.tensor], [keep, keep]) as tf.Tensor[];
    expect(Array.from(outMask.dataSync())).toEqual(padding.flat());
    expect(scoresMask).toBeNull();
  });

  it('a single mask from tfjs predict() is the query mask, and the value mask when value is the same tensor', () => {
    const x = data([1, 4, 4], 8);
    const keep = tf.tensor([1, 1, 0, 1], [1, 4], 'bool');
    const layer = new MultiHeadAttention({ name: 'mha_single_mask', numHeads: 1, keyDim: 2 });
    layer.apply([x.tensor, x.tensor]);
    const w = seedWeights(layer, 15);
    const out = layer.apply([x.tensor, x.tensor], { mask: keep }) as tf.Tensor;
    const ref = referenceMha({
      q: x.values, qShape: x.shape, v: x.values, vShape: x.shape, w, heads: 1, keyDim: 2, valueDim: 2, outSize: 4,
      attnAxes: [1], allowed: (_b, qm, km) => qm[0] !== 2 && km[0] !== 2, fullyMasked: 'uniform',
    });
    expectClose(out, ref.out, [1, 4, 4]);
  });

  it('attends over two axes of a 4-D input (attention_axes=(1, 2))', () => {
    const x = data([2, 3, 2, 4], 9);
    const layer = new MultiHeadAttention({ name: 'mha_2d', numHeads: 2, keyDim: 2, attentionAxes: [1, 2] });
    layer.apply([x.tensor, x.tensor]);
    const w = seedWeights(layer, 16);
    const [out, scores] = layer.apply([x.tensor, x.tensor], { returnAttentionScores: true }) as tf.Tensor[];
    const ref = referenceMha({ q: x.values, qShape: x.shape, v: x.values, vShape: x.shape, w, heads: 2, keyDim: 2, valueDim: 2, outSize: 4, attnAxes: [1, 2], fullyMasked: 'zeros' });
    expectClose(out, ref.out, [2, 3, 2, 4]);
    expectClose(scores, ref.scores, [2, 2, 3, 2, 3, 2]);
  });

  it('attends over one inner axis of a 4-D input (attention_axes=(2,), also given as -2)', () => {
    const x = data([2, 3, 4, 5], 10);
    const layer = new MultiHeadAttention({ name: 'mha_axis2', numHeads: 2, keyDim: 3, attentionAxes: 2 });
    layer.apply([x.tensor, x.tensor]);
    const w = seedWeights(layer, 17);
    const [out, scores] = layer.apply([x.tensor, x.tensor], { returnAttentionScores: true }) as tf.Tensor[];
    const ref = referenceMha({ q: x.values, qShape: x.shape, v: x.values, vShape: x.shape, w, heads: 2, keyDim: 3, valueDim: 3, outSize: 5, attnAxes: [2], fullyMasked: 'zeros' });
    expectClose(out, ref.out, [2, 3, 4, 5]);
    expectClose(scores, ref.scores, [2, 3, 2, 4, 4]);
    // Keras reads a negative axis as (projected rank - 1) + axis: -2 is axis 2 here.
    const neg = new MultiHeadAttention({ name: 'mha_axis_neg', numHeads: 2, keyDim: 3, attentionAxes: [-2] });
    neg.apply([x.tensor, x.tensor]);
    neg.setWeights(layer.getWeights());
    expectClose(neg.apply([x.tensor, x.tensor]) as tf.Tensor, ref.out, [2, 3, 4, 5]);
  });

  it('sliding_window masks keys farther than window - 1 positions', () => {
    const x = data([1, 6, 4], 18);
    const layer = new MultiHeadAttention({ name: 'mha_window', numHeads: 2, keyDim: 2, slidingWindow: 2 });
    layer.apply([x.tensor, x.tensor]);
    const w = seedWeights(layer, 19);
    const ref = referenceMha({
      q: x.values, qShape: x.shape, v: x.values, vShape: x.shape, w, heads: 2, keyDim: 2, valueDim: 2, outSize: 4,
      attnAxes: [1], allowed: (_b, qm, km) => Math.abs(qm[0] - km[0]) <= 1, fullyMasked: 'uniform',
    });
    expectClose(layer.apply([x.tensor, x.tensor]) as tf.Tensor, ref.out, [1, 6, 4]);
  });

  it('remembers node call arguments for predict(), which passes none', () => {
    const qIn = tf.input({ shape: [3, 4] });
    const vIn = tf.input({ shape: [5, 2] });
    const layer = new MultiHeadAttention({ name: 'mha_graph', numHeads: 2, keyDim: 2 });
    const outs = layer.apply([qIn, vIn], { inputRoles: ['query', 'value'], returnAttentionScores: true, useCausalMask: true }) as tf.SymbolicTensor[];
    expect(outs.map((o) => o.shape)).toEqual([[null, 3, 4], [null, 2, 3, 5]]);
    const model = tf.model({ inputs: [qIn, vIn], outputs: outs });
    const q = data([2, 3, 4], 20);
    const v = data([2, 5, 2], 21);
    const w = seedWeights(layer, 22);
    const [out, scores] = model.predict([q.tensor, v.tensor]) as tf.Tensor[];
    const ref = referenceMha({
      q: q.values, qShape: q.shape, v: v.values, vShape: v.shape, w, heads: 2, keyDim: 2, valueDim: 2, outSize: 4,
      attnAxes: [1], allowed: (_b, qm, km) => qm[0] >= km[0], fullyMasked: 'zeros',
    });
    expectClose(out, ref.out, [2, 3, 4]);
    expectClose(scores, ref.scores, [2, 2, 3, 5]);
  });

  it('getConfig round-trips Keras 3 and tf.keras 2 configs with their own keys', () => {
    const keras3 = {
      name: 'mha', trainable: true, dtype: 'float32', numHeads: 2, keyDim: 4, valueDim: 3, dropout: 0.1, useBias: false, useGate: false,
      outputShape: [7], attentionAxes: [1], slidingWindow: null,
      kernelInitializer: { className: 'GlorotUniform', config: { seed: null, inputAxes: null, outputAxes: null } },
      biasInitializer: { className: 'Zeros', config: {} },
      kernelRegularizer: { className: 'L2', config: { l2: 0.01 } }, biasRegularizer: null, activityRegularizer: null,
      kernelConstraint: null, biasConstraint: null, seed: null,
    };
    const a = MultiHeadAttention.fromConfig(MultiHeadAttention, keras3 as unknown as tf.serialization.ConfigDict) as MultiHeadAttention;
    expect(a.getConfig()).toEqual(keras3);
    const tfk2 = {
      name: 'mha2', trainable: true, dtype: 'float32', numHeads: 4, keyDim: 8, valueDim: 8, dropout: 0.1, useBias: true,
      outputShape: null, attentionAxes: [1],
      kernelInitializer: { className: 'GlorotUniform', config: { seed: null } }, biasInitializer: { className: 'Zeros', config: {} },
      kernelRegularizer: null, biasRegularizer: null, activityRegularizer: null, kernelConstraint: null, biasConstraint: null,
      queryShape: [null, 20, 15], keyShape: [null, 20, 15], valueShape: [null, 20, 15],
    };
    const b = MultiHeadAttention.fromConfig(MultiHeadAttention, tfk2 as unknown as tf.serialization.ConfigDict) as MultiHeadAttention;
    expect(b.getConfig()).toEqual(tfk2);
    const x = tf.zeros([1, 20, 15]);
    b.apply([x, x]);
    expect(b.weights.map((w) => w.shape)).toEqual([[15, 4, 8], [4, 8], [15, 4, 8], [4, 8], [15, 4, 8], [4, 8], [4, 8, 15], [15]]);
  });

  it('rejects what it cannot run with KerasInteropError', () => {
    expect(() => new MultiHeadAttention({ numHeads: 2, keyDim: 2, useGate: true })).toThrow(KerasInteropError);
    expect(() => new MultiHeadAttention({ numHeads: 0, keyDim: 2 })).toThrow(/num_heads/);
    expect(() => new MultiHeadAttention({ numHeads: 2, keyDim: 2, slidingWindow: Number.NaN })).toThrow(/sliding_window must be a positive integer or None, got NaN/);
    expect(() => new MultiHeadAttention({ numHeads: 2, keyDim: 2, slidingWindow: 2.5 })).toThrow(/sliding_window/);
    expect(() => new MultiHeadAttention({ numHeads: 2, keyDim: 2, slidingWindow: 0 })).toThrow(/sliding_window/);
    const layer = new MultiHeadAttention({ numHeads: 2, keyDim: 2 });
    expect(() => layer.apply([tf.zeros([1, 2, 3]), tf.zeros([1, 2, 3])], { inputRoles: ['query', 'nonsense'] })).toThrow(/inputRoles/);
  });
});

describe('MultiHeadAttention (Keras) against golden Keras 3.16 outputs', () => {
  it('kmha_basic: self-attention', async () => {
    const dir = goldenDir('kmha_basic');
    const h5 = join(dir, 'model.h5');
    const { config } = await h5LayerConfig(h5, 'multi_head_attention');
    const layer = MultiHeadAttention.fromConfig(MultiHeadAttention, config as tf.serialization.ConfigDict) as MultiHeadAttention;
    const x = npyTensor(join(dir, 'input_0.npy'));
    layer.apply([x, x]);
    layer.setWeights(await h5LayerWeights(h5, 'multi_head_attention'));
    const out = layer.apply([x, x]) as tf.Tensor;
    expect(withinTolerance(out.dataSync(), npyTensor(join(dir, 'output_0.npy')).dataSync())).toBe(true);
  });

  it('kmha_cross_masked: query, value, key, attention_mask and scores in a graph', async () => {
    const dir = goldenDir('kmha_cross_masked');
    const h5 = join(dir, 'model.h5');
    const { config } = await h5LayerConfig(h5, 'multi_head_attention');
    const layer = MultiHeadAttention.fromConfig(MultiHeadAttention, config as tf.serialization.ConfigDict) as MultiHeadAttention;
    const inputs = [0, 1, 2, 3].map((i) => npyTensor(join(dir, `input_${i}.npy`)));
    const symbolic = inputs.map((t) => tf.input({ shape: t.shape.slice(1) }));
    const outs = layer.apply(symbolic, { inputRoles: ['query', 'value', 'key', 'attentionMask'], returnAttentionScores: true }) as tf.SymbolicTensor[];
    const model = tf.model({ inputs: symbolic, outputs: outs });
    layer.setWeights(await h5LayerWeights(h5, 'multi_head_attention'));
    const [out, scores] = model.predict(inputs) as tf.Tensor[];
    expect(withinTolerance(out.dataSync(), npyTensor(join(dir, 'output_0.npy')).dataSync())).toBe(true);
    expect(withinTolerance(scores.dataSync(), npyTensor(join(dir, 'output_1.npy')).dataSync())).toBe(true);
    // The tf.keras 2 file holds the same weights under Keras 2 names.
    const tf2 = join(dir, 'model.tfkeras2.h5');
    const tf2Config = (await h5LayerConfig(tf2, 'multi_head_attention')).config;
    expect(tf2Config.queryShape).toEqual([null, 5, 6]);
    const weights2 = await h5LayerWeights(tf2, 'multi_head_attention');
    expect(weights2.map((w) => w.shape)).toEqual(layer.weights.map((w) => w.shape));
  });

  it('transformer_block: MHA + Add + LayerNormalization + FFN + pooling + Dense', async () => {
    const dir = goldenDir('transformer_block');
    const h5 = join(dir, 'model.h5');
    const x = npyTensor(join(dir, 'input_0.npy'));
    const input = tf.input({ shape: x.shape.slice(1) });
    const mha = MultiHeadAttention.fromConfig(
      MultiHeadAttention,
      (await h5LayerConfig(h5, 'multi_head_attention')).config as tf.serialization.ConfigDict,
    ) as MultiHeadAttention;
    const epsilon = (await h5LayerConfig(h5, 'layer_normalization')).config.epsilon as number;
    expect(epsilon).toBe(1e-6);
    const ln1 = tf.layers.layerNormalization({ epsilon, name: 'layer_normalization' });
    const ln2 = tf.layers.layerNormalization({ epsilon, name: 'layer_normalization_1' });
    const cfg = async (name: string) => (await h5LayerConfig(h5, name)).config as unknown as Parameters<typeof tf.layers.dense>[0];
    const d0 = tf.layers.dense(await cfg('dense'));
    const d1 = tf.layers.dense(await cfg('dense_1'));
    const d2 = tf.layers.dense(await cfg('dense_2'));
    const a = mha.apply([input, input]) as tf.SymbolicTensor;
    const h = ln1.apply(tf.layers.add().apply([input, a])) as tf.SymbolicTensor;
    const f = d1.apply(d0.apply(h)) as tf.SymbolicTensor;
    const h2 = ln2.apply(tf.layers.add().apply([h, f])) as tf.SymbolicTensor;
    const out = d2.apply(tf.layers.globalAveragePooling1d().apply(h2)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    for (const [layer, name] of [[mha, 'multi_head_attention'], [ln1, 'layer_normalization'], [ln2, 'layer_normalization_1'], [d0, 'dense'], [d1, 'dense_1'], [d2, 'dense_2']] as const) {
      layer.setWeights(await h5LayerWeights(h5, name));
    }
    const y = model.predict(x) as tf.Tensor;
    expect(withinTolerance(y.dataSync(), npyTensor(join(dir, 'output_0.npy')).dataSync())).toBe(true);
  });
});

describe('MultiHeadAttention (Keras) in a saved and reloaded tfjs model', () => {
  it('keeps node call arguments (roles, scores, causal) and weights through tf.loadLayersModel', async () => {
    const q = tf.input({ shape: [3, 4], name: 'q' });
    const v = tf.input({ shape: [5, 2], name: 'v' });
    const layer = new MultiHeadAttention({ name: 'mha_saved', numHeads: 2, keyDim: 3, valueDim: 2, outputShape: [2, 2] });
    const outs = layer.apply([v, q], { inputRoles: ['value', 'query'], returnAttentionScores: true, useCausalMask: true }) as tf.SymbolicTensor[];
    const model = tf.model({ inputs: [q, v], outputs: outs });
    seedWeights(layer, 40);
    const xs = [data([2, 3, 4], 41).tensor, data([2, 5, 2], 42).tensor];
    const before = model.predict(xs) as tf.Tensor[];
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await savedInMemory(model)));
    const after = loaded.predict(xs) as tf.Tensor[];
    expect(after.map((t) => t.shape)).toEqual([[2, 3, 2, 2], [2, 2, 3, 5]]);
    before.forEach((t, i) => expectClose(after[i], Float64Array.from(t.dataSync()), t.shape));
  });
});

describeWild('MultiHeadAttention (Keras) from a real tf.keras 2.10 file', () => {
  it('04_btc_transformer: builds from its config and takes its weights with Keras 2 names in order', async () => {
    const file = wildFile('04_btc_transformer_mha_tfoplambda', 'transformer_BTC.h5');
    const { config } = await h5LayerConfig(file, 'multi_head_attention');
    expect(config).toMatchObject({ numHeads: 4, keyDim: 128, queryShape: [null, 20, 15], dropout: 0.1 });
    const layer = MultiHeadAttention.fromConfig(MultiHeadAttention, config as tf.serialization.ConfigDict) as MultiHeadAttention;
    expect(layer.getConfig()).toEqual(config);
    const x = tf.input({ shape: [20, 15] });
    const out = layer.apply([x, x], { inputRoles: ['query', 'value'] }) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 20, 15]);
    const weights = await h5LayerWeights(file, 'multi_head_attention');
    expect(layer.weights.map((w) => w.originalName.replace(/^.*?\/(?=(query|key|value|attention_output)\/)/, ''))).toEqual([
      'query/kernel', 'query/bias', 'key/kernel', 'key/bias', 'value/kernel', 'value/bias', 'attention_output/kernel', 'attention_output/bias',
    ]);
    layer.setWeights(weights);
    const y = layer.apply([tf.ones([1, 20, 15]), tf.ones([1, 20, 15])]) as tf.Tensor;
    expect(y.shape).toEqual([1, 20, 15]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
  });
});
