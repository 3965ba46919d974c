/**
 * A minimal `.npy` reader for the tests' golden inputs and outputs, written apart from the code under test
 * (src/parity/npy.ts): format versions 1 to 3, C order, little-endian float32, float64, int32 and int64,
 * and bool.
 */
import { readFileSync } from 'node:fs';

export interface TestNpy {
  dtype: 'float32' | 'float64' | 'int32' | 'int64' | 'bool';
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
}

export function readTestNpy(path: string): TestNpy {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (fortran !== 'False' || shapeText == null) throw new Error(`${path}: unsupported header ${header} (C order and a shape needed)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = buf.subarray(start + headerLen);
  const bytes = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  switch (descr) {
    case '<f4':
      return { dtype: 'float32', shape, data: new Float32Array(bytes) };
    case '<f8':
      return { dtype: 'float64', shape, data: new Float64Array(bytes) };
    case '<i4':
      return { dtype: 'int32', shape, data: new Int32Array(bytes) };
    case '<i8':
      return { dtype: 'int64', shape, data: new BigInt64Array(bytes) };
    case '|b1':
      return { dtype: 'bool', shape, data: new Uint8Array(bytes) };
    default:
      throw new Error(`${path}: dtype ${descr} not supported by the test reader`);
  }
}
