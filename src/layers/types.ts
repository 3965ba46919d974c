/**
 * Type aliases the layers share, and isShapeList, which tells their shape arguments apart. tfjs does not
 * export several of its types by name (the Layer constructor arguments, its Initializer/Regularizer/
 * Constraint base classes), so they are taken from signatures here, once.
 */
import type * as tf from '@tensorflow/tfjs';

/** The constructor arguments every tfjs layer takes (name, trainable, dtype, input shapes, ...). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** The keyword arguments of `Layer.call` (mask, training, ...). */
export type Kwargs = Parameters<tf.layers.Layer['call']>[1];
/** A shape with unknown dimensions as null. */
export type Shape = tf.Shape;

/** Whether a layer got the shapes of several inputs (a list of shapes) rather than one shape. */
export function isShapeList(shape: Shape | Shape[]): shape is Shape[] {
  return Array.isArray(shape[0]);
}
export type LayerVariable = tf.LayerVariable;
export type ConfigDict = tf.serialization.ConfigDict;
export type ConfigDictValue = tf.serialization.ConfigDictValue;
/** tfjs's Initializer, Regularizer and Constraint base classes, as `addWeight` takes them. */
export type Initializer = NonNullable<Parameters<tf.layers.Layer['addWeight']>[3]>;
export type Regularizer = NonNullable<Parameters<tf.layers.Layer['addWeight']>[4]>;
export type Constraint = NonNullable<Parameters<tf.layers.Layer['addWeight']>[6]>;
/** An activation as a function on tensors. */
export type ActivationFn = (x: tf.Tensor) => tf.Tensor;

/** A layer's `mask` argument: one mask, or one per input (null where an input has none). */
export type MaskArg = tf.Tensor | (tf.Tensor | null | undefined)[] | null | undefined;

/**
 * The mask of input `i` of a layer called on several tensors. Keras gives such a layer a list, one mask
 * per input; tfjs's `predict` gives it only its first input's mask. Then an input that is the first
 * input's very tensor shares that mask, and any other has the mask on the tensor (`kerasMask`): the
 * runtime puts every tensor's mask there while a model runs (src/runtime/mask-tags.ts); under tfjs's
 * own `predict` only `Embedding(mask_zero=True)` and `Masking` set it.
 */
export function maskOfInput(inputs: readonly tf.Tensor[], i: number, mask: MaskArg): tf.Tensor | null {
  if (Array.isArray(mask)) return mask[i] ?? null;
  const x = inputs[i];
  if (i === 0 || x === undefined || x === inputs[0]) return mask ?? null;
  return x.kerasMask ?? null;
}
