/**
 * The lowerings on the golden cases (Python's outputs) and on the real files: every golden case from every
 * model file it lists verifies on the onnxruntime backend; each case's exported file also runs in
 * onnxruntime-web's wasm backend; real files with goldens verify, and the runnable real files without
 * goldens give what the tfjs runtime gives.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGoldenCase } from '../../src/parity/case.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { verifyCase } from '../../src/parity/verify.js';
import { exportOnnx, onnxModelBytes } from '../../src/writers/onnx/index.js';
import { readModel } from '../../src/readers/index.js';
import { buildModel } from '../../src/runtime/build.js';
import { useBackend } from '../../src/runtime/backend.js';
import type { InputArray } from '../../src/runtime/build.js';
import { GOLDEN, WILD_WITH_GOLDEN, goldenCases, requireWild } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { runOrtNode, runOrtWeb, runTfjs, worstExcess } from './helpers.js';

function explain(r: Awaited<ReturnType<typeof verifyCase>>): string {
  return r.files
    .map((f) => `${f.file}: ${f.error ? `${f.error.code} ${f.error.message}` : f.outputs.map((o) => `${o.name} max abs ${o.maxAbsError} (${o.mismatches} mismatches)`).join('; ')}`)
    .join('\n');
}

/** Real files that run on the runtime but have no golden outputs. */
const WILD_RUNNABLE = [
  '04_btc_transformer_mha_tfoplambda/transformer_BTC.h5',
  '06_ids_lstm_dot_attention/LSTM_model.h5',
  '09_retail_transformer_mha_k3h5/transformer_model.h5',
  '15_nlx_stock_lstm_savedmodel/stock_model',
  '22_stock_cnn_lstm_timedistributed/CNN_LSTM.h5',
  '24_thesis_k216_legacy_sequential/lstm_model.h5',
  '28_emotion_embedding_lstm_tfjs/tfjs_model',
  '31_szakdoga_mha_tfoplambda_reducemean/transformer_model.h5',
  '32_volatility_lstm_softmax_lambda_k213/attention_model.h5',
  '37_ecg_tfkeras215_archive_mha_tfoplambda/transformer_model.keras',
  '41_pulkit_lambda_sdpa_k313_archive/attention_model.keras',
];

async function checkWeb(caseDir: string): Promise<void> {
  const kase = readGoldenCase(caseDir);
  const model = await readModel(kase.files[0].path);
  const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
  const outputs = await runOrtWeb(await onnxModelBytes(model), inputs);
  expect(outputs.length).toBe(kase.outputs.length);
  outputs.forEach((o, j) => {
    const want = readNpyFileSync(kase.outputs[j].path);
    expect(worstExcess(o, { shape: want.shape, data: want.data as Float32Array }, kase.tolerance.atol, kase.tolerance.rtol), kase.outputs[j].file).toBeLessThanOrEqual(0);
  });
}

describe('golden cases on onnxruntime-node, from every model file', () => {
  for (const name of goldenCases()) {
    it(name, async () => {
      const r = await verifyCase(join(GOLDEN, name), { backend: 'onnxruntime' });
      expect(r.backend).toBe('onnxruntime');
      expect(r.files.map((f) => f.file)).toEqual(readGoldenCase(join(GOLDEN, name)).files.map((f) => f.path));
      expect(r.pass, explain(r)).toBe(true);
    });
  }
});

describe("golden cases exported to ONNX run in onnxruntime-web's wasm backend", () => {
  for (const name of goldenCases()) it(name, () => checkWeb(join(GOLDEN, name)));
});

describe('with contrib ops allowed, Keras MultiHeadAttention runs as com.microsoft.MultiHeadAttention', () => {
  for (const name of ['transformer_block', 'kmha_basic']) {
    it(name, async () => {
      const kase = readGoldenCase(join(GOLDEN, name));
      const model = await readModel(kase.files[0].path);
      const { lowered } = await exportOnnx(model, { contribOps: true });
      expect(lowered.opsets).toContainEqual({ domain: 'com.microsoft', version: 1 });
      expect(lowered.graph.nodes.filter((n) => n.domain === 'com.microsoft').map((n) => n.op)).toEqual(['MultiHeadAttention']);
      const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
      const outputs = await runOrtNode(await onnxModelBytes(model, { contribOps: true }), inputs);
      outputs.forEach((o, j) => {
        const want = readNpyFileSync(kase.outputs[j].path);
        expect(worstExcess(o, { shape: want.shape, data: want.data as Float32Array })).toBeLessThanOrEqual(0);
      });
      // Without the option, no contrib op.
      expect((await exportOnnx(model)).lowered.opsets).toEqual([{ domain: '', version: 17 }]);
    });
  }
});

describeWild('real files with golden outputs', () => {
  for (const id of WILD_WITH_GOLDEN) {
    it(`${id} on onnxruntime-node`, async () => {
      const r = await verifyCase(join(requireWild(), id, 'golden'), { backend: 'onnxruntime' });
      expect(r.files.length).toBe(1);
      expect(r.pass, explain(r)).toBe(true);
    });
    it(`${id} on onnxruntime-web`, () => checkWeb(join(requireWild(), id, 'golden')));
  }
});

describeWild('runnable real files without goldens give what the tfjs runtime gives', () => {
  for (const rel of WILD_RUNNABLE) {
    it(rel, async () => {
      const model = await readModel(join(requireWild(), rel));
      await useBackend('cpu');
      const tfModel = await buildModel(model);
      const inputs: InputArray[] = tfModel.inputs.map((t) => {
        const shape = t.shape.map((d) => d ?? 3).map((d, i) => (i === 0 ? 2 : d));
        const n = shape.reduce((a, b) => a * b, 1);
        return t.dtype === 'int32'
          ? { dtype: 'int32', shape, data: Int32Array.from({ length: n }, (_, k) => (k * 7) % 5) }
          : { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, k) => Math.sin(k)) };
      });
      tfModel.dispose();
      const expected = await runTfjs(model, inputs);
      const bytes = await onnxModelBytes(model);
      const node = await runOrtNode(bytes, inputs);
      const web = await runOrtWeb(bytes, inputs);
      expected.forEach((want, j) => {
        expect(worstExcess(node[j], want), `onnxruntime-node output ${j}`).toBeLessThanOrEqual(0);
        expect(worstExcess(web[j], want), `onnxruntime-web output ${j}`).toBeLessThanOrEqual(0);
      });
    });
  }
});
