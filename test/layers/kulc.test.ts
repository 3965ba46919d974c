/**
 * FlashTek's kulc layers against float64 references written from kulc's source (attention.py,
 * layer_normalization.py @9479647), beyond what the golden cases cover: other ranks, epsilon, explicit
 * masks, user similarity functions, GRU/SimpleRNN wrappers with go_backwards and masks, and
 * ExternalAttentionRNNWrapper, which has no golden case at all.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../fuzz/lib/rng.js';
import { KulcLayerNormalization } from '../../src/layers/kulc-layer-normalization.js';
import { KulcScaledDotProductAttention } from '../../src/layers/kulc-scaled-dot-product-attention.js';
import { registerSequenceAttentionSimilarity } from '../../src/layers/sequence-attention.js';
import '../../src/layers/index.js';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel } from '../../src/runtime/build.js';
import { runModel } from '../../src/runtime/run.js';
import { GOLDEN } from '../helpers/paths.js';
import { expectClose, input, keras224Model, layer, matmul, softmax } from './kulc-helpers.js';
import { type RefCell, type Vec, gruRef, hardSigmoidKeras2, lstmRef, simpleRef, tanh } from './recurrent-reference.js';
import { errorOf } from '../helpers/errors.js';
import { randomArray } from './seeded-values.js';

beforeAll(async () => {
  await useBackend('cpu');
});

function run(model: KerasModel, arrays: { shape: number[]; data: Float32Array }[]) {
  return runModel(model, arrays.map((a) => ({ ...a, dtype: 'float32' })), { backend: 'cpu' });
}

// ---------------------------------------------------------------------------------------------------------

describe('kulc LayerNormalization', () => {
  /** layer_normalization.py: gain * (x - mean) / (spread + eps) + bias, spread = std (rank 3) or the mean (rank 2). */
  function reference(x: Float32Array, rows: number, d: number, gain: Float32Array, bias: Float32Array, eps: number, rank2: boolean): Float64Array {
    const out = new Float64Array(x.length);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * d, r * d + d);
      const mean = row.reduce((a, b) => a + b, 0) / d;
      const std = Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / d);
      const spread = rank2 ? mean : std;
      for (let i = 0; i < d; i++) out[r * d + i] = (gain[i] * (row[i] - mean)) / (spread + eps) + bias[i];
    }
    return out;
  }

  const next = mulberry32(11);
  const d = 6;
  const gain = randomArray(next, d, 1).map((v) => 1 + 0.2 * v);
  const bias = randomArray(next, d, 0.5);

  for (const [label, shape, rank2] of [['rank 3', [2, 4, d], false], ['rank 2 (kulc divides by the mean there)', [5, d], true]] as const) {
    for (const epsilon of [undefined, 0.25]) {
      it(`${label}, epsilon ${epsilon ?? 'default 1e-8'}`, async () => {
        // positive inputs keep the rank-2 branch's mean away from zero
        const x = randomArray(next, shape.reduce((a, b) => a * b, 1), 1).map((v) => 1.5 + v);
        const model = keras224Model(
          [input('input_1', shape.slice(1)), layer('layer_normalization_1', 'LayerNormalization', epsilon === undefined ? {} : { epsilon }, ['input_1'])],
          [['layer_normalization_1', 0]],
          { layer_normalization_1: [['gain', [d], gain], ['bias', [d], bias]] },
        );
        const [out] = await run(model, [{ shape: [...shape], data: x }]);
        expectClose(out, reference(x, x.length / d, d, gain, bias, epsilon ?? 1e-8, rank2), [...shape]);
      });
    }
  }

  it('refuses other ranks (kulc has no branch for them)', async () => {
    const l = new KulcLayerNormalization({ name: 'ln' });
    const e = await errorOf(() => l.apply(tf.input({ batchShape: [null, 2, 3, 4] })));
    expect(e.code).toBe('INPUT_MISMATCH');
    expect(e.message).toMatch(/rank 2 or 3/);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('kulc ScaledDotProductAttention', () => {
  const next = mulberry32(5);
  const [B, Tq, Tk, dk, dv] = [2, 3, 4, 5, 3];
  const q = randomArray(next, B * Tq * dk, 1.5);
  const k = randomArray(next, B * Tk * dk, 1.5);
  const v = randomArray(next, B * Tk * dv, 1);
  // (B, Tq, Tk); the last query row of sample 1 has every key masked
  const mask = Float32Array.from({ length: B * Tq * Tk }, (_, i) => (i >= B * Tq * Tk - Tk ? 0 : (i * 7) % 3 === 0 ? 0 : 1));

  /** attention.py: softmax((q k^T + -1e10 (1 - mask)) / sqrt(d_k)) v, the sum rounded to float32 as TF adds. */
  function reference(withMask: boolean): { out: Float64Array; att: Float64Array } {
    const out = new Float64Array(B * Tq * dv);
    const att = new Float64Array(B * Tq * Tk);
    for (let b = 0; b < B; b++) for (let i = 0; i < Tq; i++) {
      const logits = Array.from({ length: Tk }, (_, j) => {
        let s = 0;
        for (let c = 0; c < dk; c++) s += q[(b * Tq + i) * dk + c] * k[(b * Tk + j) * dk + c];
        if (withMask) s = Math.fround(Math.fround(s) + Math.fround(-1e10 * (1 - mask[(b * Tq + i) * Tk + j])));
        return s / Math.sqrt(dk);
      });
      const a = softmax(logits);
      att.set(a, (b * Tq + i) * Tk);
      for (let c = 0; c < dv; c++) out[(b * Tq + i) * dv + c] = a.reduce((s, w, j) => s + w * v[(b * Tk + j) * dv + c], 0);
    }
    return { out, att };
  }

  const tensors = () => [tf.tensor(q, [B, Tq, dk]), tf.tensor(k, [B, Tk, dk]), tf.tensor(v, [B, Tk, dv])];

  it('an explicit mask (an input with role mask) adds -1e10 (1 - mask); a fully masked row is uniform, as in float32 Keras', () => {
    const l = new KulcScaledDotProductAttention({ returnAttention: true });
    const [out, att] = l.call([...tensors(), tf.tensor(mask, [B, Tq, Tk])], { inputRoles: ['inputs', 'inputs', 'inputs', 'mask'] }) as tf.Tensor[];
    const ref = reference(true);
    expectClose(out, ref.out, [B, Tq, dv]);
    expectClose(att, ref.att, [B, Tq, Tk]);
    const lastRow = Array.from(att.dataSync().slice(-Tk));
    for (const w of lastRow) expect(w).toBeCloseTo(1 / Tk, 6);
  });

  it('propagated masks are not used (they make kulc raise in Python), and the attention has its real shape (Tq, Tk)', () => {
    const l = new KulcScaledDotProductAttention({ returnAttention: true });
    const m = tf.ones([B, Tq]);
    const [out, att] = l.call(tensors(), { mask: [m, m, m] }) as tf.Tensor[];
    const ref = reference(false);
    expectClose(out, ref.out, [B, Tq, dv]);
    expectClose(att, ref.att, [B, Tq, Tk]);
    expect(l.computeOutputShape([[null, Tq, dk], [null, Tk, dk], [null, Tk, dv]])).toEqual([[null, Tq, dv], [null, Tq, Tk]]);
  });

  it('takes exactly [q, k, v]', async () => {
    const l = new KulcScaledDotProductAttention({});
    const e = await errorOf(() => l.call(tensors().slice(0, 1), {}));
    expect(e.code).toBe('INPUT_MISMATCH');
    expect(e.message).toMatch(/\[q, k, v\]/);
  });
});

describe("kulc's MultiHeadAttention graph with return_attention", () => {
  it('the shared ScaledDotProductAttention hands each head its attention (T, T); their Concatenate is (T, h T); the output is unchanged', async () => {
    // kulc_multi_head's model.h5 as MultiHeadAttention(return_attention=True) builds it: the same layers
    // plus a Concatenate of each call's second output
    const dir = join(GOLDEN, 'kulc_multi_head');
    const m = await readModel(join(dir, 'model.h5'));
    const cfg = structuredClone(m.config!) as JsonObject;
    const inner = cfg.config as JsonObject;
    const layers = inner.layers as JsonObject[];
    const heads = 4;
    ((layers.find((l) => l.class_name === 'ScaledDotProductAttention')!.config) as JsonObject).return_attention = true;
    const attentionRefs = Array.from({ length: heads }, (_, i) => ['scaled_dot_product_attention_1', i, 1, {}]);
    layers.push({ name: 'concatenate_2', class_name: 'Concatenate', config: { name: 'concatenate_2', trainable: true, axis: -1 }, inbound_nodes: [attentionRefs] });
    inner.output_layers = [['time_distributed_13', 0, 0], ['concatenate_2', 0, 0]];
    const kase = readGoldenCase(dir);
    const x = readNpyFileSync(kase.inputs[0].path);
    const [out, attention] = await runModel({ ...m, config: cfg }, [x] as never, { backend: 'cpu' });
    const want = readNpyFileSync(kase.outputs[0].path);
    expectClose(out, want.data as Float32Array, want.shape);

    // per head i: softmax((x Wq_i)(x Wk_i)^T / sqrt(8)), Wq_i = time_distributed_{3i+1}, Wk_i = time_distributed_{3i+2}
    const [B, T, D] = x.shape;
    const kernel = (n: number) => m.weights.find((l) => l.layer === `time_distributed_${n}`)!.weights[0].data as Float32Array;
    const expected = new Float64Array(B * T * heads * T);
    for (let b = 0; b < B; b++) {
      const xb = (x.data as Float32Array).subarray(b * T * D, (b + 1) * T * D);
      for (let h = 0; h < heads; h++) {
        const q = matmul(xb, kernel(3 * h + 1), T, D, 8);
        const k = matmul(xb, kernel(3 * h + 2), T, D, 8);
        for (let i = 0; i < T; i++) {
          const row = softmax(Array.from({ length: T }, (_, j) => q.subarray(i * 8, i * 8 + 8).reduce((acc, v, c) => acc + v * k[j * 8 + c], 0) / Math.sqrt(8)));
          row.forEach((v, j) => (expected[(b * T + i) * heads * T + h * T + j] = v));
        }
      }
    }
    expectClose(attention, expected, [B, T, heads * T]);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('kulc SequenceAttention', () => {
  it('accepts the saved method names and the plain names alike', async () => {
    const dir = join(GOLDEN, 'kulc_sequence_attention_additive');
    const kase = readGoldenCase(dir);
    const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
    const expected = readNpyFileSync(kase.outputs[0].path);
    for (const similarity of ['_additive_similarity', 'additive']) {
      const m = await readModel(join(dir, 'model.h5'));
      const cfg = structuredClone(m.config!) as JsonObject;
      const sa = ((cfg.config as JsonObject).layers as JsonObject[]).find((l) => l.class_name === 'SequenceAttention')!;
      (sa.config as JsonObject).similarity = similarity;
      const [out] = await runModel({ ...m, config: cfg }, inputs as never, { backend: 'cpu' });
      expectClose(out, expected.data as Float32Array, expected.shape);
    }
  });

  const next = mulberry32(21);
  const [B, T, ds, dq] = [2, 4, 3, 2];
  const source = randomArray(next, B * T * ds, 1);
  const query = randomArray(next, B * T * dq, 1);
  const model = () =>
    keras224Model(
      [input('input_1', [T, ds]), input('input_2', [T, dq]), layer('sequence_attention_1', 'SequenceAttention', { similarity: 'neg_distance', kernel_initializer: 'glorot_uniform' }, ['input_1', 'input_2'])],
      [['sequence_attention_1', 0]],
    );

  it("a user's similarity function cannot be recovered: the error says so and how to register one; registered, it runs", async () => {
    const e = await errorOf(buildModel(model()));
    expect(e.code).toBe('UNSUPPORTED_LAYER');
    // tfjs camel-cases config strings before the layer sees them; registering takes any spelling
    expect(e.message).toContain('"negDistance"');
    expect(e.message).toContain("registerSequenceAttentionSimilarity('negDistance', fn)");

    // similarity[b, i, j] = -|source_i - query_j W|^2 with a fixed W (ds x dq ... here: the first dq features)
    registerSequenceAttentionSimilarity('neg_distance', (s, qy) => tf.neg(tf.sum(tf.square(tf.sub(tf.expandDims(s.slice([0, 0, 0], [-1, -1, dq]), 2), tf.expandDims(qy, 1))), -1)) as tf.Tensor3D);
    const [out] = await run(model(), [{ shape: [B, T, ds], data: source }, { shape: [B, T, dq], data: query }]);
    const expected = new Float64Array(B * T * ds);
    for (let b = 0; b < B; b++) {
      const score = Array.from({ length: T }, (_, i) =>
        softmax(Array.from({ length: T }, (_, j) => -Array.from({ length: dq }, (_, c) => (source[(b * T + i) * ds + c] - query[(b * T + j) * dq + c]) ** 2).reduce((x, y) => x + y, 0))),
      );
      // output[b, i] = sum_t score[b, t, i] * source[b, t]
      for (let i = 0; i < T; i++) for (let c = 0; c < ds; c++) expected[(b * T + i) * ds + c] = score.reduce((acc, row, t) => acc + row[i] * source[(b * T + t) * ds + c], 0);
    }
    expectClose(out, expected, [B, T, ds]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// AttentionRNNWrapper / ExternalAttentionRNNWrapper

interface WrapperWeights {
  W1: Float32Array;
  W2: Float32Array;
  W3: Float32Array;
  b2: Float32Array;
  b3: Float32Array;
  V: Float32Array;
}

/**
 * kulc's wrapper step (attention.py, AttentionRNNWrapper.step / ExternalAttentionRNNWrapper.step) over
 * Keras 2's K.rnn, per sample: `context` (S, Dc) is what the attention looks at (the input itself, or the
 * external input). Masked steps keep the states and repeat the previous output.
 */
function wrapperRef(
  cell: RefCell,
  w: WrapperWeights,
  x: Float32Array,
  [B, T, Dt]: number[],
  context: Float32Array,
  [S, Dc]: number[],
  opts: { mask?: number[][]; goBackwards?: boolean } = {},
): { outputs: Vec[][]; attentions: Vec[][]; states: Vec[][] } {
  const res = { outputs: [] as Vec[][], attentions: [] as Vec[][], states: [] as Vec[][] };
  for (let b = 0; b < B; b++) {
    const X = context.subarray(b * S * Dc, (b + 1) * S * Dc);
    const proj = matmul(X, w.W1, S, Dc, Dt).map((v, i) => v + w.b2[i % Dt]);
    let states: Vec[] = cell.sizes.map((n) => new Float64Array(n));
    const outs: Vec[] = [];
    const atts: Vec[] = [];
    for (let k = 0; k < T; k++) {
      const t = opts.goBackwards ? T - 1 - k : k;
      const hw = matmul(states[0], w.W2, 1, states[0].length, Dt);
      const logits = Array.from({ length: S }, (_, s) => Array.from({ length: Dt }, (_, d) => (proj[s * Dt + d] + hw[d]) * w.V[d]).reduce((a, c) => a + c, 0));
      const a = softmax(logits);
      const weighted = Array.from({ length: Dc }, (_, c) => a.reduce((acc, ws, s) => acc + ws * X[s * Dc + c], 0));
      const joined = [...x.subarray((b * T + t) * Dt, (b * T + t + 1) * Dt), ...weighted];
      const cellInput = matmul(joined, w.W3, 1, Dt + Dc, Dt).map((v, i) => v + w.b3[i]);
      let [o, next] = cell.step(cellInput, states);
      if (opts.mask && !opts.mask[b][t]) {
        o = Float64Array.from(states[0]);
        next = states;
      }
      outs.push(o);
      atts.push(a);
      states = next;
    }
    res.outputs.push(outs);
    res.attentions.push(atts);
    res.states.push(states);
  }
  return res;
}

const rows = (vs: Vec[]): number[] => vs.flatMap((v) => Array.from(v));

function rnnConfig(className: 'LSTM' | 'GRU' | 'SimpleRNN', units: number, extra: JsonObject): JsonObject {
  const config: JsonObject = {
    name: className.toLowerCase() + '_1', trainable: true, return_sequences: false, return_state: false, go_backwards: false, stateful: false, unroll: false,
    units, activation: 'tanh', use_bias: true, kernel_initializer: 'glorot_uniform', recurrent_initializer: 'orthogonal', bias_initializer: 'zeros',
    dropout: 0, recurrent_dropout: 0, implementation: 1, ...extra,
  };
  if (className !== 'SimpleRNN') config.recurrent_activation = 'hard_sigmoid';
  if (className === 'LSTM') config.unit_forget_bias = true;
  return { class_name: className, config };
}

describe('kulc AttentionRNNWrapper around GRU and SimpleRNN (Keras 2.2.4 defaults: hard_sigmoid is Keras 2\'s)', () => {
  const [B, T, D, U] = [3, 5, 4, 3];
  const next = mulberry32(33);
  const x = randomArray(next, B * T * D, 1.2);
  // sample 1 ends in two padded steps, sample 2 has a hole: Masking(0) masks them
  const mask = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 1, 1, 1]];
  mask.forEach((m, b) => m.forEach((on, t) => { if (!on) x.fill(0, (b * T + t) * D, (b * T + t + 1) * D); }));
  const w: WrapperWeights = {
    W1: randomArray(next, D * D, 0.5), W2: randomArray(next, U * D, 0.5), W3: randomArray(next, 2 * D * D, 0.5),
    b2: randomArray(next, D, 0.3), b3: randomArray(next, D, 0.3), V: randomArray(next, D, 0.7),
  };

  const cases: { cls: 'GRU' | 'SimpleRNN' | 'LSTM'; extra: JsonObject; gates: number; bias: number; masked: boolean; backwards: boolean }[] = [
    { cls: 'GRU' as const, extra: { reset_after: false, return_sequences: true, return_state: true }, gates: 3, bias: 3 * U, masked: false, backwards: false },
    { cls: 'GRU' as const, extra: { reset_after: true, go_backwards: true }, gates: 3, bias: 6 * U, masked: true, backwards: true },
    { cls: 'SimpleRNN' as const, extra: { return_sequences: true, return_state: true }, gates: 1, bias: U, masked: true, backwards: false },
    { cls: 'LSTM' as const, extra: {}, gates: 4, bias: 4 * U, masked: false, backwards: false },
  ];
  for (const c of cases) {
    const flags = Object.entries(c.extra).map(([k, v]) => `${k}=${String(v)}`).join(', ');
    it(`${c.cls}(${flags})${c.masked ? ' after Masking' : ''}`, async () => {
      const cnext = mulberry32(c.gates * 100 + (c.masked ? 1 : 0));
      const kernel = randomArray(cnext, D * c.gates * U, 0.6);
      const recurrent = randomArray(cnext, U * c.gates * U, 0.6);
      const bias = randomArray(cnext, c.bias, 0.3);
      const layers = [input('input_1', [T, D])];
      if (c.masked) layers.push(layer('masking_1', 'Masking', { mask_value: 0 }, ['input_1']));
      layers.push(layer('attention_rnn_wrapper_1', 'AttentionRNNWrapper', { layer: rnnConfig(c.cls, U, c.extra), weight_initializer: 'glorot_uniform' }, [c.masked ? 'masking_1' : 'input_1']));
      const returnSequences = c.extra.return_sequences === true;
      const returnState = 'return_state' in c.extra;
      const stateCount = c.cls === 'LSTM' ? 2 : 1;
      const outputs: [string, number][] = [['attention_rnn_wrapper_1', 0], ...(returnState ? Array.from({ length: stateCount }, (_, i): [string, number] => ['attention_rnn_wrapper_1', i + 1]) : [])];
      const name = 'attention_rnn_wrapper_1';
      const model = keras224Model(layers, outputs, {
        [name]: [
          [`${name}_W1`, [D, D], w.W1], [`${name}_W2`, [U, D], w.W2], [`${name}_W3`, [2 * D, D], w.W3],
          [`${name}_b2`, [D], w.b2], [`${name}_b3`, [D], w.b3], [`${name}_V`, [D, 1], w.V],
          ['kernel', [D, c.gates * U], kernel], ['recurrent_kernel', [U, c.gates * U], recurrent], ['bias', c.cls === 'GRU' && c.extra.reset_after ? [2, 3 * U] : [c.bias], bias],
        ],
      });
      const cell =
        c.cls === 'GRU'
          ? gruRef(kernel, recurrent, bias, U, c.extra.reset_after === true, tanh, hardSigmoidKeras2)
          : c.cls === 'LSTM'
            ? lstmRef(kernel, recurrent, bias, U, tanh, hardSigmoidKeras2)
            : simpleRef(kernel, recurrent, bias, U);
      const ref = wrapperRef(cell, w, x, [B, T, D], x, [T, D], { mask: c.masked ? mask : undefined, goBackwards: c.backwards });
      const outs = await run(model, [{ shape: [B, T, D], data: x }]);
      expect(outs.length).toBe(outputs.length);
      if (returnSequences) expectClose(outs[0], ref.outputs.flatMap(rows), [B, T, U]);
      else expectClose(outs[0], ref.outputs.flatMap((o) => Array.from(o[o.length - 1])), [B, U]);
      for (let i = 1; i < outs.length; i++) expectClose(outs[i], ref.states.flatMap((s) => Array.from(s[i - 1])), [B, U]);
    });
  }

  it("keeps kulc's weight order: its own W1, W2, W3, b2, b3, V, then the cell's kernel, recurrent_kernel, bias", async () => {
    const built = await buildModel(
      keras224Model([input('input_1', [T, D]), layer('w', 'AttentionRNNWrapper', { layer: rnnConfig('SimpleRNN', U, {}), weight_initializer: 'glorot_uniform' }, ['input_1'])], [['w', 0]], {
        w: [['w_W1', [D, D], w.W1], ['w_W2', [U, D], w.W2], ['w_W3', [2 * D, D], w.W3], ['w_b2', [D], w.b2], ['w_b3', [D], w.b3], ['w_V', [D, 1], w.V], ['kernel', [D, U], new Float32Array(D * U)], ['recurrent_kernel', [U, U], new Float32Array(U * U)], ['bias', [U], new Float32Array(U)]],
      }),
    );
    try {
      expect(built.getLayer('w').weights.map((v) => v.originalName.split('/').pop())).toEqual(['w_W1', 'w_W2', 'w_W3', 'w_b2', 'w_b3', 'w_V', 'kernel', 'recurrent_kernel', 'bias']);
    } finally {
      built.dispose();
    }
  });
});

describe('kulc ExternalAttentionRNNWrapper (no golden case: the expected numbers are derived from kulc\'s source)', () => {
  it('with the input itself as the external input it is AttentionRNNWrapper: the kulc_attention_rnn_wrapper_lstm golden, through the other class', async () => {
    const dir = join(GOLDEN, 'kulc_attention_rnn_wrapper_lstm');
    const m = await readModel(join(dir, 'model.h5'));
    const cfg = structuredClone(m.config!) as JsonObject;
    const layers = (cfg.config as JsonObject).layers as JsonObject[];
    const wrapper = layers.find((l) => l.class_name === 'AttentionRNNWrapper')!;
    wrapper.class_name = 'ExternalAttentionRNNWrapper';
    (wrapper.config as JsonObject).return_attention = false;
    wrapper.inbound_nodes = [[['input_1', 0, 0, {}], ['input_1', 0, 0, {}]]];
    const kase = readGoldenCase(dir);
    const outs = await runModel({ ...m, config: cfg }, kase.inputs.map((t) => readNpyFileSync(t.path)) as never, { backend: 'cpu' });
    kase.outputs.forEach((t, i) => {
      const want = readNpyFileSync(t.path);
      expectClose(outs[i], want.data as Float32Array, want.shape);
    });
  });

  const [B, T, Dt, L, Ds, U] = [2, 4, 3, 5, 2, 3];
  const next = mulberry32(44);
  const x = randomArray(next, B * T * Dt, 1);
  const external = randomArray(next, B * L * Ds, 1);
  const w: WrapperWeights = {
    W1: randomArray(next, Ds * Dt, 0.6), W2: randomArray(next, U * Dt, 0.6), W3: randomArray(next, (Dt + Ds) * Dt, 0.6),
    b2: randomArray(next, Dt, 0.3), b3: randomArray(next, Dt, 0.3), V: randomArray(next, Dt, 0.8),
  };
  const kernel = randomArray(next, Dt * 4 * U, 0.6);
  const recurrent = randomArray(next, U * 4 * U, 0.6);
  const bias = randomArray(next, 4 * U, 0.3);
  const name = 'external_attention_rnn_wrapper_1';
  const model = (withMasking = false) =>
    keras224Model(
      [
        input('input_1', [T, Dt]),
        input('input_2', [L, Ds]),
        ...(withMasking ? [layer('masking_1', 'Masking', { mask_value: 0 }, ['input_1'])] : []),
        layer(name, 'ExternalAttentionRNNWrapper', { layer: rnnConfig('LSTM', U, { return_sequences: true, return_state: true }), weight_initializer: 'glorot_uniform', return_attention: true }, [withMasking ? 'masking_1' : 'input_1', 'input_2']),
      ],
      [[name, 0], [name, 1], [name, 2], [name, 3]],
      {
        [name]: [
          [`${name}_W1`, [Ds, Dt], w.W1], [`${name}_W2`, [U, Dt], w.W2], [`${name}_W3`, [Dt + Ds, Dt], w.W3],
          [`${name}_b2`, [Dt], w.b2], [`${name}_b3`, [Dt], w.b3], [`${name}_V`, [Dt, 1], w.V],
          ['kernel', [Dt, 4 * U], kernel], ['recurrent_kernel', [U, 4 * U], recurrent], ['bias', [4 * U], bias],
        ],
      },
    );

  it('temporal and external inputs of other sizes: [sequence, h, c, attention (T, L)] as kulc computes them', async () => {
    const ref = wrapperRef(lstmRef(kernel, recurrent, bias, U, tanh, hardSigmoidKeras2), w, x, [B, T, Dt], external, [L, Ds]);
    const outs = await run(model(), [{ shape: [B, T, Dt], data: x }, { shape: [B, L, Ds], data: external }]);
    expect(outs.length).toBe(4);
    expectClose(outs[0], ref.outputs.flatMap(rows), [B, T, U]);
    expectClose(outs[1], ref.states.flatMap((s) => Array.from(s[0])), [B, U]);
    expectClose(outs[2], ref.states.flatMap((s) => Array.from(s[1])), [B, U]);
    expectClose(outs[3], ref.attentions.flatMap(rows), [B, T, L]);
  });

  it('refuses a mask (kulc cannot run masked: its K.rnn would compare U + L wide outputs with U wide states)', async () => {
    x.fill(0, 0, Dt);
    const e = await errorOf(run(model(true), [{ shape: [B, T, Dt], data: x }, { shape: [B, L, Ds], data: external }]));
    expect(e.code).toBe('UNSUPPORTED_LAYER');
    expect(e.message).toMatch(/mask/);
  });
});
