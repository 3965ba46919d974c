/**
 * Every tensor's mask on the tensor itself while a model runs. tfjs's `predict` keeps the mask of each
 * tensor (what the producing layer's `computeMask` gave) in its own table, but hands a layer only the
 * mask of its first input. Keras hands a layer called on several tensors one mask per input. So that
 * the attention layers see the masks of their later inputs (a value whose mask an `LSTM` passed on from
 * an `Embedding`), each output tensor is tagged here with the mask tfjs computed for it, as `kerasMask`
 * (the property tfjs itself sets for the masks a layer computes from its own input, such as
 * `Embedding(mask_zero=True)`'s), and the layers read it (`maskOfInput` in src/layers/types.ts). This is
 * also how the ONNX export passes masks, so both backends compute the same numbers. Each layer's `mask`
 * argument is its first input's tag, never the stale mask tfjs's executor leaves behind.
 */
import * as tf from '@tensorflow/tfjs';
import { withPatchedLayers } from './layer-errors.js';

type ApplyFn = tf.layers.Layer['apply'];
type ComputeMaskFn = tf.layers.Layer['computeMask'];

/**
 * The call's keyword arguments with `mask` the first input's (tfjs's convention), or none. tfjs's executor
 * hands every layer one shared object and sets its `mask` only where a layer's inputs carry one, so a
 * layer whose inputs carry none would get the mask of the layer run before it.
 */
function withFirstMask(inputs: Parameters<ApplyFn>[0], kwargs: Parameters<ApplyFn>[1]): Parameters<ApplyFn>[1] {
  const first = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!(first instanceof tf.Tensor)) return kwargs;
  const own = { ...(kwargs ?? {}) };
  if (first.kerasMask) own.mask = first.kerasMask;
  else delete own.mask;
  return own;
}

/**
 * Runs `fn` (a predict) with each layer's outputs tagged with their masks; the layers are left as they
 * were. tfjs's executor calls a layer's `apply`, then (for layers that support masking) its
 * `computeMask` with every input's mask: that answer is the outputs' mask. (`apply` also asks
 * `computeMask`, without the input masks, for its own bookkeeping: those answers are not used.)
 */
export function withMaskTags<T>(model: tf.LayersModel, fn: () => T): T {
  return withPatchedLayers(
    model,
    (layer) => {
      const apply = layer.apply;
      const computeMask = layer.computeMask;
      let outputs: tf.Tensor[] = [];
      let applying = false;
      const tagged: ApplyFn = function (this: tf.layers.Layer, inputs, kwargs) {
        applying = true;
        try {
          const out = apply.call(this, inputs, withFirstMask(inputs, kwargs));
          const list = Array.isArray(out) ? out : [out];
          outputs = list.filter((t): t is tf.Tensor => t instanceof tf.Tensor);
          return out;
        } finally {
          applying = false;
        }
      };
      const masks: ComputeMaskFn = function (this: tf.layers.Layer, inputs, mask) {
        const m = computeMask.call(this, inputs, mask);
        if (!applying) {
          outputs.forEach((t, i) => {
            const own = Array.isArray(m) ? m[i] : m;
            // A clone: tfjs disposes a tensor's kerasMask with the tensor, and tfjs's executor disposes each
            // intermediate tensor once its last consumer ran, while the mask itself lives on in its table.
            t.kerasMask = own == null ? undefined : own.clone();
          });
          outputs = [];
        }
        return m;
      };
      return { apply: tagged, computeMask: masks };
    },
    fn,
  );
}
