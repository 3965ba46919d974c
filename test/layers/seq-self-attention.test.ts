import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/runtime/backend.js';
import { SeqSelfAttention } from '../../src/layers/index.js';
import { additiveEmission, attentionRegularizer, outsideWindow } from '../../src/layers/seq-self-attention.js';
import { KerasInteropError } from '../../src/errors.js';
import {
  ACTS,
  Rng,
  expectClose,
  nd,
  refAttentionRegularizer,
  refSeqSelfAttention,
  trailingMask,
  type Nd,
  type SelfAttentionWeights,
} from './attention-reference.js';
import { maskTensor, ndTensor as t3 } from './attention-tensors.js';

beforeAll(async () => {
  await useBackend('cpu');
});

interface Case {
  type: 'additive' | 'multiplicative';
  width: number | null;
  historyOnly: boolean;
  masked: boolean;
  useAdditiveBias: boolean;
  useAttentionBias: boolean;
  activation: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'hard_sigmoid' | null;
  returnAttention: boolean;
}

const B = 3;
const T = 7;
const F = 4;
const U = 5;

/** Random weights in the Python build order (the order setWeights expects). */
function makeWeights(rng: Rng, c: Case): { ordered: Nd[]; ref: SelfAttentionWeights } {
  if (c.type === 'additive') {
    const Wt = rng.randn([F, U], 0.5);
    const Wx = rng.randn([F, U], 0.5);
    const bh = c.useAdditiveBias ? rng.randn([U], 0.5) : null;
    const Wa = rng.randn([U, 1], 0.5);
    const ba = c.useAttentionBias ? rng.randn([1], 0.5) : null;
    return { ordered: [Wt, Wx, ...(bh ? [bh] : []), Wa, ...(ba ? [ba] : [])], ref: { Wt, Wx, bh, Wa, ba } };
  }
  const Wa = rng.randn([F, F], 0.5);
  const ba = c.useAttentionBias ? rng.randn([1], 0.5) : null;
  return { ordered: [Wa, ...(ba ? [ba] : [])], ref: { Wa, ba } };
}

async function runCase(c: Case, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const x = rng.randn([B, T, F]);
  const mask = c.masked ? trailingMask([T, 4, 2], T) : undefined;
  const { ordered, ref } = makeWeights(rng, c);
  const layer = new SeqSelfAttention({
    name: 'att',
    units: U,
    attentionType: c.type,
    attentionWidth: c.width,
    historyOnly: c.historyOnly,
    useAdditiveBias: c.useAdditiveBias,
    useAttentionBias: c.useAttentionBias,
    attentionActivation: c.activation,
    returnAttention: c.returnAttention,
  });
  layer.build([null, null, F]);
  layer.setWeights(ordered.map(t3));
  const xs = t3(x);
  const out = layer.apply(xs, mask ? { mask: maskTensor(mask) } : {}) as tf.Tensor | tf.Tensor[];
  const expected = refSeqSelfAttention(x, ref, {
    type: c.type,
    units: U,
    width: c.width,
    historyOnly: c.historyOnly,
    activation: ACTS[c.activation ?? 'linear']!,
  }, mask);
  const [v, a] = Array.isArray(out) ? out : [out, undefined];
  expect(Array.isArray(out)).toBe(c.returnAttention);
  expect(v!.shape).toEqual([B, T, F]);
  expectClose(await v!.data(), expected.out, { skipRows: expected.saturated, label: 'output' });
  if (a) {
    expect(a.shape).toEqual([B, T, T]);
    expectClose(await a.data(), expected.att, { skipRows: expected.saturated, label: 'attention' });
  }
  if (a) {
    // Rows where every pair was penalized (skipped above) still hold a proper distribution.
    const sums = await tf.sum(a, -1).data();
    for (const s of sums) expect(Math.abs(s - 1)).toBeLessThan(1e-5);
  }
}

