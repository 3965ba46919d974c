/**
 * A golden case folder picked in a page: `case.json`, its `.npy` arrays and its model files, read from
 * the folder's files and verified as `keras-interop verify <case-dir>` does.
 */
import { KerasInteropError } from '../errors.js';
import { normalize } from '../readers/io/posix-path.js';
import { type FileSet, readFileOf, subFiles } from '../readers/io/source.js';
import { type GoldenCase, parseGoldenCaseText } from '../parity/golden-case.js';
import { parseNpy } from '../parity/npy.js';
import { type CaseFiles, type FileVerification, type VerifyOptions, type VerifyResult, verifyGoldenCase } from '../parity/verify-core.js';
import { readModelSource } from '../readers/sources.js';

/**
 * A case file's path inside the picked folder, from the case folder `caseDir` in it (`''`: the picked
 * folder itself); files the case names outside the picked folder are not there.
 */
function inside(files: FileSet, caseDir: string, file: string): string {
  const rel = normalize(caseDir ? `${caseDir}/${file}` : file);
  if (rel === '..' || rel.startsWith('../') || rel.startsWith('/')) {
    throw new KerasInteropError('FILE_NOT_FOUND', `"${file}" lies outside the case folder, which is all the page has`, { file: files.label('case.json') });
  }
  return rel;
}

/**
 * Reads and checks `case.json` of a case folder: the picked folder, or its sub-folder `caseDir` (a
 * real file's `golden/` folder, whose case names `../model.h5`).
 */
export function readCaseFolder(files: FileSet, caseDir = ''): GoldenCase {
  const caseJson = caseDir ? `${caseDir}/case.json` : 'case.json';
  if (files.stat(caseJson)?.kind !== 'file') {
    throw new KerasInteropError('FILE_NOT_FOUND', 'the folder has no case.json', { file: files.label(caseDir || '.') });
  }
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(readFileOf(files, caseJson));
  const dir = caseDir ? files.label(caseDir) : files.name || '.';
  // The case resolves its files against `dir`: inside the picked folder they start with its name.
  const root = files.name ? `${normalize(files.name)}/` : '';
  return parseGoldenCaseText(text, dir, {
    caseFile: files.label(caseJson),
    exists: (path) => path.startsWith(root) && files.stat(path.slice(root.length)) !== undefined,
  });
}

/** The case's files, read from the picked folder (paths from the case folder `caseDir` in it). */
export function caseFolderFiles(files: FileSet, caseDir = ''): CaseFiles {
  return {
    readModel: (f, opts) => {
      const rel = inside(files, caseDir, f.file);
      const st = files.stat(rel);
      if (!st) throw new KerasInteropError('FILE_NOT_FOUND', 'no such file or folder', { file: files.label(rel) });
      if (st.kind === 'dir') return readModelSource(subFiles(files, rel), opts);
      return readModelSource(files.open(rel), opts);
    },
    readNpy: (t) => {
      const rel = inside(files, caseDir, t.file);
      if (!files.stat(rel)) throw new KerasInteropError('FILE_NOT_FOUND', 'no such .npy file', { file: files.label(rel) });
      return parseNpy(readFileOf(files, rel), files.label(rel));
    },
  };
}

/**
 * `keras-interop verify <case-dir>` on a picked folder (its case.json in `caseDir`, default the folder
 * itself); `onFile` hears each model file's result.
 */
export async function verifyCaseFolder(
  files: FileSet,
  opts: Omit<VerifyOptions, 'configPath'> & { caseDir?: string; onFile?: (f: FileVerification) => void } = {},
): Promise<VerifyResult> {
  const caseDir = opts.caseDir ?? '';
  return verifyGoldenCase(readCaseFolder(files, caseDir), caseFolderFiles(files, caseDir), opts);
}
