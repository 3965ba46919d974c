/**
 * A failure deep inside predict names what to fix: the input that could not pass a layer (INPUT_MISMATCH),
 * or the layer whose own code broke (LAYER_FAILED), never a bare tfjs kernel message.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKerasInteropError, type KerasInteropError } from '../../src/errors.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { type InputArray, buildModel, predict } from '../../src/runtime/build.js';
import { GOLDEN } from '../helpers/paths.js';

beforeAll(async () => {
  await useBackend('cpu');
});

function failure(model: tf.LayersModel, inputs: InputArray[]): KerasInteropError {
  try {
    predict(model, inputs);
  } catch (e) {
    if (isKerasInteropError(e)) return e;
    throw e;
  }
  throw new Error('predict did not fail');
}

/** A layer whose call() has a bug (as a user's own class may). */
class BuggyLayer extends tf.layers.Layer {
  static className = 'BuggyLayer';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as unknown as { reshapeTo(shape: number[]): tf.Tensor };
    return x.reshapeTo([-1]);
  }
}

describe('predict failures name the input and the layer', () => {
  it('a token past the vocabulary: the input and the Embedding it cannot pass (INPUT_MISMATCH)', async () => {
    const dir = join(GOLDEN, 'sa_additive_basic');
    const model = await buildModel(await readModel(join(dir, 'model.h5')));
    try {
      const tokens = readNpyFileSync(join(dir, 'input_0.npy'));
      const data = Int32Array.from(tokens.data as Int32Array);
      data[3] = 25; // the Embedding has 20 rows
      const e = failure(model, [{ ...tokens, data }]);
      expect(e.code).toBe('INPUT_MISMATCH');
      expect(e.message).toBe('input "tokens" cannot pass layer "embedding" (class Embedding): GatherV2: the index value 25 is not in [0, 19]');
      // the model's layers are as they were
      expect(model.layers.some((l) => Object.prototype.hasOwnProperty.call(l, 'call'))).toBe(false);
      expect(predict(model, [tokens])[0].shape).toEqual([3, 8, 5]);
    } finally {
      model.dispose();
    }
  });

  it('of several inputs, names those that reach the failing layer', () => {
    const a = tf.input({ shape: [2], name: 'features' });
    const b = tf.input({ shape: [3], name: 'tokens', dtype: 'int32' });
    const emb = tf.layers.embedding({ inputDim: 4, outputDim: 2, name: 'emb' }).apply(b) as tf.SymbolicTensor;
    const flat = tf.layers.flatten().apply(emb) as tf.SymbolicTensor;
    const out = tf.layers.concatenate({ name: 'join' }).apply([a, flat]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: out });
    try {
      const e = failure(model, [
        { dtype: 'float32', shape: [1, 2], data: Float32Array.from([1, 2]) },
        { dtype: 'int32', shape: [1, 3], data: Int32Array.from([0, 9, 1]) },
      ]);
      expect(e.code).toBe('INPUT_MISMATCH');
      expect(e.message).toMatch(/^input "tokens" cannot pass layer "emb" \(class Embedding\): /);
    } finally {
      model.dispose();
    }
  });

  it("a bug in a layer's call() is LAYER_FAILED naming the layer and its class, not INPUT_MISMATCH", () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2], name: 'dense' }), new BuggyLayer({ name: 'buggy' })] });
    try {
      const e = failure(model, [{ dtype: 'float32', shape: [1, 2], data: Float32Array.from([1, 2]) }]);
      expect(e.code).toBe('LAYER_FAILED');
      expect(e.message).toMatch(/^layer "buggy" \(class BuggyLayer\) failed in its call\(\): TypeError: .*reshapeTo is not a function\. This is a bug in the layer's code/);
      expect(e.cause).toBeInstanceOf(TypeError);
    } finally {
      model.dispose();
    }
  });
});