describe('SeqSelfAttention vs the plain-JS reference', () => {
  const activations: Case['activation'][] = [null, 'sigmoid', 'tanh', 'linear', 'relu', 'hard_sigmoid'];
  let seed = 1000;
  let n = 0;
  for (const type of ['additive', 'multiplicative'] as const) {
    for (const width of [null, 1, 2, 3, 4, 100]) {
      for (const historyOnly of [false, true]) {
        for (const masked of [false, true]) {
          const c: Case = {
            type,
            width,
            historyOnly,
            masked,
            useAdditiveBias: n % 3 !== 1,
            useAttentionBias: n % 4 !== 2,
            activation: activations[n % activations.length]!,
            returnAttention: true,
          };
          n++;
          const s = seed++;
          it(`${type} width=${width} history_only=${historyOnly} mask=${masked} bh=${c.useAdditiveBias} ba=${c.useAttentionBias} act=${c.activation}`, async () => {
            await runCase(c, s);
          });
        }
      }
    }
  }

  for (const type of ['additive', 'multiplicative'] as const) {
    for (const [useAdditiveBias, useAttentionBias] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      it(`${type} biases bh=${useAdditiveBias} ba=${useAttentionBias}, single output`, async () => {
        await runCase(
          { type, width: null, historyOnly: false, masked: true, useAdditiveBias, useAttentionBias, activation: 'sigmoid', returnAttention: false },
          seed++,
        );
      });
    }
  }
});

