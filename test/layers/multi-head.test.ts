import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MultiHead, multiHeadRegularizationLoss, pySliceIndices, type RegSliceEntry } from '../../src/layers/multi-head.js';
import { KmhMultiHeadAttention } from '../../src/layers/multi-head-attention.js';
import { KerasInteropError } from '../../src/errors.js';
import { useBackend } from '../../src/runtime/backend.js';
import { goldenDir, h5LayerConfig, h5LayerWeights, npyTensor, rng, withinTolerance } from './multi-head-golden-helpers.js';
import { randomArray, seedWeights } from './seeded-values.js';
import { savedInMemory } from '../helpers/tfjs-memory.js';

beforeAll(async () => {
  await useBackend('cpu');
  tf.serialization.registerClass(MultiHead);
  tf.serialization.registerClass(KmhMultiHeadAttention);
});

function size(shape: readonly (number | null)[]): number {
  return (shape as number[]).reduce((a, b) => a * b, 1);
}

function input(shape: number[], seed: number): { values: Float32Array; tensor: tf.Tensor } {
  const values = randomArray(rng(seed), size(shape));
  return { values, tensor: tf.tensor(values, shape) };
}

function expectClose(actual: tf.Tensor, expected: ArrayLike<number>, shape: number[], atol = 2e-5): void {
  expect(actual.shape).toEqual(shape);
  const a = actual.dataSync();
  expect(a.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - expected[i]));
  expect(worst).toBeLessThan(atol);
}

/** y[r, o] = b[o] + Σ x[r, i] W[i, o] over rows r of a (rows, inDim) array. */
function dense(x: ArrayLike<number>, rows: number, inDim: number, W: ArrayLike<number>, b: ArrayLike<number> | null, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inDim; i++) s += x[r * inDim + i] * W[i * outDim + o];
      y[r * outDim + o] = s;
    }
  }
  return y;
}

