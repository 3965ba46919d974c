/**
 * CuDNNLSTM / CuDNNGRU: the runtime (LSTM / GRU(reset_after) on Keras's converted weights) against the
 * cuDNN equations evaluated directly on the CuDNN-layout weights (float64 loops written from NVIDIA's
 * documented LSTM/GRU equations and Keras's way of handing weights to cuDNN: each gate's kernel block
 * flattened row-major and read as a (units, input) matrix, bias = input biases then recurrent ones), plain
 * and inside Bidirectional; conversions: h5 keeps the CuDNN layers verbatim, tfjs / .keras / Keras 3 h5
 * hold the converted LSTM / GRU; streamed (lazy) weights convert when read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KerasInteropError } from '../../src/errors.js';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { readModel } from '../../src/readers/index.js';
import { readTfjsFiles } from '../../src/readers/tfjs.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel } from '../../src/runtime/build.js';
import { upgradeLegacyLayers } from '../../src/runtime/legacy-layers.js';
import { describeRuntime, runModel } from '../../src/runtime/run.js';
import { convertModel, writeTfjs } from '../../src/writers/index.js';
import { Rng } from '../layers/attention-reference.js';
import { GOLDEN } from '../helpers/paths.js';
import { expectSameWeights } from '../writers/helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');
beforeAll(async () => {
  await useBackend('cpu');
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
type Mat = number[][];

/** cuDNN's weight matrix for gate `g`: the gate's kernel block, flattened row-major, read as (rows, cols). */
function gateMatrix(w: Float32Array, inDim: number, units: number, gates: number, g: number, rows: number, cols: number): Mat {
  const block: number[] = [];
  for (let r = 0; r < inDim; r++) for (let u = 0; u < units; u++) block.push(w[r * gates * units + g * units + u]);
  return Array.from({ length: rows }, (_, i) => block.slice(i * cols, (i + 1) * cols));
}

const matVec = (m: Mat, x: number[]) => m.map((row) => row.reduce((a, v, i) => a + v * x[i], 0));

interface CudnnWeights {
  kernel: Float32Array;
  recurrent: Float32Array;
  bias: Float32Array;
}

/** One sequence through cuDNN's LSTM (gates i, f, c, o) or GRU (Keras's blocks z, r, h); all outputs. */
function cudnnRun(kind: 'LSTM' | 'GRU', w: CudnnWeights, xs: number[][], units: number): number[][] {
  const inDim = xs[0].length;
  const gates = kind === 'LSTM' ? 4 : 3;
  const W = Array.from({ length: gates }, (_, g) => gateMatrix(w.kernel, inDim, units, gates, g, units, inDim));
  const R = Array.from({ length: gates }, (_, g) => gateMatrix(w.recurrent, units, units, gates, g, units, units));
  const bW = (g: number) => Array.from(w.bias.subarray(g * units, (g + 1) * units));
  const bR = (g: number) => Array.from(w.bias.subarray((gates + g) * units, (gates + g + 1) * units));
  let h = new Array<number>(units).fill(0);
  let c = new Array<number>(units).fill(0);
  const out: number[][] = [];
  for (const x of xs) {
    const wx = W.map((m) => matVec(m, x));
    const rh = R.map((m) => matVec(m, h));
    const pre = (g: number, u: number) => wx[g][u] + rh[g][u] + bW(g)[u] + bR(g)[u];
    if (kind === 'LSTM') {
      const nc = c.map((cv, u) => sigmoid(pre(1, u)) * cv + sigmoid(pre(0, u)) * Math.tanh(pre(2, u)));
      h = nc.map((cv, u) => sigmoid(pre(3, u)) * Math.tanh(cv));
      c = nc;
    } else {
      const z = h.map((_, u) => sigmoid(pre(0, u)));
      const r = h.map((_, u) => sigmoid(pre(1, u)));
      const hh = h.map((_, u) => Math.tanh(wx[2][u] + bW(2)[u] + r[u] * (rh[2][u] + bR(2)[u])));
      h = h.map((hv, u) => z[u] * hv + (1 - z[u]) * hh[u]);
    }
    out.push(h.slice());
  }
  return out;
}

const rng = new Rng(77);
const floats = (n: number, scale = 0.5) => Float32Array.from(rng.randn([n], scale).data);

function cudnnWeights(kind: 'LSTM' | 'GRU', inDim: number, units: number): CudnnWeights {
  const g = kind === 'LSTM' ? 4 : 3;
  return { kernel: floats(inDim * g * units), recurrent: floats(units * g * units), bias: floats(2 * g * units) };
}

