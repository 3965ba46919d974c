/**
 * The benchmark page (bench.html?threads=N): the transformer block and the matmul roofline on tfjs's
 * wasm backend in this browser, SIMD where it has it, on N threads (threads need cross-origin isolation,
 * which `keras-interop serve` gives). The result goes to the page and to `window.benchResult`.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { setWasmLocation, useBackend } from '../src/browser.js';
import { timeTransformerBlock } from '../bench/transformer-timing.js';

async function main(): Promise<unknown> {
  const threads = Number(new URLSearchParams(location.search).get('threads') ?? 0);
  // Before the backend starts: its thread pool is made then.
  if (threads > 0) setThreadsCount(threads);
  setWasmLocation(new URL('./', location.href).href);
  await useBackend('wasm');
  const timing = await timeTransformerBlock();
  return {
    ...timing,
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    threads: getThreadsCount(),
    crossOriginIsolated,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
  };
}

const out = document.getElementById('result')!;
const result = main().then(
  (r) => ((out.textContent = JSON.stringify(r, null, 2)), r),
  (e: unknown) => ((out.textContent = `failed: ${(e as Error)?.stack ?? String(e)}`), { error: String(e) }),
);
(window as unknown as { benchResult: Promise<unknown> }).benchResult = result;