/** Stack per-head outputs (each of `inner` values per position) on a new last axis. */
function stackLast(heads: ArrayLike<number>[], positions: number, inner: number): Float64Array {
  const n = heads.length;
  const out = new Float64Array(positions * inner * n);
  for (let p = 0; p < positions * inner; p++) for (let h = 0; h < n; h++) out[p * n + h] = heads[h][p];
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Keras LSTM (gates i, f, c, o; sigmoid/tanh) with masking: a masked step keeps the states. */
function lstm(x: Float32Array | Float64Array, B: number, T: number, D: number, W: Float32Array, U: Float32Array, bias: Float32Array, units: number, mask?: number[][]): Float64Array {
  const out = new Float64Array(B * units);
  for (let b = 0; b < B; b++) {
    let h = new Float64Array(units);
    let c = new Float64Array(units);
    for (let t = 0; t < T; t++) {
      if (mask && !mask[b][t]) continue;
      const z = new Float64Array(4 * units);
      for (let g = 0; g < 4 * units; g++) {
        let s = bias[g];
        for (let i = 0; i < D; i++) s += x[(b * T + t) * D + i] * W[i * 4 * units + g];
        for (let i = 0; i < units; i++) s += h[i] * U[i * 4 * units + g];
        z[g] = s;
      }
      const nh = new Float64Array(units);
      const nc = new Float64Array(units);
      for (let u = 0; u < units; u++) {
        const ig = sigmoid(z[u]);
        const fg = sigmoid(z[units + u]);
        const cg = Math.tanh(z[2 * units + u]);
        const og = sigmoid(z[3 * units + u]);
        nc[u] = fg * c[u] + ig * cg;
        nh[u] = og * Math.tanh(nc[u]);
      }
      h = nh;
      c = nc;
    }
    out.set(h, b * units);
  }
  return out;
}

describe('MultiHead', () => {
  it('duplicates one layer layer_num times, stacks outputs on a new last axis, weights in sub-layer order', () => {
    const layer = new MultiHead({ name: 'multi_dense', layer: { className: 'Dense', config: { units: 3, name: 'dense' } }, layerNum: 3 });
    const x = input([2, 4, 5], 1);
    const out = layer.apply(x.tensor) as tf.Tensor;
    expect(out.shape).toEqual([2, 4, 3, 3]);
    expect(layer.layers.map((l) => l.name)).toEqual(['dense_1', 'dense_2', 'dense_3']);
    expect(layer.weights.map((w) => w.shape)).toEqual([[5, 3], [3], [5, 3], [3], [5, 3], [3]]);
    expect(new Set(layer.weights.map((w) => w.originalName)).size).toBe(6);
    const w = seedWeights(layer, 2);
    const heads = [0, 1, 2].map((i) => dense(x.values, 8, 5, w[2 * i], w[2 * i + 1], 3));
    expectClose(layer.apply(x.tensor) as tf.Tensor, stackLast(heads, 8, 3), [2, 4, 3, 3]);
    expect(layer.computeOutputShape([null, 4, 5])).toEqual([null, 4, 3, 3]);
  });

  it('runs a list of different Conv1D layers', () => {
    const layer = new MultiHead({
      name: 'multi_conv',
      layers: [3, 5, 1].map((k) => ({ className: 'Conv1D', config: { name: `conv_k${k}`, filters: 2, kernelSize: [k], padding: 'same' } })),
    });
    const [B, T, C] = [2, 6, 3];
    const x = input([B, T, C], 3);
    layer.apply(x.tensor);
    expect(layer.weights.map((w) => w.shape)).toEqual([[3, 3, 2], [2], [5, 3, 2], [2], [1, 3, 2], [2]]);
    const w = seedWeights(layer, 4);
    const heads = [3, 5, 1].map((K, i) => {
      const W = w[2 * i];
      const b = w[2 * i + 1];
      const y = new Float64Array(B * T * 2);
      const padLeft = Math.floor((K - 1) / 2);
      for (let bb = 0; bb < B; bb++) {
        for (let t = 0; t < T; t++) {
          for (let f = 0; f < 2; f++) {
            let s = b[f];
            for (let k = 0; k < K; k++) {
              const src = t + k - padLeft;
              if (src < 0 || src >= T) continue;
              for (let c = 0; c < C; c++) s += x.values[(bb * T + src) * C + c] * W[(k * C + c) * 2 + f];
            }
            y[(bb * T + t) * 2 + f] = s;
          }
        }
      }
      return y;
    });
    expectClose(layer.apply(x.tensor) as tf.Tensor, stackLast(heads, B * T, 2), [2, 6, 2, 3]);
  });

  it('hidden_dim maps the input per head (W, b first in the weights), with and without bias', () => {
    for (const useBias of [true, false]) {
      const layer = new MultiHead({
        name: `multi_hidden_${useBias}`,
        layer: { className: 'Dense', config: { units: 2, name: 'd' } },
        layerNum: 3,
        hiddenDim: 4,
        useBias,
      });
      const x = input([2, 3, 5], 5);
      layer.apply(x.tensor);
      const own = useBias ? [[5, 12], [12]] : [[5, 12]];
      expect(layer.weights.map((w) => w.shape)).toEqual([...own, [4, 2], [2], [4, 2], [2], [4, 2], [2]]);
      expect(layer.weights[0].originalName).toBe(`multi_hidden_${useBias}/multi_hidden_${useBias}_W`);
      const w = seedWeights(layer, 6);
      const W = w[0];
      const b = useBias ? w[1] : null;
      const off = useBias ? 2 : 1;
      const heads = [0, 1, 2].map((i) => {
        const Wi = new Float64Array(5 * 4);
        for (let r = 0; r < 5; r++) for (let c = 0; c < 4; c++) Wi[r * 4 + c] = W[r * 12 + i * 4 + c];
        const mapped = dense(x.values, 6, 5, Wi, b ? b.subarray(i * 4, i * 4 + 4) : null, 4);
        return dense(mapped, 6, 4, w[off + 2 * i], w[off + 2 * i + 1], 2);
      });
      expectClose(layer.apply(x.tensor) as tf.Tensor, stackLast(heads, 6, 2), [2, 3, 2, 3]);
      expect(layer.computeOutputShape([null, 3, 5])).toEqual([null, 3, 2, 3]);
    }
  });

  it('passes the mask to LSTM sub-layers, and its output mask is the first sub-layer\'s', () => {
    const units = 3;
    const layer = new MultiHead({
      name: 'multi_lstm',
      layer: { className: 'LSTM', config: { units, name: 'lstm', recurrentActivation: 'sigmoid' } },
      layerNum: 2,
      hiddenDim: 2,
    });
    const [B, T, D] = [2, 5, 3];
    const x = input([B, T, D], 7);
    const maskRows = [
      [1, 1, 1, 0, 0],
      [1, 0, 1, 1, 0],
    ];
    const mask = tf.tensor(maskRows.flat(), [B, T], 'bool');
    layer.apply(x.tensor);
    const w = seedWeights(layer, 8, 0.5);
    const out = layer.apply(x.tensor, { mask }) as tf.Tensor;
    const heads = [0, 1].map((i) => {
      const Wi = new Float64Array(D * 2);
      for (let r = 0; r < D; r++) for (let c = 0; c < 2; c++) Wi[r * 2 + c] = w[0][r * 4 + i * 2 + c];
      const mapped = dense(x.values, B * T, D, Wi, w[1].subarray(i * 2, i * 2 + 2), 2);
      return lstm(mapped, B, T, 2, w[2 + 3 * i], w[3 + 3 * i], w[4 + 3 * i], units, maskRows);
    });
    expectClose(out, stackLast(heads, B, units), [B, units, 2]);
    expect(layer.computeMask(x.tensor, mask)).toBeNull();

    const seqLayer = new MultiHead({ name: 'multi_lstm_seq', layer: { className: 'LSTM', config: { units, returnSequences: true } }, layerNum: 2 });
    seqLayer.apply(x.tensor);
    expect(Array.from((seqLayer.computeMask(x.tensor, mask) as tf.Tensor).dataSync())).toEqual(maskRows.flat());
  });

  it('wraps our attention layers: each head equals the sub-layer run alone', () => {
    const layer = new MultiHead({
      name: 'multi_att',
      layers: [
        { className: 'KerasMultiHead>MultiHeadAttention', config: { name: 'att_a', headNum: 2 } },
        { className: 'KerasMultiHead>MultiHeadAttention', config: { name: 'att_b', headNum: 1, historyOnly: true } },
      ],
    });
    const x = input([2, 4, 4], 9);
    layer.apply(x.tensor);
    seedWeights(layer, 10);
    const heads = layer.layers.map((l) => (l.apply(x.tensor) as tf.Tensor).dataSync());
    expectClose(layer.apply(x.tensor) as tf.Tensor, stackLast(heads, 8, 4), [2, 4, 4, 2]);
  });

  it('orders weights as Python: own trainable, sub-layers\' trainable, then non-trainable; set/get round-trip', () => {
    const layer = new MultiHead({ name: 'multi_bn', layer: { className: 'BatchNormalization', config: { name: 'bn' } }, layerNum: 2, hiddenDim: 3 });
    layer.apply(tf.zeros([2, 4]));
    expect(layer.weights.map((w) => w.originalName)).toEqual([
      'multi_bn/multi_bn_W',
      'multi_bn/multi_bn_b',
      'multi_bn/bn_1/gamma',
      'multi_bn/bn_1/beta',
      'multi_bn/bn_2/gamma',
      'multi_bn/bn_2/beta',
      'multi_bn/bn_1/moving_mean',
      'multi_bn/bn_1/moving_variance',
      'multi_bn/bn_2/moving_mean',
      'multi_bn/bn_2/moving_variance',
    ]);
    expect(layer.trainableWeights).toHaveLength(6);
    expect(layer.nonTrainableWeights).toHaveLength(4);
    const values = seedWeights(layer, 11).map((v) => v.map(Math.abs));
    layer.setWeights(values.map((v, i) => tf.tensor(v, layer.weights[i].shape as number[])));
    layer.getWeights().forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(values[i])));
    layer.trainable = false;
    expect(layer.trainableWeights).toHaveLength(0);
    expect(layer.layers.every((l) => !l.trainable)).toBe(true);
    expect(layer.weights).toHaveLength(10);
  });

  it('getConfig writes the Python keys and round-trips (duplicated and list forms)', () => {
    const dup = new MultiHead({
      name: 'Multi-Head',
      layer: { className: 'Bidirectional', config: { name: 'bilstm', layer: { className: 'LSTM', config: { units: 4, name: 'lstm' } } } },
      layerNum: 2,
      regIndex: [1, 4],
      regSlice: [
        [[null, null, null], [8, 12, null]],
        [[null, null, null], [8, 12, null]],
      ],
      regFactor: 0.1,
    });
    const config = dup.getConfig();
    expect(Object.keys(config)).toEqual(['name', 'trainable', 'dtype', 'layers', 'hiddenDim', 'useBias', 'regIndex', 'regSlice', 'regFactor']);
    expect(config.regFactor).toEqual([0.1, 0.1]);
    expect(config.regSlice).toEqual([[[null, null, null], [8, 12, null]], [[null, null, null], [8, 12, null]]]);
    expect((config.layers as { className: string; config: { name: string } }[]).map((l) => [l.className, l.config.name])).toEqual([
      ['Bidirectional', 'bilstm_1'],
      ['Bidirectional', 'bilstm_2'],
    ]);
    const back = MultiHead.fromConfig(MultiHead, config) as MultiHead;
    expect(back.getConfig()).toEqual(config);

    const scalar = new MultiHead({ name: 'm2', layer: { className: 'Dense', config: { units: 2 } }, layerNum: 2, regIndex: 0, regFactor: 0.5 });
    expect(scalar.getConfig().regIndex).toEqual([0]);
    expect(scalar.getConfig().regSlice).toEqual([null]);
    expect(scalar.getConfig().regFactor).toEqual([0.5]);
    const plain = new MultiHead({ name: 'm3', layers: [{ className: 'Dense', config: { units: 2, name: 'a' } }] });
    expect(plain.getConfig()).toMatchObject({ hiddenDim: null, useBias: true, regIndex: null, regSlice: null, regFactor: 0 });
    expect((MultiHead.fromConfig(MultiHead, plain.getConfig()) as MultiHead).getConfig()).toEqual(plain.getConfig());
  });

  it('reports nested classes tfjs does not know', () => {
    expect(() => new MultiHead({ name: 'bad', layers: [{ className: 'NoSuchLayer', config: {} }] })).toThrow(KerasInteropError);
    expect(() => new MultiHead({ name: 'empty' })).toThrow(/neither/);
  });
});

