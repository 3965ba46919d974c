/**
 * The real files with Lambda layers, run with their translated bytecode, against the same models with
 * each Lambda replaced by a hand-written tfjs layer computing what its Python says (plugged in through
 * `registerLayer`, the route the runtime offers for untranslated Lambdas).
 */
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { readModel } from '../../../src/readers/index.js';
import { buildModel } from '../../../src/runtime/build.js';
import { useBackend } from '../../../src/runtime/backend.js';
import { registerLayer } from '../../../src/runtime/registry.js';
import { TranslatedLambda } from '../../../src/layers/translated-lambda.js';
import { translateLambda } from '../../../src/runtime/lambda/translate.js';
import type { JsonObject } from '../../../src/model/types.js';
import { mulberry32 } from '../../../fuzz/lib/rng.js';
import { wildFile } from '../../helpers/paths.js';
import { describeWild } from '../../helpers/wild.js';

/** What each wild Lambda computes, written by hand from its Python. */
const BY_HAND: Record<string, (x: tf.Tensor | tf.Tensor[]) => tf.Tensor> = {
  // lambda x: x[:, -1, :]
  last_hidden_state: (x) => {
    const t = x as tf.Tensor3D;
    return t.slice([0, t.shape[1] - 1, 0], [-1, 1, -1]).reshape([t.shape[0], t.shape[2]]);
  },
  // lambda x: x[:, -7:] and x[:, :-7]
  lag_slice: (x) => (x as tf.Tensor2D).slice([0, (x as tf.Tensor2D).shape[1] - 7], [-1, 7]),
  other_slice: (x) => (x as tf.Tensor2D).slice([0, 0], [-1, (x as tf.Tensor2D).shape[1] - 7]),
  // tf.matmul(q, k, transpose_b=True) / sqrt(d) and tf.matmul(w, v)
  attention_scores: (x) => {
    const [q, k] = x as tf.Tensor3D[];
    return tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[2]));
  },
  attention_context: (x) => {
    const [w, v] = x as tf.Tensor3D[];
    return tf.matMul(w, v);
  },
  // attention, lstm_output = inputs; return tf.reduce_sum(attention * lstm_output, axis=1)
  lambda: (x) => {
    const [att, out] = x as tf.Tensor3D[];
    return tf.sum(tf.mul(att, out), 1);
  },
};

class HandWrittenLambda extends tf.layers.Layer {
  static className = 'Lambda';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => BY_HAND[this.name](Array.isArray(inputs) && inputs.length === 1 ? inputs[0] : inputs));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const multi = Array.isArray(inputShape[0]);
    const zeros = tf.tidy(() => {
      const shapes = (multi ? inputShape : [inputShape]) as tf.Shape[];
      const ts = shapes.map((s) => tf.zeros(s.map((d) => d ?? 2)));
      return BY_HAND[this.name](multi ? ts : ts[0]);
    });
    const shape = zeros.shape;
    zeros.dispose();
    return [null, ...shape.slice(1)];
  }
}

function randomInputs(model: tf.LayersModel, seed: number): tf.Tensor[] {
  const r = mulberry32(seed);
  return model.inputs.map((t) => {
    const shape = t.shape.map((d) => d ?? 3);
    return tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1), shape);
  });
}

async function compare(id: string, file: string, lambdas: string[]): Promise<void> {
  await useBackend('cpu');
  const model = await readModel(wildFile(id, file));
  const translated = await buildModel(model);
  expect(translated.layers.filter((l) => l instanceof TranslatedLambda).map((l) => l.name).sort()).toEqual([...lambdas].sort());
  registerLayer('Lambda', HandWrittenLambda);
  const byHand = await buildModel(model, { lambdas: 'refuse' });
  expect(byHand.layers.filter((l) => l instanceof HandWrittenLambda)).toHaveLength(lambdas.length);
  const inputs = randomInputs(translated, 7);
  const a = translated.predict(inputs) as tf.Tensor;
  const b = byHand.predict(inputs) as tf.Tensor;
  expect(a.shape).toEqual(b.shape);
  const av = a.dataSync();
  const bv = b.dataSync();
  expect(av.length).toBeGreaterThan(0);
  av.forEach((v, i) => expect(Math.abs(v - bv[i])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(bv[i])));
  // Each Lambda on its own, too: the translated layer against the hand-written function.
  for (const name of lambdas) {
    const layerT = translated.getLayer(name);
    const inbound = layerT.inboundNodes[0].inputTensors;
    const probe = tf.model({ inputs: translated.inputs, outputs: inbound.length === 1 ? inbound[0] : inbound });
    const feed = probe.predict(inputs);
    const feedList = Array.isArray(feed) ? feed : [feed];
    const got = layerT.call(feedList.length === 1 ? feedList[0] : feedList, {}) as tf.Tensor;
    const want = BY_HAND[name](feedList.length === 1 ? feedList[0] : feedList);
    expect(got.shape).toEqual(want.shape);
    const g = got.dataSync();
    want.dataSync().forEach((v, i) => expect(Math.abs(g[i] - v)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(v)));
    tf.dispose([got, want, ...feedList]);
  }
  tf.dispose([a, b, ...inputs]);
  translated.dispose();
  byHand.dispose();
}

describeWild('real files with Lambda layers', () => {
  it('06 (Python 3.8 lambda x: x[:, -1, :] in an LSTM attention model) matches the model with the slice written by hand', async () => {
    await compare('06_ids_lstm_dot_attention', 'LSTM_model.h5', ['last_hidden_state']);
  });

  it('41 (four Python 3.13 Lambdas building scaled dot-product attention) matches the hand-written attention', async () => {
    await compare('41_pulkit_lambda_sdpa_k313_archive', 'attention_model.keras', ['lag_slice', 'attention_scores', 'attention_context', 'other_slice']);
  });

  it('32 (Python 3.11 two-input Lambda, after a TFOpLambda softmax) matches the model with the sum written by hand', async () => {
    await compare('32_volatility_lstm_softmax_lambda_k213', 'attention_model.h5', ['lambda']);
  });

  it('32 (Python 3.11 two-input Lambda): the translated layer computes tf.reduce_sum(attention * lstm_output, axis=1)', async () => {
    await useBackend('cpu');
    const model = await readModel(wildFile('32_volatility_lstm_softmax_lambda_k213', 'attention_model.h5'));
    const layers = ((model.config as JsonObject).config as JsonObject).layers as JsonObject[];
    const config = layers.find((l) => l.class_name === 'Lambda')!.config as JsonObject;
    const t = translateLambda(config);
    if (!t.ok) throw new Error(t.reason);
    const layer = new TranslatedLambda({ name: 'lambda', program: t.program });
    const r = mulberry32(3);
    const att = tf.tensor(Array.from({ length: 2 * 10 * 1 }, () => r()), [2, 10, 1]);
    const lstm = tf.tensor(Array.from({ length: 2 * 10 * 64 }, () => r() * 2 - 1), [2, 10, 64]);
    const got = layer.apply([att, lstm]) as tf.Tensor;
    expect(got.shape).toEqual([2, 64]);
    const a = att.dataSync();
    const l = lstm.dataSync();
    const g = got.dataSync();
    for (let b = 0; b < 2; b++) {
      for (let f = 0; f < 64; f++) {
        let s = 0;
        for (let t2 = 0; t2 < 10; t2++) s += a[b * 10 + t2] * l[(b * 10 + t2) * 64 + f];
        expect(Math.abs(g[b * 64 + f] - s)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(s));
      }
    }
    expect(layer.computeOutputShape([[null, 10, 1], [null, 10, 64]])).toEqual([null, 64]);
  });
});
