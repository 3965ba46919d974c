// kulc's SequenceAttention with a similarity function of your own: a model file keeps only its name.
import * as tf from '@tensorflow/tfjs';
import { registerSequenceAttentionSimilarity } from 'keras-interop/layers';

// similarity[b, i, j] = source_i · query_j
registerSequenceAttentionSimilarity('my_similarity', (source, query) => tf.matMul(source, query, false, true));
