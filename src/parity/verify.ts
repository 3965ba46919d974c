/**
 * Verification from files on disk: for one model file, or for every model file a golden case lists
 * (the checking itself is verify-core.ts, shared with the page).
 */
import { basename } from 'node:path';
import { readConfigSource, readModel, type ReadOptions } from '../readers/index.js';
import { currentBackend } from '../runtime/backend.js';
import { readGoldenCase } from './case.js';
import { type CaseFiles, type VerifyOptions, type VerifyResult, checkModel, verifyGoldenCase } from './verify-core.js';
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
  const model = await readModel(file, read);
  const result = await checkModel(file, model, inputs, expected, tolerance, { backend: opts.backend, lambdas: opts.lambdas });
  return { backend: currentBackend(), tolerance, pass: result.pass, files: [result] };
}

const onDisk: CaseFiles = {
  readModel: (f, opts) => readModel(f.path, opts),
  readNpy: (t) => readNpyFileSync(t.path),
};

/** verify <case-dir>: every model file the case lists, plus model.tfkeras2.h5 where present. */
export async function verifyCase(dir: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const kase = readGoldenCase(dir);
  const read: ReadOptions = { ...opts.read };
  const configPath = opts.configPath;
  return verifyGoldenCase(kase, onDisk, { ...opts, read, config: configPath ? () => readConfigSource(configPath, read) : undefined });
}