describe('MultiHead regularization loss', () => {
  it('Python slice semantics', () => {
    expect(pySliceIndices(6, [null, null, null])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pySliceIndices(6, [1, -1, 2])).toEqual([1, 3]);
    expect(pySliceIndices(6, [null, null, -2])).toEqual([5, 3, 1]);
    expect(pySliceIndices(6, [-2, null, null])).toEqual([4, 5]);
    expect(pySliceIndices(6, [10, 20, null])).toEqual([]);
    expect(pySliceIndices(6, [4, 1, -1])).toEqual([4, 3, 2]);
  });

  it('equals factor * sum((M Mᵀ - I)²) over the sliced, flattened weights', () => {
    const units = 4;
    const regSlice: RegSliceEntry[] = [[[null, null, null], [2 * units, 3 * units, null]], null, [[1, null, 2], [null, null, -3]]];
    const layer = new MultiHead({
      name: 'reg',
      layer: { className: 'Bidirectional', config: { name: 'bi', layer: { className: 'LSTM', config: { units, name: 'lstm' } } } },
      layerNum: 3,
      regIndex: [1, 2, 4],
      regSlice,
      regFactor: [0.1, 0.02, 0.3],
    });
    layer.apply(tf.zeros([1, 5, 3]));
    const w = seedWeights(layer, 12, 0.3);
    const perLayer = w.length / 3;
    const shapes = layer.layers[0].weights.map((v) => v.shape as number[]);
    const take = (values: Float32Array, shape: number[], entry: RegSliceEntry): number[] => {
      if (entry == null) return Array.from(values);
      const slices = Array.isArray(entry[0]) ? (entry as [number | null, number | null, number | null][]) : [entry as [number | null, number | null, number | null]];
      const rows = slices[0] ? pySliceIndices(shape[0], slices[0]) : [...Array(shape[0]).keys()];
      const cols = shape.length > 1 ? (slices[1] ? pySliceIndices(shape[1], slices[1]) : [...Array(shape[1]).keys()]) : [0];
      const out: number[] = [];
      for (const r of rows) for (const c of cols) out.push(shape.length > 1 ? values[r * shape[1] + c] : values[r]);
      return out;
    };
    let expected = 0;
    [1, 2, 4].forEach((index, r) => {
      const rowsM = [0, 1, 2].map((l) => take(w[l * perLayer + index], shapes[index], regSlice[r]));
      let sum = 0;
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) {
          let dot = 0;
          for (let i = 0; i < rowsM[a].length; i++) dot += rowsM[a][i] * rowsM[b][i];
          sum += (dot - (a === b ? 1 : 0)) ** 2;
        }
      }
      expected += [0.1, 0.02, 0.3][r] * sum;
    });
    const loss = multiHeadRegularizationLoss(layer)!.dataSync()[0];
    expect(Math.abs(loss - expected) / expected).toBeLessThan(1e-5);
    // Registered as a layer loss, as Python's add_loss.
    expect(layer.losses).toHaveLength(1);
    // Gradients reach the sub-layer weights (Python's constant loss has none).
    const grads = tf.variableGrads(() => multiHeadRegularizationLoss(layer)!);
    expect(Object.keys(grads.grads).length).toBeGreaterThan(0);
    expect(multiHeadRegularizationLoss(new MultiHead({ name: 'none', layer: { className: 'Dense', config: { units: 1 } } }))).toBeNull();
  });
});

