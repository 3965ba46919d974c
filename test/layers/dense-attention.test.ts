/**
 * Keras's `Attention` and `AdditiveAttention` against a plain-JS reference of Keras's formulas (float64
 * loops; the masked-score subtraction rounded to float32 as Keras computes it): score modes, scales,
 * [query, value, key], causal masks from the constructor or the call, query and value masks through
 * tfjs's predict, the returned weights, the config each layer takes, and tf.keras <= 2.9's `causal` key in
 * files and in their Keras 3 form.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import { AdditiveAttention } from '../../src/layers/additive-attention.js';
import { Attention } from '../../src/layers/attention.js';
import { KerasInteropError } from '../../src/errors.js';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { toKeras3Config } from '../../src/runtime/dialect.js';
import { runModel } from '../../src/runtime/run.js';
import { convertModel } from '../../src/writers/index.js';
import { Rng, expectClose, nd, type Nd } from './attention-reference.js';
import { tempDir } from '../helpers/tmp.js';
import { savedInMemory } from '../helpers/tfjs-memory.js';

beforeAll(async () => {
  await useBackend('cpu');
});

interface RefArgs {
  q: Nd;
  v: Nd;
  k?: Nd;
  /** dot: q·k; concat: csw·Σ tanh(scale·(q+k)); additive: Σ scale_d·tanh(q+k)_d. */
  mode: 'dot' | 'concat' | 'additive';
  scale?: number | Float64Array;
  csw?: number;
  causal?: boolean;
  qMask?: boolean[][];
  vMask?: boolean[][];
}

/** Keras's dense attention, element by element. */
function refAttention(a: RefArgs): { out: Nd; weights: Nd } {
  const [B, Tq, D] = a.q.shape;
  const [, Tv, Dv] = a.v.shape;
  const k = a.k ?? a.v;
  const at = (x: Nd, b: number, t: number, d: number) => x.data[(b * x.shape[1] + t) * x.shape[2] + d];
  const out = nd([B, Tq, Dv]);
  const weights = nd([B, Tq, Tv]);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      const s = new Float64Array(Tv);
      for (let j = 0; j < Tv; j++) {
        let score = 0;
        for (let d = 0; d < D; d++) {
          const qd = at(a.q, b, i, d);
          const kd = at(k, b, j, d);
          if (a.mode === 'dot') score += qd * kd;
          else if (a.mode === 'concat') score += Math.tanh((typeof a.scale === 'number' ? a.scale : 1) * (qd + kd));
          else score += (a.scale instanceof Float64Array ? a.scale[d] : 1) * Math.tanh(qd + kd);
        }
        if (a.mode === 'dot' && typeof a.scale === 'number') score *= a.scale;
        if (a.mode === 'concat') score *= a.csw ?? 1;
        const keep = (a.vMask ? a.vMask[b][j] : true) && (!a.causal || j <= i);
        // Keras: scores -= 1e9 * padding, in float32
        s[j] = keep ? score : Math.fround(Math.fround(score) - 1e9);
      }
      const m = Math.max(...s);
      const e = s.map((x) => Math.exp(x - m));
      const sum = e.reduce((x, y) => x + y, 0);
      const qKeep = a.qMask ? a.qMask[b][i] : true;
      for (let j = 0; j < Tv; j++) weights.data[(b * Tq + i) * Tv + j] = e[j] / sum;
      for (let d = 0; d < Dv; d++) {
        let acc = 0;
        for (let j = 0; j < Tv; j++) acc += (e[j] / sum) * at(a.v, b, j, d);
        out.data[(b * Tq + i) * Dv + d] = qKeep ? acc : 0;
      }
    }
  }
  return { out, weights };
}

function tensor(x: Nd): tf.Tensor {
  return tf.tensor(Float32Array.from(x.data), x.shape, 'float32');
}

