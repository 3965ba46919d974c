/**
 * Golden parity cases on disk: `readGoldenCase` reads `case.json`; the parsing itself (golden-case.ts)
 * also runs in a page. Paths are resolved against the working directory first, so every path a case
 * holds is absolute.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KerasInteropError } from '../errors.js';
import * as core from './golden-case.js';

export { DEFAULT_TOLERANCE, type GoldenCase, type GoldenModelFile, type GoldenTensor, type ParseCaseOptions } from './golden-case.js';

function absolute(options: core.ParseCaseOptions): core.ParseCaseOptions {
  return options.caseFile ? { ...options, caseFile: resolve(options.caseFile) } : options;
}

/** Validates parsed case.json content. `dir` is the case folder (paths are resolved against it). */
export function parseGoldenCase(json: unknown, dir: string, options: core.ParseCaseOptions = {}): core.GoldenCase {
  return core.parseGoldenCase(json, resolve(dir), absolute(options));
}

/** Parses case.json text (JSON syntax errors → CASE_INVALID). */
export function parseGoldenCaseText(text: string, dir: string, options: core.ParseCaseOptions = {}): core.GoldenCase {
  return core.parseGoldenCaseText(text, resolve(dir), absolute(options));
}

/** Reads `<dir>/case.json` (or the case.json path itself) from disk. */
export function readGoldenCase(dirOrCaseFile: string): core.GoldenCase {
  let caseFile = resolve(dirOrCaseFile);
  let isDir = false;
  try {
    isDir = statSync(caseFile).isDirectory();
  } catch (e) {
    throw new KerasInteropError('FILE_NOT_FOUND', 'no such golden case folder or case.json', { file: caseFile }, { cause: e });
  }
  if (isDir) caseFile = join(caseFile, 'case.json');
  let text: string;
  try {
    text = readFileSync(caseFile, 'utf8');
  } catch (e) {
    throw new KerasInteropError('FILE_NOT_FOUND', 'cannot read case.json', { file: caseFile }, { cause: e });
  }
  return core.parseGoldenCaseText(text, dirname(caseFile), { caseFile, exists: existsSync });
}
