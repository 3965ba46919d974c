/**
 * `hard_sigmoid` in both Keras generations: the two formulas, written here from their documentation
 * (Keras 2's `backend.hard_sigmoid`: clip(0.2 x + 0.5, 0, 1); Keras 3's `ops.hard_sigmoid`: relu6(x + 3) / 6),
 * and one small model per generation, in that generation's config dialect, whose every layer uses it:
 * Activation and Dense (tfjs's built-in layers) and SimpleRNN (ours). `reference` computes its outputs in
 * float64 with plain loops.
 */
import type { KerasGeneration } from '../../src/model/weight-names.js';
import type { JsonObject, KerasModel, LayerWeights } from '../../src/model/types.js';
import type { InputArray } from '../../src/runtime/build.js';

export const keras2HardSigmoid = (v: number): number => Math.min(1, Math.max(0, 0.2 * v + 0.5));
export const keras3HardSigmoid = (v: number): number => Math.min(6, Math.max(0, v + 3)) / 6;
export const HARD_SIGMOID: Record<KerasGeneration, (v: number) => number> = { keras2: keras2HardSigmoid, keras3: keras3HardSigmoid };

const B = 2;
const T = 3;
const D = 2;
const U = 2;

// Large enough that every layer's pre-activations reach both clipped ends of either formula.
const DENSE_KERNEL = [6, -5, 4, 7];
const DENSE_BIAS = [-2, 1];
const RNN_KERNEL = [2, -1.5, 1, 2.5];
const RNN_RECURRENT = [0.75, -0.5, 1, 0.5];
const RNN_BIAS = [-1, 0.25];

/** The input the tests feed: (2, 3, 2), values in ±3.2. */
export const INPUT: InputArray = {
  dtype: 'float32',
  shape: [B, T, D],
  data: Float32Array.of(-3.2, 2.8, -1.1, 0.6, 2.6, -2.7, 1.9, -0.4, 3.1, -2.2, 0, 1.4),
};

/** Row vector (n) times row-major matrix (n, m). */
function vecMat(v: number[], m: number[], cols: number): number[] {
  return Array.from({ length: cols }, (_, c) => v.reduce((s, x, k) => s + x * m[k * cols + c], 0));
}

/** x → Activation(hs) → Dense(2, hs) → SimpleRNN(2, hs, return_sequences): (B, T, U), float64. */
export function reference(hs: (v: number) => number, x: ArrayLike<number> = INPUT.data as Float32Array): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let h = [0, 0];
    for (let t = 0; t < T; t++) {
      const a = Array.from({ length: D }, (_, d) => hs(x[(b * T + t) * D + d]));
      const dense = vecMat(a, DENSE_KERNEL, U).map((v, u) => hs(v + DENSE_BIAS[u]));
      const xw = vecMat(dense, RNN_KERNEL, U);
      const hu = vecMat(h, RNN_RECURRENT, U);
      h = xw.map((v, u) => hs(v + hu[u] + RNN_BIAS[u]));
      out.push(...h);
    }
  }
  return out;
}

function weights(names: Record<'dense' | 'rnn', string[]>, path: (name: string) => string): LayerWeights[] {
  const w = (name: string, shape: number[], data: number[]) => ({ name, path: path(name), shape, dtype: 'float32' as const, data: Float32Array.from(data) });
  return [
    { layer: 'activation', weights: [] },
    { layer: 'dense', weights: [w(names.dense[0], [D, U], DENSE_KERNEL), w(names.dense[1], [U], DENSE_BIAS)] },
    { layer: 'simple_rnn', weights: [w(names.rnn[0], [U, U], RNN_KERNEL), w(names.rnn[1], [U, U], RNN_RECURRENT), w(names.rnn[2], [U], RNN_BIAS)] },
  ];
}

/** The model as tf.keras 2.15 saves it to an `.h5` (`activation` overrides every layer's). */
export function keras2Model(activation = 'hard_sigmoid', kerasVersion = '2.15.0'): KerasModel {
  const config: JsonObject = {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, T, D], dtype: 'float32', sparse: false, ragged: false, name: 'input_1' } },
        { class_name: 'Activation', config: { name: 'activation', trainable: true, dtype: 'float32', activation } },
        { class_name: 'Dense', config: { name: 'dense', trainable: true, dtype: 'float32', units: U, activation, use_bias: true } },
        { class_name: 'SimpleRNN', config: { name: 'simple_rnn', trainable: true, dtype: 'float32', return_sequences: true, units: U, activation, use_bias: true } },
      ],
    },
  };
  const names = { dense: ['dense/kernel:0', 'dense/bias:0'], rnn: ['simple_rnn/simple_rnn_cell/kernel:0', 'simple_rnn/simple_rnn_cell/recurrent_kernel:0', 'simple_rnn/simple_rnn_cell/bias:0'] };
  return {
    source: { format: 'keras2-h5', file: 'memory:keras2.h5', kerasVersion, backend: 'tensorflow', extras: {} },
    config,
    weights: weights(names, (n) => `/model_weights/${n.split('/')[0]}/${n}`),
  };
}