describe('MultiHead against golden Keras 3.16 outputs', () => {
  const cases = [
    { name: 'mh_duplicate_lstm', multi: 'Multi-LSTMs', embed: 'Embed', dense: 'Dense' },
    { name: 'mh_list_conv1d', multi: 'multi_conv', embed: null, dense: 'dense' },
    { name: 'mh_regularized_bilstm', multi: 'Multi-Head-Attention', embed: 'Embed', dense: 'dense' },
  ];
  for (const c of cases) {
    it(`${c.name}: config from model.h5, weights in model.h5 order`, async () => {
      const dir = goldenDir(c.name);
      const h5 = join(dir, 'model.h5');
      const x = npyTensor(join(dir, 'input_0.npy'));
      const multi = MultiHead.fromConfig(MultiHead, (await h5LayerConfig(h5, c.multi)).config as tf.serialization.ConfigDict) as MultiHead;
      const layers: tf.layers.Layer[] = [];
      if (c.embed) layers.push(tf.layers.embedding((await h5LayerConfig(h5, c.embed)).config as unknown as Parameters<typeof tf.layers.embedding>[0]));
      const denseLayer = tf.layers.dense((await h5LayerConfig(h5, c.dense)).config as unknown as Parameters<typeof tf.layers.dense>[0]);
      layers.push(multi, tf.layers.flatten(), denseLayer);
      const inp = tf.input({ shape: x.shape.slice(1), dtype: x.dtype as 'float32' | 'int32' });
      let h: tf.SymbolicTensor = inp;
      for (const l of layers) h = l.apply(h) as tf.SymbolicTensor;
      const model = tf.model({ inputs: inp, outputs: h });
      if (c.embed) layers[0].setWeights(await h5LayerWeights(h5, c.embed));
      const weights = await h5LayerWeights(h5, c.multi);
      expect(weights.map((t) => t.shape)).toEqual(multi.weights.map((w) => w.shape));
      multi.setWeights(weights);
      denseLayer.setWeights(await h5LayerWeights(h5, c.dense));
      const y = model.predict(x) as tf.Tensor;
      expect(withinTolerance(y.dataSync(), npyTensor(join(dir, 'output_0.npy')).dataSync())).toBe(true);
      if (c.name === 'mh_regularized_bilstm') {
        expect(multi.getConfig()).toMatchObject({ regIndex: [1, 4], regSlice: [[[null, null, null], [32, 48, null]], [[null, null, null], [32, 48, null]]], regFactor: [0.1, 0.1] });
        expect(multiHeadRegularizationLoss(multi)!.dataSync()[0]).toBeGreaterThan(0);
      }
    });
  }
});

