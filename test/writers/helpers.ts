/** Shared bits of the writer tests: temp folders, HDF5 tools from hdf5-tools, bitwise comparison. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { KerasModel, Weight, WeightData } from '../../src/model/types.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'keras-interop-writers-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeTemp(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** `h5dump -H` without its first line (the file name): groups, datasets, attributes and their types. */
export function h5Header(path: string): string {
  return execFileSync('h5dump', ['-H', path], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n').slice(1).join('\n');
}

/** `h5dump -A` of one attribute, without the file name line. */
export function h5Attr(path: string, attr: string): string {
  return execFileSync('h5dump', ['-A', '-a', attr, path], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n').slice(1).join('\n');
}

/** `h5ls -r` listing (paths and kinds). */
export function h5List(path: string): string[] {
  return execFileSync('h5ls', ['-r', path], { encoding: 'utf8', maxBuffer: 1 << 28 })
    .trim()
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim());
}

/**
 * The raw bytes of a contiguous dataset, located by the HDF5 library (`h5ls -v` prints its file
 * address) and read straight from the file: independent of our reader and of h5wasm, which cannot
 * read float16.
 */
export function datasetFileBytes(file: string, dataset: string): Uint8Array {
  const out = execFileSync('h5ls', ['-va', `${file}/${dataset}`], { encoding: 'utf8' });
  const addr = /Address:\s+(\d+)/.exec(out);
  const size = /Storage:\s+(\d+) logical bytes/.exec(out);
  if (!addr || !size) throw new Error(`h5ls -v gave no address for ${dataset}:\n${out}`);
  const bytes = readFileSync(file);
  return new Uint8Array(bytes.subarray(Number(addr[1]), Number(addr[1]) + Number(size[1])));
}

export function bytesOf(d: WeightData): Buffer {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

export function flatWeights(m: KerasModel): (Weight & { layer: string })[] {
  return m.weights.flatMap((l) => l.weights.map((w) => ({ ...w, layer: l.layer })));
}

/** Same layers, same weight shapes, dtypes and bytes, in the same order. */
export function expectSameWeights(actual: KerasModel, expected: KerasModel, opts: { names?: boolean } = {}): void {
  expect(actual.weights.map((l) => l.layer)).toEqual(expected.weights.map((l) => l.layer));
  const a = flatWeights(actual);
  const b = flatWeights(expected);
  expect(a.length).toBe(b.length);
  a.forEach((w, i) => {
    const where = `${w.layer} #${i} (${b[i].name})`;
    expect(w.shape, where).toEqual(b[i].shape);
    expect(w.dtype, where).toBe(b[i].dtype);
    expect(bytesOf(w.data).equals(bytesOf(b[i].data)), where).toBe(true);
    if (opts.names) expect(w.name, where).toBe(b[i].name);
  });
}