/** The model as Keras 3.16 saves it to a `.keras` archive (`activation` overrides every layer's). */
export function keras3Model(activation: JsonObject | string = 'hard_sigmoid', kerasVersion = '3.16.0'): KerasModel {
  const layer = (class_name: string, config: JsonObject, build?: number[]): JsonObject => ({
    module: 'keras.layers',
    class_name,
    config: { trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }, ...config },
    registered_name: null,
    ...(build ? { build_config: { input_shape: [null, ...build] } } : {}),
  });
  const config: JsonObject = {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      trainable: true,
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, T, D], dtype: 'float32', sparse: false, ragged: false, name: 'input_layer' }, registered_name: null },
        layer('Activation', { name: 'activation', activation }, [T, D]),
        layer('Dense', { name: 'dense', units: U, activation, use_bias: true }, [T, D]),
        layer('SimpleRNN', { name: 'simple_rnn', return_sequences: true, units: U, activation, use_bias: true }, [T, U]),
      ],
    },
    registered_name: null,
    build_config: { input_shape: [null, T, D] },
  };
  const names = { dense: ['layers/dense/vars/0', 'layers/dense/vars/1'], rnn: ['layers/simple_rnn/cell/vars/0', 'layers/simple_rnn/cell/vars/1', 'layers/simple_rnn/cell/vars/2'] };
  return {
    source: { format: 'keras3-archive', file: 'memory:keras3.keras', kerasVersion, extras: {} },
    config,
    weights: weights(names, (n) => `/${n}`),
  };
}

/** The model of a generation, saved by it. */
export function hardSigmoidModel(generation: KerasGeneration): KerasModel {
  return generation === 'keras2' ? keras2Model() : keras3Model();
}

/** The largest |a - b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

// ---------------------------------------------------------------------------------------------------------
// One op call on an input x of shape (2, 4), values past both formulas' clipping points.

export const OP_X = [-4, -2.75, -1, 0, 0.5, 2, 2.75, 4];
export const OP_INPUT: InputArray = { dtype: 'float32', shape: [2, 4], data: Float32Array.from(OP_X) };

/** A tf.keras 2 functional model: x → one layer `op` (an entry with `inbound_nodes` on x). */
export function keras2OpModel(op: JsonObject, kerasVersion = '2.15.0'): KerasModel {
  const layers = [{ class_name: 'InputLayer', config: { batch_input_shape: [null, 4], dtype: 'float32', name: 'x' }, name: 'x', inbound_nodes: [] }, op];
  return {
    source: { format: 'keras2-h5', file: 'synthetic.h5', kerasVersion, extras: {} },
    config: { class_name: 'Functional', config: { name: 'm', layers, input_layers: [['x', 0, 0]], output_layers: [[op.name as string, 0, 0]] } },
    weights: [],
  };
}

/** A Keras 3 functional model: x → one layer `op` (`{module, class_name, config, registered_name}`) called on x. */
export function keras3OpModel(op: JsonObject): KerasModel {
  const name = (op.config as JsonObject).name as string;
  const x: JsonObject = { class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: ['x', 0, 0] } };
  const layers: JsonObject[] = [
    { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4], dtype: 'float32', name: 'x' }, registered_name: null, name: 'x', inbound_nodes: [] },
    { ...op, name, inbound_nodes: [{ args: [x], kwargs: {} }] },
  ];
  return {
    source: { format: 'keras3-archive', file: 'synthetic.keras', kerasVersion: '3.16.0', extras: {} },
    config: {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: { name: 'm', trainable: true, layers, input_layers: [['x', 0, 0]], output_layers: [[name, 0, 0]] },
      registered_name: 'Functional',
    },
    weights: [],
  };
}

/** tf.keras 2's TFOpLambda layer of `fn(x)` (`fn` as it records it, without `tf.`). */
export function tfOpLambda(fn: string): JsonObject {
  return { class_name: 'TFOpLambda', config: { name: `tf.${fn}`, trainable: true, dtype: 'float32', function: fn }, name: `tf.${fn}`, inbound_nodes: [['x', 0, 0, {}]] };
}

/** Keras 3's `keras.ops.hard_sigmoid` operation node. */
export const KERAS3_HARD_SIGMOID_OP: JsonObject = { module: 'keras.src.ops.nn', class_name: 'HardSigmoid', config: { name: 'hard_sigmoid' }, registered_name: 'HardSigmoid' };
