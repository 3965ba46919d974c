/**
 * A layer whose config does not fit its implementation is an error naming the keys, never a guess: the
 * check the layers here run on the (camelCased) arguments tfjs hands their constructors.
 */
import { KerasInteropError } from '../errors.js';

/** tfjs's own constructor arguments, which any layer config may carry (tfjs adds `customObjects` itself). */
const TFJS_LAYER_KEYS = ['name', 'trainable', 'dtype', 'batchInputShape', 'inputShape', 'batchSize', 'inputDType', 'weights', 'customObjects'];

/** Throws UNSUPPORTED_LAYER naming every argument that is neither tfjs's nor one of `keys`. */
export function refuseUnknownKeys(className: string, name: string, args: object, keys: readonly string[]): void {
  const known = new Set([...TFJS_LAYER_KEYS, ...keys]);
  const unknown = Object.keys(args).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new KerasInteropError(
      'UNSUPPORTED_LAYER',
      `${className} "${name}": config keys ${unknown.map((k) => JSON.stringify(k)).join(', ')} are not part of Keras's ${className} (known: ${[...known].join(', ')})`,
    );
  }
}