/** A functional model around one attention layer, run by tfjs's predict. */
function run(layer: tf.layers.Layer, inputs: Nd[], kwargs: Record<string, unknown> = {}, weights?: tf.Tensor[]): tf.Tensor[] {
  const symbolic = inputs.map((x) => tf.input({ shape: x.shape.slice(1) }));
  const outs = layer.apply(symbolic, kwargs) as tf.SymbolicTensor | tf.SymbolicTensor[];
  const model = tf.model({ inputs: symbolic, outputs: outs });
  if (weights) layer.setWeights(weights);
  const result = model.predict(inputs.map(tensor));
  return Array.isArray(result) ? result : [result];
}

const rng = new Rng(1234);

/** A weight's own name (tfjs puts the layer's name scope in front). */
const own = (w: tf.LayerVariable) => w.originalName.split('/').pop();

describe('Attention (Luong)', () => {
  const q = rng.randn([2, 4, 3]);
  const v = rng.randn([2, 5, 3]);
  const k = rng.randn([2, 5, 3]);

  it('dot scores without a scale: softmax(q v^T) v, [query, value] (the value is the key)', () => {
    const [out] = run(new Attention({}), [q, v]);
    expect(out.shape).toEqual([2, 4, 3]);
    expectClose(out.dataSync(), refAttention({ q, v, mode: 'dot' }).out, { label: 'dot' });
  });

  it('[query, value, key] with use_scale and return_attention_scores: both outputs, weights rows sum to 1', () => {
    const layer = new Attention({ useScale: true });
    const [out, w] = run(layer, [q, v, k], { returnAttentionScores: true }, [tf.scalar(0.7)]);
    expect(layer.weights.map((x) => [own(x), x.shape])).toEqual([['scale', []]]);
    const ref = refAttention({ q, v, k, mode: 'dot', scale: 0.7 });
    expectClose(out.dataSync(), ref.out, { label: 'output' });
    expect(w.shape).toEqual([2, 4, 5]);
    expectClose(w.dataSync(), ref.weights, { label: 'weights' });
  });

  it('concat scores: concat_score_weight * Σ tanh(scale * (q + k)), with and without use_scale', () => {
    const scaled = new Attention({ scoreMode: 'concat', useScale: true });
    const [a] = run(scaled, [q, v, k], {}, [tf.scalar(1.3), tf.scalar(-0.6)]);
    expect(scaled.weights.map(own)).toEqual(['scale', 'concat_score_weight']);
    expectClose(a.dataSync(), refAttention({ q, v, k, mode: 'concat', scale: 1.3, csw: -0.6 }).out, { label: 'scaled' });
    const plain = new Attention({ scoreMode: 'concat' });
    const [b] = run(plain, [q, v], {}, [tf.scalar(0.8)]);
    expect(plain.weights.map(own)).toEqual(['concat_score_weight']);
    expectClose(b.dataSync(), refAttention({ q, v, mode: 'concat', csw: 0.8 }).out, { label: 'unscaled' });
  });

  it('causal: the call argument use_causal_mask and tf.keras <= 2.9 constructor causal mask the same keys', () => {
    const x = rng.randn([2, 5, 3]);
    const ref = refAttention({ q: x, v: x, mode: 'dot', causal: true }).out;
    const [byCall] = run(new Attention({}), [x, x], { useCausalMask: true });
    expectClose(byCall.dataSync(), ref, { label: 'use_causal_mask' });
    const [byConfig] = run(new Attention({ causal: true }), [x, x]);
    expectClose(byConfig.dataSync(), ref, { label: 'causal' });
    // not causal: the future counts
    const [free] = run(new Attention({}), [x, x]);
    expect(Math.abs(free.dataSync()[0] - byCall.dataSync()[0])).toBeGreaterThan(1e-3);
  });

  it('a tensor read as query and value is recorded once: self-attention, also after tfjs save and load', async () => {
    const x = rng.randn([2, 5, 3]);
    const input = tf.input({ shape: [5, 3] });
    const out = new Attention({ name: 'self' }).apply([input, input], { useCausalMask: true }) as tf.SymbolicTensor;
    // the residual keeps the input alive after the attention read it twice (tfjs's predict used to free it)
    const model = tf.model({ inputs: input, outputs: tf.layers.add().apply([input, out]) as tf.SymbolicTensor });
    expect(model.getLayer('self').inboundNodes[0].inputTensors).toHaveLength(1);
    const ref = refAttention({ q: x, v: x, mode: 'dot', causal: true }).out;
    const sum = nd(ref.shape, ref.data.map((r, i) => r + x.data[i]));
    expectClose((model.predict(tensor(x)) as tf.Tensor).dataSync(), sum, { label: 'residual' });
    const saved = await savedInMemory(model);
    const back = await tf.loadLayersModel(tf.io.fromMemory(saved));
    expectClose((back.predict(tensor(x)) as tf.Tensor).dataSync(), sum, { label: 'reloaded' });
  });

  it('query and value masks through predict: masked keys get no weight, masked query steps output zeros', () => {
    const B = 2;
    const qTokens = [[3, 1, 4, 0], [2, 0, 0, 0]];
    const vTokens = [[5, 2, 0, 0, 0], [1, 6, 7, 3, 0]];
    const table = rng.randn([8, 3]);
    const qIn = tf.input({ shape: [4], dtype: 'int32' });
    const vIn = tf.input({ shape: [5], dtype: 'int32' });
    const qEmb = tf.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true });
    const vEmb = tf.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true });
    const att = new Attention({});
    const out = att.apply([qEmb.apply(qIn) as tf.SymbolicTensor, vEmb.apply(vIn) as tf.SymbolicTensor]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [qIn, vIn], outputs: out });
    qEmb.setWeights([tensor(table)]);
    vEmb.setWeights([tensor(table)]);
    const embed = (tokens: number[][]) => nd([B, tokens[0].length, 3], tokens.flatMap((row) => row.flatMap((t) => Array.from(table.data.slice(t * 3, t * 3 + 3)))));
    const got = model.predict([tf.tensor2d(qTokens, undefined, 'int32'), tf.tensor2d(vTokens, undefined, 'int32')]) as tf.Tensor;
    const ref = refAttention({
      q: embed(qTokens),
      v: embed(vTokens),
      mode: 'dot',
      qMask: qTokens.map((r) => r.map((t) => t !== 0)),
      vMask: vTokens.map((r) => r.map((t) => t !== 0)),
    });
    expectClose(got.dataSync(), ref.out, { label: 'masked' });
    // the output carries the query's mask
    const mask = att.computeMask([tf.zeros([2, 4, 3]), tf.zeros([2, 5, 3])], [tf.tensor2d([[1, 0, 1, 1], [1, 1, 0, 0]], undefined, 'bool'), tf.ones([2, 5], 'bool')]) as tf.Tensor;
    expect(Array.from(mask.dataSync())).toEqual([1, 0, 1, 1, 1, 1, 0, 0]);
  });

  it('refuses what Keras would not run, naming it', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as KerasInteropError;
      }
      throw new Error('no error');
    };
    const unknown = err(() => new Attention({ scoreMode: 'dot', normalize: true } as unknown as ConstructorParameters<typeof Attention>[0]));
    expect(unknown).toBeInstanceOf(KerasInteropError);
    expect(unknown.code).toBe('UNSUPPORTED_LAYER');
    expect(unknown.message).toContain('"normalize"');
    const mode = err(() => new Attention({ scoreMode: 'general' }));
    expect(mode.code).toBe('CONFIG_INVALID');
    expect(mode.message).toContain('"general"');
    const x = tf.input({ shape: [2, 3] });
    const four = err(() => new Attention({}).apply([x, tf.input({ shape: [2, 3] }), tf.input({ shape: [2, 3] }), tf.input({ shape: [2, 3] })]));
    expect(four.code).toBe('INPUT_MISMATCH');
    const flat = err(() => new Attention({}).apply([tf.input({ shape: [] }), x]));
    expect(flat.code).toBe('INPUT_MISMATCH');
    expect(flat.message).toMatch(/^Attention "attention\w*": the query must have shape \(batch, steps, features\), got \[null\]$/);
    const deep = err(() => new AdditiveAttention({}).apply([x, tf.input({ shape: [2, 3, 4] })]));
    expect(deep.message).toMatch(/the value must have shape \(batch, steps, features\), got \[null,2,3,4\]/);
  });

  it('getConfig has Keras\'s keys and rebuilds the same layer', () => {
    const layer = new Attention({ name: 'a', useScale: true, scoreMode: 'concat', dropout: 0.1, seed: 7 });
    const config = layer.getConfig();
    expect(config).toMatchObject({ name: 'a', useScale: true, scoreMode: 'concat', dropout: 0.1, seed: 7 });
    const again = Attention.fromConfig(Attention, config) as Attention;
    expect([again.useScale, again.scoreMode, again.dropout]).toEqual([true, 'concat', 0.1]);
  });
});

