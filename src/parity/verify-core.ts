/**
 * Runs a model on golden inputs and compares every output with the golden outputs, wherever the files
 * come from: Node's path API (verify.ts) and the page give it their own ways of reading them.
 */
import { KerasInteropError } from '../errors.js';
import { basename } from '../readers/io/posix-path.js';
import type { JsonObject, KerasModel } from '../model/types.js';
import type { ReadOptions } from '../readers/hdf5.js';
import { currentBackend } from '../runtime/backend.js';
import { type RunOptions, type RunOutput, runModelDetailed } from '../runtime/run.js';
import { type CompareReport, type Tolerance, compareArrays, formatReport } from './compare.js';
import type { GoldenCase, GoldenModelFile, GoldenTensor } from './golden-case.js';
import type { NpyArray } from './npy.js';

export interface FileVerification {
  /** The model file checked. */
  file: string;
  format?: string;
  /** The backend that ran it (absent when it could not be run). */
  backend?: string;
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

export interface ExpectedOutput {
  name: string;
  array: NpyArray;
}

/** A model file the host runs as it is (Node: an .onnx file, on onnxruntime) rather than a Keras model read into memory. */
export interface RunnableFile {
  format: string;
  run(inputs: NpyArray[], opts: RunOptions): Promise<{ outputs: RunOutput[]; backend: string }>;
}

export type VerifySubject = KerasModel | RunnableFile;

function isRunnableFile(m: VerifySubject): m is RunnableFile {
  return typeof (m as RunnableFile).run === 'function';
}

export function runOptions(opts: VerifyOptions): RunOptions {
  return { backend: opts.backend, lambdas: opts.lambdas, threads: opts.threads };
}

/** The backends the files ran on (one, or several joined), or tfjs's current one when none ran. */
function backendReported(files: FileVerification[]): string {
  const ran = [...new Set(files.flatMap((f) => (f.backend ? [f.backend] : [])))];
  return ran.length > 0 ? ran.join(', ') : currentBackend();
}

/** Runs `model` on `inputs` and compares each output with its expected array. */
export async function checkModel(
  file: string,
  model: VerifySubject,
  inputs: NpyArray[],
  expected: ExpectedOutput[],
  tolerance: Tolerance,
  run: RunOptions,
): Promise<FileVerification> {
  const { outputs, backend } = isRunnableFile(model) ? await model.run(inputs, run) : await runModelDetailed(model, inputs, run);
  if (outputs.length !== expected.length) {
    throw new KerasInteropError(
      'INPUT_MISMATCH',
      `the model has ${outputs.length} output(s), but ${expected.length} expected output file(s) were given`,
      { file },
    );
  }
  const reports = outputs.map((out, i) => compareArrays(out, expected[i].array, tolerance, expected[i].name || out.name));
  return { file, format: isRunnableFile(model) ? model.format : model.source.format, backend, pass: reports.every((r) => r.pass), outputs: reports };
}

/** A file that could not be checked, as a result (other failures are bugs and propagate). */
export function failure(file: string, e: unknown): FileVerification {
  if (e instanceof KerasInteropError) {
    return { file, pass: false, outputs: [], error: { code: e.code, message: e.message } };
  }
  throw e;
}

/** One model checked against golden arrays (verify <model> --inputs ... --expected ...). */
export async function verifyModel(
  model: VerifySubject,
  inputs: NpyArray[],
  expected: ExpectedOutput[],
  opts: VerifyOptions = {},
  file = isRunnableFile(model) ? 'model' : model.source.file,
): Promise<VerifyResult> {
  const tolerance = { atol: 1e-5, rtol: 1e-4, ...opts.tolerance };
  const result = await checkModel(file, model, inputs, expected, tolerance, runOptions(opts));
  return { backend: backendReported([result]), tolerance, pass: result.pass, files: [result] };
}

/** How a case's files are read: from disk in Node, from the picked folder in a page. */
export interface CaseFiles {
  readModel(f: GoldenModelFile, opts: ReadOptions): Promise<VerifySubject>;
  readNpy(t: GoldenTensor): Promise<NpyArray> | NpyArray;
}

/** The golden outputs of a case, named as Keras named them (else by file). */
export async function expectedOutputs(kase: GoldenCase, files: CaseFiles): Promise<ExpectedOutput[]> {
  const out: ExpectedOutput[] = [];
  for (const t of kase.outputs) out.push({ name: t.name ?? basename(t.file, '.npy'), array: await files.readNpy(t) });
  return out;
}

/** The config a weights-only file of a case is paired with: the first full-model file of the case. */
async function caseConfig(kase: GoldenCase, files: CaseFiles, read: ReadOptions): Promise<JsonObject | undefined> {
  for (const f of kase.files) {
    try {
      const m = await files.readModel(f, read);
      if (!isRunnableFile(m) && m.config) return m.config;
    } catch {
      // try the next file; the failing one is reported on its own
    }
  }
  return undefined;
}

/**
 * Every model file the case lists, each read, run and compared (a file that fails is reported, and the
 * others still run). `config` gives the config for weights-only files (read after the arrays); default:
 * the case's first full model's. `onFile` hears each file's result as it comes.
 */
export async function verifyGoldenCase(
  kase: GoldenCase,
  files: CaseFiles,
  opts: Omit<VerifyOptions, 'configPath'> & { config?: () => Promise<JsonObject>; onFile?: (f: FileVerification) => void } = {},
): Promise<VerifyResult> {
  const tolerance = { ...kase.tolerance, ...opts.tolerance };
  const inputs: NpyArray[] = [];
  for (const t of kase.inputs) inputs.push(await files.readNpy(t));
  const expected = await expectedOutputs(kase, files);
  const read: ReadOptions = { ...opts.read };
  const config = opts.config ? await opts.config() : await caseConfig(kase, files, read);
  const results: FileVerification[] = [];
  for (const f of kase.files) {
    let r: FileVerification;
    try {
      const model = await files.readModel(f, { ...read, config });
      r = await checkModel(f.path, model, inputs, expected, tolerance, runOptions(opts));
    } catch (e) {
      r = failure(f.path, e);
    }
    results.push(r);
    opts.onFile?.(r);
  }
  return { case: kase.name, backend: backendReported(results), tolerance, pass: results.length > 0 && results.every((f) => f.pass), files: results };
}

/** 0 every output within tolerance, 1 some output is not, 2 a file could not be checked. */
export function verifyExitCode(r: VerifyResult): number {
  if (r.files.some((f) => f.error)) return 2;
  return r.pass ? 0 : 1;
}

/** The text report `keras-interop verify` prints (the page shows the same). */
export function formatVerifyResult(r: VerifyResult): string {
  const lines: string[] = [];
  for (const f of r.files) {
    if (f.error) {
      lines.push(`${f.file}: ERROR [${f.error.code}] ${f.error.message}\n`);
      continue;
    }
    lines.push(formatReport(f.outputs, { model: f.file, backend: r.backend, file: r.case }));
    lines.push('');
  }
  const ok = r.files.filter((f) => f.pass).length;
  lines.push(`${r.case ? `case ${r.case}: ` : ''}${ok}/${r.files.length} model files pass (atol ${r.tolerance.atol}, rtol ${r.tolerance.rtol}, backend ${r.backend})`);
  return lines.join('\n');
}
