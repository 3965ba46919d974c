/**
 * The benchmark models, written as Keras 3 configs (the dialect `model.save('m.h5')` of Keras 3 writes),
 * with deterministic random weights, and the analytic FLOP count of one forward pass of each.
 *
 * FLOP counting convention: a multiply-add is 2 FLOPs; every elementwise op (add, multiply, tanh,
 * sigmoid, exp, max, ...) is 1 FLOP per element, whatever it costs in cycles. Layout-only ops
 * (reshape, transpose, concat) are 0.
 */
import '../src/layers/index.js';
import type { JsonObject, JsonValue, KerasModel, LayerWeights } from '../src/model/types.js';
import { tfjsLayout } from '../src/runtime/topology.js';
import { mulberry32 } from '../fuzz/lib/rng.js';

const DTYPE: JsonObject = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

function tensorRef(layer: string, shape: (number | null)[]): JsonObject {
  return { class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] } };
}

interface Node {
  name: string;
  shape: (number | null)[];
}

class GraphBuilder {
  readonly layers: JsonObject[] = [];

  input(name: string, shape: number[]): Node {
    this.layers.push({
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: { batch_shape: [null, ...shape], dtype: 'float32', sparse: false, ragged: false, name, optional: false },
      registered_name: null,
      name,
      inbound_nodes: [],
    });
    return { name, shape: [null, ...shape] };
  }

  /** A layer called on `args` (a list is passed as one list argument, as Add takes it). */
  call(className: string, name: string, config: JsonObject, args: (Node | Node[])[], outShape: (number | null)[], kwargs: JsonObject = {}, module = 'keras.layers'): Node {
    const argJson: JsonValue[] = args.map((a) => (Array.isArray(a) ? a.map((n) => tensorRef(n.name, n.shape)) : tensorRef(a.name, a.shape)));
    this.layers.push({
      module,
      class_name: className,
      config: { name, trainable: true, dtype: DTYPE, ...config },
      registered_name: module === 'keras.layers' ? null : className,
      name,
      inbound_nodes: [{ args: argJson, kwargs }],
    });
    return { name, shape: outShape };
  }

  model(inputs: Node, outputs: Node): JsonObject {
    return {
      module: 'keras',
      class_name: 'Functional',
      config: { name: 'functional', trainable: true, layers: this.layers, input_layers: [inputs.name, 0, 0], output_layers: [outputs.name, 0, 0] },
      registered_name: 'Functional',
    };
  }
}

function lstmConfig(name: string, units: number, returnSequences: boolean, goBackwards = false): JsonObject {
  return {
    name,
    trainable: true,
    dtype: DTYPE,
    return_sequences: returnSequences,
    return_state: false,
    go_backwards: goBackwards,
    stateful: false,
    unroll: false,
    zero_output_for_mask: returnSequences,
    units,
    activation: 'tanh',
    recurrent_activation: 'sigmoid',
    use_bias: true,
    unit_forget_bias: true,
    dropout: 0,
    recurrent_dropout: 0,
    seed: null,
  };
}

export interface BenchModel {
  /** Row label. */
  name: string;
  model: KerasModel;
  /** Input shape including the batch. */
  inputShape: number[];
  /** Analytic FLOPs of one forward pass of the whole batch. */
  flops: number;
  /** Maintainers' reference figure, ms per batch, and what it refers to. */
  reference?: { ms: number; what: string };
}

// ---------------------------------------------------------------------------------------------------
// FLOP formulas.

/** Dense on n rows: n (2 f u + u) (+ n u for an activation). */
export function denseFlops(rows: number, fin: number, units: number, activation = false): number {
  return rows * (2 * fin * units + units + (activation ? units : 0));
}

/**
 * LSTM, one direction, per step and batch row: x W (2 F 4U) + h U (2 U 4U) + bias 4U, gate
 * activations 4U (3 sigmoid + 1 tanh), c = f c + i g (3U), h = o tanh(c) (2U): 8U(F+U) + 13U.
 */
