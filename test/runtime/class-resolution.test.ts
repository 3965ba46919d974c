/**
 * Same-named classes of different libraries: which implementation a layer gets, decided by its config
 * keys and weight names (src/runtime/class-resolution.ts), never by guessing; and kulc's layers beside
 * keras-self-attention's and Keras's in one process and one model.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../fuzz/lib/rng.js';
import '../../src/layers/index.js';
import { formatSummary, summarize } from '../../src/model/summary.js';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { verifyCase } from '../../src/parity/verify.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel } from '../../src/runtime/build.js';
import { type ClassCandidate, chooseCandidate, classResolutions, resolveLayerClass } from '../../src/runtime/class-resolution.js';
import { registerLayer } from '../../src/runtime/registry.js';
import { describeRuntime, runModel } from '../../src/runtime/run.js';
import { GOLDEN } from '../helpers/paths.js';
import { expectClose, input, keras224Model, layer, softmax } from '../layers/kulc-helpers.js';
import { randomArray } from '../layers/seeded-values.js';
import { errorOf } from '../helpers/errors.js';

beforeAll(async () => {
  await useBackend('cpu');
});

async function resolutionsOf(file: string) {
  const m = await readModel(join(GOLDEN, file));
  return classResolutions(m.config!, { weights: m.weights });
}

describe('the golden files resolve by their config keys and weight names', () => {
  it("kulc's LayerNormalization: Keras 2.2.4 config {name, trainable} with weights gain, bias; Keras 3 config {epsilon} with unnamed weights", async () => {
    const [h5] = (await resolutionsOf('kulc_layer_norm/model.h5')).filter((r) => r.className === 'LayerNormalization');
    expect(h5).toMatchObject({ resolvedClass: 'Kulc>LayerNormalization', origin: 'kulc', ambiguous: true });
    expect(h5.reason).toContain('weights gain, bias');
    expect(h5.reason).toContain('keras: lacks axis');
    const [archive] = (await resolutionsOf('kulc_layer_norm/model.keras')).filter((r) => r.className === 'LayerNormalization');
    expect(archive).toMatchObject({ resolvedClass: 'Kulc>LayerNormalization', origin: 'kulc' });
    expect(archive.reason).not.toContain('weights');
  });

  it("Keras's own LayerNormalization and MultiHeadAttention, keras-self-attention's and kulc's ScaledDotProductAttention", async () => {
    for (const r of (await resolutionsOf('transformer_block/model.h5')).filter((x) => x.ambiguous)) {
      expect(r.origin, r.layer).toBe('keras');
      expect(r.resolvedClass).toBe(r.className);
    }
    expect((await resolutionsOf('sdpa_qkv/model.h5')).find((r) => r.className === 'ScaledDotProductAttention')).toMatchObject({
      origin: 'keras-self-attention',
      resolvedClass: 'ScaledDotProductAttention',
    });
    for (const file of ['kulc_sdpa/model.h5', 'kulc_multi_head/model.keras']) {
      expect((await resolutionsOf(file)).find((r) => r.className === 'ScaledDotProductAttention'), file).toMatchObject({
        origin: 'kulc',
        resolvedClass: 'Kulc>ScaledDotProductAttention',
      });
    }
  });

  it('inspect shows the origin of every ambiguous layer', async () => {
    const m = await readModel(join(GOLDEN, 'kulc_transformer_encoder/model.h5'));
    const summary = summarize(m, await describeRuntime(m, 'cpu'));
    expect(summary.layers.find((l) => l.name === 'layer_normalization_1')).toMatchObject({ origin: 'kulc', resolvedAs: expect.stringMatching(/^Kulc>LayerNormalization: /) });
    const text = formatSummary(summary);
    expect(text).toMatch(/layer_normalization_1 +LayerNormalization \(kulc\)/);
    expect(text).toMatch(/scaled_dot_product_attention_1 +ScaledDotProductAttention \(kulc\)/);
    expect(text).toMatch(/time_distributed_1 +TimeDistributed +\(/);
  });
});

describe('the rule', () => {
  it("keras-layer-normalization's LayerNormalization (center, scale, epsilon; no axis) runs as Keras's over the last axis", async () => {
    const [T, d] = [3, 5];
    const next = mulberry32(3);
    const [x, gamma, beta] = [randomArray(next, 2 * T * d, 2), randomArray(next, d, 1), randomArray(next, d, 1)];
    const config = { center: true, scale: true, epsilon: 1e-14, gamma_initializer: { class_name: 'Ones', config: {} }, beta_initializer: { class_name: 'Zeros', config: {} }, gamma_regularizer: null, beta_regularizer: null, gamma_constraint: null, beta_constraint: null };
    expect(resolveLayerClass({ className: 'LayerNormalization', config, weightNames: ['gamma', 'beta'] })).toMatchObject({ origin: 'keras-layer-normalization', className: 'LayerNormalization' });
    const model = keras224Model([input('input_1', [T, d]), layer('layer_normalization_1', 'LayerNormalization', config, ['input_1'])], [['layer_normalization_1', 0]], {
      layer_normalization_1: [['gamma', [d], gamma], ['beta', [d], beta]],
    });
    const [out] = await runModel(model, [{ shape: [2, T, d], data: x, dtype: 'float32' }], { backend: 'cpu' });
    const expected = new Float64Array(x.length);
    for (let r = 0; r < 2 * T; r++) {
      const row = x.subarray(r * d, r * d + d);
      const mean = row.reduce((a, b) => a + b, 0) / d;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
      for (let i = 0; i < d; i++) expected[r * d + i] = ((row[i] - mean) / Math.sqrt(variance + 1e-14)) * gamma[i] + beta[i];
    }
    expectClose(out, expected, [2, T, d]);
  });

  it('a config that fits no candidate is refused, naming per candidate the keys or weights that did not fit', async () => {
    // kulc's keys, but Keras's weight names
    const contradicting = keras224Model([input('input_1', [4]), layer('ln', 'LayerNormalization', {}, ['input_1'])], [['ln', 0]], {
      ln: [['gamma', [4], new Float32Array(4)], ['beta', [4], new Float32Array(4)]],
    });
    const e = await errorOf(buildModel(contradicting));
    expect(e.code).toBe('UNSUPPORTED_LAYER');
    expect(e.message).toContain('fits no known LayerNormalization');
    expect(e.message).toContain('keras: lacks axis');
    expect(e.message).toContain('kulc: has no weights gamma, beta');
    expect(e.message).toContain("registerLayer('User>LayerNormalization', MyLayer)");
    // an unknown key is never dropped: Keras's keys plus one
    const extra = keras224Model([input('input_1', [4]), layer('ln', 'LayerNormalization', { axis: -1, epsilon: 0.001, center: true, scale: true, groups: 2 }, ['input_1'])], [['ln', 0]], {
      ln: [['gamma', [4], new Float32Array(4)], ['beta', [4], new Float32Array(4)]],
    });
    const e2 = await errorOf(buildModel(extra));
    expect(e2.message).toContain('keras: does not take groups');
    expect(e2.message).toContain('kulc: does not take axis, center, scale, groups');
  });

  it("kulc's classes that no other library names have one candidate each: their keys are checked too", () => {
    expect(resolveLayerClass({ className: 'SequenceAttention', config: { name: 's', trainable: true, similarity: '_additive_similarity', kernel_initializer: 'glorot_uniform' }, weightNames: ['w_a', 'v_a'] })).toMatchObject({
      origin: 'kulc',
      className: 'SequenceAttention',
      ambiguous: false,
    });
    const odd = resolveLayerClass({ className: 'AttentionRNNWrapper', config: { name: 'w', layer: {}, weight_initializer: 'glorot_uniform', attention_width: 3 } });
    expect(odd).toMatchObject({ className: 'User>AttentionRNNWrapper', origin: 'user' });
    expect(odd.reason).toContain('kulc: does not take attention_width');
  });

  it('the refused class runs once the user registers an implementation under the name it was given', async () => {
    class Affine extends tf.layers.Layer {
      static className = 'User>LayerNormalization';
      private g: tf.LayerVariable | null = null;
      private b: tf.LayerVariable | null = null;
      override build(shape: tf.Shape | tf.Shape[]): void {
        const d = (shape as tf.Shape)[1] as number;
        this.g = this.addWeight('gamma', [d], 'float32', tf.initializers.ones());
        this.b = this.addWeight('beta', [d], 'float32', tf.initializers.zeros());
      }
      override call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.tidy(() => tf.add(tf.mul(Array.isArray(x) ? x[0] : x, this.g!.read()), this.b!.read()));
      }
    }
    registerLayer('User>LayerNormalization', Affine as unknown as Parameters<typeof registerLayer>[1]);
    const model = keras224Model([input('input_1', [2]), layer('ln', 'LayerNormalization', {}, ['input_1'])], [['ln', 0]], {
      ln: [['gamma', [2], Float32Array.of(2, 3)], ['beta', [2], Float32Array.of(1, -1)]],
    });
    const [out] = await runModel(model, [{ shape: [1, 2], data: Float32Array.of(1, 1), dtype: 'float32' }], { backend: 'cpu' });
    expect(Array.from(out.data)).toEqual([3, 2]);
  });

  it('the first candidate that fits wins; a Keras 3 module that is not its own rules one out; registered names are final', () => {
    const table: ClassCandidate[] = [
      { origin: 'keras', registeredAs: 'Thing', accepts: ['name', 'size'], modules: ['keras'] },
      { origin: 'kulc', registeredAs: 'Kulc>Thing', accepts: ['name', 'size'] },
    ];
    expect(chooseCandidate('Thing', table, { className: 'Thing', config: { name: 't', size: 1 } })).toMatchObject({ origin: 'keras', reason: expect.stringContaining('kulc also fits') });
    expect(chooseCandidate('Thing', table, { className: 'Thing', config: { name: 't' }, module: 'keras.src.layers' })).toMatchObject({ origin: 'keras' });
    expect(chooseCandidate('Thing', table, { className: 'Thing', config: { name: 't' }, module: 'kerasish.layers' })).toMatchObject({ origin: 'kulc' });
    expect(resolveLayerClass({ className: 'Kulc>ScaledDotProductAttention', config: { history_only: true } })).toMatchObject({ origin: 'kulc', className: 'Kulc>ScaledDotProductAttention' });
  });
});

describe("kulc's layers beside keras-self-attention's and Keras's", () => {
  it('in one process: the golden cases of all three verify one after the other', async () => {
    for (const name of ['kulc_transformer_encoder', 'sdpa_qkv', 'transformer_block', 'kulc_sdpa_return_attention', 'sdpa_self_masked']) {
      const r = await verifyCase(join(GOLDEN, name), { backend: 'cpu' });
      expect(r.pass, name).toBe(true);
    }
  });

  it('in one model: both LayerNormalizations and both ScaledDotProductAttentions, each computing its own formula', async () => {
    const [B, T, d] = [2, 4, 3];
    const next = mulberry32(8);
    const x = randomArray(next, B * T * d, 1.5);
    const [gain, bias, gamma, beta] = [0, 1, 2, 3].map(() => randomArray(next, d, 0.5).map((v, i) => (i % 2 ? v : 1 + v)));
    const model: KerasModel = keras224Model(
      [
        input('input_1', [T, d]),
        layer('ln_kulc', 'LayerNormalization', {}, ['input_1']),
        layer('ln_keras', 'LayerNormalization', { axis: -1, epsilon: 0.001, center: true, scale: true }, ['input_1']),
        layer('sdpa_kulc', 'ScaledDotProductAttention', { return_attention: false }, ['ln_kulc', 'ln_kulc', 'ln_keras']),
        layer('sdpa_ksa', 'ScaledDotProductAttention', { return_attention: false, history_only: true }, ['ln_keras']),
        layer('add_1', 'Add', {}, ['sdpa_kulc', 'sdpa_ksa']),
      ],
      [['add_1', 0]],
      { ln_kulc: [['gain', [d], gain], ['bias', [d], bias]], ln_keras: [['gamma', [d], gamma], ['beta', [d], beta]] },
    );
    const origins = classResolutions(model.config as JsonObject, { weights: model.weights }).filter((r) => r.ambiguous).map((r) => [r.layer, r.origin]);
    expect(origins).toEqual([['ln_kulc', 'kulc'], ['ln_keras', 'keras'], ['sdpa_kulc', 'kulc'], ['sdpa_ksa', 'keras-self-attention']]);

    const [out] = await runModel(model, [{ shape: [B, T, d], data: x, dtype: 'float32' }], { backend: 'cpu' });
    const norm = (row: Float32Array, kulc: boolean) => {
      const mean = row.reduce((a, b) => a + b, 0) / d;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
      return Array.from(row, (v, i) => (kulc ? (gain[i] * (v - mean)) / (Math.sqrt(variance) + 1e-8) + bias[i] : ((v - mean) / Math.sqrt(variance + 0.001)) * gamma[i] + beta[i]));
    };
    const expected: number[] = [];
    for (let b = 0; b < B; b++) {
      const rows = (kulc: boolean) => Array.from({ length: T }, (_, t) => norm(x.subarray((b * T + t) * d, (b * T + t + 1) * d), kulc));
      const [k, s] = [rows(true), rows(false)];
      const attend = (q: number[][], keys: number[][], values: number[][], historyOnly: boolean) =>
        q.map((qi, i) => {
          const a = softmax(keys.map((kj, j) => qi.reduce((acc, v, c) => acc + v * kj[c], 0) / Math.sqrt(d) - (historyOnly && j > i ? 10000 : 0)));
          return Array.from({ length: d }, (_, c) => a.reduce((acc, w, j) => acc + w * values[j][c], 0));
        });
      const kulcOut = attend(k, k, s, false); // kulc: [q, k, v] = [ln_kulc, ln_kulc, ln_keras]
      const ksaOut = attend(s, s, s, true); // keras-self-attention on one input, history only
      for (let t = 0; t < T; t++) for (let c = 0; c < d; c++) expected.push(kulcOut[t][c] + ksaOut[t][c]);
    }
    expectClose(out, expected, [B, T, d]);
  });
});
