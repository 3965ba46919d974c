/**
 * The transformer block of the forward benchmark (batch 32, seq 128, d_model 128, 4 heads), and the
 * 1024² matmul roofline, timed on the current tfjs backend: run by the browser benchmark page
 * (web/bench.ts) and, for the same numbers from Node, by bench/browser.ts. No Node built-ins.
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../src/runtime/build.js';
import * as M from './models.js';
import { median, timeRepeats } from './timing.js';

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
  const n = 1024;
  const a = tf.tensor(M.randomArray(n * n, 1, 7), [n, n]);
  const b = tf.tensor(M.randomArray(n * n, 1, 8), [n, n]);
  const roofline = median(
    await timeRepeats(() => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    }, opts),
  );
  tf.dispose([a, b]);
  const bm = await M.transformerBlock();
  const model = await buildModel(bm.model);
  const x = tf.tensor(M.randomArray(bm.inputShape.reduce((p, d) => p * d, 1), 1, 42), bm.inputShape);
  const times = await timeRepeats(() => {
    const y = model.predict(x, { batchSize: bm.inputShape[0] }) as tf.Tensor;
    y.dataSync();
    y.dispose();
  }, opts);
  x.dispose();
  model.dispose();
  const ms = median(times);
  const gflops = bm.flops / ms / 1e6;
  const rooflineGflops = (2 * n ** 3) / roofline / 1e6;
  return { backend: tf.getBackend(), ms_median: ms, ms_min: Math.min(...times), repeats: times.length, gflops, roofline_ms: roofline, roofline_gflops: rooflineGflops, vs_roofline: gflops / rooflineGflops };
}
