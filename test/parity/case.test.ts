import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KerasInteropError } from '../../src/errors.js';
import { DEFAULT_TOLERANCE, parseGoldenCase, parseGoldenCaseText, readGoldenCase } from '../../src/parity/case.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { itWild } from '../helpers/wild.js';
import { GOLDEN_DIR, goldenCaseDirs, wildCaseDirs } from './paths.js';
import { keras3GoldenCases } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

function caseError(fn: () => unknown): KerasInteropError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KerasInteropError);
    expect((e as KerasInteropError).code).toBe('CASE_INVALID');
    return e as KerasInteropError;
  }
  throw new Error('expected CASE_INVALID');
}

const minimal = () => ({
  name: 'c',
  inputs: [{ file: 'input_0.npy', name: 'x', shape: [3, 4], dtype: 'float32' }],
  outputs: [{ file: 'output_0.npy', name: 'y', shape: [3, 2], dtype: 'float32' }],
});

describe('golden case.json files', () => {
  it('parses every golden case and its tensors agree with the .npy files', () => {
    const dirs = goldenCaseDirs();
    const keras3 = new Set(keras3GoldenCases());
    expect(dirs.length).toBeGreaterThanOrEqual(19);
    for (const dir of dirs) {
      const c = readGoldenCase(dir);
      expect(c.name).toBe(basename(dir));
      expect(c.dir).toBe(resolve(dir));
      expect(c.caseFile).toBe(join(resolve(dir), 'case.json'));
      expect(c.tolerance).toEqual({ atol: 1e-5, rtol: 1e-4 });
      expect(c.modelFile).toBeUndefined();
      // Keras 3's three files first; cases with a synthesized older model.h5 (kulc) list their own
      if (keras3.has(c.name)) expect(c.files.slice(0, 3).map((f) => f.file)).toEqual(['model.keras', 'model.h5', 'model.weights.h5']);
      else expect(c.files.filter((f) => !f.extra).map((f) => f.file)).toEqual(c.raw.files);
      for (const f of c.files) expect(existsSync(f.path), f.path).toBe(true);
      const hasTfk2 = existsSync(join(dir, 'model.tfkeras2.h5'));
      const extra = c.files.filter((f) => f.extra);
      expect(extra.map((f) => f.file)).toEqual(hasTfk2 ? ['model.tfkeras2.h5'] : []);
      if (hasTfk2) expect(extra[0]).toMatchObject({ synthesized: true, note: expect.stringContaining('tf.keras 2') as string });
      expect(c.inputs.length).toBeGreaterThan(0);
      expect(c.outputs.length).toBeGreaterThan(0);
      for (const t of [...c.inputs, ...c.outputs]) {
        const arr = readNpyFileSync(t.path);
        expect(arr.shape).toEqual(t.shape);
        expect(arr.dtype).toBe(t.dtype);
      }
      expect(c.raw.name).toBe(c.name);
    }
  });

  it('reads the specific fields of kmha_cross_masked', () => {
    const c = readGoldenCase(join(GOLDEN_DIR, 'kmha_cross_masked', 'case.json'));
    expect(c.inputs.map((t) => [t.file, t.name, t.dtype])).toEqual([
      ['input_0.npy', 'query', 'float32'],
      ['input_1.npy', 'value', 'float32'],
      ['input_2.npy', 'key', 'float32'],
      ['input_3.npy', 'attention_mask', 'float32'],
    ]);
    expect(c.outputs.map((t) => t.shape)).toEqual([
      [3, 5, 7],
      [3, 2, 5, 7],
    ]);
    expect(c.files.map((f) => f.file)).toEqual(['model.keras', 'model.h5', 'model.weights.h5', 'model.tfkeras2.h5']);
  });

  itWild('parses every wild case, with model_file resolved next to the golden folder', () => {
    const dirs = wildCaseDirs();
    expect(dirs.length).toBeGreaterThanOrEqual(5);
    let nullNames = 0;
    for (const dir of dirs) {
      const c = readGoldenCase(dir);
      const raw = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { model_file: string };
      expect(c.modelFile).toBe(resolve(dir, raw.model_file));
      expect(existsSync(c.modelFile!), c.modelFile).toBe(true);
      expect(c.files).toEqual([{ file: raw.model_file, path: c.modelFile, extra: false, synthesized: false }]);
      for (const t of [...c.inputs, ...c.outputs]) {
        const arr = readNpyFileSync(t.path);
        expect(arr.shape).toEqual(t.shape);
        expect(arr.dtype).toBe(t.dtype);
        if (t.name === null) nullNames++;
      }
    }
    expect(nullNames).toBeGreaterThan(0); // some wild outputs have no Keras name
  });
});

