/** The configs of a model's Lambda layers, wherever the config holds them (nested models and wrappers too). */
import type { JsonObject } from '../../src/model/types.js';
import { isJsonObject } from '../../src/model/types.js';

/** Every `{class_name: "Lambda", config}` object's config, depth first in the order the JSON holds them. */
export function lambdaConfigs(config: JsonObject | null | undefined): JsonObject[] {
  const out: JsonObject[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isJsonObject(v)) {
      if (v.class_name === 'Lambda' && isJsonObject(v.config)) out.push(v.config);
      Object.values(v).forEach(walk);
    }
  };
  walk(config);
  return out;
}
