// In an app: load a folder written by `keras-interop convert --to tfjs` with plain tfjs.
import * as tf from '@tensorflow/tfjs';
import 'keras-interop/layers'; // registers the attention layers (and Keras-exact RNNs, pooling) with tfjs

export async function loadConverted(url: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(url); // e.g. 'https://example.com/web_model/model.json'
}
