/**
 * Golden parity cases: `case.json` (schema in shared/golden/README.md) validated into a typed
 * GoldenCase. Every problem raises KerasInteropError('CASE_INVALID') naming the JSON pointer. Paths are
 * `/`-separated (a page's folder, or a Node path: case.ts resolves it first).
 */
import { KerasInteropError } from '../errors.js';
import { basename, isAbsolute, join, normalize, resolve, sep } from '../readers/io/posix-path.js';
import { pointer } from '../runtime/config-walk.js';
import { isNpyDtype, NPY_DTYPES, type NpyDtype } from './npy.js';

export interface GoldenTensor {
  /** File name as case.json spells it (relative to the case folder). */
  file: string;
  /** Path of the .npy file (absolute for a case read from disk). */
  path: string;
  /** Keras tensor / layer name; null where Keras reported none. */
  name: string | null;
  shape: number[];
  dtype: NpyDtype;
}

export interface GoldenModelFile {
  /** As case.json spells it (`model.keras`, `../3fold_model.h5`). */
  file: string;
  /** Absolute path. */
  path: string;
  /** From `extra_files` (included only when present on disk) rather than `files` / `model_file`. */
  extra: boolean;
  /** Written by the generator rather than by the Keras version it imitates (extra_files[].synthesized). */
  synthesized: boolean;
  note?: string;
}

export interface GoldenCase {
  name: string;
  /** Absolute path of the case folder. */
  dir: string;
  /** Absolute path of case.json. */
  caseFile: string;
  /** `files`, then `model_file` (when given), then `extra_files` that exist on disk. */
  files: GoldenModelFile[];
  /** Absolute path of `model_file` (wild cases). */
  modelFile?: string;
  inputs: GoldenTensor[];
  outputs: GoldenTensor[];
  tolerance: { atol: number; rtol: number };
  /** The parsed JSON, untouched. */
  raw: Record<string, unknown>;
}

export const DEFAULT_TOLERANCE = { atol: 1e-5, rtol: 1e-4 } as const;

export interface ParseCaseOptions {
  /** Path of case.json (for messages and `caseFile`); defaults to `<dir>/case.json`. */
  caseFile?: string;
  /** Whether a file exists (decides which extra_files are listed); defaults to "yes". */
  exists?: (path: string) => boolean;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? v.slice(0, 60) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * Validates parsed case.json content. `dir` is the case folder (paths are resolved against it).
 */
export function parseGoldenCase(json: unknown, dir: string, options: ParseCaseOptions = {}): GoldenCase {
  const absDir = resolve(dir);
  const caseFile = options.caseFile ? resolve(options.caseFile) : join(absDir, 'case.json');
  const exists = options.exists ?? (() => true);
  const bad = (parts: readonly (string | number)[], message: string): never => {
    throw new KerasInteropError('CASE_INVALID', message, { file: caseFile, place: pointer('', ...parts) });
  };

  if (!isPlainObject(json)) bad([], `case.json must hold a JSON object, got ${typeName(json)}`);
  const raw = json as Record<string, unknown>;

  const str = (parts: (string | number)[], v: unknown, what: string): string => {
    if (typeof v !== 'string' || v === '') bad(parts, `expected ${what} (a non-empty string), got ${typeName(v)}`);
    return v as string;
  };

  // name
  const nameV = own(raw, 'name');
  const name = nameV === undefined ? basename(absDir) : str(['name'], nameV, 'the case name');

  // tensors
  const relFile = (parts: (string | number)[], v: unknown): string => {
    const f = str(parts, v, 'a .npy file name relative to the case folder');
    const n = normalize(f);
    if (isAbsolute(f) || n === '..' || n.startsWith('..' + sep) || n.startsWith('../')) {
      bad(parts, `file ${JSON.stringify(f)} must stay inside the case folder`);
    }
    return f;
  };
  const tensors = (key: 'inputs' | 'outputs'): GoldenTensor[] => {
    const list = own(raw, key);
    if (!Array.isArray(list)) bad([key], `expected "${key}" to be an array of {file, name, shape, dtype}, got ${typeName(list)}`);
    const arr = list as unknown[];
    if (arr.length === 0) bad([key], `expected at least one entry in "${key}"`);
    return arr.map((t, i): GoldenTensor => {
      if (!isPlainObject(t)) bad([key, i], `expected an object {file, name, shape, dtype}, got ${typeName(t)}`);
      const o = t as Record<string, unknown>;
      const file = relFile([key, i, 'file'], own(o, 'file'));
      const nv = own(o, 'name');
      if (nv !== undefined && nv !== null && typeof nv !== 'string') bad([key, i, 'name'], `expected a string or null, got ${typeName(nv)}`);
      const shapeV = own(o, 'shape');
      if (!Array.isArray(shapeV)) bad([key, i, 'shape'], `expected a list of non-negative integers, got ${typeName(shapeV)}`);
      const shape = (shapeV as unknown[]).map((d, k) => {
        if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
          bad([key, i, 'shape', k], `expected a non-negative integer, got ${typeName(d)}`);
        }
        return d as number;
      });
      const dt = own(o, 'dtype');
      if (!isNpyDtype(dt)) bad([key, i, 'dtype'], `expected one of ${NPY_DTYPES.join(', ')}, got ${typeName(dt)}`);
      return { file, path: join(absDir, file), name: (nv as string | null | undefined) ?? null, shape, dtype: dt as NpyDtype };
    });
  };
  const inputs = tensors('inputs');
  const outputs = tensors('outputs');

