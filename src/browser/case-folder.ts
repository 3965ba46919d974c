/**
 * A golden case folder picked in a page: `case.json`, its `.npy` arrays and its model files, read from
 * the folder's files and verified as `keras-interop verify <case-dir>` does.
 */
import { KerasInteropError } from '../errors.js';
import { normalize } from '../io/posix-path.js';
import { type FileSet, readFileOf, subFiles } from '../io/source.js';
import { type GoldenCase, parseGoldenCaseText } from '../parity/golden-case.js';
import { parseNpy } from '../parity/npy.js';
import { type CaseFiles, type FileVerification, type VerifyOptions, type VerifyResult, verifyGoldenCase } from '../parity/verify-core.js';
import { readModelSource } from '../readers/sources.js';

/** A case file's path inside the folder; files the case names outside it (`../x.h5`) are not there. */
function inside(files: FileSet, file: string): string {
  const rel = normalize(file);
  if (rel === '..' || rel.startsWith('../') || rel.startsWith('/')) {
    throw new KerasInteropError('FILE_NOT_FOUND', `"${file}" lies outside the case folder, which is all the page has`, { file: files.label('case.json') });
  }
  return rel;
}

/** Reads and checks `case.json` of a case folder. */
export function readCaseFolder(files: FileSet): GoldenCase {
  if (files.stat('case.json')?.kind !== 'file') {
    throw new KerasInteropError('FILE_NOT_FOUND', 'the folder has no case.json', { file: files.name });
  }
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(readFileOf(files, 'case.json'));
  const dir = files.name || '.';
  const prefix = dir === '.' ? '' : `${normalize(dir)}/`;
  return parseGoldenCaseText(text, dir, {
    caseFile: files.label('case.json'),
    exists: (path) => files.stat(path.startsWith(prefix) ? path.slice(prefix.length) : path) !== undefined,
  });
}

/** The case's files, read from the folder. */
export function caseFolderFiles(files: FileSet): CaseFiles {
  return {
    readModel: (f, opts) => {
      const rel = inside(files, f.file);
      const st = files.stat(rel);
      if (!st) throw new KerasInteropError('FILE_NOT_FOUND', 'no such file or folder', { file: files.label(rel) });
      if (st.kind === 'dir') return readModelSource(subFiles(files, rel), opts);
      return readModelSource(files.open(rel), opts);
    },
    readNpy: (t) => {
      const rel = inside(files, t.file);
      if (!files.stat(rel)) throw new KerasInteropError('FILE_NOT_FOUND', 'no such .npy file', { file: files.label(rel) });
      return parseNpy(readFileOf(files, rel), files.label(rel));
    },
  };
}

/** `keras-interop verify <case-dir>` on a picked folder; `onFile` hears each model file's result. */
export async function verifyCaseFolder(
  files: FileSet,
  opts: Omit<VerifyOptions, 'configPath'> & { onFile?: (f: FileVerification) => void } = {},
): Promise<VerifyResult> {
  return verifyGoldenCase(readCaseFolder(files), caseFolderFiles(files), opts);
}
