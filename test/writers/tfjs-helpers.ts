/** Shared bits of the tfjs tests: loading a folder with plain tfjs in a fresh Node process, folders on disk. */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { NpyArray } from '../../src/parity/npy.js';
import { ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

export const CHILD_SCRIPT = join(ROOT, 'test', 'writers', 'tfjs-load-child.mts');

export interface PlainOutput {
  shape: number[];
  data: Float32Array;
}

export function writeFolder(dir: string, files: Map<string, Uint8Array>): void {
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
}

/** The files `writeTfjs` makes, loaded with plain `tf.loadLayersModel` in this process (our layers imported by the caller). */
export async function loadTfjsFiles(files: Map<string, Uint8Array>): Promise<tf.LayersModel> {
  const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as { modelTopology: tf.io.ModelJSON['modelTopology']; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const shards = [...files.keys()].filter((k) => k !== 'model.json').map((k) => files.get(k)!);
  const bytes = new Uint8Array(shards.reduce((a, s) => a + s.length, 0));
  shards.reduce((at, s) => (bytes.set(s, at), at + s.length), 0);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bytes.buffer }));
}

function encode(arr: Pick<NpyArray, 'shape' | 'dtype' | 'data'>): { shape: number[]; dtype: string; data: string } {
  const isInt = /^u?int|^bool/.test(arr.dtype);
  const values = isInt
    ? Int32Array.from(arr.data as ArrayLike<number | bigint>, (v) => Number(v))
    : Float32Array.from(arr.data as ArrayLike<number>);
  return { shape: arr.shape.slice(), dtype: isInt ? 'int32' : 'float32', data: Buffer.from(values.buffer).toString('base64') };
}

/**
 * Loads `folder` with `tf.loadLayersModel` in a new Node process that imports only `@tensorflow/tfjs` and
 * our layers entry point, and predicts on `inputs`. Returns the outputs and the class names of its layers.
 */
export async function predictInFreshProcess(
  folder: string,
  inputs: Pick<NpyArray, 'shape' | 'dtype' | 'data'>[],
): Promise<{ outputs: PlainOutput[]; layers: string[] }> {
  const { dir, cleanup } = tempDir('keras-interop-tfjs-');
  try {
    const inPath = join(dir, 'inputs.json');
    const outPath = join(dir, 'outputs.json');
    writeFileSync(inPath, JSON.stringify(inputs.map(encode)));
    await run(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, folder, inPath, outPath], { cwd: ROOT, maxBuffer: 1 << 26 });
    const parsed = JSON.parse(readFileSync(outPath, 'utf8')) as { outputs: { shape: number[]; data: string }[]; layers: string[] };
    return {
      layers: parsed.layers,
      outputs: parsed.outputs.map((o) => {
        const b = Buffer.from(o.data, 'base64');
        return { shape: o.shape, data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) };
      }),
    };
  } finally {
    cleanup();
  }
}

/** Runs `jobs` with at most `limit` in flight (child processes are slow to start, so overlap them). */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/** Largest |a - b| over two same-shaped arrays, and the largest |b|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; ref: number } {
  let abs = 0;
  let ref = 0;
  for (let i = 0; i < b.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return { abs, ref };
}
