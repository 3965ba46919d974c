/**
 * Wild 15 (tf.keras 2.15 SavedModel, Sequential LSTM → LSTM → Dense → Dense) through `convert --to h5` and
 * `convert --to tfjs`: the written model, read back with readModel, holds the SavedModel's weights bit for
 * bit in the same layer.weights order, and predicts exactly what the SavedModel's model predicts (same
 * backend, same weights, same graph). The tfjs folder also loads in a fresh process with plain tfjs.
 */
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { runCli as cli } from '../helpers/cli.js';
import type { KerasModel, WeightData } from '../../src/model/types.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel, predict } from '../../src/runtime/build.js';
import { requireWild } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { predictInFreshProcess } from '../writers/tfjs-helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const W15 = () => join(requireWild(), '15_nlx_stock_lstm_savedmodel', 'stock_model');

const tmpRoot = fileTempDir('keras-interop-savedmodel-convert-');

beforeAll(async () => {
  await useBackend('cpu');
});

const bytes = (d: WeightData) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** Four price-like series of 30 steps, one feature. */
const SERIES = Float32Array.from({ length: 4 * 30 }, (_, i) => {
  const [n, t] = [Math.floor(i / 30), i % 30];
  return 0.3 + 0.1 * n + 0.25 * Math.sin(t / (3 + n)) + 0.005 * t;
});

async function predictions(m: KerasModel): Promise<{ shape: number[]; data: number[] }> {
  const tfModel = await buildModel(m);
  try {
    const [out] = predict(tfModel, [{ dtype: 'float32', shape: [4, 30, 1], data: SERIES }]);
    return { shape: out.shape, data: Array.from(out.data as Float32Array) };
  } finally {
    tfModel.dispose();
  }
}

/** Layers with weights in the same order, their weights equal bit for bit (a weightless layer may be listed or not). */
function expectSameWeights(gotModel: KerasModel, wantModel: KerasModel, sameNames: boolean): void {
  const [got, want] = [gotModel, wantModel].map((m) => m.weights.filter((l) => l.weights.length > 0));
  expect(got.map((l) => l.layer)).toEqual(want.map((l) => l.layer));
  expect(want.map((l) => l.layer)).toEqual(['lstm', 'lstm_1', 'dense', 'dense_1']);
  want.forEach((l, i) => {
    const g = got[i].weights;
    expect(g.map((w) => [w.shape, w.dtype]), l.layer).toEqual(l.weights.map((w) => [w.shape, w.dtype]));
    if (sameNames) expect(g.map((w) => w.name), l.layer).toEqual(l.weights.map((w) => w.name));
    l.weights.forEach((w, j) => expect(bytes(g[j].data), w.name).toEqual(bytes(w.data)));
  });
}

describeWild('wild 15 SavedModel converted', () => {
  it('--to h5: same weights bit for bit (names too), same config, same predictions', async () => {
    const sm = await readModel(W15());
    const out = join(tmpRoot, 'stock_model.h5');
    const r = await cli('convert', W15(), '--to', 'h5', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(out);
    const h5 = await readModel(out);
    expect(h5.source.format).toBe('keras2-h5');
    expect(h5.source.kerasVersion).toBe('2.15.0');
    expect(h5.config).toEqual(sm.config);
    expectSameWeights(h5, sm, true);
    const [a, b] = [await predictions(sm), await predictions(h5)];
    expect(a.shape).toEqual([4, 1]);
    expect(a.data.every(Number.isFinite)).toBe(true);
    expect(new Set(a.data).size).toBe(4);
    expect(b).toEqual(a);
  });

  it('--to tfjs: same weights bit for bit, same predictions, here and with plain tfjs in a fresh process', async () => {
    const sm = await readModel(W15());
    const out = join(tmpRoot, 'stock_model_tfjs');
    const r = await cli('convert', W15(), '--to', 'tfjs', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')[0]).toBe(join(out, 'model.json'));
    const tfjs = await readModel(out);
    expect(tfjs.source.format).toBe('tfjs-layers');
    expectSameWeights(tfjs, sm, false);
    const want = await predictions(sm);
    expect(await predictions(tfjs)).toEqual(want);
    const plain = await predictInFreshProcess(out, [{ dtype: 'float32', shape: [4, 30, 1], data: SERIES }]);
    expect(plain.outputs).toHaveLength(1);
    expect(plain.outputs[0].shape).toEqual([4, 1]);
    // Plain tfjs builds the folder's graph on its own (not through buildModel): float32 rounding may
    // differ in the last bit, not more.
    expect(plain.layers).toEqual(['InputLayer', 'LSTM', 'LSTM', 'Dense', 'Dense']);
    Array.from(plain.outputs[0].data).forEach((v, i) => expect(Math.abs(v - want.data[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want.data[i]))));
  });
});
