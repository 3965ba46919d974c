/**
 * `SequenceAttention(similarity)` of FlashTek's kulc (`kulc/attention.py` @9479647). Inputs
 * `[source (B, T, ds), query (B, T, dq)]`; `score = softmax(similarity(source, query))` over the last
 * axis, and the output is kulc's `K.batch_dot(score, source, axes=[1, 1])`, i.e.
 * `output[b, i] = sum_t score[b, t, i] * source[b, t]` (B, T, ds).
 *
 * Similarities, as kulc defines them:
 * - additive: weights `w_a` (ds + dq, ds), `v_a` (1, ds);
 *   `similarity[b, i, j] = v_a . tanh([source_j; query_j] w_a)` (the same for every i, as written);
 * - multiplicative: weight `w_a` (dq, ds); `similarity[b, i, j] = (query_i w_a) . source_j`.
 * Keras 2.2.4 saves the bound method by its `__name__`, so files say `_additive_similarity` /
 * `_multiplicative_similarity`; the plain names are accepted too. A user's own similarity function is
 * saved as its name only and cannot be recovered: register a TypeScript replacement under that name with
 * `registerSequenceAttentionSimilarity` (it gets no weights, as in kulc).
 *
 * kulc's layer does not support masking (Keras raises when a mask reaches it), and neither does this one.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { lookupTable } from '../model/config.js';
import { configValue, resolveInitializer } from './keras-objects.js';
import type { Kwargs, LayerArgs } from './types.js';
import { tapAttention } from '../runtime/attention-taps.js';

/** A similarity: `(source (B, T, ds), query (B, T, dq))` → (B, T, T). */
export type SequenceSimilarity = (source: tf.Tensor3D, query: tf.Tensor3D) => tf.Tensor3D;

/** kulc's similarities, by their normalized names (see `similarityKey`). */
const BUILT_IN = lookupTable({ additive: 'additive', additivesimilarity: 'additive', multiplicative: 'multiplicative', multiplicativesimilarity: 'multiplicative' } as const);

const userSimilarities = new Map<string, SequenceSimilarity>();

/**
 * Underscores and case removed: tfjs camel-cases config strings (`_additive_similarity` arrives as
 * `AdditiveSimilarity`), so every spelling of a name meets here.
 */
function similarityKey(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/**
 * Registers the TypeScript version of a user's similarity function, by the name the file saved
 * (`config.similarity`, the Python function's `__name__`).
 */
export function registerSequenceAttentionSimilarity(name: string, fn: SequenceSimilarity): void {
  if (typeof name !== 'string' || name === '' || typeof fn !== 'function') {
    throw new TypeError('registerSequenceAttentionSimilarity(name, fn): a non-empty name and a function are required');
  }
  userSimilarities.set(similarityKey(name), fn);
}

export interface SequenceAttentionArgs extends LayerArgs {
  similarity: string;
  kernelInitializer?: unknown;
}

export class SequenceAttention extends tf.layers.Layer {
  static className = 'SequenceAttention';

  readonly similarity: string;
  private readonly kind: 'additive' | 'multiplicative' | SequenceSimilarity;
  private readonly kernelInitializer: unknown;
  private wA: tf.LayerVariable | null = null;
  private vA: tf.LayerVariable | null = null;

  constructor(args: SequenceAttentionArgs) {
    super(args);
    const similarity = args.similarity as unknown;
    if (typeof similarity !== 'string') {
      throw new KerasInteropError('CONFIG_INVALID', `SequenceAttention "${this.name}": similarity must be a name, got ${JSON.stringify(similarity)}`);
    }
    const key = similarityKey(similarity);
    const kind = BUILT_IN[key] ?? userSimilarities.get(key);
    if (kind === undefined) {
      throw new KerasInteropError(
        'UNSUPPORTED_LAYER',
        `SequenceAttention "${this.name}" uses the similarity function "${similarity}" (as tfjs spells the saved name), a Python function ` +
          `of the model's author: the file holds only its name, so it cannot be recovered. Write it in TypeScript ((source, query) => ` +
          `(batch, T, T) tensor) and register it before building: registerSequenceAttentionSimilarity('${similarity}', fn) (any spelling ` +
          `of the name: case and underscores do not matter). kulc's own are additive and multiplicative.`,
      );
    }
    this.similarity = similarity;
    this.kind = kind;
    this.kernelInitializer = args.kernelInitializer ?? 'glorotUniform';
  }

  private static shapes(inputShape: tf.Shape | tf.Shape[], name: string): [tf.Shape, tf.Shape] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    const [source, query] = shapes;
    const ok = shapes.length === 2 && source.length === 3 && query.length === 3 && source[2] != null && query[2] != null;
    if (!ok || (source[1] != null && query[1] != null && source[1] !== query[1])) {
      throw new KerasInteropError(
        'INPUT_MISMATCH',
        `SequenceAttention "${name}" takes [source, query], both (batch, time, features) with the same time, got ${JSON.stringify(shapes)}`,
      );
    }
    return [source, query];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [source, query] = SequenceAttention.shapes(inputShape, this.name);
    const ds = source[2]!;
    const dq = query[2]!;
    const init = resolveInitializer(this.kernelInitializer, 'glorotUniform');
    if (this.kind === 'additive') {
      this.wA = this.addWeight('w_a', [ds + dq, ds], 'float32', init, undefined, true);
      this.vA = this.addWeight('v_a', [1, ds], 'float32', init, undefined, true);
    } else if (this.kind === 'multiplicative') {
      this.wA = this.addWeight('w_a', [dq, ds], 'float32', init, undefined, true);
    }
    this.built = true;
  }

  private scores(source: tf.Tensor3D, query: tf.Tensor3D): tf.Tensor3D {
    const [batch, steps, ds] = source.shape;
    if (this.kind === 'additive') {
      const both = tf.reshape(tf.concat([source, query], 2), [batch * steps, -1]) as tf.Tensor2D;
      const nonlinear = tf.tanh(tf.matMul(both, this.wA!.read() as tf.Tensor2D));
      // v_a . tanh(...) per key step j, the same row for every query step i.
      const perKey = tf.reshape(tf.matMul(nonlinear, this.vA!.read() as tf.Tensor2D, false, true), [batch, 1, steps]);
      return tf.tile(perKey, [1, steps, 1]) as tf.Tensor3D;
    }
    if (this.kind === 'multiplicative') {
      const projected = tf.reshape(tf.matMul(tf.reshape(query, [batch * steps, -1]) as tf.Tensor2D, this.wA!.read() as tf.Tensor2D), [batch, steps, ds]);
      return tf.matMul(projected as tf.Tensor3D, source, false, true);
    }
    const s = this.kind(source, query);
    if (s.rank !== 3 || s.shape[0] !== batch || s.shape[1] !== steps || s.shape[2] !== steps) {
      throw new KerasInteropError('INPUT_MISMATCH', `SequenceAttention "${this.name}": the similarity "${this.similarity}" returned shape [${s.shape.join(', ')}], expected [${batch}, ${steps}, ${steps}]`);
    }
    return s;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    SequenceAttention.shapes(list.map((t) => t.shape), this.name);
    const [source, query] = list as tf.Tensor3D[];
    return tf.tidy(() => {
      const score = tf.softmax(this.scores(source, query), -1) as tf.Tensor3D;
      tapAttention(this, inputs, score);
      return tf.matMul(score, source, true, false);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return SequenceAttention.shapes(inputShape, this.name)[0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), similarity: this.similarity, kernelInitializer: configValue(this.kernelInitializer) };
  }
}
