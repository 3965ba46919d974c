/**
 * A TypeScript version of the user-defined `TransformerEncoder` layer of wild 14
 * (14_nlx_transformer_encoder_mha_savedmodel, tf.keras 2.15): what a user of this package writes and
 * passes to `registerLayer('TransformerEncoder', TransformerEncoder)` to run that model. Test-only.
 *
 * Where the recipe comes from. The layer's config holds only `embed_dim`, `dense_dim`, `num_heads`; the
 * rest was read from the SavedModel itself (test/readers/savedmodel-custom.test.ts re-checks each point):
 * - object-graph children `att`, `ffn`, `layernorm1`, `layernorm2`, `dropout1`, `dropout2`, created in
 *   that order (so `layer.weights` is att's 8, ffn's 4, layernorm1's 2, layernorm2's 2), the names of the
 *   keras.io "Text classification with Transformer" TransformerBlock;
 * - keras_metadata.pb's config of each child: `att` is MultiHeadAttention(num_heads, key_dim=embed_dim),
 *   `ffn` is Sequential([Dense(dense_dim, relu), Dense(<input features>)]) (16 units for a 16-wide input,
 *   not embed_dim=32: the user sized it from the input shape), LayerNormalization(epsilon=1e-6),
 *   Dropout(0.1) twice;
 * - the traced inference call in saved_model.pb: `add = inputs + dropout1(att(inputs, inputs))`,
 *   `out1 = layernorm1(add)`, `add_1 = out1 + dropout2(ffn(out1))`, `return layernorm2(add_1)`
 *   (post-norm residual blocks).
 * Masks: the file never traced a call with a mask (its input is a float series, nothing makes a mask), so
 * this follows the classic keras.io TransformerEncoder: `attention_mask = mask[:, newaxis, :]`, and, as
 * tf.keras does implicitly through the inputs' `_keras_mask`, the query/value mask too; the mask passes
 * through (`supports_masking = True`). That part is an assumption, not something the file shows.
 */
import * as tf from '@tensorflow/tfjs';
import { MultiHeadAttention } from '../../src/layers/keras-multi-head-attention.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type Shape = (number | null)[];

export interface TransformerEncoderArgs extends LayerArgs {
  embedDim: number;
  denseDim: number;
  numHeads: number;
}

function single<T>(x: T | T[]): T {
  return Array.isArray(x) ? x[0] : x;
}

function singleShape(s: tf.Shape | tf.Shape[]): Shape {
  return (Array.isArray(s[0]) ? s[0] : s) as Shape;
}

export class TransformerEncoder extends tf.layers.Layer {
  static className = 'TransformerEncoder';

  readonly embedDim: number;
  readonly denseDim: number;
  readonly numHeads: number;
  /** The user's dropout1/dropout2 rate and LayerNormalization epsilon (fixed in their code, not in the config). */
  static readonly DROPOUT = 0.1;
  static readonly EPSILON = 1e-6;

  // Sub-layers in Python's attribute order: that order is `layer.weights`' order.
  private att: MultiHeadAttention | null = null;
  private ffn: tf.layers.Layer[] = [];
  private layernorm1: tf.layers.Layer | null = null;
  private layernorm2: tf.layers.Layer | null = null;

  constructor(args: TransformerEncoderArgs) {
    super(args);
    this.embedDim = args.embedDim;
    this.denseDim = args.denseDim;
    this.numHeads = args.numHeads;
    this.supportsMasking = true;
  }

  private subLayers(): tf.layers.Layer[] {
    return [this.att, ...this.ffn, this.layernorm1, this.layernorm2].filter((l): l is tf.layers.Layer => l != null);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const features = shape[shape.length - 1];
    if (features == null) throw new Error(`TransformerEncoder "${this.name}": the last input dimension must be known`);
    // A tf.keras 2 MultiHeadAttention (it records its build shapes): masked logits get -1e9 as in TF 2.15.
    this.att = new MultiHeadAttention({
      name: 'multi_head_attention',
      numHeads: this.numHeads,
      keyDim: this.embedDim,
      queryShape: shape,
      keyShape: shape,
      valueShape: shape,
    });
    this.ffn = [
      tf.layers.dense({ name: 'dense_ffn_1', units: this.denseDim, activation: 'relu' }),
      tf.layers.dense({ name: 'dense_ffn_2', units: features }),
    ];
    this.layernorm1 = tf.layers.layerNormalization({ name: 'layernorm1', epsilon: TransformerEncoder.EPSILON });
    this.layernorm2 = tf.layers.layerNormalization({ name: 'layernorm2', epsilon: TransformerEncoder.EPSILON });
    // Building through apply() on placeholders gives each sub-layer its own weight-name scope.
    const placeholder = (s: Shape) => new tf.SymbolicTensor('float32', s, null as never, [], {});
    this.att.apply(placeholder(shape));
    let h = placeholder(shape);
    for (const d of this.ffn) h = d.apply(h) as tf.SymbolicTensor;
    this.layernorm1.apply(placeholder(shape));
    this.layernorm2.apply(placeholder(shape));
    this.built = true;
  }

  override get trainableWeights(): tf.LayerVariable[] {
    return super.trainableWeights.concat(...this.subLayers().map((l) => l.trainableWeights));
  }

  override set trainableWeights(weights: tf.LayerVariable[]) {
    super.trainableWeights = weights;
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    return super.nonTrainableWeights.concat(...this.subLayers().map((l) => l.nonTrainableWeights));
  }

  override set nonTrainableWeights(weights: tf.LayerVariable[]) {
    super.nonTrainableWeights = weights;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const training = Boolean(kwargs?.training ?? false);
      const rawMask = kwargs?.mask as tf.Tensor | (tf.Tensor | null)[] | null | undefined;
      const mask = Array.isArray(rawMask) ? (rawMask[0] ?? null) : (rawMask ?? null);
      const dropout = (t: tf.Tensor) => (training ? tf.dropout(t, TransformerEncoder.DROPOUT) : t);

      // att(query=inputs, value=inputs, key=inputs, attention_mask=padding_mask)
      const attInputs = mask == null ? [x, x] : [x, x, x, tf.expandDims(tf.cast(mask, 'int32'), 1)];
      const attOut = this.att!.call(attInputs, { training, ...(mask == null ? {} : { mask }) }) as tf.Tensor;
      const out1 = this.layernorm1!.call(tf.add(x, dropout(attOut)), {}) as tf.Tensor;
      let f = out1;
      for (const d of this.ffn) f = d.call(f, {}) as tf.Tensor;
      return this.layernorm2!.call(tf.add(out1, dropout(f)), {}) as tf.Tensor;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return singleShape(inputShape);
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return (single(mask ?? null) ?? null) as tf.Tensor;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), embedDim: this.embedDim, denseDim: this.denseDim, numHeads: this.numHeads };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    const result = super.dispose();
    for (const l of this.subLayers()) {
      try {
        l.dispose();
      } catch {
        // already released through this.weights
      }
    }
    return result;
  }
}
