import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedLayerError } from '../../src/errors.js';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { useBackend } from '../../src/runtime/backend.js';
import { buildModel, predict } from '../../src/runtime/build.js';
import { normalizeConfig } from '../../src/runtime/normalize.js';
import { findUnsupportedLayers, isLayerRegistered, misnamedActivation, registerLayer, tfjsClassKey, unsupportedLayerError } from '../../src/runtime/registry.js';
import { itWild } from '../helpers/wild.js';
import { loadOurLayers, readKerasModel, stubMissing, wildPath } from './support.js';

async function rejection(model: KerasModel, opts: Parameters<typeof buildModel>[1] = {}): Promise<UnsupportedLayerError> {
  try {
    const m = await buildModel(model, opts);
    m.dispose();
  } catch (e) {
    if (e instanceof UnsupportedLayerError) return e;
    throw e;
  }
  throw new Error('expected buildModel to reject');
}

beforeAll(async () => {
  await useBackend('cpu');
  await loadOurLayers();
});

describe('layers tfjs cannot run fail with a named, actionable error', () => {
  itWild('wild 06: Lambda (Keras 2.4) refused from translation — its Python bytecode is never executed', async () => {
    const model = await readKerasModel(wildPath('06_ids_lstm_dot_attention', 'LSTM_model.h5'));
    const e = await rejection(model, { lambdas: 'refuse' });
    expect(e.code).toBe('LAMBDA_LAYER');
    expect(e.layerName).toBe('last_hidden_state');
    expect(e.className).toBe('Lambda');
    expect(e.message).toContain('never executed');
    expect(e.message).toContain("registerLayer('Lambda', MyLayer)");
    expect(e.message).toContain('turned off (--refuse-lambdas)');
  });

  itWild('wild 02: a user class "attention" (Keras 2.3.1), with its weights listed', async () => {
    const model = await readKerasModel(wildPath('02_botnet_custom_attention', 'attention_weights.hdf5'));
    const e = await rejection(model);
    expect(e.code).toBe('UNSUPPORTED_LAYER');
    expect([e.layerName, e.className, e.place]).toEqual(['attention_1', 'attention', '/config/layers/6']);
    expect(e.message).toContain('attention_1/att_weight:0 [1248,1] float32, attention_1/att_bias:0 [3,1] float32');
    expect(e.message).toContain("static className = 'attention'");
    expect(e.message).toContain("registerLayer('attention', MyLayer)");
  });

  itWild('wild 11: a user class SimpleAttention (Keras 3.8) fails, then runs once registered', async () => {
    const model = await readKerasModel(wildPath('11_do_lstm_simpleattention_k3h5', 'lstm_attention_model.h5'));
    const e = await rejection(model);
    expect(e.code).toBe('UNSUPPORTED_LAYER');
    expect([e.layerName, e.className]).toEqual(['simple_attention_2', 'SimpleAttention']);
    expect(e.message).toContain('sequential_5/simple_attention_2/att_weight [25,1] float32, sequential_5/simple_attention_2/att_bias [1,1] float32');
    expect(e.message).toContain("registerLayer('SimpleAttention', MyLayer)");

    // The usual "SimpleAttention" of tutorials: e = tanh(xW + b), a = softmax over time, out = sum_t a_t x_t.
    class SimpleAttention extends tf.layers.Layer {
      static className = 'SimpleAttention';
      private w!: tf.LayerVariable;
      private b!: tf.LayerVariable;
      override build(shape: tf.Shape | tf.Shape[]): void {
        const s = shape as number[];
        this.w = this.addWeight('att_weight', [s[2], 1], 'float32', tf.initializers.zeros());
        this.b = this.addWeight('att_bias', [s[1], 1], 'float32', tf.initializers.zeros());
        this.built = true;
      }
      override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
        const s = shape as number[];
        return [s[0], s[2]];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.tidy(() => {
          const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
          const e = tf.tanh(tf.add(tf.matMul(x.reshape([-1, x.shape[2]]), this.w.read()).reshape([x.shape[0], x.shape[1], 1]), this.b.read()));
          const a = tf.transpose(tf.softmax(tf.transpose(e, [0, 2, 1])), [0, 2, 1]);
          return tf.sum(tf.mul(x, a), 1);
        });
      }
    }
    registerLayer('SimpleAttention', SimpleAttention as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
    expect(isLayerRegistered('SimpleAttention')).toBe(true);
    const tfModel = await buildModel(model);
    try {
      const layer = tfModel.getLayer('simple_attention_2');
      const file = model.weights.find((w) => w.layer === 'simple_attention_2')!.weights;
      expect(layer.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(file.map((w) => Array.from(w.data as Float32Array)));
      const [out] = predict(tfModel, [{ dtype: 'float32', shape: [2, 1, 1], data: Float32Array.from([0.5, -1]) }]);
      expect(out.shape).toEqual([2, 1]);
      // With one time step the attention weight is 1, so the model is Dense(LSTM(x)): check against the sub-layers.
      const lstm = tfModel.getLayer('lstm_4');
      const dense = tfModel.getLayer('dense_6');
      const x = tf.tensor3d([0.5, -1], [2, 1, 1]);
      const h = lstm.apply(x) as tf.Tensor3D;
      const want = (dense.apply(h.reshape([2, 25])) as tf.Tensor).dataSync();
      expect(Array.from(out.data).map((v) => v.toFixed(5))).toEqual(Array.from(want).map((v) => v.toFixed(5)));
      tf.dispose([x, h]);
    } finally {
      tfModel.dispose();
    }
  });

  it('CuDNNLSTM in a bare config: says the model (its weights) must be upgraded', () => {
    const config = normalizeConfig({
      class_name: 'Sequential',
      config: { name: 's', layers: [{ class_name: 'CuDNNLSTM', config: { name: 'cu', units: 4, batch_input_shape: [null, 3, 2] } }] },
    });
    const [u] = findUnsupportedLayers(config);
    expect(u).toMatchObject({ name: 'cu', className: 'CuDNNLSTM', reason: 'cudnn', path: '/config/layers/0' });
    const e = unsupportedLayerError(u);
    expect(e.code).toBe('UNSUPPORTED_LAYER');
    expect(e.message).toContain('runs as LSTM only with its weights converted');
  });

  it('an activation named like another registered class (an initializer) is refused before tfjs builds it', () => {
    const config = (activation: string) =>
      normalizeConfig({
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [{ class_name: 'TimeDistributed', config: { name: 'td', batch_input_shape: [null, 3, 2], layer: { class_name: 'Dense', config: { name: 'dense', units: 2, activation } } } }],
        },
      });
    const e = misnamedActivation(config('Zeros'), 'm.h5');
    expect([e?.code, e?.file, e?.place]).toEqual(['CONFIG_INVALID', 'm.h5', '/config/layers/0/config/layer/config/activation']);
    expect(e?.message).toContain('layer "dense": activation "Zeros" names a class that is not an activation');
    for (const fine of ['relu', 'tanh', 'hard_sigmoid_keras2', 'gelu', 'not_registered_anywhere']) expect(misnamedActivation(config(fine))).toBeUndefined();
  });

  it('registerLayer accepts class names tfjs camel-cases, and classes without a static className', () => {
    expect(tfjsClassKey('My_Custom_Layer')).toBe('MyCustomLayer');
    const config = normalizeConfig({
      class_name: 'Sequential',
      config: { name: 's', layers: [{ class_name: 'My_Custom_Layer', config: { name: 'c', batch_input_shape: [null, 2] } }] },
    });
    expect(findUnsupportedLayers(config).map((u) => u.reason)).toEqual(['unregistered']);
    class Plain extends tf.layers.Layer {}
    registerLayer('My_Custom_Layer', Plain as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
    expect(findUnsupportedLayers(config)).toEqual([]);
    expect((Plain as unknown as { className: string }).className).toBe('My_Custom_Layer');
    const model = tf.models.modelFromJSON({ modelTopology: config } as unknown as tf.io.ModelJSON);
    return model.then((m) => {
      expect(m.getLayer('c').getClassName()).toBe('My_Custom_Layer');
      m.dispose();
    });
  });
});
