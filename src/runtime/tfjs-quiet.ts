/**
 * Noise tfjs and its wasm backend make in Node that is no use to our users. No Node built-ins (the
 * layers entry and the tfjs writer are bundled for browsers).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * tfjs's cpu backend advertises tfjs-node on its first use in Node ("Hi, looks like you are running
 * TensorFlow.js in Node.js..."); keras-interop picks the backend itself (`--backend`, README), so the
 * banner only adds noise. Marks the cpu backend as used.
 */
export function quietCpuBackend(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu && cpu.firstUse === true) cpu.firstUse = false;
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
