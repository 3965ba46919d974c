/** The runtime as the CLI and the parity checks use it: build once, predict, describe. */
import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { UnsupportedLayerError, isKerasInteropError } from '../errors.js';
import type { JsonObject, KerasModel } from '../model/types.js';
import type { SummaryExtras } from '../model/summary.js';
import { useBackend } from './backend.js';
import { buildModelDetailed, predict, type InputArray } from './build.js';
import { findBlockers } from './blockers.js';
import { classResolutions } from './class-resolution.js';
import { legacyLayerNotes } from './legacy-layers.js';
import { type LambdaPolicy, type LambdaReport, lambdaReports, withTranslatedLambdas } from './lambda/replace.js';
import { normalizeConfig } from './normalize.js';
import { signatureOfConfig, signatureOfModel } from './signature.js';

export interface RunOutput {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

export interface RunOptions {
  backend?: string;
  /** Lambda layers: run their translated bytecode (`translate`, default) or refuse them (`refuse`). */
  lambdas?: LambdaPolicy;
}

/** Builds the model on the chosen backend, runs it once on whole arrays, and frees it. */
export async function runModel(model: KerasModel, inputs: InputArray[], opts: RunOptions = {}): Promise<RunOutput[]> {
  const { model: tfModel } = await buildModelDetailed(model, { backend: opts.backend, lambdas: opts.lambdas });
  try {
    return predict(tfModel, inputs).map((o) => ({
      name: o.name,
      shape: o.shape,
      dtype: o.data instanceof Int32Array ? 'int32' : 'float32',
      data: o.data,
    }));
  } finally {
    tfModel.dispose();
  }
}

export interface RuntimeDescription extends SummaryExtras {
  backend: string;
  /** Whether the model builds on tfjs (every layer known and every weight assigned). */
  runnable: boolean;
  /** Every Lambda layer: the Python its bytecode computes, or why that is not known. */
  lambdas: LambdaReport[];
}

/**
 * What inspect adds to the file's own facts: the backend, which library's class each ambiguous layer
 * resolved to (decided by its config keys and weight names), each layer's output shape when the model builds, and otherwise why it does not.
 */
export async function describeRuntime(model: KerasModel, backend?: string, lambdas?: LambdaPolicy): Promise<RuntimeDescription> {
  const chosen = await useBackend(backend);
  const resolvedClasses = new Map<string, string>();
  const origins = new Map<string, string>();
  const notes: string[] = [];
  if (model.config) {
    for (const r of classResolutions(model.config, { weights: model.weights })) {
      if (r.resolvedClass !== r.className || r.ambiguous) resolvedClasses.set(r.layer, `${r.resolvedClass}: ${r.reason}`);
      if (r.ambiguous) origins.set(r.layer, r.origin);
    }
  } else {
    notes.push('weights-only file: pass --config <model file or config.json> to pair it with a model config');
    return { backend: chosen, runnable: false, resolvedClasses, origins, notes, inputs: [], outputs: [], lambdas: [] };
  }
  notes.push(...legacyLayerNotes(model.config));
  const reports = lambdaReports(model.config);
  const outputShapes = new Map<string, (number | null)[] | (number | null)[][]>();
  try {
    const { model: tfModel } = await buildModelDetailed(model, { backend, lambdas });
    try {
      for (const layer of tfModel.layers) outputShapes.set(layer.name, layer.outputShape as (number | null)[]);
      return { backend: chosen, runnable: true, resolvedClasses, origins, outputShapes, notes, lambdas: reports, ...signatureOfModel(tfModel) };
    } finally {
      tfModel.dispose();
    }
  } catch (e) {
    if (!isKerasInteropError(e)) throw e;
    // What the config says of the inputs and outputs, and every layer in the way (building stops at the first).
    let normalized: JsonObject | undefined;
    try {
      normalized = normalizeConfig(model.config, { file: model.source.file });
    } catch {
      normalized = undefined;
    }
    // Translated Lambdas are not in the way; the others say why they were not translated.
    const translated = normalized ? withTranslatedLambdas(normalized, lambdas) : undefined;
    const blockers = e instanceof UnsupportedLayerError && translated ? findBlockers(translated.config, translated.untranslated) : undefined;
    if (!blockers) notes.push(`cannot run on tfjs: [${e.code}] ${e.message}`);
    const signature = normalized ? signatureOfConfig(normalized) : { inputs: [], outputs: [] };
    return { backend: chosen, runnable: false, resolvedClasses, origins, outputShapes, notes, blockers, lambdas: reports, ...signature };
  }
}


