/**
 * Child process: forward passes of the bench models on one backend, and the matmul roofline probe
 * (1024 x 1024 x 1024 tf.matMul) on the same backend in the same process.
 *   tsx bench/forward.ts --backend wasm|cpu|tensorflow [--budget-ms 2000] [--quick]
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/runtime/backend.js';
import { buildModel } from '../src/runtime/build.js';
import * as M from './models.js';
import { timeForwardPass, timeMatmulRoofline } from './tfjs-timing.js';
import { emitResult, median, rooflineGflops } from './util.js';

export interface ForwardRow {
  model: string;
  batch: number;
  ms_median: number;
  ms_min: number;
  repeats: number;
  flops: number;
  gflops: number;
  reference: { ms: number; what: string } | null;
}

export interface ForwardResult {
  backend: string;
  available: boolean;
  error?: string;
  details?: Record<string, string | number | boolean>;
  roofline?: { ms_median: number; gflops: number; repeats: number };
  rows: ForwardRow[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const backendName = arg('--backend') ?? 'wasm';
const quick = process.argv.includes('--quick');
// Slow backends get fewer repeats: the budget bounds the timed calls after the first.
const budgetMs = Number(arg('--budget-ms') ?? (backendName === 'cpu' ? 4000 : 2500));

async function main(): Promise<ForwardResult> {
  let backend: string;
  try {
    backend = await useBackend(backendName);
  } catch (e) {
    return { backend: backendName, available: false, error: (e as Error).message, rows: [] };
  }
  const details: Record<string, string | number | boolean> = { tfjs: tf.version.tfjs };
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    details.simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
    details.threads = wasm.getThreadsCount();
  }
  const slow = backend === 'cpu';
  const repeatOpts = { warmup: 1, minRepeats: slow || quick ? 1 : 3, maxRepeats: quick ? 2 : 15, budgetMs: quick ? budgetMs / 4 : budgetMs };

  // Roofline: what this backend's best kernel does on a large square product.
  const rooflineTimes = await timeMatmulRoofline({ ...repeatOpts, minRepeats: slow ? 1 : 3 });
  const rooflineMs = median(rooflineTimes);
  const roofline = { ms_median: rooflineMs, gflops: rooflineGflops(rooflineMs), repeats: rooflineTimes.length };

  const rows: ForwardRow[] = [];
  for (const make of M.FORWARD_MODELS) {
    const bm = await make();
    const model = await buildModel(bm.model, { backend });
    const times = await timeForwardPass(model, bm, repeatOpts);
    model.dispose();
    const ms = median(times);
    rows.push({
      model: bm.name,
      batch: bm.inputShape[0]!,
      ms_median: ms,
      ms_min: Math.min(...times),
      repeats: times.length,
      flops: bm.flops,
      gflops: bm.flops / ms / 1e6,
      reference: bm.reference ?? null,
    });
  }
  return { backend, available: true, details, roofline, rows };
}

emitResult(await main());
process.exit(0);