/** A Keras 2.3.1 functional model: Input (T, inDim) → `layer`; its weights as the file holds them. */
function keras231Model(layer: JsonObject, weights: { name: string; shape: number[]; data: Float32Array }[], T: number, inDim: number): KerasModel {
  const name = (layer.config as JsonObject).name as string;
  return {
    source: { format: 'keras2-h5', file: 'cudnn.h5', kerasVersion: '2.3.1', backend: 'tensorflow', extras: {} },
    config: {
      class_name: 'Model',
      config: {
        name: 'model_1',
        layers: [
          { name: 'input_1', class_name: 'InputLayer', config: { batch_input_shape: [null, T, inDim], dtype: 'float32', sparse: false, name: 'input_1' }, inbound_nodes: [] },
          { name, ...layer, inbound_nodes: [[['input_1', 0, 0, {}]]] },
        ],
        input_layers: [['input_1', 0, 0]],
        output_layers: [[name, 0, 0]],
      },
    },
    weights: [{ layer: name, weights: weights.map((w) => ({ ...w, path: `/model_weights/${name}/${w.name}`, dtype: 'float32' as const })) }],
  };
}

/** CuDNN config keys as Keras 2.3.1 writes them. */
function cudnnConfig(kind: 'LSTM' | 'GRU', name: string, units: number, returnSequences: boolean): JsonObject {
  const config: JsonObject = {
    name, trainable: true, dtype: 'float32', return_sequences: returnSequences, return_state: false, go_backwards: false, stateful: false, units,
    kernel_initializer: { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null } },
    recurrent_initializer: { class_name: 'Orthogonal', config: { gain: 1, seed: null } },
    bias_initializer: { class_name: 'Zeros', config: {} },
    kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null, activity_regularizer: null,
    kernel_constraint: null, recurrent_constraint: null, bias_constraint: null,
  };
  if (kind === 'LSTM') config.unit_forget_bias = true;
  return { class_name: `CuDNN${kind}`, config };
}

const B = 2;
const T = 5;
const IN = 3;
const U = 4;
const xs = Array.from({ length: B }, () => Array.from({ length: T }, () => Array.from(floats(IN, 1))));
const input = { dtype: 'float32', shape: [B, T, IN], data: Float32Array.from(xs.flat(2)) };

function expectNear(got: ArrayLike<number>, want: number[], label: string): void {
  expect(got.length, label).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w), `${label}[${i}]: ${got[i]} vs ${w}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(w)));
}

describe('CuDNN layers run as Keras converts them', () => {
  for (const kind of ['LSTM', 'GRU'] as const) {
    it(`CuDNN${kind}(return_sequences=True) equals cuDNN's equations on the CuDNN weights`, async () => {
      const w = cudnnWeights(kind, IN, U);
      const g = kind === 'LSTM' ? 4 : 3;
      const name = `cu_dnn${kind.toLowerCase()}_1`;
      const model = keras231Model(cudnnConfig(kind, name, U, true), [
        { name: `${name}/kernel:0`, shape: [IN, g * U], data: w.kernel },
        { name: `${name}/recurrent_kernel:0`, shape: [U, g * U], data: w.recurrent },
        { name: `${name}/bias:0`, shape: [2 * g * U], data: w.bias },
      ], T, IN);
      const [out] = await runModel(model, [input], { backend: 'cpu' });
      expect(out.shape).toEqual([B, T, U]);
      expectNear(out.data, xs.flatMap((seq) => cudnnRun(kind, w, seq, U).flat()), kind);
    });
  }

  it('Bidirectional(CuDNNGRU): forward then backward weights, backward sequence read in reverse, outputs concatenated', async () => {
    const fwd = cudnnWeights('GRU', IN, U);
    const bwd = cudnnWeights('GRU', IN, U);
    const layer = { class_name: 'Bidirectional', config: { name: 'bidirectional_1', trainable: true, dtype: 'float32', layer: cudnnConfig('GRU', 'cu_dnngru_1', U, true), merge_mode: 'concat' } };
    const ws = (dir: string, w: CudnnWeights) => [
      { name: `bidirectional_1/${dir}_cu_dnngru_1/kernel:0`, shape: [IN, 3 * U], data: w.kernel },
      { name: `bidirectional_1/${dir}_cu_dnngru_1/recurrent_kernel:0`, shape: [U, 3 * U], data: w.recurrent },
      { name: `bidirectional_1/${dir}_cu_dnngru_1/bias:0`, shape: [6 * U], data: w.bias },
    ];
    const model = keras231Model(layer, [...ws('forward', fwd), ...ws('backward', bwd)], T, IN);
    const [out] = await runModel(model, [input], { backend: 'cpu' });
    expect(out.shape).toEqual([B, T, 2 * U]);
    const want = xs.flatMap((seq) => {
      const f = cudnnRun('GRU', fwd, seq, U);
      const b = cudnnRun('GRU', bwd, [...seq].reverse(), U).reverse();
      return f.map((row, t) => [...row, ...b[t]]).flat();
    });
    expectNear(out.data, want, 'bidirectional');
  });

  it('refuses configs and weights that do not fit, naming them', async () => {
    const w = cudnnWeights('LSTM', IN, U);
    const weights = [
      { name: 'c/kernel:0', shape: [IN, 4 * U], data: w.kernel },
      { name: 'c/recurrent_kernel:0', shape: [U, 4 * U], data: w.recurrent },
      { name: 'c/bias:0', shape: [8 * U], data: w.bias },
    ];
    const odd = cudnnConfig('LSTM', 'c', U, false);
    (odd.config as JsonObject).peephole = true;
    const e1 = await buildModel(keras231Model(odd, weights, T, IN)).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(KerasInteropError);
    expect((e1 as KerasInteropError).code).toBe('UNSUPPORTED_LAYER');
    expect((e1 as Error).message).toContain('peephole');
    // a bias of an LSTM's size where CuDNN keeps two
    const short = weights.map((x, i) => (i === 2 ? { ...x, shape: [4 * U], data: x.data.slice(0, 4 * U) } : x));
    const e2 = await buildModel(keras231Model(cudnnConfig('LSTM', 'c', U, false), short, T, IN)).catch((e: unknown) => e);
    expect((e2 as KerasInteropError).code).toBe('WEIGHTS_MISMATCH');
    expect((e2 as Error).message).toContain('c/bias:0');
  });
});

