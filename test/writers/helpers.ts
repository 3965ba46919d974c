/** Shared bits of the writer tests: files in a folder, bitwise comparison (HDF5 structure: h5-inspect.ts; temporary folders: ../helpers/tmp.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { KerasModel, Weight, WeightData } from '../../src/model/types.js';

export function writeTemp(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
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
