// An attention layer of your own that shows its weights to attention taps: one tapAttention line in call().
import * as tf from '@tensorflow/tfjs';
import { registerLayer, tapAttention, withAttentionTaps } from 'keras-interop';

class MyDotAttention extends tf.layers.Layer {
  static className = 'MyDotAttention';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const weights = tf.softmax(tf.matMul(x, x, false, true), -1); // (batch, Tq, Tk)
      tapAttention(this, inputs, weights); // kept only inside withAttentionTaps
      return tf.matMul(weights as tf.Tensor3D, x);
    });
  }
}
registerLayer('MyDotAttention', MyDotAttention);

const layer = new MyDotAttention({ name: 'my_attention' });
const x = tf.tensor3d([0, 1, 1, 0, 1, 1, 2, 0, 0, 2, 1, -1], [2, 3, 2]);
const { maps } = await withAttentionTaps(() => layer.apply(x) as tf.Tensor);
for (const m of maps) console.log(`${m.layer} (${m.className}): shape [${m.shape}], read as [${m.view}]`);
