/**
 * Verification from files on disk: for one model file, or for every model file a golden case lists
 * (the checking itself is verify-core.ts, shared with the page).
 */
import { basename } from 'node:path';
import { detectFormat, readConfigSource, readModel, type ReadOptions } from '../readers/index.js';
import { runOnnxFile } from '../runtime/run.js';
import { readGoldenCase } from './case.js';
import { type CaseFiles, type RunnableFile, type VerifyOptions, type VerifyResult, type VerifySubject, verifyGoldenCase, verifyModel } from './verify-core.js';
import { readNpyFileSync } from './npy-file.js';

export type { FileVerification, VerifyOptions, VerifyResult } from './verify-core.js';
export { formatVerifyResult, verifyExitCode } from './verify-core.js';

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
  return verifyModel(await readSubject(file, read), inputs, expected, { ...opts, tolerance }, file);
}

/** An .onnx file runs as it is on onnxruntime; any other file is read as a Keras model. */
async function readSubject(file: string, read: ReadOptions): Promise<VerifySubject> {
  if (detectFormat(file) !== 'onnx') return readModel(file, read);
  const onnx: RunnableFile = { format: 'onnx', run: (inputs, run) => runOnnxFile(file, inputs, run) };
  return onnx;
}

const onDisk: CaseFiles = {
  readModel: (f, opts) => readSubject(f.path, opts),
  readNpy: (t) => readNpyFileSync(t.path),
};

/** verify <case-dir>: every model file the case lists, plus model.tfkeras2.h5 where present. */
export async function verifyCase(dir: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const kase = readGoldenCase(dir);
  const read: ReadOptions = { ...opts.read };
  const configPath = opts.configPath;
  return verifyGoldenCase(kase, onDisk, { ...opts, read, config: configPath ? () => readConfigSource(configPath, read) : undefined });
}
