import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKerasInteropError } from '../../src/errors.js';
import { float32ToFloat16Bits } from '../../src/model/float16.js';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel, buildModelDetailed, buildTopology, modelInputNames, predict } from '../../src/runtime/build.js';
import { normalizeConfig } from '../../src/runtime/normalize.js';
import { upgradeLegacyLayers } from '../../src/runtime/legacy-layers.js';
import { findUnsupportedLayers } from '../../src/runtime/registry.js';
import { withTranslatedLambdas } from '../../src/runtime/lambda/replace.js';
import {
  type ConfigCase,
  goldenConfigCases,
  loadOurLayers,
  readConfig,
  readKerasModel,
  stubMissing,
  wildConfigCases,
  wildPath,
  worstExcess,
} from './support.js';
import { describeWild } from '../helpers/wild.js';
import { readTestNpy } from '../helpers/npy.js';
import { errorOf } from '../helpers/errors.js';

/** Real files that must stay unbuildable here, and why. */
const EXPECTED_UNSUPPORTED: Record<string, string> = {
};

beforeAll(async () => {
  await useBackend('cpu');
  await loadOurLayers();
});

describe('every golden and real config builds with tfjs', () => {
  const cases: ConfigCase[] = [...goldenConfigCases(), ...wildConfigCases()];
  for (const c of cases) {
    it(c.id, async () => {
      // as the runtime sees it: legacy layers (CuDNN, Keras 1) upgraded first, Lambda layers translated from their bytecode
      const raw = upgradeLegacyLayers({ source: { format: 'keras2-h5', file: c.path, extras: {} }, config: await readConfig(c), weights: [] }).config as JsonObject;
      const normalized = withTranslatedLambdas(normalizeConfig(raw)).config;
      const unsupported = findUnsupportedLayers(normalized);
      const wildId = c.id.startsWith('wild/') ? c.id.split('/')[1] : '';
      const expected = EXPECTED_UNSUPPORTED[wildId];
      if (expected) {
        expect(unsupported.map((u) => u.reason)).toContain(expected);
        return;
      }
      // Layers whose TypeScript implementation is still being written get a pass-through stand-in.
      stubMissing(unsupported.filter((u) => u.reason === 'unregistered').map((u) => u.className));
      expect(findUnsupportedLayers(normalized)).toEqual([]);
      const model = await buildTopology(normalized);
      try {
        const inner = normalized.config as JsonObject;
        const layers = (inner.layers as JsonObject[]).filter((l) => !(normalized.class_name === 'Sequential' && l.class_name === 'InputLayer'));
        const names = layers.map((l) => (l.name ?? (l.config as JsonObject).name) as string);
        for (const n of names) expect(model.getLayer(n).name).toBe(n);
        if (normalized.class_name !== 'Sequential') {
          expect(model.outputs.length).toBe((inner.output_layers as unknown[]).length);
          expect(model.inputs.length).toBe((inner.input_layers as unknown[]).length);
        }
      } finally {
        model.dispose();
      }
    });
  }
});

