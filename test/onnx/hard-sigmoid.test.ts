/**
 * The ONNX export computes each file's `hard_sigmoid` (src/runtime/versioned-activations.ts): HardSigmoid
 * with alpha 0.2 for Keras 1/2's and tfjs's files, 1/6 for Keras 3's, in tfjs's built-in layers (Activation,
 * Dense) and ours (SimpleRNN, through its Scan) alike, and for the op front-ends. Run on onnxruntime-node
 * against the formulas (helpers/hard-sigmoid.ts), not against the runtime.
 */
import { describe, expect, it } from 'vitest';
import type { KerasModel } from '../../src/model/types.js';
import { onnxModelBytes } from '../../src/writers/onnx/index.js';
import { HARD_SIGMOID, INPUT, KERAS3_HARD_SIGMOID_OP, OP_INPUT, OP_X, keras2Model, keras2OpModel, keras3Model, keras3OpModel, maxAbsDiff, reference, tfOpLambda } from '../helpers/hard-sigmoid.js';
import { runOrtNode } from './helpers.js';

const KERAS2_FUNCTION = { module: 'builtins', class_name: 'function', config: 'hard_sigmoid_keras2', registered_name: 'function' };

describe('hard_sigmoid in ONNX is the saving Keras version\'s', () => {
  for (const [label, model, generation] of [
    ['tf.keras 2.15', keras2Model(), 'keras2'],
    ['tfjs-saved', keras2Model('hard_sigmoid', 'tfjs-layers 4.22.0'), 'keras2'],
    ['tf.keras 2.15 naming hard_sigmoid_keras3', keras2Model('hard_sigmoid_keras3'), 'keras3'],
    ['Keras 3.16', keras3Model(), 'keras3'],
    ['Keras 3.16 with the function hard_sigmoid_keras2', keras3Model(KERAS2_FUNCTION), 'keras2'],
  ] as [string, KerasModel, 'keras2' | 'keras3'][]) {
    it(`${label}: Activation, Dense and SimpleRNN compute ${generation === 'keras2' ? 'clip(0.2x + 0.5, 0, 1)' : 'relu6(x + 3) / 6'}`, async () => {
      const [out] = await runOrtNode(await onnxModelBytes(model), [INPUT]);
      expect(out.shape).toEqual([2, 3, 2]);
      expect(maxAbsDiff(out.data, reference(HARD_SIGMOID[generation]))).toBeLessThan(1e-5);
      expect(maxAbsDiff(out.data, reference(HARD_SIGMOID[generation === 'keras2' ? 'keras3' : 'keras2']))).toBeGreaterThan(0.05);
    });
  }

  for (const [label, model, generation] of [
    ['TFOpLambda keras.activations.hard_sigmoid (tf.keras 2)', keras2OpModel(tfOpLambda('keras.activations.hard_sigmoid')), 'keras2'],
    ['Keras 3 operation HardSigmoid', keras3OpModel(KERAS3_HARD_SIGMOID_OP), 'keras3'],
  ] as [string, KerasModel, 'keras2' | 'keras3'][]) {
    it(`${label}: ${generation === 'keras2' ? 'clip(0.2x + 0.5, 0, 1)' : 'relu6(x + 3) / 6'}`, async () => {
      const [out] = await runOrtNode(await onnxModelBytes(model), [OP_INPUT]);
      expect(maxAbsDiff(out.data, OP_X.map(HARD_SIGMOID[generation]))).toBeLessThan(1e-6);
    });
  }
});
