/**
 * `KerasInterop>NoMask`: an identity layer that stops masks. Keras 3 records some calls with `mask=None`
 * (its Bidirectional does not pass masks on, for one), while tfjs hands every layer the mask its inputs
 * carry. The runtime and the tfjs writer put one of these in front of each such call (see
 * `insertNoMaskLayers` in src/runtime/topology.ts), so the graph itself says "no mask here" and a converted
 * model behaves the same after `tf.loadLayersModel` as in our runtime.
 *
 * Registered on import (the runtime needs it even when the attention layers are not imported) and again
 * by the layers entry point.
 */
import * as tf from '@tensorflow/tfjs';
import type { Kwargs } from './types.js';


export const NO_MASK_CLASS_NAME = 'KerasInterop>NoMask';

export class NoMask extends tf.layers.Layer {
  static className = NO_MASK_CLASS_NAME;

  constructor(args: ConstructorParameters<typeof tf.layers.Layer>[0] = {}) {
    super(args);
    // Without supportsMasking tfjs never asks computeMask and keeps no mask anyway; with it the
    // "no mask" answer is explicit on every execution path (predict and nested-model calls).
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    // tfjs's predict() executor passes ONE kwargs object to every layer and only overwrites its `mask`
    // when a layer's inputs carry one, so the mask of an earlier layer would reach the next layers.
    // This layer runs immediately before its consumer (tfjs sorts the graph depth first and the
    // consumer reads only this layer's outputs), so clearing it here means the consumer gets none.
    if (kwargs != null) delete kwargs.mask;
    if (Array.isArray(inputs)) return inputs.length === 1 ? inputs[0] : inputs.slice();
    return inputs;
  }

  // tfjs types computeMask as never returning null, but null is how its graph code spells "no mask".
  override computeMask(inputs: tf.Tensor | tf.Tensor[], _mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const none = Array.isArray(inputs) && inputs.length > 1 ? inputs.map(() => null) : null;
    return none as unknown as tf.Tensor | tf.Tensor[];
  }
}

tf.serialization.registerClass(NoMask);
