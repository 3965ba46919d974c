/**
 * Lambda layers in a normalized config: each one translated (translate.ts) and, when that succeeded and
 * the policy allows it, replaced by a `KerasInterop>Lambda` layer carrying the program. What the runtime
 * builds and what the tfjs writer stores both come from here, so they run the same thing. Pure: the input
 * config is not modified.
 */
import { TRANSLATED_LAMBDA_CLASS_NAME, encodeProgram } from '../../layers/translated-lambda.js';
import type { LambdaSummary } from '../../model/summary.js';
import type { JsonObject, JsonValue } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';
import { forEachLayer } from '../config-walk.js';
import { checkProgram } from './execute.js';
import { formatListing } from './listing.js';
import { type LambdaTranslation, translateLambda } from './translate.js';

/** Whether translated Lambdas run (`translate`, the default) or stay unsupported layers (`refuse`). */
export type LambdaPolicy = 'translate' | 'refuse';

export interface LambdaReport extends LambdaSummary {
  /** JSON pointer of the layer in the config. */
  path: string;
}

/** A translation, checked the way the layer will check it when it is loaded back. */
function translateChecked(config: JsonObject): LambdaTranslation {
  const t = translateLambda(config);
  if (!t.ok) return t;
  const why = checkProgram(t.program);
  return why ? { ok: false, reason: why, function: t.function } : t;
}

function report(layer: string, path: string, t: LambdaTranslation): LambdaReport {
  const fn = t.function;
  return {
    layer,
    path,
    ...(t.ok ? { expression: t.expression } : { reason: t.reason }),
    ...(fn ? { python: fn.python, function: `${fn.name}(${fn.params.join(', ')})` } : {}),
    notes: t.ok ? t.notes : [],
    disassembly: fn ? formatListing(fn.listing).split('\n').filter((l) => l !== '') : [],
  };
}

/** What every Lambda layer of a config (either generation, verbatim or normalized; nested ones too) computes, in model order. */
export function lambdaReports(config: JsonObject): LambdaReport[] {
  const out: LambdaReport[] = [];
  forEachLayer(config, (v) => {
    if (v.className === 'Lambda' && isJsonObject(v.layer.config)) out.push(report(v.name, v.path, translateChecked(v.layer.config)));
  });
  return out;
}

export interface TranslatedConfig {
  config: JsonObject;
  /** Why each Lambda left in place (by layer name) was not replaced. */
  untranslated: Map<string, string>;
}

/** The normalized config with every translatable Lambda replaced (under `translate`). */
export function withTranslatedLambdas(normalizedConfig: JsonObject, policy: LambdaPolicy = 'translate'): TranslatedConfig {
  const untranslated = new Map<string, string>();
  const rewrite = (v: JsonValue): JsonValue => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (!isJsonObject(v)) return v;
    if (v.class_name === 'Lambda' && isJsonObject(v.config)) {
      const name = typeof v.config.name === 'string' ? v.config.name : '?';
      if (policy === 'refuse') {
        untranslated.set(name, 'translating Lambda bytecode is turned off (--refuse-lambdas)');
        return v;
      }
      const t = translateChecked(v.config);
      if (!t.ok) {
        untranslated.set(name, `its bytecode was not translated: ${t.reason}`);
        return v;
      }
      const config: JsonObject = { name, trainable: v.config.trainable ?? true, expression: t.expression, program: encodeProgram(t.program), python: t.function.python.join('/') };
      for (const k of ['dtype', 'batch_input_shape', 'batch_size']) if (v.config[k] !== undefined) config[k] = v.config[k];
      const out: JsonObject = { ...v };
      out.class_name = TRANSLATED_LAMBDA_CLASS_NAME;
      out.config = config;
      return out;
    }
    const out: JsonObject = {};
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: rewrite(v[k]), enumerable: true, writable: true, configurable: true });
    return out;
  };
  return { config: rewrite(normalizedConfig) as JsonObject, untranslated };
}