describe('AdditiveAttention (Bahdanau)', () => {
  const q = rng.randn([2, 3, 4]);
  const v = rng.randn([2, 6, 4]);
  const k = rng.randn([2, 6, 4]);

  it('scores Σ_d scale_d · tanh(q + k)_d with its (dim,) scale', () => {
    const scale = rng.randn([4]);
    const layer = new AdditiveAttention({});
    const [out, w] = run(layer, [q, v, k], { returnAttentionScores: true }, [tensor(scale)]);
    expect(layer.weights.map((x) => [own(x), x.shape])).toEqual([['scale', [4]]]);
    const ref = refAttention({ q, v, k, mode: 'additive', scale: scale.data });
    expectClose(out.dataSync(), ref.out, { label: 'output' });
    expectClose(w.dataSync(), ref.weights, { label: 'weights' });
  });

  it('use_scale=False: the plain sum, no weights; causal and value mask as Attention', () => {
    const layer = new AdditiveAttention({ useScale: false });
    const x = rng.randn([2, 4, 4]);
    const [out] = run(layer, [x, x], { useCausalMask: true });
    expect(layer.weights).toHaveLength(0);
    expectClose(out.dataSync(), refAttention({ q: x, v: x, mode: 'additive', causal: true }).out, { label: 'causal' });
  });
});

