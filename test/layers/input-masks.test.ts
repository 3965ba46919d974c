/**
 * Masks of the later inputs of attention layers called on several tensors. Keras hands such a layer one
 * mask per input; tfjs's predict hands it only the first input's. An input that comes straight from
 * `Embedding(mask_zero=True)` carries its mask on the tensor, so the layer still gets the list Keras
 * gives it. Each case runs a model through tfjs's predict, with an unmasked query and a masked key or
 * value, and holds it to the layer called directly with the explicit mask list (the form Python's code
 * takes), which must differ from the unmasked result (the mask matters).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MultiHeadAttention } from '../../src/layers/keras-multi-head-attention.js';
import { KmhMultiHeadAttention } from '../../src/layers/multi-head-attention.js';
import { ResidualScaledDotProductAttention } from '../../src/layers/residual-scaled-dot-product-attention.js';
import { ScaledDotProductAttention } from '../../src/layers/scaled-dot-product-attention.js';
import { Attention } from '../../src/layers/attention.js';
import { useBackend } from '../../src/runtime/backend.js';
import { predict } from '../../src/runtime/build.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const D = 4;
const queryTokens = [[3, 1, 4, 2, 5], [2, 6, 1, 1, 3]];
const keyTokens = [[5, 2, 0, 0, 0], [1, 6, 7, 3, 0]];

function embedding(maskZero: boolean, seed: number): tf.layers.Layer {
  return tf.layers.embedding({ inputDim: 8, outputDim: D, maskZero, embeddingsInitializer: tf.initializers.randomNormal({ seed }) });
}

/** Seeded weights, so that every run compares the same numbers. */
function seeded(layer: tf.layers.Layer, seed: number): void {
  layer.setWeights(layer.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', seed + i)));
}

interface Case {
  name: string;
  layer: () => tf.layers.Layer;
  /** The layer's inputs from the query q, the masked key k and the extra model inputs. */
  inputs: (q: tf.SymbolicTensor, k: tf.SymbolicTensor, extra: tf.SymbolicTensor[]) => tf.SymbolicTensor[];
  /** Extra model inputs (float, given as zeros-free values). */
  extra?: number[][];
  /** Which of the layer's inputs are the masked key (their mask goes in the explicit list). */
  masked: number[];
}

const CASES: Case[] = [
  {
    name: 'keras-self-attention ScaledDotProductAttention [q, k, v]: the key mask',
    layer: () => new ScaledDotProductAttention({ name: 'sdpa' }),
    inputs: (q, k) => [q, k, k],
    masked: [1, 2],
  },
  {
    name: 'keras-self-attention ResidualScaledDotProductAttention [q, k, v, prev]: the key mask',
    layer: () => new ResidualScaledDotProductAttention({ name: 'rsdpa' }),
    inputs: (q, k, [prev]) => [q, k, k, prev],
    extra: [[5, 5]],
    masked: [1, 2],
  },
  {
    name: 'keras-multi-head MultiHeadAttention [q, k, v]: the key mask',
    layer: () => new KmhMultiHeadAttention({ name: 'kmh', headNum: 2 }),
    inputs: (q, k) => [q, k, k],
    masked: [1, 2],
  },
  {
    name: 'Keras MultiHeadAttention [query, value]: the value mask',
    layer: () => new MultiHeadAttention({ name: 'mha', numHeads: 2, keyDim: 3 }),
    inputs: (q, k) => [q, k],
    masked: [1],
  },
];

describe('attention layers get the masks of their later inputs through predict', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const qIn = tf.input({ shape: [5], dtype: 'int32' });
      const kIn = tf.input({ shape: [5], dtype: 'int32' });
      const extraIn = (c.extra ?? []).map((shape) => tf.input({ shape }));
      const qEmb = embedding(false, 1);
      const kEmb = embedding(true, 2);
      const layer = c.layer();
      const symbolic = c.inputs(qEmb.apply(qIn) as tf.SymbolicTensor, kEmb.apply(kIn) as tf.SymbolicTensor, extraIn);
      const out = layer.apply(symbolic) as tf.SymbolicTensor | tf.SymbolicTensor[];
      const model = tf.model({ inputs: [qIn, kIn, ...extraIn], outputs: Array.isArray(out) ? out[0] : out });
      seeded(layer, 100);

      const qTok = tf.tensor2d(queryTokens, undefined, 'int32');
      const kTok = tf.tensor2d(keyTokens, undefined, 'int32');
      const extra = (c.extra ?? []).map((shape, i) => tf.randomNormal([2, ...shape], 0, 1, 'float32', 10 + i));
      const got = model.predict([qTok, kTok, ...extra]) as tf.Tensor;

      // The same layer called directly, with the list of masks Keras passes.
      // (clones: a tensor Embedding made carries its mask, which these calls must not see)
      const q = (qEmb.apply(qTok) as tf.Tensor).clone();
      const k = (kEmb.apply(kTok) as tf.Tensor).clone();
      const concrete = c.inputs(q as unknown as tf.SymbolicTensor, k as unknown as tf.SymbolicTensor, extra as unknown as tf.SymbolicTensor[]) as unknown as tf.Tensor[];
      const keyMask = tf.notEqual(kTok, 0);
      const masks = concrete.map((_, i) => (c.masked.includes(i) ? keyMask : null));
      const first = (r: tf.Tensor | tf.Tensor[]) => (Array.isArray(r) ? r[0] : r);
      const want = first(layer.apply(concrete, { mask: masks }) as tf.Tensor | tf.Tensor[]);
      const unmasked = first(layer.apply(concrete) as tf.Tensor | tf.Tensor[]);

      expect(got.shape).toEqual(want.shape);
      const worst = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      expect(worst(got, want)).toBeLessThanOrEqual(1e-6);
      expect(worst(want, unmasked)).toBeGreaterThan(1e-3);
    });
  }
});

