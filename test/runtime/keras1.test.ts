/**
 * Keras 1 / 2.0 files: the legacy `Merge` layer in every mode (functional `merge(...)` graphs and
 * Sequential models whose first layer merges branch models), Keras 1 argument spellings and weight
 * layouts (per-gate LSTM/GRU arrays, 4-D Conv1D kernels, 'th' Conv2D kernels). Every model is built from
 * a config and weights written here in Keras 1's form, and its outputs are checked against plain-JS
 * loops over the Keras 1 weights as they are (no conversion). Then the conversions: tfjs (plain tfjs in a
 * fresh process), .keras (Merge as Keras's merge layers), h5 (verbatim).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KerasInteropError } from '../../src/errors.js';
import type { JsonObject, JsonValue, KerasModel } from '../../src/model/types.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel } from '../../src/runtime/build.js';
import { runModel } from '../../src/runtime/run.js';
import { convertModel } from '../../src/writers/index.js';
import { Rng } from '../layers/attention-reference.js';
import { expectSameWeights } from '../writers/helpers.js';
import { fileTempDir } from '../helpers/tmp.js';
import { predictInFreshProcess } from '../writers/tfjs-helpers.js';

const tmp = fileTempDir('keras-interop-writers-');
beforeAll(async () => {
  await useBackend('cpu');
});

const rng = new Rng(2017);
const floats = (n: number, scale = 0.5) => Float32Array.from(rng.randn([n], scale).data);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
type Vec = number[];

/** x (rows of `in`) · W (in, out, row-major) + b. */
function dense(x: Vec, W: Float32Array, b: Float32Array | null, out: number): Vec {
  return Array.from({ length: out }, (_, j) => x.reduce((a, v, i) => a + v * W[i * out + j], b ? b[j] : 0));
}

