/**
 * Wild 14 (tf.keras 2.15 SavedModel: Input(30, 16) → user-defined TransformerEncoder → GlobalAveragePooling1D
 * → Dropout → Dense(1)) runs once the user registers a TypeScript TransformerEncoder
 * (test/helpers/transformer-encoder.ts). No golden outputs exist for this file (the repository it comes from
 * published none, and no Python ran here), so the checks are: the recipe the helper implements is the one
 * the SavedModel itself records (sub-layer configs in keras_metadata.pb, op chain of the traced call in
 * saved_model.pb); the built model holds the file's weights bit for bit; its predictions are finite, of the
 * right shape, equal a Float64 re-computation of that recipe, and move when any weight moves (except the
 * key bias, which softmax cancels exactly).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { readModel } from '../../src/readers/index.js';
import { decodeKerasJson } from '../../src/readers/savedmodel/metadata.js';
import { decodeMessage } from '../../src/readers/savedmodel/protos.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel, predict } from '../../src/runtime/build.js';
import { isLayerRegistered, registerLayer } from '../../src/runtime/registry.js';
import { requireWild } from '../helpers/paths.js';
import { describeWild, itWild } from '../helpers/wild.js';
import { TransformerEncoder } from '../helpers/transformer-encoder.js';

const W14 = () => join(requireWild(), '14_nlx_transformer_encoder_mha_savedmodel', 'transformer_model');
const T = 30;
const F = 16;

beforeAll(async () => {
  await useBackend('cpu');
  registerLayer('TransformerEncoder', TransformerEncoder as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
});

/** Deterministic inputs: a 32-bit LCG mapped to [-1, 1). */
function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

// ------------------------------------------------------------------------------------------------
// The recipe, as the file records it.

/** Just enough of TensorFlow's FunctionDef to list a traced function's ops (test-only). */
const GRAPH_PROTO = `
syntax = "proto3";
message SavedModel { repeated MetaGraphDef meta_graphs = 2; }
message MetaGraphDef { GraphDef graph_def = 2; }
message GraphDef { FunctionDefLibrary library = 2; }
message FunctionDefLibrary { repeated FunctionDef function = 1; }
message FunctionDef { OpDef signature = 1; repeated NodeDef node_def = 3; map<string, string> ret = 4; }
message OpDef { string name = 1; repeated ArgDef input_arg = 2; }
message ArgDef { string name = 1; }
message NodeDef { string name = 1; string op = 2; repeated string input = 3; }
`;
interface NodeDef {
  name: string;
  op: string;
  input?: string[];
}
interface FunctionDef {
  signature: { name: string; inputArg?: { name: string }[] };
  nodeDef?: NodeDef[];
  ret?: Record<string, string>;
}

function tracedFunctions(): FunctionDef[] {
  const type = protobuf.parse(GRAPH_PROTO).root.lookupType('SavedModel');
  const msg = type.toObject(type.decode(readFileSync(join(W14(), 'saved_model.pb'))), { arrays: true }) as {
    metaGraphs: { graphDef: { library: { function: FunctionDef[] } } }[];
  };
  return msg.metaGraphs[0].graphDef.library.function;
}