describe('converting a CuDNN file', () => {
  const kase = (name: string) => ({
    file: join(GOLDEN, name, 'model.h5'),
    inputs: [readNpyFileSync(join(GOLDEN, name, 'input_0.npy'))],
    expected: readNpyFileSync(join(GOLDEN, name, 'output_0.npy')),
  });

  async function expectGolden(model: KerasModel, c: ReturnType<typeof kase>): Promise<void> {
    const [out] = await runModel(model, c.inputs as never, { backend: 'cpu' });
    expectNear(out.data, Array.from(c.expected.data as Float32Array), model.source.file);
  }

  for (const name of ['cudnn_lstm_seq', 'cudnn_gru_last']) {
    it(`${name}: h5 keeps the CuDNN layer and its weights verbatim; .keras, Keras 3 h5 and tfjs hold the LSTM/GRU; all reproduce the golden`, async () => {
      const c = kase(name);
      const m = await readModel(c.file);
      const cls = name.includes('lstm') ? 'LSTM' : 'GRU';
      // inspect says what runs
      const described = await describeRuntime(m, 'cpu');
      expect(described.runnable).toBe(true);
      expect((described.notes ?? []).join('\n')).toMatch(new RegExp(`CuDNN${cls} runs as ${cls}`));
      const classes = (x: KerasModel) => ((x.config!.config as JsonObject).layers as JsonObject[]).map((l) => l.class_name);

      const [h5] = await convertModel(m, 'h5', join(tmp, `${name}.h5`));
      const backH5 = await readModel(h5);
      expect(backH5.config).toEqual(m.config);
      expect(classes(backH5)).toContain(`CuDNN${cls}`);
      expectSameWeights(backH5, m, { names: true });
      await expectGolden(backH5, c);

      const [keras] = await convertModel(m, 'keras', join(tmp, `${name}.keras`));
      const backKeras = await readModel(keras);
      expect(backKeras.source.format).toBe('keras3-archive');
      expect(classes(backKeras)).toContain(cls);
      expect(readFileSync(keras).includes('CuDNN')).toBe(false);
      expectSameWeights(backKeras, upgradeLegacyLayers(m));
      await expectGolden(backKeras, c);

      const [k3h5] = await convertModel(m, 'h5', join(tmp, `${name}.k3.h5`), { generation: 'keras3' });
      const backK3 = await readModel(k3h5);
      expect(backK3.source.format).toBe('keras3-h5');
      expect(classes(backK3)).toContain(cls);
      await expectGolden(backK3, c);

      const folder = await writeTfjs(m);
      const topology = JSON.parse(new TextDecoder().decode(folder.get('model.json'))).modelTopology.model_config as JsonObject;
      expect(((topology.config as JsonObject).layers as JsonObject[]).map((l) => l.class_name)).toContain(cls);
      const backTfjs = await readTfjsFiles(folder, { file: `${name}-tfjs` });
      expect(classes(backTfjs)).toContain(cls);
      await expectGolden(backTfjs, c);
    });
  }

  it('streamed weights are converted when the writer reads them', async () => {
    const c = kase('cudnn_lstm_seq');
    const streamed = await readModel(c.file, { streamWeights: true });
    try {
      const [folder] = await convertModel(streamed, 'keras', join(tmp, 'streamed.keras'));
      await expectGolden(await readModel(folder), c);
    } finally {
      streamed.close?.();
    }
  });
});