describe('SeqSelfAttention weights, masks and shapes', () => {
  it('creates the Python weights in build order with Python names', () => {
    const add = new SeqSelfAttention({ name: 'sa', units: 6 });
    add.build([null, 5, 3]);
    expect(add.weights.map((w) => w.originalName.split('/').pop())).toEqual(['sa_Add_Wt', 'sa_Add_Wx', 'sa_Add_bh', 'sa_Add_Wa', 'sa_Add_ba']);
    expect(add.weights.map((w) => w.shape)).toEqual([[3, 6], [3, 6], [6], [6, 1], [1]]);
    const noBias = new SeqSelfAttention({ name: 'nb', units: 6, useAdditiveBias: false, useAttentionBias: false });
    noBias.build([null, 5, 3]);
    expect(noBias.weights.map((w) => w.originalName.split('/').pop())).toEqual(['nb_Add_Wt', 'nb_Add_Wx', 'nb_Add_Wa']);
    const mul = new SeqSelfAttention({ name: 'mu', attentionType: 'multiplicative' });
    mul.build([null, 5, 3]);
    expect(mul.weights.map((w) => [w.originalName.split('/').pop(), w.shape])).toEqual([
      ['mu_Mul_Wa', [3, 3]],
      ['mu_Mul_ba', [1]],
    ]);
  });

  it('passes the input mask through, and [mask, null] with return_attention', () => {
    const m = maskTensor(trailingMask([3, 1], 4));
    const x = tf.ones([2, 4, 3]);
    const plain = new SeqSelfAttention({});
    expect(plain.computeMask(x, m)).toBe(m);
    expect(plain.computeMask([x], [m])).toBe(m);
    const both = new SeqSelfAttention({ returnAttention: true });
    expect(both.computeMask(x, m)).toEqual([m, null]);
    expect(both.computeOutputShape([null, 4, 3])).toEqual([
      [null, 4, 3],
      [null, 4, 4],
    ]);
    expect(plain.computeOutputShape([null, 4, 3])).toEqual([null, 4, 3]);
  });

  it('takes the mask from Embedding(mask_zero) inside a tfjs model', async () => {
    const rng = new Rng(7);
    const tokens = [
      [3, 1, 4, 1, 5, 0, 0],
      [2, 6, 0, 0, 0, 0, 0],
    ];
    const table = rng.randn([8, F], 0.5);
    const input = tf.input({ shape: [T], dtype: 'int32' });
    const emb = tf.layers.embedding({ inputDim: 8, outputDim: F, maskZero: true, weights: [t3(table)] });
    const att = new SeqSelfAttention({ units: U, attentionActivation: 'sigmoid', returnAttention: true });
    const outs = att.apply(emb.apply(input)) as tf.SymbolicTensor[];
    const model = tf.model({ inputs: input, outputs: outs });
    const w = makeWeights(rng, { type: 'additive', useAdditiveBias: true, useAttentionBias: true } as Case);
    att.setWeights(w.ordered.map(t3));
    const [v, a] = model.predict(tf.tensor2d(tokens, undefined, 'int32')) as tf.Tensor[];
    const x = nd([2, T, F]);
    tokens.forEach((row, b) => row.forEach((tok, t) => x.data.set(table.data.subarray(tok * F, tok * F + F), (b * T + t) * F)));
    const expected = refSeqSelfAttention(x, w.ref, { type: 'additive', units: U, width: null, historyOnly: false, activation: ACTS['sigmoid']! }, tokens.map((r) => r.map((t) => t !== 0)));
    expectClose(await v!.data(), expected.out, { label: 'output' });
    expectClose(await a!.data(), expected.att, { label: 'attention' });
  });

  it('chunked additive scores equal the one-shot scores', async () => {
    const rng = new Rng(11);
    const q = t3(rng.randn([2, 9, 4])) as tf.Tensor3D;
    const k = t3(rng.randn([2, 9, 4])) as tf.Tensor3D;
    const bh = t3(rng.randn([4]));
    const wa = t3(rng.randn([4, 1]));
    const ba = t3(rng.randn([1]));
    const whole = await additiveEmission(q, k, bh, wa, ba).data();
    for (const maxElements of [1, 2 * 9 * 4, 2 * 9 * 4 * 4 + 3]) {
      const chunked = additiveEmission(q, k, bh, wa, ba, maxElements);
      expect(chunked.shape).toEqual([2, 9, 9]);
      expect(Array.from(await chunked.data())).toEqual(Array.from(whole));
    }
  });

  it('marks pairs outside the window like Python, for huge widths too', async () => {
    // history_only width 3: t' in [t-2, t]; centred width 4: t' in [t-2, t+1].
    const hist = (await outsideWindow(5, 3, true).array()) as number[][];
    expect(hist[4]).toEqual([1, 1, 0, 0, 0]);
    expect(hist[0]).toEqual([0, 1, 1, 1, 1]);
    const centred = (await outsideWindow(6, 4, false).array()) as number[][];
    expect(centred[3]).toEqual([1, 0, 0, 0, 0, 1]);
    const even = (await outsideWindow(4, 1e10, false).array()) as number[][];
    expect(even.flat().every((v) => v === 0)).toBe(true);
    const causal = (await outsideWindow(4, 1e10, true).array()) as number[][];
    expect(causal).toEqual([
      [0, 1, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ]);
  });

  it('history_only without a width means width 1e9, as Python stores it', () => {
    const l = new SeqSelfAttention({ historyOnly: true });
    expect(l.attentionWidth).toBe(1e9);
    expect(l.getConfig()['attentionWidth']).toBe(1000000000);
    expect(new SeqSelfAttention({}).attentionWidth).toBeNull();
  });

  it('rejects a bad attention_type and unknown activations with KerasInteropError', () => {
    expect(() => new SeqSelfAttention({ attentionType: 'dot' as 'additive' })).toThrow(KerasInteropError);
    expect(() => new SeqSelfAttention({ attentionActivation: 'nope' })).toThrow(/unknown attention_activation/);
    expect(() => new SeqSelfAttention({ kernelRegularizer: { className: 'Nope', config: {} } })).toThrow(KerasInteropError);
  });
});

describe('SeqSelfAttention attention regularizer', () => {
  it('attentionRegularizer equals Python _attention_regularizer', async () => {
    const rng = new Rng(21);
    const raw = rng.randn([2, 5, 5]);
    // rows of a softmax
    const att = nd([2, 5, 5]);
    for (let r = 0; r < 10; r++) {
      const row = Array.from(raw.data.subarray(r * 5, r * 5 + 5)).map(Math.exp);
      const s = row.reduce((a, b) => a + b, 0);
      row.forEach((v, j) => (att.data[r * 5 + j] = Math.fround(v / s)));
    }
    const got = await attentionRegularizer(t3(att), 1e-2).data();
    expect(got.length).toBe(1);
    expect(Math.abs(got[0]! - refAttentionRegularizer(att, 1e-2))).toBeLessThan(1e-7);
  });

  it('is added to the training loss by fit and leaves predictions alone', async () => {
    const rng = new Rng(5);
    const x = rng.randn([2, 4, 3]);
    const y = rng.randn([2, 4, 3]);
    const build = (weight: number): { model: tf.LayersModel; layer: SeqSelfAttention } => {
      const input = tf.input({ shape: [4, 3] });
      const layer = new SeqSelfAttention({ units: 3, attentionActivation: 'tanh', attentionRegularizerWeight: weight, returnAttention: false });
      const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
      model.compile({ optimizer: tf.train.sgd(0), loss: 'meanSquaredError' });
      return { model, layer };
    };
    const withReg = build(0.05);
    const noReg = build(0);
    noReg.layer.setWeights(withReg.layer.getWeights());
    const p1 = await (withReg.model.predict(t3(x)) as tf.Tensor).data();
    const p2 = await (noReg.model.predict(t3(x)) as tf.Tensor).data();
    expect(Array.from(p1)).toEqual(Array.from(p2));

    // The attention of this input, to compute the expected penalty.
    const probe = new SeqSelfAttention({ units: 3, attentionActivation: 'tanh', returnAttention: true });
    probe.build([null, 4, 3]);
    probe.setWeights(withReg.layer.getWeights());
    const [, a] = probe.apply(t3(x)) as tf.Tensor[];
    const att = nd([2, 4, 4], await a!.data());
    const penalty = refAttentionRegularizer(att, 0.05);
    expect(penalty).toBeGreaterThan(1e-3);

    const h1 = await withReg.model.fit(t3(x), t3(y), { epochs: 1, batchSize: 2, verbose: 0, shuffle: false });
    const h2 = await noReg.model.fit(t3(x), t3(y), { epochs: 1, batchSize: 2, verbose: 0, shuffle: false });
    const l1 = h1.history['loss']![0] as number;
    const l2 = h2.history['loss']![0] as number;
    expect(Math.abs(l1 - l2 - penalty)).toBeLessThan(1e-5);
  });
});

describe('SeqSelfAttention config', () => {
  const PY_KEYS = [
    'units',
    'attention_width',
    'attention_type',
    'return_attention',
    'history_only',
    'use_additive_bias',
    'use_attention_bias',
    'kernel_initializer',
    'bias_initializer',
    'kernel_regularizer',
    'bias_regularizer',
    'kernel_constraint',
    'bias_constraint',
    'attention_activation',
    'attention_regularizer_weight',
  ];

  it('fromConfig(getConfig()) reproduces the config, every option set', () => {
    const layer = new SeqSelfAttention({
      name: 'full',
      units: 7,
      attentionWidth: 5,
      attentionType: 'multiplicative',
      returnAttention: true,
      historyOnly: true,
      kernelInitializer: 'heNormal',
      biasInitializer: { className: 'Constant', config: { value: 0.5 } },
      kernelRegularizer: { className: 'L2', config: { l2: 1e-6 } },
      biasRegularizer: 'l1',
      kernelConstraint: { className: 'MaxNorm', config: { maxValue: 2, axis: 0 } },
      biasConstraint: 'nonNeg',
      useAdditiveBias: false,
      useAttentionBias: false,
      attentionActivation: 'hard_sigmoid',
      attentionRegularizerWeight: 1e-4,
    });
    const config = layer.getConfig();
    const again = SeqSelfAttention.fromConfig(SeqSelfAttention, config) as SeqSelfAttention;
    expect(again.getConfig()).toEqual(config);
    expect(config['kernelRegularizer']).toEqual({ className: 'L1L2', config: { l1: 0, l2: 1e-6 } });
    expect(config['biasRegularizer']).toEqual({ className: 'L1L2', config: { l1: 0.01, l2: 0 } });
    expect(config['kernelConstraint']).toEqual({ className: 'MaxNorm', config: { maxValue: 2, axis: 0 } });
    expect(config['attentionActivation']).toBe('hardSigmoid');
    expect(config['attentionType']).toBe('multiplicative');
  });

  it('serializes with the Python get_config keys and loads back through tfjs', async () => {
    const input = tf.input({ shape: [5, 3] });
    const layer = new SeqSelfAttention({ name: 'sa', units: 4, attentionWidth: 3, attentionActivation: 'sigmoid', kernelRegularizer: 'l2' });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    const json = model.toJSON(undefined, false) as unknown as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
    const saved = json.config.layers.find((l) => l.class_name === 'SeqSelfAttention')!;
    for (const key of PY_KEYS) expect(saved.config, key).toHaveProperty(key);
    expect(saved.config['attention_activation']).toBe('sigmoid');
    expect(saved.config['attention_type']).toBe('additive');
    const reloaded = await tf.models.modelFromJSON(json as unknown as Parameters<typeof tf.models.modelFromJSON>[0]);
    reloaded.setWeights(model.getWeights());
    const x = tf.randomNormal([2, 5, 3]);
    expect(Array.from(await (reloaded.predict(x) as tf.Tensor).data())).toEqual(Array.from(await (model.predict(x) as tf.Tensor).data()));
    expect(reloaded.layers[1]!.getConfig()).toEqual(layer.getConfig());
  });
});