describeWild('wild 14: what the TransformerEncoder helper implements is what the SavedModel records', () => {
  it('the layer config holds embed_dim, dense_dim, num_heads; keras_metadata.pb gives each sub-layer', () => {
    const meta = decodeMessage('SavedMetadata', readFileSync(join(W14(), 'keras_metadata.pb')));
    const byPath = new Map((meta.nodes ?? []).map((n) => [n.nodePath ?? '', decodeKerasJson(JSON.parse(n.metadata ?? '{}')) as JsonObject]));
    const cfg = (path: string) => byPath.get(`root.layer_with_weights-0${path}`)!.config as JsonObject;
    expect(byPath.get('root.layer_with_weights-0')!.class_name).toBe('TransformerEncoder');
    expect(cfg('')).toEqual({ name: 'transformer_encoder_9', trainable: true, dtype: 'float32', embed_dim: 32, dense_dim: 32, num_heads: 2 });
    // Attribute names, in creation order (Keras's layer.weights order follows it).
    const children = [...byPath.keys()].filter((p) => /^root\.layer_with_weights-0\.[a-z0-9_]+$/.test(p));
    expect(children).toEqual(['att', 'ffn', 'layernorm1', 'layernorm2', 'dropout1', 'dropout2'].map((c) => `root.layer_with_weights-0.${c}`));
    expect(cfg('.att')).toMatchObject({ num_heads: 2, key_dim: 32, value_dim: 32, dropout: 0, use_bias: true, output_shape: null, query_shape: [null, T, F] });
    const ffn = (cfg('.ffn').layers as JsonObject[]).slice(1).map((l) => l.config as JsonObject);
    expect(ffn.map((l) => [l.units, l.activation, l.use_bias])).toEqual([
      [32, 'relu', true], // dense_dim
      [F, 'linear', true], // the input's width, not embed_dim (32): the user sized it from the input
    ]);
    for (const ln of ['.layernorm1', '.layernorm2']) {
      expect(cfg(ln)).toMatchObject({ axis: [2], epsilon: TransformerEncoder.EPSILON, center: true, scale: true });
    }
    for (const d of ['.dropout1', '.dropout2']) expect(cfg(d).rate).toBe(TransformerEncoder.DROPOUT);
  });

  it('the traced inference call is post-norm: layernorm1(x + att(x, x)), then layernorm2(out1 + ffn(out1))', () => {
    const calls = tracedFunctions().filter((f) => /^__inference_transformer_encoder_9_layer_call_and_return_conditional_losses_\d+$/.test(f.signature.name));
    expect(calls.length).toBeGreaterThan(0);
    // The inference trace: dropouts are Identity. None of the traces takes a mask.
    const inference = calls.filter((f) => (f.nodeDef ?? []).some((n) => n.name === 'dropout_27/Identity'));
    expect(inference.length).toBeGreaterThan(0);
    for (const f of calls) expect((f.signature.inputArg ?? []).map((a) => a.name).filter((n) => /mask/.test(n))).toEqual([]);
    for (const f of inference) {
      const nodes = new Map((f.nodeDef ?? []).map((n) => [n.name, n]));
      const inputsOf = (name: string) => (nodes.get(name)?.input ?? []).filter((i) => !i.startsWith('^')).map((i) => i.split(':')[0]);
      const op = (name: string) => nodes.get(name)?.op;
      // Self-attention on the layer's input, scaled queries.
      for (const p of ['query', 'key', 'value']) expect(inputsOf(`multi_head_attention_9/${p}/einsum/Einsum`)[0]).toBe('inputs');
      expect(op('multi_head_attention_9/Mul')).toBe('Mul');
      expect(inputsOf('multi_head_attention_9/einsum/Einsum')).toEqual(['multi_head_attention_9/key/add', 'multi_head_attention_9/Mul']);
      expect(inputsOf('multi_head_attention_9/softmax/Softmax')).toEqual(['multi_head_attention_9/einsum/Einsum']);
      expect(inputsOf('dropout_27/Identity')).toEqual(['multi_head_attention_9/attention_output/add']);
      // First residual + LayerNormalization.
      expect([op('add'), ...inputsOf('add')]).toEqual(['AddV2', 'inputs', 'dropout_27/Identity']);
      expect(inputsOf('layer_normalization_18/moments/mean')[0]).toBe('add');
      // Feed-forward on out1: Dense(relu), Dense.
      expect(inputsOf('sequential_16/dense_41/Tensordot/transpose')[0]).toBe('layer_normalization_18/batchnorm/add_1');
      expect(inputsOf('sequential_16/dense_41/Relu')).toEqual(['sequential_16/dense_41/BiasAdd']);
      expect(inputsOf('sequential_16/dense_42/Tensordot/transpose')[0]).toBe('sequential_16/dense_41/Relu');
      expect(inputsOf('dropout_28/Identity')).toEqual(['sequential_16/dense_42/BiasAdd']);
      // Second residual + LayerNormalization, which is the output.
      expect([op('add_1'), ...inputsOf('add_1')]).toEqual(['AddV2', 'layer_normalization_18/batchnorm/add_1', 'dropout_28/Identity']);
      expect(inputsOf('layer_normalization_19/moments/mean')[0]).toBe('add_1');
      expect(inputsOf('Identity')).toEqual(['layer_normalization_19/batchnorm/add_1']);
      expect(Object.values(f.ret ?? {})).toEqual(['Identity:output:0']);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Running it.

/** The whole model in Float64 from the file's weights: encoder (the recipe above), mean over time, Dense(1). */
function reference(m: KerasModel, x: Float32Array, batch: number): number[] {
  const enc = m.weights.find((l) => l.layer === 'transformer_encoder_9')!.weights.map((w) => w.data as Float32Array);
  const [wq, bq, wk, bk, wv, bv, wo, bo, w1, b1, w2, b2, g1, be1, g2, be2] = enc;
  const [wd, bd] = m.weights.find((l) => l.layer === 'dense_43')!.weights.map((w) => w.data as Float32Array);
  const H = 2;
  const D = 32;
  const U = 32;
  const layerNorm = (v: number[], g: Float32Array, b: Float32Array) => {
    const mean = v.reduce((a, c) => a + c, 0) / v.length;
    const variance = v.reduce((a, c) => a + (c - mean) ** 2, 0) / v.length;
    return v.map((c, i) => ((c - mean) / Math.sqrt(variance + 1e-6)) * g[i] + b[i]);
  };
  const out: number[] = [];
  for (let n = 0; n < batch; n++) {
    const xs = Array.from({ length: T }, (_, t) => Array.from(x.subarray((n * T + t) * F, (n * T + t + 1) * F)));
    const proj = (w: Float32Array, b: Float32Array) =>
      xs.map((row) => Array.from({ length: H * D }, (_, hd) => row.reduce((s, v, f) => s + v * w[f * H * D + hd], b[hd])));
    const q = proj(wq, bq).map((r) => r.map((v) => v / Math.sqrt(D)));
    const k = proj(wk, bk);
    const v = proj(wv, bv);
    const ctx = xs.map(() => new Array<number>(H * D).fill(0));
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const scores = Array.from({ length: T }, (_, s) => {
          let acc = 0;
          for (let d = 0; d < D; d++) acc += q[t][h * D + d] * k[s][h * D + d];
          return acc;
        });
        const mx = Math.max(...scores);
        const e = scores.map((c) => Math.exp(c - mx));
        const z = e.reduce((a, c) => a + c, 0);
        for (let s = 0; s < T; s++) for (let d = 0; d < D; d++) ctx[t][h * D + d] += (e[s] / z) * v[s][h * D + d];
      }
    }
    const pooled = new Array<number>(F).fill(0);
    for (let t = 0; t < T; t++) {
      const att = Array.from({ length: F }, (_, e) => ctx[t].reduce((s, c, hd) => s + c * wo[hd * F + e], bo[e]));
      const out1 = layerNorm(xs[t].map((c, e) => c + att[e]), g1, be1);
      const hidden = Array.from({ length: U }, (_, u) => Math.max(0, out1.reduce((s, c, e) => s + c * w1[e * U + u], b1[u])));
      const ffn = Array.from({ length: F }, (_, e) => hidden.reduce((s, c, u) => s + c * w2[u * F + e], b2[e]));
      const y = layerNorm(out1.map((c, e) => c + ffn[e]), g2, be2);
      y.forEach((c, e) => (pooled[e] += c / T));
    }
    out.push(pooled.reduce((s, c, e) => s + c * wd[e], bd[0]));
  }
  return out;
}

describe('wild 14 with a registered TransformerEncoder (no golden outputs exist for this file)', () => {
  itWild('builds with the file weights in the layer.weights order, and predicts what the recipe computes', async () => {
    expect(isLayerRegistered('TransformerEncoder')).toBe(true);
    const m = await readModel(W14());
    const tfModel = await buildModel(m);
    try {
      const layer = tfModel.getLayer('transformer_encoder_9');
      expect(layer).toBeInstanceOf(TransformerEncoder);
      const file = m.weights.find((l) => l.layer === 'transformer_encoder_9')!.weights;
      expect(layer.weights.map((w) => w.shape)).toEqual(file.map((w) => w.shape));
      // getWeights hands out the variables' own tensors: read, never dispose.
      layer.getWeights().forEach((t, i) => {
        expect(bytes(t.dataSync() as Float32Array), file[i].name).toEqual(bytes(file[i].data as Float32Array));
      });

      const batch = 3;
      const x = seeded(batch * T * F, 14);
      const [out] = predict(tfModel, [{ dtype: 'float32', shape: [batch, T, F], data: x }]);
      expect(out.shape).toEqual([batch, 1]);
      const y = Array.from(out.data as Float32Array);
      expect(y.every(Number.isFinite)).toBe(true);
      const want = reference(m, x, batch);
      y.forEach((v, i) => expect(Math.abs(v - want[i]), `sample ${i}: ${v} vs ${want[i]}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i]))));
      // Different samples give different outputs (the model is not constant on its input).
      expect(new Set(y.map((v) => v.toFixed(6))).size).toBe(batch);
    } finally {
      tfModel.dispose();
    }
  });

  itWild('every weight reaches the output, except the key bias, which softmax cancels exactly', async () => {
    const m = await readModel(W14());
    const tfModel = await buildModel(m);
    try {
      const layer = tfModel.getLayer('transformer_encoder_9');
      const names = m.weights.find((l) => l.layer === 'transformer_encoder_9')!.weights.map((w) => w.name);
      const x = seeded(2 * T * F, 7);
      const run = () => Array.from(predict(tfModel, [{ dtype: 'float32', shape: [2, T, F], data: x }])[0].data as Float32Array);
      const base = run();
      const original = layer.getWeights().map((t) => t.clone());
      const moved: Record<string, number> = {};
      for (let i = 0; i < original.length; i++) {
        const w = original.map((t, j) => (j === i ? tf.add(t, tf.tensor(seeded(t.size, 100 + i), t.shape).mul(0.2)) : t));
        layer.setWeights(w);
        const y = run();
        moved[names[i]] = Math.max(...y.map((v, k) => Math.abs(v - base[k])));
        tf.dispose(w[i]);
        layer.setWeights(original);
      }
      expect(run()).toEqual(base);
      tf.dispose(original);
      for (const [name, delta] of Object.entries(moved)) {
        if (name.endsWith('/key/bias:0')) expect(delta, name).toBeLessThan(1e-5);
        else expect(delta, name).toBeGreaterThan(1e-4);
      }
    } finally {
      tfModel.dispose();
    }
  });

  it('masks (assumed, classic Keras recipe): padded steps do not change the outputs at kept steps', () => {
    const layer = new TransformerEncoder({ name: 'enc', embedDim: 8, denseDim: 12, numHeads: 2 });
    const x = tf.tensor3d(seeded(2 * 5 * 4, 3), [2, 5, 4]);
    const mask = tf.tensor2d([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], [2, 5], 'bool');
    // Same kept steps, different padding.
    const x2 = tf.where(tf.expandDims(mask, -1), x, tf.fill([2, 5, 4], 9));
    try {
      const a = layer.apply(x, { mask }) as tf.Tensor;
      const b = layer.apply(x2, { mask }) as tf.Tensor;
      expect(layer.weights).toHaveLength(16);
      expect(a.shape).toEqual([2, 5, 4]);
      const kept = (t: tf.Tensor) => Array.from(t.slice([0, 0, 0], [1, 3, 4]).dataSync());
      kept(b).forEach((v, i) => expect(v).toBeCloseTo(kept(a)[i], 5));
      expect(Array.from(b.slice([1, 0, 0], [1, 5, 4]).dataSync())).toEqual(Array.from(a.slice([1, 0, 0], [1, 5, 4]).dataSync()));
      // Without the mask the padding leaks into the kept steps.
      const c = layer.apply(x2) as tf.Tensor;
      expect(Math.max(...kept(c).map((v, i) => Math.abs(v - kept(a)[i])))).toBeGreaterThan(1e-3);
      expect(layer.computeMask(x, mask)).toBe(mask);
      tf.dispose([a, b, c]);
    } finally {
      tf.dispose([x, x2, mask]);
      layer.dispose();
    }
  });
});
