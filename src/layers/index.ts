/**
 * The layers entry point (`keras-interop/layers`): importing it registers every layer class of
 * keras-self-attention, keras-multi-head, FlashTek's kulc and Keras's MultiHeadAttention with tfjs, so that
 * `tf.loadLayersModel` can deserialize converted models. No Node built-ins may be imported here.
 */
import * as tf from '@tensorflow/tfjs';
import { SeqSelfAttention, attentionRegularizer } from './seq-self-attention.js';
import { SeqWeightedAttention } from './seq-weighted-attention.js';
import { ScaledDotProductAttention } from './scaled-dot-product-attention.js';
import { ResidualScaledDotProductAttention } from './residual-scaled-dot-product-attention.js';
import { MultiHead } from './multi-head.js';
import { KmhMultiHeadAttention } from './multi-head-attention.js';
import { MultiHeadAttention } from './keras-multi-head-attention.js';
import { GlobalAveragePooling1D, GlobalMaxPooling1D } from './pooling.js';
import { LayerNormalization } from './layer-normalization.js';
import { NoMask } from './no-mask.js';
import { Attention } from './attention.js';
import { AdditiveAttention } from './additive-attention.js';
import { Merge } from './merge.js';
import { OpLayer } from './op.js';
import { TranslatedLambda } from './translated-lambda.js';
import { Bidirectional, GRU, GRUCell, LSTM, LSTMCell, RNN, SimpleRNN, SimpleRNNCell } from './recurrent.js';
import { HardSigmoidKeras2, HardSigmoidKeras3 } from './keras-objects.js';
import { KulcLayerNormalization } from './kulc-layer-normalization.js';
import { KulcScaledDotProductAttention } from './kulc-scaled-dot-product-attention.js';
import { SequenceAttention, registerSequenceAttentionSimilarity, type SequenceSimilarity } from './sequence-attention.js';
import { AttentionRNNWrapper } from './attention-rnn-wrapper.js';
import { ExternalAttentionRNNWrapper } from './external-attention-rnn-wrapper.js';
import { type MaskArg, maskOfInput } from './types.js';
import { checkTfjsEngine } from '../runtime/tfjs-copies.js';

// Registering into another copy of tfjs than the app's would leave its loadLayersModel without these classes.
checkTfjsEngine();

export {
  SeqSelfAttention,
  attentionRegularizer,
  SeqWeightedAttention,
  ScaledDotProductAttention,
  ResidualScaledDotProductAttention,
  MultiHead,
  KmhMultiHeadAttention,
  MultiHeadAttention,
  Attention,
  AdditiveAttention,
  Merge,
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  LayerNormalization,
  NoMask,
  OpLayer,
  TranslatedLambda,
  RNN,
  LSTM,
  GRU,
  SimpleRNN,
  LSTMCell,
  GRUCell,
  SimpleRNNCell,
  Bidirectional,
  HardSigmoidKeras2,
  HardSigmoidKeras3,
  KulcLayerNormalization,
  KulcScaledDotProductAttention,
  SequenceAttention,
  registerSequenceAttentionSimilarity,
  type SequenceSimilarity,
  AttentionRNNWrapper,
  ExternalAttentionRNNWrapper,
  maskOfInput,
  type MaskArg,
};

export const LAYER_CLASSES = [
  SeqSelfAttention,
  SeqWeightedAttention,
  ScaledDotProductAttention,
  ResidualScaledDotProductAttention,
  MultiHead,
  KmhMultiHeadAttention,
  MultiHeadAttention,
  // Keras's own Luong and Bahdanau attention (tfjs has neither).
  Attention,
  AdditiveAttention,
  // Keras 1 / 2.0's legacy Merge (every merge mode in one layer).
  Merge,
  // Keras semantics tfjs's built-ins lack (data_format, masked averages); these replace tfjs's.
  GlobalAveragePooling1D,
  GlobalMaxPooling1D,
  // tfjs's arithmetic without its tiling (vectorized on wasm).
  LayerNormalization,
  // Keras's recurrent semantics (GRU reset_after, zero_output_for_mask, Keras 3 hard_sigmoid).
  RNN,
  LSTM,
  GRU,
  SimpleRNN,
  LSTMCell,
  GRUCell,
  SimpleRNNCell,
  Bidirectional,
  // Marks calls Keras ran without a mask (inserted by the runtime and the tfjs writer).
  NoMask,
  // FlashTek's kulc; its same-named classes as `Kulc>...` (src/runtime/class-resolution.ts).
  KulcLayerNormalization,
  KulcScaledDotProductAttention,
  SequenceAttention,
  AttentionRNNWrapper,
  ExternalAttentionRNNWrapper,
  // Each generation's hard_sigmoid under its own name, for tfjs's built-in layers too.
  HardSigmoidKeras2,
  HardSigmoidKeras3,
  // One op call (TFOpLambda, Keras 3 operation): src/runtime/ops.
  OpLayer,
  // Lambda layers translated from their Python bytecode (src/runtime/lambda).
  TranslatedLambda,
] as const;

for (const cls of LAYER_CLASSES) {
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
