/**
 * Attention taps: the weights tapped from a model that does not return them are the weights Python's
 * Keras returned (golden cases whose model returns its attention), the weights each layer returns when
 * asked (every class with a return option), and, for keras-multi-head's MultiHeadAttention, which has
 * none, the weights of its formula computed here in plain arithmetic from the file's own weights.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { MultiHead, MultiHeadAttention, ResidualScaledDotProductAttention, ScaledDotProductAttention, SeqSelfAttention, SeqWeightedAttention } from '../../src/layers/index.js';
import { type JsonObject, type KerasModel, weightValues } from '../../src/model/types.js';
import { compareArrays } from '../../src/parity/compare.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { readModel } from '../../src/readers/index.js';
import { type AttentionMap, attentionHeatmap, withAttentionTaps } from '../../src/runtime/attention-taps.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel, predict } from '../../src/runtime/build.js';
import { mulberry32 } from '../../fuzz/lib/rng.js';
import { GOLDEN } from '../helpers/paths.js';

beforeAll(async () => {
  await useBackend('cpu');
});

function random(shape: number[], seed: number): tf.Tensor {
  const next = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => next() * 2 - 1), shape);
}

async function tapped<T>(fn: () => T): Promise<{ result: T; maps: AttentionMap[] }> {
  return withAttentionTaps(fn);
}

describe('taps against golden models that return their attention (Python computed these numbers)', () => {
  // case, layer, index of the attention among the model's outputs
  const cases: [string, string, number][] = [
    ['sa_return_attention', 'seq_self_attention', 1],
    ['sdpa_qkv', 'scaled_dot_product_attention', 1],
    ['kmha_cross_masked', 'multi_head_attention', 1],
    // Keras's own Attention and kulc's ScaledDotProductAttention, as they landed.
    ['keras_attention_scaled_kv', 'attention', 1],
    ['kulc_sdpa_return_attention', 'scaled_dot_product_attention_1', 1],
  ];
  for (const [name, layer, output] of cases) {
    for (const file of ['model.h5', 'model.keras']) {
      it(`${name}/${file}: the tapped ${layer} weights are the golden attention`, async () => {
        const kase = readGoldenCase(join(GOLDEN, name));
        const tfModel = await buildModel(await readModel(join(kase.dir, file)), { backend: 'cpu' });
        try {
          const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
          const { result, maps } = await tapped(() => predict(tfModel, inputs));
          // One map, of the attention layer (kulc's .keras names it without the _1 its .h5 has).
          expect(maps.map((m) => m.layer.replace(/_1$/, ''))).toEqual([layer.replace(/_1$/, '')]);
          const golden = readNpyFileSync(kase.outputs[output].path);
          expect(maps[0].shape).toEqual(golden.shape);
          const report = compareArrays({ shape: maps[0].shape, data: maps[0].data }, golden, kase.tolerance, layer);
          expect(report.mismatches, JSON.stringify(report)).toBe(0);
          expect(report.pass).toBe(true);
          // The very numbers the model returns.
          expect(Array.from(maps[0].data)).toEqual(Array.from(result[output].data));
        } finally {
          tfModel.dispose();
        }
      });
    }
  }
});

describe('taps equal what each layer returns when asked', () => {
  const mask = tf.tensor2d([
    [1, 1, 1, 1, 0],
    [1, 1, 1, 0, 0],
  ]);
  const x = random([2, 5, 6], 1);

  async function expectTapIsReturned(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>, attentionIndex: number, view: number[]) {
    const { result, maps } = await tapped(() => layer.apply(inputs, kwargs) as tf.Tensor[]);
    expect(maps).toHaveLength(1);
    expect(maps[0].layer).toBe(layer.name);
    expect(maps[0].view).toEqual(view);
    const returned = result[attentionIndex];
    expect(maps[0].shape).toEqual(returned.shape);
    expect(Array.from(maps[0].data)).toEqual(Array.from(await returned.data()));
  }

  for (const attentionType of ['additive', 'multiplicative'] as const) {
    it(`SeqSelfAttention (${attentionType}, local window, masked)`, async () => {
      const layer = new SeqSelfAttention({ name: `ssa_${attentionType}`, attentionType, attentionWidth: 3, returnAttention: true, units: 4 });
      await expectTapIsReturned(layer, x, { mask }, 1, [2, 1, 5, 5]);
    });
  }

  it('ScaledDotProductAttention on [query, key, value], history only, key mask', async () => {
    const layer = new ScaledDotProductAttention({ name: 'sdpa', returnAttention: true, historyOnly: true });
    const q = random([2, 4, 6], 2);
    const kv = random([2, 5, 6], 3);
    await expectTapIsReturned(layer, [q, kv, kv], { mask: [null, mask, mask] }, 1, [2, 1, 4, 5]);
  });

  it('ResidualScaledDotProductAttention on [x, prev]', async () => {
    const layer = new ResidualScaledDotProductAttention({ name: 'rsdpa', returnAttention: true, historyOnly: true });
    await expectTapIsReturned(layer, [x, random([2, 5, 5], 4)], { mask: [mask, null] }, 2, [2, 1, 5, 5]);
  });

  it('SeqWeightedAttention (one query per sample)', async () => {
    const layer = new SeqWeightedAttention({ name: 'swa', returnAttention: true });
    await expectTapIsReturned(layer, x, { mask }, 1, [2, 1, 1, 5]);
  });

  it("Keras MultiHeadAttention, 3 heads, and over two attention axes (Keras's return_attention_scores layout)", async () => {
    const self = new MultiHeadAttention({ name: 'kmha', numHeads: 3, keyDim: 2 });
    await expectTapIsReturned(self, [x, x], { returnAttentionScores: true }, 1, [2, 3, 5, 5]);
    const grid = random([2, 3, 4, 5], 5);
    const axes = new MultiHeadAttention({ name: 'kmha_2d', numHeads: 2, keyDim: 2, attentionAxes: [1, 2] });
    // Scores (batch, heads, 3, 4, 3, 4): each head's 12 x 12 map.
    await expectTapIsReturned(axes, [grid, grid], { returnAttentionScores: true }, 1, [2, 2, 12, 12]);
  });

  it('MultiHead of attention layers: each sub-layer is a head of the wrapper', async () => {
    const heads = [
      { className: 'SeqSelfAttention', config: { name: 'att_a', attention_type: 'multiplicative' } },
      { className: 'SeqSelfAttention', config: { name: 'att_b', units: 3 } },
    ];
    const layer = new MultiHead({ name: 'mh', layers: heads as never });
    const { result, maps } = await tapped(() => layer.apply(x) as tf.Tensor);
    expect(result.shape).toEqual([2, 5, 6, 2]);
    expect(maps.map((m) => [m.layer, m.className, m.view])).toEqual([['mh', 'MultiHead', [2, 2, 5, 5]]]);
    for (const [i, sub] of layer.layers.entries()) {
      const alone = new SeqSelfAttention({ ...(sub as SeqSelfAttention).getConfig(), name: `alone_${i}`, returnAttention: true } as never);
      alone.apply(x);
      alone.setWeights(sub.getWeights());
      const [, att] = alone.apply(x) as tf.Tensor[];
      const values = await att.data();
      for (let b = 0; b < 2; b++) expect(Array.from(attentionHeatmap(maps[0], b, i).values)).toEqual(Array.from(values.subarray(b * 25, (b + 1) * 25)));
    }
  });

  it('taps keep nothing when off, and free what they kept', async () => {
    const layer = new SeqSelfAttention({ name: 'ssa_off' });
    layer.apply(x);
    const before = tf.memory().numTensors;
    tf.dispose(layer.apply(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    const { result } = await tapped(() => layer.apply(x) as tf.Tensor);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("kulc's attention RNN wrappers: AttentionRNNWrapper (no return option) is ExternalAttentionRNNWrapper on [x, x]", () => {
  it('kulc_attention_rnn_wrapper_lstm: the tapped (batch, steps, steps) weights are what the external wrapper returns, and taps', async () => {
    const kase = readGoldenCase(join(GOLDEN, 'kulc_attention_rnn_wrapper_lstm'));
    const model = await readModel(join(kase.dir, 'model.h5'));
    const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
    const tapOf = async (m: KerasModel) => {
      const tfModel = await buildModel(m, { backend: 'cpu' });
      try {
        return await tapped(() => predict(tfModel, inputs));
      } finally {
        tfModel.dispose();
      }
    };
    const plain = await tapOf(model);
    expect(plain.maps.map((m) => [m.layer, m.className, m.shape])).toEqual([['attention_rnn_wrapper_1', 'AttentionRNNWrapper', [3, 6, 6]]]);
    // The same weights as the external wrapper with return_attention, fed [x, x]: its 4th output is the attention.
    const config = structuredClone(model.config!) as JsonObject;
    const inner = config.config as JsonObject;
    const wrapper = (inner.layers as JsonObject[]).find((l) => l.class_name === 'AttentionRNNWrapper')!;
    wrapper.class_name = 'ExternalAttentionRNNWrapper';
    (wrapper.config as JsonObject).return_attention = true;
    wrapper.inbound_nodes = [[['input_1', 0, 0, {}], ['input_1', 0, 0, {}]]];
    inner.output_layers = [0, 1, 2, 3].map((i) => ['attention_rnn_wrapper_1', 0, i]);
    const external = await tapOf({ ...model, config });
    expect(external.maps.map((m) => m.className)).toEqual(['ExternalAttentionRNNWrapper']);
    const returned = external.result[3];
    expect(returned.shape).toEqual([3, 6, 6]);
    expect(Array.from(external.maps[0].data)).toEqual(Array.from(returned.data));
    const report = compareArrays({ shape: plain.maps[0].shape, data: plain.maps[0].data }, returned, { atol: 1e-6, rtol: 1e-5 }, 'attention');
    expect(report.pass, JSON.stringify(report)).toBe(true);
    // The sequence the golden holds comes out of both.
    expect(compareArrays(plain.result[0], readNpyFileSync(kase.outputs[0].path), kase.tolerance, 'sequence').pass).toBe(true);
  });
});

describe("keras-multi-head's MultiHeadAttention (no return option): the formula in plain arithmetic", () => {
  /** softmax(relu(q Wq + bq)_h · relu(k Wk + bk)_hᵀ / √d) per sample and head, in float64. */
  function reference(q: Float32Array, k: Float32Array, qShape: number[], kShape: number[], w: Float32Array[], heads: number): Float64Array {
    const [batch, tq, fq] = qShape;
    const [, tk, fk] = kShape;
    const f = w[1].length;
    const d = f / heads;
    const project = (x: Float32Array, t: number, fin: number, W: Float32Array, bias: Float32Array) => {
      const out = new Float64Array(batch * t * f);
      for (let r = 0; r < batch * t; r++) {
        for (let c = 0; c < f; c++) {
          let s = bias[c];
          for (let i = 0; i < fin; i++) s += x[r * fin + i] * W[i * f + c];
          out[r * f + c] = Math.max(0, s);
        }
      }
      return out;
    };
    const Q = project(q, tq, fq, w[0], w[1]);
    const K = project(k, tk, fk, w[2], w[3]);
    const att = new Float64Array(batch * heads * tq * tk);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < tq; i++) {
          const row = new Float64Array(tk);
          for (let j = 0; j < tk; j++) {
            let s = 0;
            for (let c = h * d; c < (h + 1) * d; c++) s += Q[(b * tq + i) * f + c] * K[(b * tk + j) * f + c];
            row[j] = s / Math.sqrt(d);
          }
          const max = Math.max(...row);
          let sum = 0;
          for (let j = 0; j < tk; j++) sum += (row[j] = Math.exp(row[j] - max));
          for (let j = 0; j < tk; j++) att[((b * heads + h) * tq + i) * tk + j] = row[j] / sum;
        }
      }
    }
    return att;
  }

  for (const [name, queryInput, keyInput] of [['mha_self', 0, 0], ['mha_qkv', 0, 1]] as const) {
    it(`${name}: tapped (batch, heads, Tq, Tk) weights match`, async () => {
      const kase = readGoldenCase(join(GOLDEN, name));
      const model = await readModel(join(kase.dir, 'model.h5'));
      const layerWeights = model.weights.find((l) => l.layer === 'multi_head_attention')!.weights.map((w) => weightValues(w) as Float32Array);
      const tfModel = await buildModel(model, { backend: 'cpu' });
      try {
        const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
        const { maps } = await tapped(() => predict(tfModel, inputs));
        expect(maps.map((m) => [m.layer, m.className])).toEqual([['multi_head_attention', 'KerasMultiHead>MultiHeadAttention']]);
        const q = inputs[queryInput];
        const k = inputs[keyInput];
        const expected = reference(q.data as Float32Array, k.data as Float32Array, q.shape, k.shape, layerWeights, 3);
        expect(maps[0].shape).toEqual([q.shape[0], 3, q.shape[1], k.shape[1]]);
        const report = compareArrays({ shape: maps[0].shape, data: maps[0].data }, { shape: maps[0].shape, data: expected }, kase.tolerance, name);
        expect(report.pass, JSON.stringify(report)).toBe(true);
      } finally {
        tfModel.dispose();
      }
    });
  }
});

describe('examples/my-attention-layer.ts (quoted whole in the README)', () => {
  it("a user's own layer taps its weights with one line", async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await import('../../examples/my-attention-layer.js');
      expect(log.mock.calls.map((c) => String(c[0]))).toEqual(['my_attention (MyDotAttention): shape [2,3,3], read as [2,1,3,3]']);
    } finally {
      log.mockRestore();
    }
  });
});