  // tolerance
  const tolerance: { atol: number; rtol: number } = { ...DEFAULT_TOLERANCE };
  const tolV = own(raw, 'tolerance');
  if (tolV !== undefined) {
    if (!isPlainObject(tolV)) bad(['tolerance'], `expected an object {atol, rtol}, got ${typeName(tolV)}`);
    for (const k of ['atol', 'rtol'] as const) {
      const v = own(tolV as Record<string, unknown>, k);
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(['tolerance', k], `expected a finite non-negative number, got ${typeName(v)}`);
      tolerance[k] = v as number;
    }
  }

  // model files
  const files: GoldenModelFile[] = [];
  const filesV = own(raw, 'files');
  if (filesV !== undefined) {
    if (!Array.isArray(filesV)) bad(['files'], `expected an array of model file names, got ${typeName(filesV)}`);
    (filesV as unknown[]).forEach((f, i) => {
      const file = str(['files', i], f, 'a model file name');
      files.push({ file, path: resolve(absDir, file), extra: false, synthesized: false });
    });
  }
  let modelFile: string | undefined;
  const mfV = own(raw, 'model_file');
  if (mfV !== undefined) {
    const file = str(['model_file'], mfV, 'the model file path relative to the case folder');
    modelFile = resolve(absDir, file);
    if (!files.some((f) => f.path === modelFile)) files.push({ file, path: modelFile, extra: false, synthesized: false });
  }
  const extraV = own(raw, 'extra_files');
  if (extraV !== undefined) {
    if (!Array.isArray(extraV)) bad(['extra_files'], `expected an array of {file, synthesized, note}, got ${typeName(extraV)}`);
    (extraV as unknown[]).forEach((e, i) => {
      let file: string;
      let synthesized = false;
      let note: string | undefined;
      if (typeof e === 'string') {
        file = str(['extra_files', i], e, 'a file name');
      } else if (isPlainObject(e)) {
        file = str(['extra_files', i, 'file'], own(e, 'file'), 'a file name');
        const s = own(e, 'synthesized');
        if (s !== undefined && typeof s !== 'boolean') bad(['extra_files', i, 'synthesized'], `expected true or false, got ${typeName(s)}`);
        synthesized = s === true;
        const n = own(e, 'note');
        if (n !== undefined && n !== null && typeof n !== 'string') bad(['extra_files', i, 'note'], `expected a string, got ${typeName(n)}`);
        if (typeof n === 'string') note = n;
      } else {
        bad(['extra_files', i], `expected a file name or an object {file, synthesized, note}, got ${typeName(e)}`);
      }
      const path = resolve(absDir, file!);
      if (exists(path) && !files.some((f) => f.path === path)) {
        files.push({ file: file!, path, extra: true, synthesized, ...(note !== undefined ? { note } : {}) });
      }
    });
  }

  const result: GoldenCase = { name, dir: absDir, caseFile, files, inputs, outputs, tolerance, raw };
  if (modelFile !== undefined) result.modelFile = modelFile;
  return result;
}

/** Parses case.json text (JSON syntax errors → CASE_INVALID). */
export function parseGoldenCaseText(text: string, dir: string, options: ParseCaseOptions = {}): GoldenCase {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const file = options.caseFile ? resolve(options.caseFile) : join(resolve(dir), 'case.json');
    throw new KerasInteropError('CASE_INVALID', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { file, place: '/' }, { cause: e });
  }
  return parseGoldenCase(json, dir, options);
}