describeWild('buildModel with the files weights', () => {
  for (const [id, file] of [
    ['20_tree_lstm_embedding_archive', 'lstm_tree_model.keras'],
    ['21_rssi_hybrid_bn_bilstm_archive', 'hybrid_model.keras'],
  ] as const) {
    it(`wild ${id}: outputs match Keras within the case tolerance`, async () => {
      const model = await readKerasModel(wildPath(id, file));
      const tfModel = await buildModel(model);
      try {
        const golden = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(wildPath(id, 'golden', 'case.json'), 'utf8'))) as {
          inputs: { file: string; name: string }[];
          outputs: { file: string }[];
          tolerance: { atol: number; rtol: number };
        };
        // Feed inputs in the model's input order, matched by name.
        const inputs = modelInputNames(tfModel).map((name) => {
          const spec = golden.inputs.find((i) => i.name === name);
          if (!spec) throw new Error(`case has no input ${name}`);
          return readTestNpy(wildPath(id, 'golden', spec.file));
        });
        const outs = predict(tfModel, inputs);
        expect(outs.length).toBe(golden.outputs.length);
        golden.outputs.forEach((o, j) => {
          const want = readTestNpy(wildPath(id, 'golden', o.file));
          expect(outs[j].shape).toEqual(want.shape);
          const excess = worstExcess(outs[j].data, want.data as Float32Array, golden.tolerance.atol, golden.tolerance.rtol);
          expect(excess).toBeLessThanOrEqual(0);
        });
      } finally {
        tfModel.dispose();
      }
    });
  }

  it('wild 22 (tf.keras 2.10, TimeDistributed) and 24 (Keras 2.1.6): every weight lands where the file says', async () => {
    for (const p of [wildPath('22_stock_cnn_lstm_timedistributed', 'CNN_LSTM.h5'), wildPath('24_thesis_k216_legacy_sequential', 'lstm_model.h5')]) {
      const model = await readKerasModel(p);
      const tfModel = await buildModel(model);
      try {
        for (const lw of model.weights) {
          if (lw.weights.length === 0) continue;
          const values = tfModel.getLayer(lw.layer).getWeights();
          expect(values.length).toBe(lw.weights.length);
          values.forEach((v, i) => {
            expect(v.shape).toEqual(lw.weights[i].shape);
            expect(Array.from(v.dataSync())).toEqual(Array.from(lw.weights[i].data as Float32Array));
          });
        }
        const shape = tfModel.inputs[0].shape.map((d) => d ?? 4);
        const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
        const [out] = predict(tfModel, [{ dtype: 'float32', shape, data: x }]);
        expect(out.name).toBe(model.weights[model.weights.length - 1].layer);
        expect(out.shape[0]).toBe(4);
        expect(out.data.every((v) => Number.isFinite(v))).toBe(true);
      } finally {
        tfModel.dispose();
      }
    }
  });

  it('float64 and float16 weights are converted to float32', async () => {
    const model = await readKerasModel(wildPath('24_thesis_k216_legacy_sequential', 'lstm_model.h5'));
    const x = { dtype: 'float32', shape: [2, 5, 1], data: Float32Array.from([0.1, -0.2, 0.3, 0.5, -0.1, 0.4, 0.2, -0.3, 0.0, 0.7]) };
    const run = async (m: KerasModel): Promise<Float32Array> => {
      const t = await buildModel(m);
      try {
        return predict(t, [x])[0].data as Float32Array;
      } finally {
        t.dispose();
      }
    };
    const base = await run(model);
    const as64: KerasModel = {
      ...model,
      weights: model.weights.map((lw) => ({ ...lw, weights: lw.weights.map((w) => ({ ...w, dtype: 'float64' as const, data: Float64Array.from(w.data as Float32Array) })) })),
    };
    expect(Array.from(await run(as64))).toEqual(Array.from(base));
    const as16: KerasModel = {
      ...model,
      weights: model.weights.map((lw) => ({ ...lw, weights: lw.weights.map((w) => ({ ...w, dtype: 'float16' as const, data: float32ToFloat16Bits(w.data as Float32Array) })) })),
    };
    const half = await run(as16);
    expect(worstExcess(half, base, 2e-2, 2e-2)).toBeLessThanOrEqual(0);
    expect(Array.from(half)).not.toEqual(Array.from(base));
  });

  it('WEIGHTS_MISMATCH names the layer and the weight (shape, count, unknown layer, missing weights)', async () => {
    const model = await readKerasModel(wildPath('24_thesis_k216_legacy_sequential', 'lstm_model.h5'));
    const dense = model.weights.findIndex((lw) => lw.layer === 'dense_2');
    const withWeights = (f: (w: KerasModel['weights']) => KerasModel['weights']): KerasModel => ({ ...model, weights: f(model.weights.map((lw) => ({ ...lw, weights: [...lw.weights] }))) });

    const badShape = withWeights((ws) => {
      const k = ws[dense].weights[0];
      ws[dense].weights[0] = { ...k, shape: [k.shape[1], k.shape[0]] };
      return ws;
    });
    let e = await errorOf(buildModel(badShape));
    expect(e.code).toBe('WEIGHTS_MISMATCH');
    expect(e.message).toMatch(/layer "dense_2" weight 0 "dense_2\/kernel:0" has shape \[1, 30\]/);

    const missingOne = withWeights((ws) => {
      ws[dense].weights.pop();
      return ws;
    });
    e = await errorOf(buildModel(missingOne));
    expect(e.code).toBe('WEIGHTS_MISMATCH');
    expect(e.message).toMatch(/layer "dense_2" \(Dense\) has 2 weights in the built model .* but 1 in the file/);

    const unknown = withWeights((ws) => [...ws, { layer: 'ghost', weights: [ws[dense].weights[1]] }]);
    e = await errorOf(buildModel(unknown));
    expect(e.message).toMatch(/weights for layer "ghost", which the model does not have/);

    const none = withWeights((ws) => ws.filter((lw) => lw.layer !== 'dense_2'));
    e = await errorOf(buildModel(none));
    expect(e.message).toMatch(/layer "dense_2" has 2 weights in the built model but the file has none/);
  });

  it('CONFIG_MISSING for a weights-only model', async () => {
    const model = await readKerasModel(wildPath('24_thesis_k216_legacy_sequential', 'lstm_model.h5'));
    const e = await errorOf(buildModel({ ...model, config: null }));
    expect(e.code).toBe('CONFIG_MISSING');
  });
});

