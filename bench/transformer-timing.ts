/**
 * The transformer block of the forward benchmark (batch 32, seq 128, d_model 128, 4 heads), and the
 * 1024² matmul roofline, timed on the current tfjs backend: run by the browser benchmark page
 * (web/bench.ts) and, for the same numbers from Node, by bench/browser.ts. No Node built-ins.
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../src/runtime/build.js';
import * as M from './models.js';
import { timeForwardPass, timeMatmulRoofline } from './tfjs-timing.js';
import { median, rooflineGflops } from './timing.js';

export interface TransformerTiming {
  backend: string;
  ms_median: number;
  ms_min: number;
  repeats: number;
  gflops: number;
  roofline_ms: number;
  roofline_gflops: number;
  /** The transformer block's GFLOP/s over the roofline's. */
  vs_roofline: number;
}

export async function timeTransformerBlock(budgetMs = 4000): Promise<TransformerTiming> {
  const opts = { warmup: 1, minRepeats: 5, maxRepeats: 30, budgetMs };
  const roofline = median(await timeMatmulRoofline(opts));
  const bm = await M.transformerBlock();
  const model = await buildModel(bm.model);
  const times = await timeForwardPass(model, bm, opts);
  model.dispose();
  const ms = median(times);
  const gflops = bm.flops / ms / 1e6;
  const roofGflops = rooflineGflops(roofline);
  return { backend: tf.getBackend(), ms_median: ms, ms_min: Math.min(...times), repeats: times.length, gflops, roofline_ms: roofline, roofline_gflops: roofGflops, vs_roofline: gflops / roofGflops };
}