describe('the runtime tags every tensor with its mask, so a mask passed on by other layers reaches a later input', () => {
  it('Attention([query, LSTM(Embedding(mask_zero))]): the value mask the LSTM passed on', () => {
    const qIn = tf.input({ shape: [5], dtype: 'int32' });
    const kIn = tf.input({ shape: [5], dtype: 'int32' });
    const qEmb = embedding(false, 3);
    const kEmb = embedding(true, 4);
    const lstm = tf.layers.lstm({ units: D, returnSequences: true });
    const attention = new Attention({ name: 'attention' });
    const value = lstm.apply(kEmb.apply(kIn)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [qIn, kIn], outputs: attention.apply([qEmb.apply(qIn) as tf.SymbolicTensor, value]) as tf.SymbolicTensor });
    seeded(lstm, 20);

    const ints = (rows: number[][]) => ({ dtype: 'int32', shape: [rows.length, rows[0].length], data: Int32Array.from(rows.flat()) });
    const [got] = predict(model, [ints(queryTokens), ints(keyTokens)]);

    const kTok = tf.tensor2d(keyTokens, undefined, 'int32');
    const keyMask = tf.notEqual(kTok, 0);
    const q = (qEmb.apply(tf.tensor2d(queryTokens, undefined, 'int32')) as tf.Tensor).clone();
    const v = lstm.apply(kEmb.apply(kTok), { mask: keyMask }) as tf.Tensor;
    const want = attention.apply([q, v.clone()], { mask: [null, keyMask] }) as tf.Tensor;
    const unmasked = attention.apply([q, v.clone()]) as tf.Tensor;
    const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
    expect(got.shape).toEqual(want.shape);
    expect(worst(got.data as Float32Array, want.dataSync())).toBeLessThanOrEqual(1e-6);
    expect(worst(want.dataSync(), unmasked.dataSync())).toBeGreaterThan(1e-3);
  });
});

describe("a layer whose inputs carry no mask gets none (tfjs's executor hands it the previous layer's)", () => {
  it('Embedding(mask_zero) -> LSTM -> RepeatVector -> LSTM: the second LSTM runs unmasked', () => {
    const tokensIn = tf.input({ shape: [5], dtype: 'int32' });
    const emb = embedding(true, 6);
    const encoder = tf.layers.lstm({ units: 3 });
    const repeat = tf.layers.repeatVector({ n: 5 });
    const decoder = tf.layers.lstm({ units: 2, returnSequences: true });
    const repeated = repeat.apply(encoder.apply(emb.apply(tokensIn))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: tokensIn, outputs: decoder.apply(repeated) as tf.SymbolicTensor });
    seeded(encoder, 30);
    seeded(decoder, 40);

    const [got] = predict(model, [{ dtype: 'int32', shape: [2, 5], data: Int32Array.from(keyTokens.flat()) }]);
    const upTo = tf.model({ inputs: tokensIn, outputs: repeated }).predict(tf.tensor2d(keyTokens, undefined, 'int32')) as tf.Tensor;
    const want = decoder.apply(upTo.clone()) as tf.Tensor;
    const stale = decoder.apply(upTo.clone(), { mask: tf.notEqual(tf.tensor2d(keyTokens, undefined, 'int32'), 0) }) as tf.Tensor;
    const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
    expect(worst(got.data as Float32Array, want.dataSync())).toBeLessThanOrEqual(1e-6);
    expect(worst(want.dataSync(), stale.dataSync())).toBeGreaterThan(1e-4);
  });
});

describe('maskOfInput (exported by keras-interop/layers for layers of your own)', () => {
  it("reads a list per input, else the first input's mask for it and its very tensor, else the tensor's kerasMask", async () => {
    const { maskOfInput } = await import('../../src/layers/index.js');
    const a = tf.ones([1, 2]);
    const b = tf.ones([1, 2]);
    const [ma, mb] = [tf.tensor2d([[1, 0]], undefined, 'bool'), tf.tensor2d([[0, 1]], undefined, 'bool')];
    expect(maskOfInput([a, b], 1, [ma, mb])).toBe(mb);
    expect(maskOfInput([a, b], 1, [ma])).toBeNull();
    expect(maskOfInput([a, a], 1, ma)).toBe(ma);
    expect(maskOfInput([a, b], 0, ma)).toBe(ma);
    expect(maskOfInput([a, b], 1, ma)).toBeNull();
    b.kerasMask = mb;
    expect(maskOfInput([a, b], 1, ma)).toBe(mb);
    expect(maskOfInput([a, b], 1, null)).toBe(mb);
  });
});