describe('masks as Keras runs them', () => {
  /**
   * Keras 3: tokens → Embedding(6, 2, mask_zero) → Bidirectional(LSTM(3, return_sequences)) → LSTM(2), the
   * last call recorded with mask=None (Keras 3's Bidirectional passes no mask on). Outputs: the
   * Bidirectional sequence and the final LSTM state.
   */
  function maskedModel(): KerasModel {
    const t = (name: string): JsonObject => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [name, 0, 0] } });
    const lstm = (name: string, units: number, extra: JsonObject): JsonObject => ({
      module: 'keras.layers',
      class_name: 'LSTM',
      config: { name, units, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, return_sequences: false, go_backwards: false, ...extra },
      registered_name: null,
    });
    const config: JsonObject = {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: {
        name: 'masked',
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 5], dtype: 'int32', name: 'tokens' }, registered_name: null, name: 'tokens', inbound_nodes: [] },
          { module: 'keras.layers', class_name: 'Embedding', config: { name: 'emb', input_dim: 6, output_dim: 2, mask_zero: true }, registered_name: null, name: 'emb', inbound_nodes: [{ args: [t('tokens')], kwargs: {} }] },
          { module: 'keras.src.ops.numpy', class_name: 'NotEqual', config: { name: 'not_equal' }, registered_name: 'NotEqual', name: 'not_equal', inbound_nodes: [{ args: [t('tokens'), 0], kwargs: {} }] },
          {
            module: 'keras.layers',
            class_name: 'Bidirectional',
            config: {
              name: 'bi',
              merge_mode: 'concat',
              layer: lstm('forward_lstm', 3, { return_sequences: true, zero_output_for_mask: true }),
              backward_layer: lstm('backward_lstm', 3, { return_sequences: true, zero_output_for_mask: true, go_backwards: true }),
            },
            registered_name: null,
            name: 'bi',
            inbound_nodes: [{ args: [t('emb')], kwargs: { mask: t('not_equal') } }],
          },
          { ...lstm('top', 2, {}), name: 'top', inbound_nodes: [{ args: [t('bi')], kwargs: { training: false, mask: null } }] },
        ],
        input_layers: [['tokens', 0, 0]],
        output_layers: [['bi', 0, 0], ['top', 0, 0]],
      },
      registered_name: 'Functional',
    };
    let seed = 7;
    const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => ((seed = (seed * 48271) % 2147483647) / 2147483647 - 0.5) * 1.6);
    const w = (name: string, shape: number[]) => ({ name, path: name, shape, dtype: 'float32' as const, data: rand(shape.reduce((a, b) => a * b, 1)) });
    return {
      source: { format: 'keras3-h5', file: 'masked.h5', extras: {} },
      config,
      weights: [
        { layer: 'emb', weights: [w('emb/embeddings', [6, 2])] },
        {
          layer: 'bi',
          weights: [
            w('bi/forward_lstm/kernel', [2, 12]), w('bi/forward_lstm/recurrent_kernel', [3, 12]), w('bi/forward_lstm/bias', [12]),
            w('bi/backward_lstm/kernel', [2, 12]), w('bi/backward_lstm/recurrent_kernel', [3, 12]), w('bi/backward_lstm/bias', [12]),
          ],
        },
        { layer: 'top', weights: [w('top/kernel', [6, 8]), w('top/recurrent_kernel', [2, 8]), w('top/bias', [8])] },
      ],
    };
  }

  /** Keras's LSTM step in float64 (gates i, f, c, o; sigmoid recurrent activation). */
  function lstmStep(x: number[], h: number[], c: number[], k: Float32Array, r: Float32Array, b: Float32Array): [number[], number[]] {
    const u = h.length;
    const z = Array.from({ length: 4 * u }, (_, j) => b[j] + x.reduce((s, xi, i) => s + xi * k[i * 4 * u + j], 0) + h.reduce((s, hi, i) => s + hi * r[i * 4 * u + j], 0));
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const c2 = c.map((cv, j) => sig(z[u + j]) * cv + sig(z[j]) * Math.tanh(z[2 * u + j]));
    const h2 = c2.map((cv, j) => sig(z[3 * u + j]) * Math.tanh(cv));
    return [h2, c2];
  }

  it('zeros at masked steps inside Bidirectional, and no mask where Keras 3 recorded mask=None', async () => {
    const model = maskedModel();
    const { model: tfModel, normalized } = await buildModelDetailed(model);
    try {
      expect(normalized.callsWithoutMask).toEqual(['top']);
      const tokens = [3, 1, 4, 0, 0, 2, 5, 1, 5, 0];
      const outs = predict(tfModel, [{ dtype: 'int32', shape: [2, 5], data: Int32Array.from(tokens) }]);
      const wt = (layer: string) => model.weights.find((l) => l.layer === layer)!.weights.map((x) => x.data as Float32Array);
      const [emb] = wt('emb');
      const [fk, fr, fb, bk, br, bb] = wt('bi');
      const [tk, tr, tb] = wt('top');
      for (let n = 0; n < 2; n++) {
        const seq = tokens.slice(n * 5, n * 5 + 5);
        const xs = seq.map((id) => [emb[id * 2], emb[id * 2 + 1]]);
        const fwd: number[][] = [];
        let h = [0, 0, 0];
        let c = [0, 0, 0];
        for (let i = 0; i < 5; i++) {
          if (seq[i] !== 0) [h, c] = lstmStep(xs[i], h, c, fk, fr, fb);
          fwd.push(seq[i] !== 0 ? h : [0, 0, 0]);
        }
        const bwd: number[][] = Array.from({ length: 5 }, () => [0, 0, 0]);
        h = [0, 0, 0];
        c = [0, 0, 0];
        for (let i = 4; i >= 0; i--) {
          if (seq[i] !== 0) {
            [h, c] = lstmStep(xs[i], h, c, bk, br, bb);
            bwd[i] = h;
          }
        }
        const bi = fwd.map((f, i) => [...f, ...bwd[i]]);
        const got = Array.from(outs[0].data.slice(n * 30, n * 30 + 30));
        expect(worstExcess(got, bi.flat(), 1e-5, 1e-4)).toBeLessThanOrEqual(0);
        // The top LSTM runs over all five steps, padded ones included (zeros in), as Keras 3 did.
        let th = [0, 0];
        let tc = [0, 0];
        for (let i = 0; i < 5; i++) [th, tc] = lstmStep(bi[i], th, tc, tk, tr, tb);
        expect(worstExcess(Array.from(outs[1].data.slice(n * 2, n * 2 + 2)), th, 1e-5, 1e-4)).toBeLessThanOrEqual(0);
      }
      expect(outs.map((o) => o.name)).toEqual(['bi', 'top']);
    } finally {
      tfModel.dispose();
    }
  });
});

