/**
 * The layers entry point (`keras-interop/layers`): importing it registers every layer class of
 * keras-self-attention, keras-multi-head and Keras's MultiHeadAttention with tfjs, so that
 * `tf.loadLayersModel` can deserialize converted models. No Node built-ins may be imported here.
 */
import * as tf from '@tensorflow/tfjs';
import { SeqSelfAttention } from './seq-self-attention.js';
import { SeqWeightedAttention } from './seq-weighted-attention.js';
import { ScaledDotProductAttention } from './scaled-dot-product-attention.js';
import { ResidualScaledDotProductAttention } from './residual-scaled-dot-product-attention.js';

export { SeqSelfAttention, SeqWeightedAttention, ScaledDotProductAttention, ResidualScaledDotProductAttention };

export const LAYER_CLASSES = [
  SeqSelfAttention,
  SeqWeightedAttention,
  ScaledDotProductAttention,
  ResidualScaledDotProductAttention,
] as const;

for (const cls of LAYER_CLASSES) {
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
