import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { quietCpuBackend, withoutEmscriptenHandlers } from './tfjs-quiet.js';
import { installWasmKernels } from './wasm-kernels.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let chosen: BackendName | undefined;
let wasmLocation: string | undefined;

/**
 * Where tfjs-backend-wasm's `.wasm` files are served from (a page's URL prefix, ending in `/`). Node
 * needs none: the package finds them next to itself.
 */
export function setWasmLocation(prefix: string): void {
  wasmLocation = prefix;
}

const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
/** A name bundlers do not follow: tfjs-node is Node-only, used when the user has installed it. */
const TFJS_NODE = '@tensorflow/tfjs-node';

async function tryTfjsNode(): Promise<boolean> {
  if (!inNode) return false;
  try {
    // Optional dependency: its native library cannot be installed everywhere.
    await import(/* @vite-ignore */ TFJS_NODE);
    return tf.findBackend('tensorflow') != null;
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (wasmLocation !== undefined) wasm.setWasmPaths(wasmLocation);
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
