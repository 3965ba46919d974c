// my-layers.js: a layer class of your own, for `keras-interop <command> --layers ./my-layers.js`
// (or import it before readModel in a program). Keras saved the model with a Python class
// SimpleAttention; this is the same computation in TensorFlow.js.
import * as tf from '@tensorflow/tfjs';
import { registerLayer } from 'keras-interop';

// The "SimpleAttention" of many tutorials: a score per time step e = tanh(x·W + b), its softmax over
// time a, and the weighted sum of the steps, Σ a·x. Keras saved W as att_weight (features, 1) and
// b as att_bias (steps, 1): build() creates them in that order, with those shapes.
class SimpleAttention extends tf.layers.Layer {
  static className = 'SimpleAttention';

  build(inputShape) {
    const [, steps, features] = inputShape;
    this.w = this.addWeight('att_weight', [features, 1], 'float32', tf.initializers.zeros());
    this.b = this.addWeight('att_bias', [steps, 1], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape) {
    return [inputShape[0], inputShape[2]];
  }

  call(inputs) {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs; // (batch, steps, features)
      const [batch, steps, features] = x.shape;
      const scores = tf.matMul(x.reshape([batch * steps, features]), this.w.read()).reshape([batch, steps, 1]);
      const e = tf.tanh(tf.add(scores, this.b.read())).reshape([batch, steps]);
      const a = tf.softmax(e).expandDims(2); // over the steps
      return tf.sum(tf.mul(x, a), 1);
    });
  }
}

registerLayer('SimpleAttention', SimpleAttention);
