/**
 * One copy of tfjs. Layers registered with one copy of tfjs-layers are unknown to another ("Unknown
 * layer"), a second tfjs-backend-cpu registers every kernel again ("already registered"), and a layer
 * class from one copy cannot handle the other's tensors. `@tensorflow/tfjs` is a peer dependency so an
 * install shares the app's copy; this says once, in one line, when that did not happen. No Node
 * built-ins here (see tfjs-copies-node.ts for the check on disk).
 */
import * as tf from '@tensorflow/tfjs';

const WARNED = Symbol.for('keras-interop.second-tfjs-warned');

export function warnSecondTfjs(detail: string, warn: (line: string) => void = (l) => console.warn(l)): void {
  const g = globalThis as { [WARNED]?: boolean };
  if (g[WARNED]) return;
  g[WARNED] = true;
  warn(
    `keras-interop: warning: a second copy of @tensorflow/tfjs is in use (${detail}); layers registered in one copy are ` +
      `unknown to the other. Install keras-interop beside your app's @tensorflow/tfjs (a peer dependency) so both share one copy.`,
  );
}

/**
 * tfjs keeps its engine on the global object, made by whichever copy loaded first: an engine this
 * copy's Environment class did not make means another copy of tfjs-core is loaded.
 */
export function checkTfjsEngine(warn?: (line: string) => void): boolean {
  if (tf.env() instanceof tf.Environment) return true;
  warnSecondTfjs('the tfjs engine was made by another copy of @tensorflow/tfjs-core', warn);
  return false;
}