describe('predict', () => {
  /** Keras 3 Functional: int64 tokens → Embedding(4, 2) → two outputs (the embedding, and Dense(1) of it). */
  function tokenModel(): KerasModel {
    const tensor = (name: string): JsonObject => ({ class_name: '__keras_tensor__', config: { shape: [null, 3], dtype: 'int64', keras_history: [name, 0, 0] } });
    const config: JsonObject = {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: {
        name: 'tokens',
        trainable: true,
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 3], dtype: 'int64', sparse: false, name: 'ids', optional: false }, registered_name: null, name: 'ids', inbound_nodes: [] },
          {
            module: 'keras.layers',
            class_name: 'Embedding',
            config: { name: 'emb', input_dim: 4, output_dim: 2, mask_zero: false, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null } },
            registered_name: null,
            build_config: { input_shape: [null, 3] },
            name: 'emb',
            inbound_nodes: [{ args: [tensor('ids')], kwargs: {} }],
          },
          {
            module: 'keras.layers',
            class_name: 'Dense',
            config: { name: 'out', units: 1, use_bias: true, activation: 'linear' },
            registered_name: null,
            name: 'out',
            inbound_nodes: [{ args: [tensor('emb')], kwargs: {} }],
          },
        ],
        input_layers: [['ids', 0, 0]],
        output_layers: [['emb', 0, 0], ['out', 0, 0]],
      },
      registered_name: 'Functional',
    };
    const f32 = (name: string, shape: number[], values: number[]) => ({ name, path: name, shape, dtype: 'float32' as const, data: Float32Array.from(values) });
    return {
      source: { format: 'keras3-h5', file: 'synthetic.h5', extras: {} },
      config,
      weights: [
        { layer: 'ids', weights: [] },
        { layer: 'emb', weights: [f32('emb/embeddings', [4, 2], [0, 0, 1, 2, 3, 4, 5, 6])] },
        { layer: 'out', weights: [f32('out/kernel', [2, 1], [1, 10]), f32('out/bias', [1], [0.5])] },
      ],
    };
  }

  it('int64 inputs become int32 tokens; outputs are named after the output layers', async () => {
    const { model: tfModel, normalized } = await buildModelDetailed(tokenModel());
    try {
      expect(normalized.notes.some((n) => n.message.includes('int64'))).toBe(true);
      expect(tfModel.inputs[0].dtype).toBe('int32');
      const outs = predict(tfModel, [{ dtype: 'int64', shape: [2, 3], data: BigInt64Array.from([1n, 2n, 3n, 0n, 3n, 1n]) }]);
      expect(outs.map((o) => [o.name, o.shape])).toEqual([
        ['emb', [2, 3, 2]],
        ['out', [2, 3, 1]],
      ]);
      expect(Array.from(outs[0].data)).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 5, 6, 1, 2]);
      expect(Array.from(outs[1].data)).toEqual([21.5, 43.5, 65.5, 0.5, 65.5, 21.5]);
      // int32 and whole-number floats work too.
      const again = predict(tfModel, [{ dtype: 'float32', shape: [1, 3], data: Float32Array.from([3, 2, 1]) }]);
      expect(Array.from(again[1].data)).toEqual([65.5, 43.5, 21.5]);
    } finally {
      tfModel.dispose();
    }
  });

  it('refuses int64 values outside int32, fractional tokens, and wrong shapes or counts', async () => {
    const tfModel = await buildModel(tokenModel());
    try {
      const code = (f: () => unknown): string => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return isKerasInteropError(e) ? `${e.code}: ${e.message}` : String(e);
        }
      };
      expect(code(() => predict(tfModel, [{ dtype: 'int64', shape: [1, 3], data: BigInt64Array.from([1n, 2n ** 40n, 0n]) }]))).toMatch(
        /^INPUT_MISMATCH: input 0 "ids" \(int64\) holds 1099511627776 at index 1/,
      );
      expect(code(() => predict(tfModel, [{ dtype: 'float32', shape: [1, 3], data: Float32Array.from([1, 2.5, 0]) }]))).toMatch(/^INPUT_MISMATCH: .*2\.5/);
      expect(code(() => predict(tfModel, [{ dtype: 'int32', shape: [1, 4], data: Int32Array.from([1, 2, 3, 0]) }]))).toMatch(/^INPUT_MISMATCH: .*shape \(1, 4\); the model expects \(None, 3\)/);
      expect(code(() => predict(tfModel, []))).toMatch(/^INPUT_MISMATCH: the model takes 1 inputs \(ids\) but 0/);
      expect(code(() => predict(tfModel, [{ dtype: 'int32', shape: [1, 3], data: Int32Array.from([1, 2]) }]))).toMatch(/^INPUT_MISMATCH: .*holds 2 values/);
    } finally {
      tfModel.dispose();
    }
  });

  it('keeps tensor memory flat across calls', async () => {
    const tfModel = await buildModel(tokenModel());
    try {
      const x = { dtype: 'int32', shape: [1, 3], data: Int32Array.from([1, 2, 3]) };
      predict(tfModel, [x]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) predict(tfModel, [x]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tfModel.dispose();
    }
  });
});

it('support: golden fixtures are read from the repository', () => {
  expect(goldenConfigCases()[0].path).toContain(join('fixtures', 'golden'));
});
