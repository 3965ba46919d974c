/**
 * Noise tfjs and its wasm backend make in Node that is no use to our users. No Node built-ins (the
 * layers entry and the tfjs writer are bundled for browsers).
 */
import * as tf from '@tensorflow/tfjs';

type Factory = () => unknown;

const quieted = new WeakSet<object>();

function markUsed(backend: unknown): void {
  if (typeof backend === 'object' && backend !== null && (backend as { firstUse?: boolean }).firstUse === true) {
    (backend as { firstUse: boolean }).firstUse = false;
  }
}

/**
 * tfjs's cpu backend advertises tfjs-node on its first use in Node ("Hi, looks like you are running
 * TensorFlow.js in Node.js..."); keras-interop picks the backend itself (`--backend`, README), so the
 * banner only adds noise. Marks the cpu backend in use, and every one tfjs makes later (it makes a new
 * one whenever it initializes its backends), as already used.
 */
export function quietCpuBackend(): void {
  const engine = tf.engine() as unknown as { registryFactory?: Record<string, { factory: Factory }>; registry?: Record<string, unknown> };
  const entry = engine.registryFactory?.cpu;
  if (entry && !quieted.has(entry)) {
    const make = entry.factory;
    entry.factory = () => {
      const backend = make();
      markUsed(backend);
      return backend;
    };
    quieted.add(entry);
  }
  markUsed(engine.registry?.cpu);
}

type Listeners = { uncaughtException: unknown[]; unhandledRejection: unknown[] };

interface NodeProcess {
  listeners(event: string): unknown[];
  removeListener(event: string, fn: unknown): void;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: Partial<NodeProcess> }).process;
  return p && typeof p.listeners === 'function' && typeof p.removeListener === 'function' ? (p as NodeProcess) : undefined;
}

/**
 * Runs `init` (the wasm backend's start), then removes the `uncaughtException` and `unhandledRejection`
 * handlers its Emscripten module installs in Node: they rethrow every error of the whole program from
 * inside the minified backend, so Node prints that file's one ~30 KB line and exits with 7 instead of
 * showing the user's own error.
 */
export async function withoutEmscriptenHandlers<T>(init: () => Promise<T>): Promise<T> {
  const proc = nodeProcess();
  const before: Listeners | undefined = proc && {
    uncaughtException: proc.listeners('uncaughtException'),
    unhandledRejection: proc.listeners('unhandledRejection'),
  };
  try {
    return await init();
  } finally {
    if (proc && before) {
      for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
        for (const fn of proc.listeners(event)) if (!before[event].includes(fn)) proc.removeListener(event, fn);
      }
    }
  }
}
