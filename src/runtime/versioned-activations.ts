/**
 * Activations whose meaning changed between Keras generations, and how each dialect names each meaning.
 *
 * Of Keras's activations only `hard_sigmoid` changed: clip(0.2 x + 0.5, 0, 1) in Keras 1 and 2
 * (standalone with every backend, and tf.keras) and in tfjs, relu6(x + 3) / 6 in Keras 3. The others
 * Keras 2 has (relu, elu, selu, softplus, softsign, softmax, swish/silu, gelu with approximate=False,
 * leaky_relu with 0.2, relu6, log_softmax, mish, exponential, linear, sigmoid, tanh) compute the same in
 * Keras 3; `hard_silu`/`hard_swish` and Keras 3's other additions exist only there (tf.keras 2 refuses
 * their names, which is no misreading).
 *
 * The names, by where they are written:
 * - normalized configs (the tfjs dialect the runtime builds from): always explicit, `hard_sigmoid_keras2`
 *   or `hard_sigmoid_keras3`, both registered tfjs activations (src/layers/keras-objects.ts), so our
 *   layers and tfjs's built-in ones compute the same formula and a converted tfjs folder carries it;
 * - Keras 3 files: Keras 3's is the built-in `"hard_sigmoid"`; Keras 2's is a plain Python function named
 *   `hard_sigmoid_keras2`, serialized as Keras 3 serializes any (`{"module": "builtins", "class_name":
 *   "function", "config": "hard_sigmoid_keras2", "registered_name": "function"}`). A `.keras` config and a
 *   Keras 3 legacy `.h5` hold it alike (the layer's `get_config` writes it; the legacy serialization only
 *   rewrites the layer entries). Keras 3 refuses to load it unless given the function:
 *   `custom_objects={"hard_sigmoid_keras2": f}`;
 * - tf.keras 2 files: Keras 2's is the built-in `"hard_sigmoid"`; Keras 3's the name `hard_sigmoid_keras3`
 *   (how tf.keras 2 writes a custom function into an `.h5`), which tf.keras 2 refuses ("Unknown activation
 *   function") unless given `custom_objects={"hard_sigmoid_keras3": f}`.
 *
 * A bare `hard_sigmoid` means what the Keras that saved the file meant: Keras 2's for Keras < 3 and for
 * tfjs's own files (`tfjs-layers <version>`), Keras 3's from Keras 3 on; without a version, that of the
 * config's dialect (a Keras 1.0 file records none).
 */
import type { KerasGeneration } from '../model/weight-names.js';
import type { JsonValue } from '../model/types.js';
import { isJsonObject } from '../model/types.js';
import { KERAS2_HARD_SIGMOID, KERAS3_HARD_SIGMOID } from '../layers/keras-objects.js';

/** Config keys holding an activation (`activation`, `recurrent_activation`, `attention_activation`, ...). */
export function isActivationKey(key: string): boolean {
  return key === 'activation' || key.endsWith('_activation');
}

/** Whose `hard_sigmoid` a bare name means in a config saved by `kerasVersion` in the dialect of `dialect`. */
export function hardSigmoidGeneration(kerasVersion: string | undefined, dialect: KerasGeneration): KerasGeneration {
  if (kerasVersion?.startsWith('tfjs')) return 'keras2';
  const major = kerasVersion === undefined ? Number.NaN : Number.parseInt(kerasVersion, 10);
  if (Number.isInteger(major)) return major < 3 ? 'keras2' : 'keras3';
  return dialect;
}

const BY_NAME: Readonly<Record<string, KerasGeneration | 'bare'>> = {
  hardsigmoid: 'bare',
  hardsigmoidkeras2: 'keras2',
  hardsigmoidkeras3: 'keras3',
};

/**
 * The generation whose `hard_sigmoid` an activation value names (a name in any spelling, or Keras 3's
 * serialized function), or undefined when it names another activation. `bare`: what the plain name means.
 */
export function hardSigmoidOf(value: JsonValue | undefined, bare: KerasGeneration): KerasGeneration | undefined {
  let name: JsonValue | undefined = value;
  if (isJsonObject(value) && value.class_name === 'function') name = value.config;
  if (typeof name !== 'string') return undefined;
  const key = name.replace(/_/g, '').toLowerCase();
  const found = Object.prototype.hasOwnProperty.call(BY_NAME, key) ? BY_NAME[key] : undefined;
  return found === 'bare' ? bare : found;
}

/** Where a config is written: the normalized (tfjs) dialect, or a generation's file. */
export type ActivationTarget = 'normalized' | KerasGeneration;

/** A generation's `hard_sigmoid` as `target` names it (see the file comment). */
export function hardSigmoidName(generation: KerasGeneration, target: ActivationTarget): JsonValue {
  switch (target) {
    case 'normalized':
      return generation === 'keras2' ? KERAS2_HARD_SIGMOID : KERAS3_HARD_SIGMOID;
    case 'keras2':
      return generation === 'keras2' ? 'hard_sigmoid' : KERAS3_HARD_SIGMOID;
    case 'keras3':
      return generation === 'keras3' ? 'hard_sigmoid' : { module: 'builtins', class_name: 'function', config: KERAS2_HARD_SIGMOID, registered_name: 'function' };
  }
}

/**
 * A config entry's value written for `target` with its meaning kept, when the entry is an activation
 * naming a `hard_sigmoid` (`bare`: what the plain name means); undefined for any other entry.
 */
export function hardSigmoidFor(target: ActivationTarget, key: string, value: JsonValue | undefined, bare: KerasGeneration): JsonValue | undefined {
  const generation = isActivationKey(key) ? hardSigmoidOf(value, bare) : undefined;
  return generation && hardSigmoidName(generation, target);
}