function softmax(x: Vec): Vec {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

interface W {
  name: string;
  shape: number[];
  data: Float32Array;
}

function weight(name: string, shape: number[]): W {
  return { name, shape, data: floats(shape.reduce((a, b) => a * b, 1)) };
}

/** A Keras 1.2.2 model file's contents: config (JSON written here) and weights by layer (in `layer_names` order). */
function keras1Model(config: object, weights: Record<string, W[]>): KerasModel {
  return {
    source: { format: 'keras2-h5', file: 'keras1.h5', kerasVersion: '1.2.2', extras: {} },
    config: config as JsonObject,
    weights: Object.entries(weights).map(([layer, ws]) => ({
      layer,
      weights: ws.map((w) => ({ ...w, path: `/model_weights/${layer}/${w.name}`, dtype: 'float32' as const })),
    })),
  };
}

function input(name: string, shape: (number | null)[]): JsonObject {
  return { name, class_name: 'InputLayer', config: { batch_input_shape: [null, ...shape], input_dtype: 'float32', sparse: false, name }, inbound_nodes: [] };
}

function node(...from: string[]): JsonValue {
  return [from.map((f) => [f, 0, 0])];
}

/** Keras 1.2.2 `Dense.get_config()`. */
function dense1(name: string, outputDim: number, inputDim: number, activation = 'linear'): JsonObject {
  return {
    name, class_name: 'Dense',
    config: { name, trainable: true, output_dim: outputDim, init: 'glorot_uniform', activation, W_regularizer: null, b_regularizer: null, activity_regularizer: null, W_constraint: null, b_constraint: null, bias: true, input_dim: inputDim },
  };
}

function merge1(name: string, mode: string, extra: JsonObject = {}): JsonObject {
  return {
    name, class_name: 'Merge',
    config: { name, mode, mode_type: 'raw', concat_axis: -1, dot_axes: -1, output_shape: null, output_shape_type: 'raw', output_mask: null, output_mask_type: 'raw', arguments: {}, ...extra },
  };
}

function expectNear(got: ArrayLike<number>, want: number[], label: string): void {
  expect(got.length, label).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w), `${label}[${i}]: ${got[i]} vs ${w}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w)));
}

const B = 3;
const D = 4;
const H = 3;
const xa = Array.from({ length: B }, () => Array.from(floats(D, 1)));
const xb = Array.from({ length: B }, () => Array.from(floats(D, 1)));
const arr = (rows: Vec[][] | Vec[], shape: number[]) => ({ dtype: 'float32' as const, shape, data: Float32Array.from((rows as Vec[]).flat(2) as number[]) });

/** Functional Keras 1 graph: a, b (D) → Dense(H) each → merge(mode) → output. */
function mergeModel(mode: string, extra: JsonObject = {}): { model: KerasModel; want: (ha: Vec, hb: Vec) => Vec; da: W[]; db: W[] } {
  const da = [weight('dense_1_W', [D, H]), weight('dense_1_b', [H])];
  const db = [weight('dense_2_W', [D, H]), weight('dense_2_b', [H])];
  const layers = [
    input('a', [D]),
    input('b', [D]),
    { ...dense1('dense_1', H, D), inbound_nodes: node('a') },
    { ...dense1('dense_2', H, D), inbound_nodes: node('b') },
    { ...merge1('merge_1', mode, extra), inbound_nodes: node('dense_1', 'dense_2') },
  ];
  const config = { class_name: 'Model', config: { name: 'model_1', layers, input_layers: [['a', 0, 0], ['b', 0, 0]], output_layers: [['merge_1', 0, 0]] } };
  const dot = (p: Vec, q: Vec) => p.reduce((s, v, i) => s + v * q[i], 0);
  const want = (ha: Vec, hb: Vec): Vec => {
    switch (mode) {
      case 'concat': return [...ha, ...hb];
      case 'sum': return ha.map((v, i) => v + hb[i]);
      case 'ave': return ha.map((v, i) => (v + hb[i]) / 2);
      case 'mul': return ha.map((v, i) => v * hb[i]);
      case 'max': return ha.map((v, i) => Math.max(v, hb[i]));
      case 'dot': return [dot(ha, hb)];
      case 'cos': return [dot(ha, hb) / Math.max(Math.sqrt(dot(ha, ha) * dot(hb, hb)), 1e-7)];
      default: throw new Error(mode);
    }
  };
  return { model: keras1Model(config, { dense_1: da, dense_2: db }), want, da, db };
}

function expectedMerge(m: ReturnType<typeof mergeModel>): number[] {
  return xa.flatMap((a, i) => m.want(dense(a, m.da[0].data, m.da[1].data, H), dense(xb[i], m.db[0].data, m.db[1].data, H)));
}

describe('legacy Merge, every mode, in a Keras 1 functional graph', () => {
  const shapes: Record<string, number[]> = { concat: [B, 2 * H], sum: [B, H], ave: [B, H], mul: [B, H], max: [B, H], dot: [B, 1], cos: [B, 1, 1] };
  for (const mode of Object.keys(shapes)) {
    it(`${mode}: ${JSON.stringify(shapes[mode])}`, async () => {
      const m = mergeModel(mode, mode === 'dot' || mode === 'cos' ? { dot_axes: [1, 1] } : {});
      const [out] = await runModel(m.model, [arr(xa, [B, D]), arr(xb, [B, D])], { backend: 'cpu' });
      expect(out.shape).toEqual(shapes[mode]);
      expectNear(out.data, expectedMerge(m), mode);
    });
  }

  it('dot of sequences: batch_dot over dot_axes [2, 2] (B, 5, 6) and [1, 1] (B, 4, 4)', async () => {
    const T = 5;
    const sa = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from(floats(D, 1))));
    const sb = Array.from({ length: B }, () => Array.from({ length: 6 }, () => Array.from(floats(D, 1))));
    for (const [axes, shape] of [[[2, 2], [B, T, 6]], [[1, 1], [B, D, D]]] as const) {
      const tb = axes[0] === 1 ? T : 6;
      const layers = [input('a', [T, D]), input('b', [tb, D]), { ...merge1('merge_1', 'dot', { dot_axes: [...axes] }), inbound_nodes: node('a', 'b') }];
      const config = { class_name: 'Model', config: { name: 'm', layers, input_layers: [['a', 0, 0], ['b', 0, 0]], output_layers: [['merge_1', 0, 0]] } };
      const xb2 = axes[0] === 1 ? sb.map((s) => s.slice(0, T)) : sb;
      const [out] = await runModel(keras1Model(config, {}), [arr(sa, [B, T, D]), arr(xb2, [B, tb, D])], { backend: 'cpu' });
      expect(out.shape).toEqual([...shape]);
      const want = sa.flatMap((p, b) =>
        axes[0] === 2
          ? p.flatMap((row) => xb2[b].map((col) => row.reduce((s, v, i) => s + v * col[i], 0)))
          : Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => p.reduce((s, row, t) => s + row[i] * xb2[b][t][j], 0))).flat(),
      );
      expectNear(out.data, want, `axes ${axes}`);
    }
  });

  it('concat over time joins the inputs\' masks: a masked average after it skips the padded steps of both', async () => {
    const vocab = 6;
    const emb = weight('embedding_1_W', [vocab, 2]);
    const tokensA = [[1, 2, 0], [3, 0, 0], [4, 5, 1]];
    const tokensB = [[2, 0], [1, 4], [0, 0]];
    const embedding = (name: string, len: number): JsonObject => ({
      name, class_name: 'Embedding',
      config: { name, trainable: true, input_dim: vocab, output_dim: 2, init: 'uniform', input_length: len, W_regularizer: null, activity_regularizer: null, W_constraint: null, mask_zero: true, dropout: 0.0 },
    });
    const layers = [
      { ...input('a', [3]), config: { batch_input_shape: [null, 3], input_dtype: 'int32', sparse: false, name: 'a' } },
      { ...input('b', [2]), config: { batch_input_shape: [null, 2], input_dtype: 'int32', sparse: false, name: 'b' } },
      { ...embedding('embedding_1', 3), inbound_nodes: node('a') },
      { ...embedding('embedding_2', 2), inbound_nodes: node('b') },
      { ...merge1('merge_1', 'concat', { concat_axis: 1 }), inbound_nodes: node('embedding_1', 'embedding_2') },
      { name: 'pool', class_name: 'GlobalAveragePooling1D', config: { name: 'pool', trainable: true }, inbound_nodes: node('merge_1') },
    ];
    const config = { class_name: 'Model', config: { name: 'm', layers, input_layers: [['a', 0, 0], ['b', 0, 0]], output_layers: [['pool', 0, 0]] } };
    const model = keras1Model(config, { embedding_1: [emb], embedding_2: [{ ...emb, name: 'embedding_2_W' }] });
    const ints = (rows: number[][]) => ({ dtype: 'int32', shape: [rows.length, rows[0].length], data: Int32Array.from(rows.flat()) });
    const [out] = await runModel(model, [ints(tokensA), ints(tokensB)], { backend: 'cpu' });
    const want = tokensA.flatMap((row, b) => {
      const kept = [...row, ...tokensB[b]].filter((t) => t !== 0);
      return [0, 1].map((d) => kept.reduce((s, t) => s + emb.data[t * 2 + d], 0) / kept.length);
    });
    expectNear(out.data, want, 'masked average');
  });

  it('refuses a Python function as mode, and unknown keys, naming them', async () => {
    const lambda = mergeModel('concat', { mode: ['\u00e3\u0001', null, null], mode_type: 'lambda' });
    const e1 = await buildModel(lambda.model).catch((e: unknown) => e);
    expect((e1 as KerasInteropError).code).toBe('LAMBDA_LAYER');
    expect((e1 as Error).message).toContain('never run');
    const odd = mergeModel('sum', { weights_mode: 'x' });
    const e2 = await buildModel(odd.model).catch((e: unknown) => e);
    expect((e2 as KerasInteropError).code).toBe('UNSUPPORTED_LAYER');
    expect((e2 as Error).message).toContain('"weightsMode"');
  });
});

// ---------------------------------------------------------------------------------------------------------

/** Keras 1 LSTM on its 12 per-gate arrays [W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f, W_o, U_o, b_o]. */
function lstm1(xs: Vec[], w: W[], units: number): Vec {
  const [Wi, Ui, bi, Wc, Uc, bc, Wf, Uf, bf, Wo, Uo, bo] = w.map((x) => x.data);
  let h: Vec = new Array(units).fill(0);
  let c: Vec = new Array(units).fill(0);
  const gate = (x: Vec, Wg: Float32Array, Ug: Float32Array, bg: Float32Array) => {
    const a = dense(x, Wg, bg, units);
    const r = dense(h, Ug, null, units);
    return a.map((v, k) => v + r[k]);
  };
  for (const x of xs) {
    const i = gate(x, Wi, Ui, bi).map(sigmoid);
    const f = gate(x, Wf, Uf, bf).map(sigmoid);
    const cc = gate(x, Wc, Uc, bc).map(Math.tanh);
    const o = gate(x, Wo, Uo, bo).map(sigmoid);
    c = c.map((cv, k) => f[k] * cv + i[k] * cc[k]);
    h = o.map((ov, k) => ov * Math.tanh(c[k]));
  }
  return h;
}

/** Keras 1 GRU (reset before the recurrent product) on its 9 arrays [W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h]. */
function gru1(xs: Vec[], w: W[], units: number): Vec[] {
  const [Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh] = w.map((x) => x.data);
  let h: Vec = new Array(units).fill(0);
  const out: Vec[] = [];
  for (const x of xs) {
    const z = dense(x, Wz, bz, units).map((v, k) => sigmoid(v + dense(h, Uz, null, units)[k]));
    const r = dense(x, Wr, br, units).map((v, k) => sigmoid(v + dense(h, Ur, null, units)[k]));
    const rh = h.map((v, k) => v * r[k]);
    const hh = dense(x, Wh, bh, units).map((v, k) => Math.tanh(v + dense(rh, Uh, null, units)[k]));
    h = h.map((v, k) => z[k] * v + (1 - z[k]) * hh[k]);
    out.push(h.slice());
  }
  return out;
}

const T = 6;
const C = 3;
const seqs = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from(floats(C, 1))));

describe('Keras 1 spellings and weight layouts', () => {
  /** Keras 1.2.2 Sequential (bare list): Convolution1D → MaxPooling1D → LSTM (consume_less cpu) → Dropout → Dense(softmax). */
  function convLstmModel(kernel: W): { model: KerasModel; want: number[] } {
    const F = 4;
    const U = 5;
    const convB = weight('convolution1d_1_b', [F]);
    const lstmW = ['i', 'c', 'f', 'o'].flatMap((g) => [weight(`lstm_1_W_${g}`, [F, U]), weight(`lstm_1_U_${g}`, [U, U]), weight(`lstm_1_b_${g}`, [U])]);
    const out = [weight('dense_1_W', [U, 2]), weight('dense_1_b', [2])];
    const config = {
      class_name: 'Sequential',
      config: [
        { class_name: 'Convolution1D', config: { name: 'convolution1d_1', trainable: true, batch_input_shape: [null, T, C], input_dtype: 'float32', nb_filter: F, filter_length: 3, init: 'glorot_uniform', activation: 'relu', border_mode: 'same', subsample_length: 1, W_regularizer: null, b_regularizer: null, activity_regularizer: null, W_constraint: null, b_constraint: null, bias: true, input_dim: C, input_length: T } },
        { class_name: 'MaxPooling1D', config: { name: 'maxpooling1d_1', trainable: true, pool_length: 2, stride: 2, border_mode: 'valid' } },
        { class_name: 'LSTM', config: { name: 'lstm_1', trainable: true, return_sequences: false, go_backwards: false, stateful: false, unroll: false, consume_less: 'cpu', input_dim: F, input_length: null, output_dim: U, init: 'glorot_uniform', inner_init: 'orthogonal', forget_bias_init: 'one', activation: 'tanh', inner_activation: 'sigmoid', W_regularizer: null, U_regularizer: null, b_regularizer: null, dropout_W: 0.2, dropout_U: 0.1 } },
        { class_name: 'Dropout', config: { name: 'dropout_1', trainable: true, p: 0.5 } },
        { class_name: 'Dense', config: { name: 'dense_1', trainable: true, output_dim: 2, init: 'glorot_uniform', activation: 'softmax', W_regularizer: null, b_regularizer: null, activity_regularizer: null, W_constraint: null, b_constraint: null, bias: true, input_dim: U } },
      ],
    };
    const model = keras1Model(config, { convolution1d_1: [kernel, convB], maxpooling1d_1: [], lstm_1: lstmW, dropout_1: [], dense_1: out });
    // the kernel as (length, in, filters), whatever Keras 1 layout the file has
    const k = (t: number, c: number, f: number) => (kernel.shape[1] === 1 ? kernel.data[(t * C + c) * F + f] : kernel.data[(f * C + c) * 3 + t]);
    const want = seqs.flatMap((seq) => {
      const conv = seq.map((_, t) =>
        Array.from({ length: F }, (_, f) => {
          let s = convB.data[f];
          for (let dt = 0; dt < 3; dt++) {
            const src = t + dt - 1;
            if (src >= 0 && src < T) for (let c = 0; c < C; c++) s += seq[src][c] * k(dt, c, f);
          }
          return Math.max(0, s);
        }),
      );
      const pooled = Array.from({ length: T / 2 }, (_, t) => conv[2 * t].map((v, f) => Math.max(v, conv[2 * t + 1][f])));
      return softmax(dense(lstm1(pooled, lstmW, U), out[0].data, out[1].data, 2));
    });
    return { model, want };
  }

  it('Sequential: Convolution1D (4-D kernel), MaxPooling1D(pool_length), LSTM(output_dim, 12 per-gate arrays), Dropout(p), Dense(output_dim)', async () => {
    const { model, want } = convLstmModel(weight('convolution1d_1_W', [3, 1, C, 4]));
    const [out] = await runModel(model, [arr(seqs, [B, T, C])], { backend: 'cpu' });
    expect(out.shape).toEqual([B, 2]);
    expectNear(out.data, want, 'keras 1 sequential');
  });

  it("Keras 1.1's (filters, in, length, 1) Conv1D kernel", async () => {
    const { model, want } = convLstmModel(weight('convolution1d_1_W', [4, C, 3, 1]));
    const [out] = await runModel(model, [arr(seqs, [B, T, C])], { backend: 'cpu' });
    expectNear(out.data, want, 'keras 1.1 kernel');
  });

  it("GRU's 9 per-gate arrays in Bidirectional(merge_mode sum) and TimeDistributed(Dense)", async () => {
    const U = 3;
    const gruW = (dir: string) => ['z', 'r', 'h'].flatMap((g) => [weight(`${dir}_gru_1_W_${g}`, [C, U]), weight(`${dir}_gru_1_U_${g}`, [U, U]), weight(`${dir}_gru_1_b_${g}`, [U])]);
    const fw = gruW('forward');
    const bw = gruW('backward');
    const td = [weight('dense_1_W', [U, 2]), weight('dense_1_b', [2])];
    const gru = { class_name: 'GRU', config: { name: 'gru_1', trainable: true, return_sequences: true, go_backwards: false, stateful: false, unroll: false, consume_less: 'mem', input_dim: C, input_length: null, output_dim: U, init: 'glorot_uniform', inner_init: 'orthogonal', activation: 'tanh', inner_activation: 'sigmoid', W_regularizer: null, U_regularizer: null, b_regularizer: null, dropout_W: 0, dropout_U: 0 } };
    const layers = [
      input('x', [T, C]),
      { name: 'bidirectional_1', class_name: 'Bidirectional', config: { name: 'bidirectional_1', trainable: true, layer: gru, merge_mode: 'sum' }, inbound_nodes: node('x') },
      { name: 'td', class_name: 'TimeDistributed', config: { name: 'td', trainable: true, layer: { class_name: 'Dense', config: dense1('dense_1', 2, U).config } }, inbound_nodes: node('bidirectional_1') },
    ];
    const config = { class_name: 'Model', config: { name: 'm', layers, input_layers: [['x', 0, 0]], output_layers: [['td', 0, 0]] } };
    const model = keras1Model(config, { bidirectional_1: [...fw, ...bw], td });
    const [out] = await runModel(model, [arr(seqs, [B, T, C])], { backend: 'cpu' });
    const want = seqs.flatMap((seq) => {
      const f = gru1(seq, fw, U);
      const b = gru1([...seq].reverse(), bw, U).reverse();
      return f.flatMap((row, t) => dense(row.map((v, k) => v + b[t][k]), td[0].data, td[1].data, 2));
    });
    expectNear(out.data, want, 'bidirectional gru');
  });

  it("Convolution2D(dim_ordering='th', nb_row, nb_col, subsample) with its (filters, in, rows, cols) kernel", async () => {
    const [Ci, Hh, Ww, F] = [2, 5, 4, 3];
    const kernel = weight('convolution2d_1_W', [F, Ci, 2, 3]);
    const bias = weight('convolution2d_1_b', [F]);
    const config = {
      class_name: 'Sequential',
      config: [
        { class_name: 'Convolution2D', config: { name: 'convolution2d_1', trainable: true, batch_input_shape: [null, Ci, Hh, Ww], input_dtype: 'float32', nb_filter: F, nb_row: 2, nb_col: 3, init: 'glorot_uniform', activation: 'linear', border_mode: 'valid', subsample: [1, 1], dim_ordering: 'th', W_regularizer: null, b_regularizer: null, activity_regularizer: null, W_constraint: null, b_constraint: null, bias: true } },
        { class_name: 'Flatten', config: { name: 'flatten_1', trainable: true } },
      ],
    };
    const model = keras1Model(config, { convolution2d_1: [kernel, bias], flatten_1: [] });
    const imgs = Array.from({ length: B }, () => Array.from(floats(Ci * Hh * Ww, 1)));
    const [out] = await runModel(model, [{ dtype: 'float32', shape: [B, Ci, Hh, Ww], data: Float32Array.from(imgs.flat()) }], { backend: 'cpu' });
    const [Ho, Wo] = [Hh - 1, Ww - 2];
    expect(out.shape).toEqual([B, F * Ho * Wo]);
    const want = imgs.flatMap((img) =>
      Array.from({ length: F * Ho * Wo }, (_, idx) => {
        const f = Math.floor(idx / (Ho * Wo));
        const y = Math.floor(idx / Wo) % Ho;
        const x = idx % Wo;
        let s = bias.data[f];
        for (let c = 0; c < Ci; c++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 3; dx++) s += img[(c * Hh + y + dy) * Ww + x + dx] * kernel.data[((f * Ci + c) * 2 + dy) * 3 + dx];
        return s;
      }),
    );
    expectNear(out.data, want, 'th conv');
  });

  it('refuses Keras 1 arguments Keras 2 has no meaning for, naming them', async () => {
    const bn = keras1Model({ class_name: 'Sequential', config: [{ class_name: 'BatchNormalization', config: { name: 'bn', batch_input_shape: [null, 3], epsilon: 1e-3, mode: 2, axis: -1, momentum: 0.99 } }] }, {});
    const e1 = await buildModel(bn).catch((e: unknown) => e);
    expect((e1 as KerasInteropError).code).toBe('UNSUPPORTED_LAYER');
    expect((e1 as Error).message).toContain('mode=2');
    const full = keras1Model({ class_name: 'Sequential', config: [{ class_name: 'Convolution1D', config: { name: 'c', batch_input_shape: [null, 5, 2], nb_filter: 2, filter_length: 3, border_mode: 'full' } }] }, {});
    const e2 = await buildModel(full).catch((e: unknown) => e);
    expect((e2 as KerasInteropError).code).toBe('UNSUPPORTED_LAYER');
    expect((e2 as Error).message).toContain('border_mode="full"');
  });
});

// ---------------------------------------------------------------------------------------------------------

/** Keras 2.0 legacy Sequential: Merge([Sequential(Dense), Sequential(Dense)], mode='concat') → Dense. */
function legacySequential(): { model: KerasModel; want: number[] } {
  const branch = (dense: string): JsonObject => ({ class_name: 'Sequential', config: [{ class_name: 'Dense', config: { ...(dense1(dense, H, D).config as JsonObject), batch_input_shape: [null, D], dtype: 'float32' } }] });
  const merge = merge1('merge_1', 'concat');
  const config = {
    class_name: 'Sequential',
    config: [
      { class_name: 'Merge', config: { ...(merge.config as JsonObject), layers: [branch('dense_1'), branch('dense_2')] } as JsonObject },
      { class_name: 'Dense', config: { name: 'dense_3', trainable: true, units: 2, activation: 'tanh', use_bias: true, kernel_initializer: { class_name: 'VarianceScaling', config: {} }, bias_initializer: { class_name: 'Zeros', config: {} }, kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null } },
    ],
  };
  const w = { dense_1: [weight('dense_1/kernel:0', [D, H]), weight('dense_1/bias:0', [H])], dense_2: [weight('dense_2/kernel:0', [D, H]), weight('dense_2/bias:0', [H])], dense_3: [weight('dense_3/kernel:0', [2 * H, 2]), weight('dense_3/bias:0', [2])] };
  const want = xa.flatMap((a, i) => {
    const h = [...dense(a, w.dense_1[0].data, w.dense_1[1].data, H), ...dense(xb[i], w.dense_2[0].data, w.dense_2[1].data, H)];
    return dense(h, w.dense_3[0].data, w.dense_3[1].data, 2).map(Math.tanh);
  });
  return { model: { ...keras1Model(config, w), source: { format: 'keras2-h5', file: 'legacy.h5', kerasVersion: '2.0.8', backend: 'tensorflow', extras: {} } }, want };
}

describe('Keras 2.0 Sequential whose first layer merges branch models', () => {
  it('runs as the functional model Keras builds from it: one input per branch (<first layer>_input), the merge, the rest', async () => {
    const { model, want } = legacySequential();
    const tfModel = await buildModel(model);
    expect(tfModel.inputs.map((t) => t.sourceLayer.name)).toEqual(['dense_1_input', 'dense_2_input']);
    tfModel.dispose();
    const [out] = await runModel(model, [arr(xa, [B, D]), arr(xb, [B, D])], { backend: 'cpu' });
    expectNear(out.data, want, 'legacy sequential');
  });
});

describe('converting Keras 1 / 2.0 models', () => {
  const cases = (): [string, KerasModel, number[]][] => {
    const sum = mergeModel('sum');
    const dot = mergeModel('dot', { dot_axes: [1, 1] });
    const legacy = legacySequential();
    return [
      ['merge sum', sum.model, expectedMerge(sum)],
      ['merge dot', dot.model, expectedMerge(dot)],
      ['legacy sequential', legacy.model, legacy.want],
    ];
  };
  const inputs = [arr(xa, [B, D]), arr(xb, [B, D])];

  it('tfjs: plain tf.loadLayersModel (with keras-interop/layers) computes the same; .keras holds Keras merge layers; h5 keeps the file as it is', async () => {
    for (const [label, model, want] of cases()) {
      const dir = join(tmp, label.replace(/ /g, '_'));
      mkdirSync(dir);
      await convertModel(model, 'tfjs', join(dir, 'tfjs'));
      const plain = await predictInFreshProcess(join(dir, 'tfjs'), inputs);
      expectNear(plain.outputs[0].data, want, `${label} tfjs`);
      if (label !== 'legacy sequential') expect(plain.layers).toContain('Merge');

      const [keras] = await convertModel(model, 'keras', join(dir, 'm.keras'));
      const back = await readModel(keras);
      const classes = ((back.config!.config as JsonObject).layers as JsonObject[]).map((l) => l.class_name);
      expect(classes).not.toContain('Merge');
      expect(classes).toContain(label === 'merge sum' ? 'Add' : label === 'merge dot' ? 'Dot' : 'Concatenate');
      expectNear((await runModel(back, inputs, { backend: 'cpu' }))[0].data, want, `${label} .keras`);

      const [h5] = await convertModel(model, 'h5', join(dir, 'm.h5'));
      const again = await readModel(h5);
      expect(again.config).toEqual(model.config);
      // (the names come back in tf.keras 2's spelling, with `:0`)
      expectSameWeights(again, model);
      expectNear((await runModel(again, inputs, { backend: 'cpu' }))[0].data, want, `${label} h5`);
    }
  });

  it('a cos Merge has no Keras 3 layer: .keras is refused, naming the mode', async () => {
    const { model } = mergeModel('cos', { dot_axes: [1, 1] });
    const e = await convertModel(model, 'keras', join(tmp, 'cos.keras')).catch((x: unknown) => x);
    expect((e as KerasInteropError).code).toBe('UNSUPPORTED_LAYER');
    expect((e as Error).message).toContain('"cos"');
  });
});
