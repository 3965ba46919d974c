/**
 * Which layer a failure inside `model.predict` came from, so that it can be reported as the input that
 * could not pass that layer (an Embedding index past the vocabulary) or as a bug in the layer's own
 * code (a TypeError in a user's `call()`), instead of tfjs's bare kernel message.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const failedIn = new WeakMap<object, tf.layers.Layer>();

/** The model's layers, and those of the models nested in it. */
function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) => (l instanceof tf.LayersModel ? [l, ...allLayers(l)] : [l]));
}

/**
 * Runs `fn` (a predict) with methods of every layer of `model` (nested models' too) replaced by what
 * `patch` gives for it, as own properties; afterwards each layer is left as it was. `patch` reads the
 * methods it wraps from the layer before they are replaced.
 */
export function withPatchedLayers<T>(model: tf.LayersModel, patch: (layer: tf.layers.Layer) => Record<string, unknown>, fn: () => T): T {
  const saved: [tf.layers.Layer, string, PropertyDescriptor | undefined][] = [];
  for (const layer of allLayers(model)) {
    for (const [name, value] of Object.entries(patch(layer))) {
      saved.push([layer, name, Object.getOwnPropertyDescriptor(layer, name)]);
      Object.defineProperty(layer, name, { value, configurable: true, writable: true });
    }
  }
  try {
    return fn();
  } finally {
    for (const [layer, name, original] of saved) {
      if (original) Object.defineProperty(layer, name, original);
      else delete (layer as unknown as Record<string, unknown>)[name];
    }
  }
}

/**
 * Runs `fn` (a predict) with every layer's `call` noting the innermost layer an error passes through;
 * the layers are left as they were.
 */
export function withLayerTrace<T>(model: tf.LayersModel, fn: () => T): T {
  return withPatchedLayers(
    model,
    (layer) => {
      const call = (layer as unknown as { call: CallFn }).call;
      const traced: CallFn = function (this: unknown, inputs, kwargs) {
        try {
          return call.call(this, inputs, kwargs);
        } catch (e) {
          if (typeof e === 'object' && e !== null && !failedIn.has(e)) failedIn.set(e, layer);
          throw e;
        }
      };
      return { call: traced };
    },
    fn,
  );
}

/** The model inputs whose values reach `layer`, by name. */
function upstreamInputs(model: tf.LayersModel, layer: tf.layers.Layer, inputNames: string[]): string[] {
  const inputLayers = model.inputLayers;
  const seen = new Set<tf.layers.Layer>();
  const found = new Set<number>();
  const visit = (l: tf.layers.Layer) => {
    if (seen.has(l)) return;
    seen.add(l);
    const k = inputLayers.indexOf(l);
    if (k >= 0) found.add(k);
    for (const node of l.inboundNodes) for (const up of node.inboundLayers) visit(up);
  };
  visit(layer);
  return [...found].sort((a, b) => a - b).map((k) => inputNames[k]);
}

/**
 * The error to report for a failure thrown by `model.predict`. JavaScript errors (TypeError,
 * ReferenceError, SyntaxError) are bugs in a layer's code: LAYER_FAILED. Anything else a layer threw
 * (tfjs's kernels check values the shapes cannot) is an input the model cannot take: INPUT_MISMATCH,
 * naming the inputs that reach the layer.
 */
export function predictError(e: unknown, model: tf.LayersModel, inputNames: string[]): KerasInteropError {
  if (e instanceof KerasInteropError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const layer = typeof e === 'object' && e !== null ? failedIn.get(e) : undefined;
  const codeBug = e instanceof TypeError || e instanceof ReferenceError || e instanceof SyntaxError;
  if (!layer) {
    if (codeBug) return new KerasInteropError('LAYER_FAILED', `running the model failed: ${(e as Error).name}: ${message}`, {}, { cause: e });
    return new KerasInteropError('INPUT_MISMATCH', `tfjs cannot run the model on these inputs: ${message}`, {}, { cause: e });
  }
  const which = `layer "${layer.name}" (class ${layer.getClassName()})`;
  if (codeBug) {
    return new KerasInteropError(
      'LAYER_FAILED',
      `${which} failed in its call(): ${(e as Error).name}: ${message}. This is a bug in the layer's code (for a class you ` +
        `registered, in your call()), not a problem with the inputs`,
      {},
      { cause: e },
    );
  }
  const inputs = upstreamInputs(model, layer, inputNames);
  const who = inputs.length === 0 ? 'the inputs' : `input${inputs.length > 1 ? 's' : ''} ${inputs.map((n) => `"${n}"`).join(', ')}`;
  return new KerasInteropError('INPUT_MISMATCH', `${who} cannot pass ${which}: ${message}`, {}, { cause: e });
}
