/**
 * Which generation's dialect a Keras config is in: Keras 3 configs carry `module` keys (or `batch_shape`,
 * `build_config`), tf.keras 2 ones never. Pure.
 */
import type { KerasGeneration } from '../model/weight-names.js';
import type { JsonObject, JsonValue } from '../model/types.js';
import { isJsonObject } from '../model/types.js';

/** The generation whose dialect a model config is written in (tf.keras 2 when nothing says Keras 3). */
export function configGeneration(config: JsonObject): KerasGeneration {
  if ('module' in config || 'registered_name' in config) return 'keras3';
  const inner = config.config;
  const layers = Array.isArray(inner) ? inner : isJsonObject(inner) && Array.isArray(inner.layers) ? inner.layers : [];
  let found: KerasGeneration | undefined;
  const visit = (v: JsonValue, depth: number): void => {
    if (found || depth > 6 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
      return;
    }
    if ('module' in v && 'class_name' in v) {
      found = 'keras3';
      return;
    }
    if ('batch_shape' in v || 'build_config' in v) {
      found = 'keras3';
      return;
    }
    if ('batch_input_shape' in v) {
      found = 'keras2';
      return;
    }
    for (const x of Object.values(v)) visit(x, depth + 1);
  };
  for (const l of layers) visit(l, 0);
  return found ?? 'keras2';
}

