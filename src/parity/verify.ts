/**
 * Runs a model on golden inputs and compares every output with the golden outputs: for one model
 * file, or for every model file a golden case lists.
 */
import { basename } from 'node:path';
import { KerasInteropError } from '../errors.js';
import type { JsonObject, KerasModel } from '../model/types.js';
import { readConfigSource, readModel, type ReadOptions } from '../readers/index.js';
import { detectFormat } from '../readers/detect.js';
import { type RunOptions, runModelDetailed, runOnnxFile } from '../runtime/run.js';
import { readGoldenCase, type GoldenCase } from './case.js';
import { compareArrays, type CompareReport, type Tolerance } from './compare.js';
import { readNpyFileSync } from './npy-file.js';
import type { NpyArray } from './npy.js';

export interface FileVerification {
  /** The model file checked. */
  file: string;
  format?: string;
  pass: boolean;
  outputs: CompareReport[];
  /** Set when the file could not be read, built or run. */
  error?: { code: string; message: string };
}

export interface VerifyResult {
  case?: string;
  backend: string;
  tolerance: Tolerance;
  pass: boolean;
  files: FileVerification[];
}

export interface VerifyOptions {
  backend?: string;
  /** onnxruntime only: intra-op threads (default every core). */
  threads?: number;
  tolerance?: Partial<Tolerance>;
  read?: ReadOptions;
  /** Config source for weights-only files (a model file or config JSON). */
  configPath?: string;
  /** Lambda layers: run their translated bytecode (default) or refuse them. */
  lambdas?: RunOptions['lambdas'];
}

/** A model file to verify: a Keras model read into memory, or an ONNX file run as it is. */
type Subject = { model: KerasModel } | { onnx: string };

async function checkOne(
  file: string,
  subject: Subject,
  inputs: NpyArray[],
  expected: { name: string; array: NpyArray }[],
  tolerance: Tolerance,
  run: RunOptions,
  ran: string[],
): Promise<FileVerification> {
  const { outputs, backend } = 'onnx' in subject ? await runOnnxFile(subject.onnx, inputs, run) : await runModelDetailed(subject.model, inputs, run);
  ran.push(backend);
  if (outputs.length !== expected.length) {
    throw new KerasInteropError(
      'INPUT_MISMATCH',
      `the model has ${outputs.length} output(s), but ${expected.length} expected output file(s) were given`,
      { file },
    );
  }
  const reports = outputs.map((out, i) =>
    compareArrays(out, expected[i].array, tolerance, expected[i].name || out.name),
  );
  const format = 'onnx' in subject ? 'onnx' : subject.model.source.format;
  return { file, format, pass: reports.every((r) => r.pass), outputs: reports };
}

function runOptions(opts: VerifyOptions): RunOptions {
  return { backend: opts.backend, threads: opts.threads, lambdas: opts.lambdas };
}

/** The backends the files ran on ("onnxruntime", "wasm", or both joined), or tfjs's current one when none ran. */
async function backendReported(ran: string[]): Promise<string> {
  const distinct = [...new Set(ran)];
  if (distinct.length > 0) return distinct.join(', ');
  const { currentBackend } = await import('../runtime/backend.js');
  return currentBackend();
}

function failure(file: string, e: unknown): FileVerification {
  if (e instanceof KerasInteropError) {
    return { file, pass: false, outputs: [], error: { code: e.code, message: e.message } };
  }
  throw e;
}

/** verify <model> --inputs ... --expected ... */
export async function verifyModelFile(
  file: string,
  inputFiles: string[],
  expectedFiles: string[],
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const tolerance = { atol: 1e-5, rtol: 1e-4, ...opts.tolerance };
  const read: ReadOptions = { ...opts.read };
  if (opts.configPath) read.config = await readConfigSource(opts.configPath, read);
  const inputs = inputFiles.map((f) => readNpyFileSync(f));
  const expected = expectedFiles.map((f) => ({ name: basename(f, '.npy'), array: readNpyFileSync(f) }));
  const subject: Subject = detectFormat(file) === 'onnx' ? { onnx: file } : { model: await readModel(file, read) };
  const ran: string[] = [];
  const result = await checkOne(file, subject, inputs, expected, tolerance, runOptions(opts), ran);
  return { backend: await backendReported(ran), tolerance, pass: result.pass, files: [result] };
}

/** The config a weights-only file of a case is paired with: the first full-model file of the case. */
async function caseConfig(kase: GoldenCase, read: ReadOptions): Promise<JsonObject | undefined> {
  for (const f of kase.files) {
    try {
      const m = await readModel(f.path, read);
      if (m.config) return m.config;
    } catch {
      // try the next file; the failing one is reported on its own
    }
  }
  return undefined;
}

/** verify <case-dir>: every model file the case lists, plus model.tfkeras2.h5 where present. */
export async function verifyCase(dir: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const kase = readGoldenCase(dir);
  const tolerance = { ...kase.tolerance, ...opts.tolerance };
  const inputs = kase.inputs.map((t) => readNpyFileSync(t.path));
  const expected = kase.outputs.map((t) => ({ name: t.name ?? basename(t.file, '.npy'), array: readNpyFileSync(t.path) }));
  const read: ReadOptions = { ...opts.read };
  const config = opts.configPath ? await readConfigSource(opts.configPath, read) : await caseConfig(kase, read);
  const files: FileVerification[] = [];
  const ran: string[] = [];
  for (const f of kase.files) {
    try {
      const subject: Subject = detectFormat(f.path) === 'onnx' ? { onnx: f.path } : { model: await readModel(f.path, { ...read, config }) };
      files.push(await checkOne(f.path, subject, inputs, expected, tolerance, runOptions(opts), ran));
    } catch (e) {
      files.push(failure(f.path, e));
    }
  }
  return { case: kase.name, backend: await backendReported(ran), tolerance, pass: files.length > 0 && files.every((f) => f.pass), files };
}