describe('MultiHead in a saved and reloaded tfjs model', () => {
  it('keeps config, weight names and outputs through tf.loadLayersModel', async () => {
    const inp = tf.input({ shape: [4, 6] });
    const multi = new MultiHead({
      name: 'multi',
      layers: [
        { className: 'LSTM', config: { name: 'lstm_a', units: 3 } },
        { className: 'GRU', config: { name: 'gru_b', units: 3 } },
      ],
      hiddenDim: 5,
    });
    const att = new MultiHead({ name: 'multi_att', layer: { className: 'KerasMultiHead>MultiHeadAttention', config: { name: 'att', headNum: 3 } }, layerNum: 2 });
    const a = att.apply(inp) as tf.SymbolicTensor;
    const b = multi.apply(inp) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: [a, b] });
    seedWeights(att, 30);
    seedWeights(multi, 31);
    const x = input([2, 4, 6], 32).tensor;
    const before = model.predict(x) as tf.Tensor[];
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await savedInMemory(model)));
    const after = loaded.predict(x) as tf.Tensor[];
    before.forEach((t, i) => expectClose(after[i], t.dataSync(), t.shape));
    // tfjs's own sub-layer configs turn undefined into null through JSON; compare what MultiHead owns.
    const own = (c: tf.serialization.ConfigDict) => ({
      ...c,
      layers: (c.layers as { className: string; config: { name: string } }[]).map((l) => [l.className, l.config.name]),
    });
    expect(own(loaded.getLayer('multi').getConfig())).toEqual(own(multi.getConfig()));
    expect(loaded.getLayer('multi').weights.map((w) => w.originalName)).toEqual(multi.weights.map((w) => w.originalName));
  });
});
