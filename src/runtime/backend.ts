import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { KerasInteropError } from '../errors.js';
import { quietCpuBackend, withoutEmscriptenHandlers } from './tfjs-quiet.js';
import { installWasmKernels } from './wasm-kernels.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let chosen: BackendName | undefined;

async function tryTfjsNode(): Promise<boolean> {
  try {
    // Optional dependency: its native library cannot be installed everywhere.
    await import('@tensorflow/tfjs-node' as string);
    return tf.findBackend('tensorflow') != null;
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dir = require.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/\\]*$/, '');
    wasm.setWasmPaths(dir.endsWith('/') ? dir : dir + '/');
    return true;
  } catch {
    return false;
  }
}

/**
 * Pick and initialise the tfjs backend: the one asked for, or the fastest available
 * (tfjs-node when importable, then wasm, then cpu; `npm run bench` measures wasm 20-55x faster than
 * cpu on the attention models). Returns the backend actually in use.
 */
export async function useBackend(requested?: string): Promise<BackendName> {
  const order: BackendName[] = requested ? [requested as BackendName] : ['tensorflow', 'wasm', 'cpu'];
  if (requested && !['tensorflow', 'wasm', 'cpu', 'node'].includes(requested)) {
    throw new KerasInteropError('USAGE', `unknown backend "${requested}"; expected one of wasm, cpu, tensorflow (tfjs-node)`);
  }
  if (requested === 'node') order[0] = 'tensorflow';
  quietCpuBackend();
  if (chosen && order[0] === chosen) return chosen;
  for (const name of order) {
    if (name === 'tensorflow' && !(await tryTfjsNode())) continue;
    if (name === 'wasm' && !(await tryWasm())) continue;
    try {
      const ready = await withoutEmscriptenHandlers(async () => {
        if (!(await tf.setBackend(name))) return false;
        await tf.ready();
        return true;
      });
      if (ready) {
        // Faster BatchMatMul, Tile, Slice, Unpack and SplitV kernels (see wasm-kernels.ts): 3-10x on attention models.
        if (name === 'wasm') installWasmKernels();
        chosen = name;
        return name;
      }
    } catch {
      // fall through to the next backend
    }
    if (requested) break;
  }
  if (requested) {
    throw new KerasInteropError('USAGE', `backend "${requested}" is not available here (for tensorflow, install @tensorflow/tfjs-node)`);
  }
  await tf.setBackend('cpu');
  chosen = 'cpu';
  return 'cpu';
}

export function currentBackend(): string {
  return tf.getBackend();
}
