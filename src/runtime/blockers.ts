/**
 * Every layer that stops a model from running on tfjs, one short line each, and what to do about them,
 * said once (inspect). Building stops at the first one with the long `UnsupportedLayerError`.
 */
import type { JsonObject } from '../model/types.js';
import { findUnsupportedLayers, type UnsupportedLayer } from './registry.js';

export interface BlockingLayer {
  /** The layer's name (nested layers: its own name; `topLevel` holds it). */
  layer: string;
  className: string;
  /** The top-level layer whose weights it uses. */
  topLevel: string;
  reason: UnsupportedLayer['reason'];
  /** One short line. */
  why: string;
}

export interface Blockers {
  layers: BlockingLayer[];
  /** What to do, once for all of them. */
  advice: string;
}

function why(u: UnsupportedLayer, lambdaWhy?: string): string {
  switch (u.reason) {
    case 'lambda':
      return `a Lambda: a Python function, whose bytecode is never run here${lambdaWhy ? `; ${lambdaWhy}` : ''}`;
    case 'cudnn':
      return 'a CuDNN-only layer, with no tfjs counterpart';
    case 'unresolved-class':
      return u.detail;
    case 'unsupported-config':
      return u.detail;
    default:
      return 'no implementation registered (a class of your own, or one keras-interop lacks)';
  }
}

/**
 * The blocking layers of a normalized config, or undefined when every layer can be built. `untranslatedLambdas`:
 * why each Lambda left in the config was not translated from its bytecode (src/runtime/lambda/replace.ts).
 */
export function findBlockers(normalizedConfig: JsonObject, untranslatedLambdas?: ReadonlyMap<string, string>): Blockers | undefined {
  const found = findUnsupportedLayers(normalizedConfig);
  if (found.length === 0) return undefined;
  const classes = [...new Set(found.map((u) => u.className))];
  const lambdas = found.some((u) => u.reason === 'lambda');
  const advice =
    `to run this model, write each class as a tf.layers.Layer subclass (build() creating the layer's weights listed above, ` +
    `in that order; call() computing it), register it with registerLayer('${classes[0]}', MyLayer)` +
    `${classes.length > 1 ? ' (and likewise for each class)' : ''} in an ES module, and pass that module with --layers ./my-layers.js ` +
    `(README: "Your own layers")` +
    (lambdas ? `; the Lambda class name serves every Lambda layer (tfjs passes each one its config)` : '');
  return {
    layers: found.map((u) => ({ layer: u.name, className: u.className, topLevel: u.topLevel, reason: u.reason, why: why(u, untranslatedLambdas?.get(u.name)) })),
    advice,
  };
}
