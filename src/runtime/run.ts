/** The runtime as the CLI and the parity checks use it: build once, predict, describe. */
import * as tf from '@tensorflow/tfjs';
import '../layers/index.js';
import { KerasInteropError, UnsupportedLayerError, isKerasInteropError } from '../errors.js';
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
import type { LoweredModel } from '../writers/onnx/lower.js';

export interface RunOutput {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

export interface RunOptions {
  /** `onnxruntime`, or a tfjs backend (`tensorflow`, `wasm`, `cpu`); default: see `chooseBackend`. */
  backend?: string;
  /** Lambda layers: run their translated bytecode (`translate`, default) or refuse them (`refuse`). */
  lambdas?: LambdaPolicy;
  /** onnxruntime only: intra-op threads (default every core). */
  threads?: number;
}

/**
 * The onnxruntime backend (onnxruntime.ts: onnxruntime-node, temp files), Node-only: named where bundlers
 * do not follow, so a page's bundle leaves it out; in a page onnxruntime is "not available".
 */
const ONNXRUNTIME_MODULE = './onnxruntime.js';
const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function onnxRuntimeModule(): Promise<typeof import('./onnxruntime.js') | undefined> {
  return inNode ? ((await import(/* @vite-ignore */ ONNXRUNTIME_MODULE)) as typeof import('./onnxruntime.js')) : undefined;
}

/** onnxruntime's module, or the error saying it cannot run here. */
async function requireOnnxRuntimeModule(file?: string): Promise<typeof import('./onnxruntime.js')> {
  const m = await onnxRuntimeModule();
  if (!m) throw new KerasInteropError('USAGE', 'backend "onnxruntime" runs in Node only (onnxruntime-node)', file ? { file } : {});
  return m;
}

/** Builds the model on the chosen backend, runs it once on whole arrays, and frees it. */
export async function runModel(model: KerasModel, inputs: InputArray[], opts: RunOptions = {}): Promise<RunOutput[]> {
  return (await runModelDetailed(model, inputs, opts)).outputs;
}

/** `runModel`, also saying which backend ran it. */
export async function runModelDetailed(model: KerasModel, inputs: InputArray[], opts: RunOptions = {}): Promise<{ outputs: RunOutput[]; backend: string }> {
  const choice = await chooseBackend(model, opts.backend, opts.lambdas);
  if (choice.backend === 'onnxruntime') {
    const { sessionForModel } = await requireOnnxRuntimeModule();
    const session = await sessionForModel(model, { threads: opts.threads, lambdas: opts.lambdas }, choice.lowered);
    try {
      return { outputs: await session.run(inputs), backend: 'onnxruntime' };
    } finally {
      await session.release();
    }
  }
  const { model: tfModel, backend } = await buildModelDetailed(model, { backend: choice.backend, lambdas: opts.lambdas });
  try {
    const outputs = predict(tfModel, inputs).map((o): RunOutput => ({
      name: o.name,
      shape: o.shape,
      dtype: o.data instanceof Int32Array ? 'int32' : 'float32',
      data: o.data,
    }));
    return { outputs, backend };
  } finally {
    tfModel.dispose();
  }
}

/** Runs an .onnx file on onnxruntime (the only backend that runs ONNX files). */
export async function runOnnxFile(file: string, inputs: InputArray[], opts: RunOptions = {}): Promise<{ outputs: RunOutput[]; backend: string }> {
  if (opts.backend !== undefined && opts.backend !== 'onnxruntime') {
    throw new KerasInteropError('USAGE', `an ONNX model runs on onnxruntime only, not on backend "${opts.backend}"`, { file });
  }
  const { OnnxSession } = await requireOnnxRuntimeModule(file);
  const session = await OnnxSession.create(file, { threads: opts.threads }, file);
  try {
    return { outputs: await session.run(inputs), backend: 'onnxruntime' };
  } finally {
    await session.release();
  }
}

export interface BackendChoice {
  /** `onnxruntime`, or the tfjs backend to ask `useBackend` for (undefined: its own default order). */
  backend: 'onnxruntime' | string | undefined;
  /** Why, in words (inspect prints it). */
  reason: string;
  /** The model's ONNX graph, when onnxruntime is chosen. */
  lowered?: LoweredModel;
}

/**
 * The backend a model runs on: the one asked for; by default onnxruntime when onnxruntime-node can be
 * imported and every layer of the model lowers to ONNX, else tfjs's order (tfjs-node, wasm, cpu).
 * Asking for onnxruntime when it cannot run the model is an error naming why.
 */
export async function chooseBackend(model: KerasModel, requested?: string, lambdas?: LambdaPolicy): Promise<BackendChoice> {
  if (requested !== undefined && requested !== 'onnxruntime') return { backend: requested, reason: 'asked for' };
  const module = await onnxRuntimeModule();
  const ort = module ? await module.loadOnnxRuntime() : { ort: null, reason: 'onnxruntime-node runs in Node only' };
  if (ort.ort == null) {
    const why = (ort as { reason: string }).reason;
    if (requested) throw new KerasInteropError('USAGE', `backend "onnxruntime" is not available: ${why} (npm install onnxruntime-node)`);
    return { backend: undefined, reason: why };
  }
  let lowered: LoweredModel;
  try {
    const { lowerModel } = await import('../writers/onnx/index.js');
    lowered = await lowerModel(model, { lambdas });
  } catch (e) {
    // By default a model that does not lower runs on tfjs (which reports what stops it there, if anything).
    if (requested) throw e;
    return { backend: undefined, reason: isKerasInteropError(e) ? e.message : `lowering to ONNX failed: ${(e as Error)?.message ?? String(e)}` };
  }
  return { backend: 'onnxruntime', reason: `onnxruntime-node ${ort.version} is installed and every layer lowers to ONNX`, lowered };
}


export interface RuntimeDescription extends SummaryExtras {
  backend: string;
  /** Why that backend (onnxruntime when installed and the model lowers, else tfjs's order). */
  backendReason: string;
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
  const choice: BackendChoice = model.config ? await chooseBackend(model, backend, lambdas) : { backend, reason: backend ? 'asked for' : 'a weights-only file does not run' };
  // The layer table's output shapes come from tfjs whichever backend would run the model.
  const tfjsBackend = await useBackend(choice.backend === 'onnxruntime' ? undefined : choice.backend);
  const chosen = choice.backend === 'onnxruntime' ? 'onnxruntime' : tfjsBackend;
  const backendReason = choice.backend === 'onnxruntime' || backend ? choice.reason : `not onnxruntime: ${choice.reason}`;
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
    return { backend: chosen, backendReason, runnable: false, resolvedClasses, origins, notes, inputs: [], outputs: [], lambdas: [] };
  }
  notes.push(...legacyLayerNotes(model.config));
  const reports = lambdaReports(model.config);
  const outputShapes = new Map<string, (number | null)[] | (number | null)[][]>();
  try {
    const { model: tfModel } = await buildModelDetailed(model, { backend: tfjsBackend, lambdas });
    try {
      for (const layer of tfModel.layers) outputShapes.set(layer.name, layer.outputShape as (number | null)[]);
      return { backend: chosen, backendReason, runnable: true, resolvedClasses, origins, outputShapes, notes, lambdas: reports, ...signatureOfModel(tfModel) };
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
    return { backend: chosen, backendReason, runnable: false, resolvedClasses, origins, outputShapes, notes, blockers, lambdas: reports, ...signature };
  }
}