describe('Attention in model files', () => {
  /** A tf.keras 2.9 functional model: Attention(causal=True, use_scale=True)([x, x]) (the config key tf.keras <= 2.9 wrote). */
  const tf29 = (): KerasModel => ({
    source: { format: 'keras2-h5', file: 'tf29.h5', kerasVersion: '2.9.0', backend: 'tensorflow', extras: {} },
    config: {
      class_name: 'Functional',
      config: {
        name: 'model',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { batch_input_shape: [null, 4, 3], dtype: 'float32', name: 'x' }, inbound_nodes: [] },
          {
            class_name: 'Attention',
            name: 'attention',
            config: { name: 'attention', trainable: true, dtype: 'float32', causal: true, dropout: 0.0, use_scale: true, score_mode: 'dot' },
            inbound_nodes: [[['x', 0, 0, {}], ['x', 0, 0, {}]]],
          },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['attention', 0, 0]],
      },
    },
    weights: [{ layer: 'attention', weights: [{ name: 'attention/scale:0', path: '/model_weights/attention/attention/scale:0', shape: [], dtype: 'float32', data: Float32Array.of(0.9) }] }],
  });
  const x = rng.randn([2, 4, 3]);
  const want = refAttention({ q: x, v: x, mode: 'dot', scale: Math.fround(0.9), causal: true }).out;
  const input = { dtype: 'float32', shape: x.shape, data: Float32Array.from(x.data) };

  it('a tf.keras 2.9 causal=True config runs causal; in Keras 3 form it is the call argument use_causal_mask', async () => {
    const [out] = await runModel(tf29(), [input], { backend: 'cpu' });
    expectClose(out.data, want, { label: 'tf.keras 2.9' });
    const k3 = toKeras3Config(tf29().config!);
    const att = ((k3.config as JsonObject).layers as JsonObject[])[1];
    expect('causal' in (att.config as JsonObject)).toBe(false);
    expect((att.inbound_nodes as JsonObject[])[0].kwargs).toEqual({ use_causal_mask: true });
    const { dir, cleanup } = tempDir('ki-attention-');
    try {
      const [file] = await convertModel(tf29(), 'keras', join(dir, 'm.keras'));
      const [back] = await runModel(await readModel(file), [input], { backend: 'cpu' });
      expectClose(back.data, want, { label: '.keras' });
    } finally {
      cleanup();
    }
  });
});
