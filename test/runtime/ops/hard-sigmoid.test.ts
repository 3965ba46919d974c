/**
 * `hard_sigmoid` as an op: each front-end names the formula its Keras computes. tf.keras 2's TFOpLambda
 * `keras.activations.hard_sigmoid` / `keras.backend.hard_sigmoid` and a Lambda's `K.hard_sigmoid` (Keras 2's
 * backend, and the legacy one Keras 3 keeps for tf.keras) are clip(0.2 x + 0.5, 0, 1); Keras 3's
 * `HardSigmoid` operation and a Lambda's `keras.ops.hard_sigmoid` relu6(x + 3) / 6. Checked against the
 * formulas on values past both clipping points, and the conversions that would change the meaning refused.
 */
import { describe, expect, it } from 'vitest';
import '../../../src/layers/index.js';
import type { JsonObject, KerasModel } from '../../../src/model/types.js';
import { toKeras2Config, toKeras3Config } from '../../../src/runtime/dialect.js';
import { runModel } from '../../../src/runtime/run.js';
import { translateLambda } from '../../../src/runtime/lambda/translate.js';
import { type CodeSpec, base64, marshalCode } from '../../../fuzz/lib/marshal-writer.js';
import { errorOf } from '../../helpers/errors.js';
import { HARD_SIGMOID, KERAS3_HARD_SIGMOID_OP, OP_INPUT, OP_X, keras2OpModel, keras3OpModel, maxAbsDiff, tfOpLambda } from '../../helpers/hard-sigmoid.js';

/** `lambda x: <path>(x)` as Python 3.8 compiles it: LOAD_GLOBAL, LOAD_ATTR..., LOAD_FAST x, CALL_FUNCTION 1, RETURN_VALUE. */
function callOf(path: string[]): CodeSpec {
  const attrs = path.slice(1).flatMap((_, i) => [0x6a, i + 1]);
  return { layout: 'py38', argcount: 1, varnames: ['x'], names: path, consts: [null], code: [0x74, 0, ...attrs, 0x7c, 0, 0x83, 1, 0x53, 0] };
}

/** A Lambda layer's config of `lambda x: <path>(x)`, as tf.keras 2 or Keras 3 writes it. */
function lambdaConfig(path: string[], generation: 'keras2' | 'keras3' = 'keras2'): JsonObject {
  const code = base64(marshalCode(callOf(path)));
  if (generation === 'keras3') return { name: 'l', trainable: true, function: { class_name: '__lambda__', config: { code, defaults: null, closure: null } }, arguments: {}, output_shape: null };
  return { name: 'l', trainable: true, dtype: 'float32', function: [code, null, null], function_type: 'lambda', arguments: {}, output_shape: null, output_shape_type: 'raw' };
}

async function expectFormula(model: KerasModel, generation: 'keras2' | 'keras3'): Promise<void> {
  const [out] = await runModel(model, [OP_INPUT], { backend: 'cpu' });
  expect(out.shape).toEqual([2, 4]);
  expect(maxAbsDiff(out.data, OP_X.map(HARD_SIGMOID[generation]))).toBeLessThan(1e-6);
}

describe('hard_sigmoid op calls compute their front-end\'s formula', () => {
  for (const fn of ['keras.activations.hard_sigmoid', 'keras.backend.hard_sigmoid']) {
    it(`TFOpLambda ${fn} (tf.keras 2): clip(0.2 x + 0.5, 0, 1)`, () => expectFormula(keras2OpModel(tfOpLambda(fn)), 'keras2'));
  }

  it('Keras 3 operation HardSigmoid: relu6(x + 3) / 6', () =>
    expectFormula(keras3OpModel(KERAS3_HARD_SIGMOID_OP), 'keras3'));

  it("Lambda K.hard_sigmoid (Keras 2's backend): clip(0.2 x + 0.5, 0, 1)", () =>
    expectFormula(keras2OpModel({ class_name: 'Lambda', config: lambdaConfig(['K', 'hard_sigmoid']), name: 'l', inbound_nodes: [[['x', 0, 0, {}]]] }), 'keras2'));

  it('Lambda keras.ops.hard_sigmoid (Keras 3): relu6(x + 3) / 6', () =>
    expectFormula(keras3OpModel({ module: 'keras.layers', class_name: 'Lambda', config: lambdaConfig(['ops', 'hard_sigmoid'], 'keras3'), registered_name: null }), 'keras3'));

  it('Lambda tf.keras.activations.hard_sigmoid is refused: tf.keras is Keras 3 under TensorFlow >= 2.16', () => {
    const t = translateLambda(lambdaConfig(['tf', 'keras', 'activations', 'hard_sigmoid']));
    expect(t.ok).toBe(false);
    expect(!t.ok && t.reason).toMatch(/tf\.keras\.activations\.hard_sigmoid\(\) is not a whitelisted function/);
  });
});

describe('conversions never turn one hard_sigmoid op into the other', () => {
  it("tf.keras 2's TFOpLambda keras.activations.hard_sigmoid has no Keras 3 operation", async () => {
    const e = await errorOf(() => toKeras3Config(keras2OpModel(tfOpLambda('keras.activations.hard_sigmoid')).config!));
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toMatch(/Keras 3 has no operation for op "hard_sigmoid_keras2"/);
  });

  it("Keras 3's HardSigmoid operation has no tf.keras 2 TFOpLambda", async () => {
    const m = keras3OpModel(KERAS3_HARD_SIGMOID_OP);
    const e = await errorOf(() => toKeras2Config(m.config!));
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toMatch(/TensorFlow has no function for op "hard_sigmoid"/);
  });
});