export function lstmFlops(batch: number, steps: number, features: number, units: number): number {
  return batch * steps * (8 * units * (features + units) + 13 * units);
}

/** LayerNormalization over the last axis, per element: mean, variance (sub, square, sum), normalize, scale, shift ~ 8. */
export function layerNormFlops(elements: number): number {
  return 8 * elements;
}

/** Softmax over rows of length n, per element: max, sub, exp, sum, div = 5. */
export function softmaxFlops(elements: number): number {
  return 5 * elements;
}

/**
 * Keras MultiHeadAttention self-attention (B, T, d) with h heads of size k (h k = d): Q, K, V projections
 * 3 B T (2 d d + d), scores 2 B T T d (+ the 1/sqrt(k) scale on Q: B T d), softmax 5 B h T T,
 * attention x V 2 B T T d, output projection B T (2 d d + d).
 */
export function kerasMhaFlops(batch: number, steps: number, dModel: number, heads: number): number {
  const bt = batch * steps;
  return 3 * denseFlops(bt, dModel, dModel) + bt * dModel + 2 * batch * steps * steps * dModel + softmaxFlops(batch * heads * steps * steps) + 2 * batch * steps * steps * dModel + denseFlops(bt, dModel, dModel);
}

/**
 * SeqSelfAttention on (B, T, F), additive with u units: q = x Wt, k = x Wx (2 x 2 B T F u), then over the
 * (B, T, T, u) tensor: q + k, + bh, tanh (3 B T T u), . Wa (2 B T T u), + ba (B T T); softmax 5 B T T;
 * attention x inputs 2 B T T F.
 * Multiplicative: x Wa (2 B T F F), (x Wa) x^T (2 B T T F), + ba (B T T), softmax, attention x inputs.
 */
export function seqSelfAttentionFlops(batch: number, steps: number, features: number, type: 'additive' | 'multiplicative', units = 32): number {
  const btt = batch * steps * steps;
  const tail = btt + softmaxFlops(btt) + 2 * btt * features;
  if (type === 'additive') return 4 * batch * steps * features * units + 3 * btt * units + 2 * btt * units + tail;
  return 2 * batch * steps * features * features + 2 * btt * features + tail;
}

// ---------------------------------------------------------------------------------------------------
// Weights.

/** Mulberry32: a small deterministic PRNG, so every run benchmarks the same numbers. */
export const rng = mulberry32;