describe('case.json validation', () => {
  it('fills defaults: name from the folder, tolerance 1e-5/1e-4, no files', () => {
    const j = minimal() as Record<string, unknown>;
    delete j.name;
    const c = parseGoldenCase(j, '/tmp/some_case');
    expect(c.name).toBe('some_case');
    expect(c.tolerance).toEqual(DEFAULT_TOLERANCE);
    expect(c.files).toEqual([]);
    expect(c.inputs[0]!.path).toBe('/tmp/some_case/input_0.npy');
    const partial = parseGoldenCase({ ...minimal(), tolerance: { atol: 0.01 } }, '/tmp/x');
    expect(partial.tolerance).toEqual({ atol: 0.01, rtol: 1e-4 });
  });

  it('names the JSON pointer of a wrong type', () => {
    const cases: [unknown, string, RegExp][] = [
      [[], '/', /must hold a JSON object, got an array/],
      [{ ...minimal(), name: 5 }, '/name', /non-empty string/],
      [{ ...minimal(), inputs: {} }, '/inputs', /array of \{file, name, shape, dtype\}, got an object/],
      [{ ...minimal(), outputs: [] }, '/outputs', /at least one/],
      [{ ...minimal(), inputs: [5] }, '/inputs/0', /expected an object/],
      [{ ...minimal(), inputs: [{ ...minimal().inputs[0], shape: [3, '4'] }] }, '/inputs/0/shape/1', /non-negative integer, got the string "4"/],
      [{ ...minimal(), inputs: [{ ...minimal().inputs[0], shape: [3, -1] }] }, '/inputs/0/shape/1', /non-negative integer/],
      [{ ...minimal(), inputs: [{ ...minimal().inputs[0], shape: [1.5] }] }, '/inputs/0/shape/0', /non-negative integer/],
      [{ ...minimal(), inputs: [{ ...minimal().inputs[0], shape: null }] }, '/inputs/0/shape', /got null/],
      [{ ...minimal(), outputs: [{ ...minimal().outputs[0], dtype: 'complex64' }] }, '/outputs/0/dtype', /expected one of float16, float32/],
      [{ ...minimal(), outputs: [{ ...minimal().outputs[0], name: 3 }] }, '/outputs/0/name', /string or null/],
      [{ ...minimal(), outputs: [{ ...minimal().outputs[0], file: '' }] }, '/outputs/0/file', /non-empty string/],
      [{ ...minimal(), outputs: [{ ...minimal().outputs[0], file: '../../etc/passwd' }] }, '/outputs/0/file', /inside the case folder/],
      [{ ...minimal(), outputs: [{ ...minimal().outputs[0], file: '/etc/passwd' }] }, '/outputs/0/file', /inside the case folder/],
      [{ ...minimal(), tolerance: 1e-5 }, '/tolerance', /expected an object \{atol, rtol\}/],
      [{ ...minimal(), tolerance: { atol: '1e-5' } }, '/tolerance/atol', /finite non-negative number/],
      [{ ...minimal(), tolerance: { rtol: -1 } }, '/tolerance/rtol', /finite non-negative number/],
      [{ ...minimal(), files: 'model.keras' }, '/files', /array of model file names/],
      [{ ...minimal(), files: ['model.keras', 7] }, '/files/1', /model file name/],
      [{ ...minimal(), model_file: false }, '/model_file', /model file path/],
      [{ ...minimal(), extra_files: [{ synthesized: true }] }, '/extra_files/0/file', /file name/],
      [{ ...minimal(), extra_files: [{ file: 'a.h5', synthesized: 'yes' }] }, '/extra_files/0/synthesized', /true or false/],
      [{ ...minimal(), extra_files: [3] }, '/extra_files/0', /file name or an object/],
    ];
    for (const [json, place, re] of cases) {
      const err = caseError(() => parseGoldenCase(json, '/tmp/c'));
      expect(err.place, JSON.stringify(json)).toBe(place);
      expect(err.file).toBe('/tmp/c/case.json');
      expect(err.message).toMatch(re);
    }
  });

  it('escapes ~ and / in pointers', () => {
    const j = { ...minimal(), tolerance: { atol: -1 } };
    expect(caseError(() => parseGoldenCase(j, '/tmp/c')).place).toBe('/tolerance/atol');
  });

  it('treats __proto__ and other odd keys as plain data', () => {
    const text =
      '{"__proto__": {"inputs": 1, "polluted": true}, "constructor": 1, "toString": 2, ' +
      '"inputs": [{"file": "i.npy", "name": "__proto__", "shape": [1], "dtype": "int32", "__proto__": {"x": 1}}], ' +
      '"outputs": [{"file": "o.npy", "name": null, "shape": [], "dtype": "float64"}], ' +
      '"tolerance": {"__proto__": {"atol": 5}}}';
    const c = parseGoldenCaseText(text, '/tmp/p');
    expect(c.inputs[0]!.name).toBe('__proto__');
    expect(c.outputs[0]!.name).toBeNull();
    expect(c.outputs[0]!.shape).toEqual([]);
    expect(c.tolerance).toEqual(DEFAULT_TOLERANCE);
    expect(Object.getPrototypeOf(c.raw)).toBe(Object.prototype);
    expect(Object.hasOwn(c.raw, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // a missing key is not found on the prototype chain
    const noInputs = '{"__proto__": {"inputs": [{"file": "i.npy", "shape": [1], "dtype": "int32"}]}, "outputs": []}';
    expect(caseError(() => parseGoldenCaseText(noInputs, '/tmp/p')).place).toBe('/inputs');
  });

  it('reports invalid JSON and missing files', () => {
    expect(caseError(() => parseGoldenCaseText('{"name": ', '/tmp/q')).message).toMatch(/not valid JSON/);
    expect(() => readGoldenCase('/nonexistent/case')).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }) as Error);
  });

  it('lists extra_files only when they exist on disk', () => {
    const { dir, cleanup } = tempDir('case-');
    try {
      writeFileSync(join(dir, 'here.h5'), 'x');
      writeFileSync(
        join(dir, 'case.json'),
        JSON.stringify({
          ...minimal(),
          files: ['model.keras'],
          extra_files: [{ file: 'here.h5', synthesized: true, note: 'n' }, { file: 'gone.h5' }, 'here.h5'],
        }),
      );
      const c = readGoldenCase(dir);
      expect(c.files).toEqual([
        { file: 'model.keras', path: join(dir, 'model.keras'), extra: false, synthesized: false },
        { file: 'here.h5', path: join(dir, 'here.h5'), extra: true, synthesized: true, note: 'n' },
      ]);
    } finally {
      cleanup();
    }
  });
});
