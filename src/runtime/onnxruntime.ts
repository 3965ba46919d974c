/**
 * The onnxruntime backend: a model lowered to ONNX in memory (src/writers/onnx) or an .onnx file, run by
 * onnxruntime-node, an optional dependency (its CPU libraries ship inside the package). Everything here
 * degrades to "not available" when the package cannot be imported. All cores by default.
 */
import { availableParallelism, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KerasInteropError } from '../errors.js';
import type { KerasModel } from '../model/types.js';
import { type ExportOnnxOptions, type LoweredModel, exportOnnx } from '../writers/onnx/index.js';
import { concatParts } from '../writers/parts.js';
import type { InputArray } from './build.js';
import { toFloat32, toInt32 } from './weight-values.js';

/** The part of onnxruntime's JavaScript API used here (the same in onnxruntime-node and -web). */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}
export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
  endProfiling?(): unknown;
}
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array | string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
  env: { versions?: Record<string, string> };
}

let loaded: Promise<{ ort: OrtModule; version: string } | { ort: null; reason: string }> | undefined;

/** onnxruntime-node when it can be imported (the native addon loads), else why not. */
export function loadOnnxRuntime(): Promise<{ ort: OrtModule; version: string } | { ort: null; reason: string }> {
  loaded ??= (async () => {
    try {
      // onnxruntime 1.31 reports telemetry on Linux too, and keeps a session file (.ses) in TMPDIR for it:
      // off, unless the user says otherwise.
      process.env.ORT_DISABLE_TELEMETRY ??= '1';
      // CommonJS package with a native addon; require keeps it out of bundlers' ESM graphs.
      const require = createRequire(import.meta.url);
      const ort = require('onnxruntime-node') as OrtModule;
      return { ort, version: ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown' };
    } catch (e) {
      const code = (e as { code?: string }).code;
      return { ort: null, reason: code === 'MODULE_NOT_FOUND' ? 'onnxruntime-node is not installed' : `onnxruntime-node does not load here (${(e as Error).message.split('\n')[0]})` };
    }
  })();
  return loaded;
}

async function requireOnnxRuntime(): Promise<{ ort: OrtModule; version: string }> {
  const r = await loadOnnxRuntime();
  if (r.ort == null) throw new KerasInteropError('USAGE', `backend "onnxruntime" is not available: ${(r as { reason: string }).reason} (npm install onnxruntime-node)`);
  return r;
}

export interface OnnxRunOptions {
  /** Intra-op threads; default: every core (`os.availableParallelism()`). */
  threads?: number;
  /** Write an onnxruntime profile (JSON) with this path prefix. */
  profilePrefix?: string;
}

export interface OnnxOutput {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/** An output tensor as an array predict returns (float32 or int32); the tensor is disposed. */
function readOutput(name: string, t: OrtTensor, where: { file?: string }): OnnxOutput {
  const dims = t.dims.slice();
  const raw = t.data;
  let out: OnnxOutput;
  if (raw instanceof Float32Array) out = { name, shape: dims, dtype: 'float32', data: raw };
  else if (raw instanceof Int32Array) out = { name, shape: dims, dtype: 'int32', data: raw };
  else if (raw instanceof BigInt64Array || raw instanceof Uint8Array || raw instanceof Int8Array) out = { name, shape: dims, dtype: 'int32', data: toInt32(raw, t.type, where, `output "${name}"`) };
  else if (raw instanceof Float64Array || raw instanceof Uint16Array) out = { name, shape: dims, dtype: 'float32', data: toFloat32(raw, t.type) };
  else throw new KerasInteropError('UNSUPPORTED_DTYPE', `output "${name}" is ${t.type}, which predict does not return`, where);
  t.dispose?.();
  return out;
}

/** A session with its input types, ready to run on whole arrays. */
export class OnnxSession {
  private constructor(
    private readonly ort: OrtModule,
    readonly session: OrtSession,
    readonly version: string,
    private readonly file: string | undefined,
  ) {}

  static async create(model: Uint8Array | string, opts: OnnxRunOptions = {}, file?: string): Promise<OnnxSession> {
    const { ort, version } = await requireOnnxRuntime();
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new KerasInteropError('USAGE', `threads must be a positive integer, got ${threads}`);
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        ...(opts.profilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix } : {}),
      });
    } catch (e) {
      throw new KerasInteropError('PROTO_INVALID', `onnxruntime cannot load the model: ${(e as Error).message}`, file ? { file } : {}, { cause: e });
    }
    return new OnnxSession(ort, session, version, file);
  }

  /** Runs on whole arrays given in the model's input order; integer data fed to float inputs is converted. */
  async run(inputs: InputArray[]): Promise<OnnxOutput[]> {
    const names = this.session.inputNames;
    const where = this.file ? { file: this.file } : {};
    if (inputs.length !== names.length) {
      throw new KerasInteropError('INPUT_MISMATCH', `the model takes ${names.length} inputs (${names.join(', ')}) but ${inputs.length} were given`, where);
    }
    const feeds: Record<string, OrtTensor> = {};
    inputs.forEach((input, i) => {
      const name = names[i];
      const meta = this.session.inputMetadata?.[i];
      const want = meta?.shape ?? [];
      const size = input.shape.reduce((a, b) => a * b, 1);
      if (input.data.length !== size) {
        throw new KerasInteropError('INPUT_MISMATCH', `input ${i} "${name}" holds ${input.data.length} values but its shape [${input.shape.join(', ')}] needs ${size}`, where);
      }
      if (want.length > 0 && (want.length !== input.shape.length || want.some((d, j) => typeof d === 'number' && d >= 0 && d !== input.shape[j]))) {
        throw new KerasInteropError('INPUT_MISMATCH', `input ${i} "${name}" has shape [${input.shape.join(', ')}]; the model expects [${want.map((d) => (typeof d === 'number' ? d : 'None')).join(', ')}]`, where);
      }
      const what = `input ${i} "${name}"`;
      const type = meta?.type ?? 'float32';
      let data: unknown;
      if (type === 'float32') data = toFloat32(input.data, input.dtype);
      else if (type === 'int32') data = toInt32(input.data, input.dtype, where, what);
      else if (type === 'int64') data = BigInt64Array.from(toInt32(input.data, input.dtype, where, what), (v) => BigInt(v));
      else if (type === 'bool') data = Uint8Array.from(toInt32(input.data, input.dtype, where, what), (v) => (v ? 1 : 0));
      else throw new KerasInteropError('UNSUPPORTED_DTYPE', `${what} is ${type}, which predict does not feed`, where);
      feeds[name] = new this.ort.Tensor(type, data, input.shape);
    });
    let results: Record<string, OrtTensor>;
    try {
      results = await this.session.run(feeds);
    } catch (e) {
      throw new KerasInteropError('INPUT_MISMATCH', `onnxruntime cannot run the model on these inputs: ${(e as Error).message}`, where, { cause: e });
    }
    // A graph may list one value as several outputs: each tensor is read once (and disposed once).
    const read = new Map<string, OnnxOutput>();
    return this.session.outputNames.map((name) => {
      let out = read.get(name);
      if (!out) {
        out = readOutput(name, results[name], where);
        read.set(name, out);
      }
      return out;
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * A session for a KerasModel, lowered in memory. A model whose initializers pass protobuf's 2 GiB is
 * written with external data to a temporary folder and loaded from there.
 */
export async function sessionForModel(model: KerasModel, opts: OnnxRunOptions & ExportOnnxOptions = {}, lowered?: LoweredModel): Promise<OnnxSession> {
  await requireOnnxRuntime();
  const { file } = await exportOnnx(model, { ...opts, externalData: 'auto', dataFileName: 'model.onnx.data' }, lowered);
  if (!file.data) return OnnxSession.create(concatParts(file.model), opts, model.source.file);
  const dir = await mkdtemp(join(tmpdir(), 'keras-interop-onnx-'));
  try {
    const { writeFileAtomic } = await import('../writers/fs.js');
    await writeFileAtomic(join(dir, 'model.onnx.data'), file.data.parts);
    await writeFileAtomic(join(dir, 'model.onnx'), file.model);
    return await OnnxSession.create(join(dir, 'model.onnx'), opts, model.source.file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