export function randomArray(size: number, scale: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

function emptyModel(config: JsonObject, file: string): KerasModel {
  return { source: { format: 'keras3-h5', file, kerasVersion: '3.16.0', extras: {} }, config, weights: [] };
}

/** Gives every weight tfjs builds for the config small random values, in the layer's (Keras's) order. */
export async function withRandomWeights(model: KerasModel, seed = 1): Promise<KerasModel> {
  const layout = await tfjsLayout(model);
  let s = seed;
  const weights: LayerWeights[] = layout.layers
    .filter((l) => l.className !== 'NoMask')
    .map((l) => ({
      layer: l.layer,
      weights: l.weights.map((w) => {
        const size = w.shape.reduce((a, b) => a * b, 1);
        const fanIn = w.shape.length > 1 ? w.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
        const data = /gamma|scale/.test(w.name) ? new Float32Array(size).fill(1) : randomArray(size, 1 / Math.sqrt(fanIn), s++);
        return { name: w.name, path: w.name, shape: w.shape, dtype: 'float32' as const, data };
      }),
    }));
  return { ...model, weights };
}

// ---------------------------------------------------------------------------------------------------
// The models.

/** Transformer encoder block: Keras MultiHeadAttention + Add + LayerNorm + Dense(ff, relu) + Dense(d) + Add + LayerNorm. */
export async function transformerBlock(batch = 32, steps = 128, dModel = 128, heads = 4, ff = 512): Promise<BenchModel> {
  const g = new GraphBuilder();
  const x = g.input('tokens', [steps, dModel]);
  const seq = [null, steps, dModel];
  const mha = g.call(
    'MultiHeadAttention',
    'mha',
    { num_heads: heads, key_dim: dModel / heads, value_dim: dModel / heads, dropout: 0, use_bias: true, output_shape: null, attention_axes: [1] },
    [x, x],
    seq,
  );
  const add1 = g.call('Add', 'add', {}, [[x, mha]], seq);
  const ln1 = g.call('LayerNormalization', 'ln_1', { axis: [2], epsilon: 1e-6, center: true, scale: true, rms_scaling: false }, [add1], seq);
  const d1 = g.call('Dense', 'ffn_1', { units: ff, activation: 'relu', use_bias: true }, [ln1], [null, steps, ff]);
  const d2 = g.call('Dense', 'ffn_2', { units: dModel, activation: 'linear', use_bias: true }, [d1], seq);
  const add2 = g.call('Add', 'add_1', {}, [[ln1, d2]], seq);
  const ln2 = g.call('LayerNormalization', 'ln_2', { axis: [2], epsilon: 1e-6, center: true, scale: true, rms_scaling: false }, [add2], seq);
  const bt = batch * steps;
  const elems = bt * dModel;
  const flops =
    kerasMhaFlops(batch, steps, dModel, heads) + elems + layerNormFlops(elems) + denseFlops(bt, dModel, ff, true) + denseFlops(bt, ff, dModel) + elems + layerNormFlops(elems);
  return {
    name: `transformer block (d ${dModel}, ${heads} heads, ff ${ff})`,
    model: await withRandomWeights(emptyModel(g.model(x, ln2), 'bench:transformer_block')),
    inputShape: [batch, steps, dModel],
    flops,
    reference: { ms: 258, what: 'Keras 3 NumPy backend' },
  };
}

/** keras-self-attention's SeqSelfAttention (no width, biases on, no regularizer) called on `x`. */
function seqSelfAttention(g: GraphBuilder, x: Node, type: 'additive' | 'multiplicative', units: number): Node {
  return g.call(
    'SeqSelfAttention',
    'seq_self_attention',
    { units, attention_width: null, attention_type: type, return_attention: false, history_only: false, use_additive_bias: true, use_attention_bias: true, attention_activation: null, attention_regularizer_weight: 0 },
    [x],
    x.shape,
    {},
    'keras_self_attention.seq_self_attention',
  );
}

/** SeqSelfAttention alone on (B, T, F), as the maintainers' reference figures measure it. */
export async function seqSelfAttentionAlone(type: 'additive' | 'multiplicative', batch = 32, steps = 100, features = 128, units = 32): Promise<BenchModel> {
  const g = new GraphBuilder();
  const x = g.input('x', [steps, features]);
  const att = seqSelfAttention(g, x, type, units);
  return {
    name: `SeqSelfAttention ${type} alone (${batch},${steps},${features})`,
    model: await withRandomWeights(emptyModel(g.model(x, att), `bench:ssa_${type}`)),
    inputShape: [batch, steps, features],
    flops: seqSelfAttentionFlops(batch, steps, features, type, units),
    reference: type === 'additive' ? { ms: 130, what: 'Keras, layer alone' } : { ms: 38, what: 'Keras, layer alone' },
  };
}

/** Bidirectional(LSTM(lstmUnits)) + SeqSelfAttention(units) on (B, T, F). */
export async function biLstmSeqSelfAttention(type: 'additive' | 'multiplicative', batch = 32, steps = 100, features = 64, lstmUnits = 64, units = 32): Promise<BenchModel> {
  const g = new GraphBuilder();
  const x = g.input('x', [steps, features]);
  const f = 2 * lstmUnits;
  const bi = g.call(
    'Bidirectional',
    'bilstm',
    {
      merge_mode: 'concat',
      layer: { module: 'keras.layers', class_name: 'LSTM', config: lstmConfig('forward_lstm', lstmUnits, true), registered_name: null, build_config: { input_shape: [null, steps, features] } },
      backward_layer: { module: 'keras.layers', class_name: 'LSTM', config: lstmConfig('backward_lstm', lstmUnits, true, true), registered_name: null, build_config: { input_shape: [null, steps, features] } },
    },
    [x],
    [null, steps, f],
  );
  const att = seqSelfAttention(g, bi, type, units);
  return {
    name: `BiLSTM(${lstmUnits}) + SeqSelfAttention ${type}`,
    model: await withRandomWeights(emptyModel(g.model(x, att), `bench:bilstm_ssa_${type}`)),
    inputShape: [batch, steps, features],
    flops: 2 * lstmFlops(batch, steps, features, lstmUnits) + seqSelfAttentionFlops(batch, steps, f, type, units),
  };
}

/** keras-multi-head MultiHead(LSTM(units), layer_num) on (B, T, F): layer_num LSTMs side by side, outputs stacked. */
export async function multiHeadLstm(layerNum = 5, batch = 32, steps = 100, features = 64, units = 32): Promise<BenchModel> {
  const g = new GraphBuilder();
  const x = g.input('x', [steps, features]);
  const layers: JsonObject[] = [];
  for (let i = 0; i < layerNum; i++) layers.push({ class_name: 'LSTM', config: lstmConfig(`lstm_${i + 1}`, units, false) });
  const mh = g.call(
    'MultiHead',
    'multi_lstms',
    { layers, hidden_dim: null, use_bias: true, reg_index: null, reg_slice: null, reg_factor: 0 },
    [x],
    [null, units, layerNum],
    { mask: null },
    'keras_multi_head.multi_head',
  );
  return {
    name: `MultiHead(LSTM(${units})) x ${layerNum}`,
    model: await withRandomWeights(emptyModel(g.model(x, mh), 'bench:multihead_lstm')),
    inputShape: [batch, steps, features],
    flops: layerNum * lstmFlops(batch, steps, features, units),
  };
}

/** The forward-pass models every backend runs, in table order. */
export const FORWARD_MODELS: readonly (() => Promise<BenchModel>)[] = [
  () => transformerBlock(),
  () => seqSelfAttentionAlone('additive'),
  () => seqSelfAttentionAlone('multiplicative'),
  () => biLstmSeqSelfAttention('additive'),
  () => biLstmSeqSelfAttention('multiplicative'),
  () => multiHeadLstm(),
];

// ---------------------------------------------------------------------------------------------------
// The conversion model: plain Dense layers holding `megabytes` of float32 weights.

/** Keras 3 Sequential-like functional stack of Dense(width) layers whose weights total about `megabytes` MB (10^6 bytes). */
/** What Keras 3's `Dense.get_config()` writes besides units, activation and use_bias (every saved file has it). */
const DENSE_INITIALIZERS: JsonObject = {
  kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
  bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
  kernel_regularizer: null,
  bias_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
};

export function largeDenseModel(megabytes = 200, width = 2048): KerasModel {
  const perLayer = (width * width + width) * 4;
  const count = Math.max(1, Math.round((megabytes * 1e6) / perLayer));
  const g = new GraphBuilder();
  let x = g.input('x', [width]);
  const input = x;
  const weights: LayerWeights[] = [{ layer: 'x', weights: [] }];
  for (let i = 0; i < count; i++) {
    const name = `dense_${i}`;
    x = g.call('Dense', name, { units: width, activation: 'linear', use_bias: true, ...DENSE_INITIALIZERS }, [x], [null, width]);
    weights.push({
      layer: name,
      weights: [
        { name: 'kernel', path: `${name}/kernel`, shape: [width, width], dtype: 'float32', data: randomArray(width * width, 0.02, 100 + i) },
        { name: 'bias', path: `${name}/bias`, shape: [width], dtype: 'float32', data: randomArray(width, 0.02, 1000 + i) },
      ],
    });
  }
  return { source: { format: 'keras3-h5', file: 'bench-large.h5', kerasVersion: '3.16.0', extras: {} }, config: g.model(input, x), weights };
}

export function weightBytes(model: KerasModel): number {
  let n = 0;
  for (const l of model.weights) for (const w of l.weights) n += w.data.byteLength;
  return n;
}
