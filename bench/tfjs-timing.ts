/**
 * Timed tfjs work shared by the forward benchmark (forward.ts) and the transformer timing of the browser
 * page (transformer-timing.ts): the matmul roofline and a model's forward pass, each on seeded random
 * values and read back every call. No Node built-ins.
 */
import * as tf from '@tensorflow/tfjs';
import * as M from './models.js';
import { ROOFLINE_N, type RepeatOptions, timeRepeats } from './timing.js';

/** ms per ROOFLINE_N² tf.matMul on the current backend. */
export async function timeMatmulRoofline(opts: RepeatOptions): Promise<number[]> {
  const n = ROOFLINE_N;
  const a = tf.tensor(M.randomArray(n * n, 1, 7), [n, n]);
  const b = tf.tensor(M.randomArray(n * n, 1, 8), [n, n]);
  const times = await timeRepeats(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }, opts);
  tf.dispose([a, b]);
  return times;
}

/** ms per forward pass of the whole batch of `bm` through `model` (built from `bm.model`). */
export async function timeForwardPass(model: tf.LayersModel, bm: M.BenchModel, opts: RepeatOptions): Promise<number[]> {
  const x = tf.tensor(M.randomArray(bm.inputShape.reduce((p, d) => p * d, 1), 1, 42), bm.inputShape);
  const times = await timeRepeats(() => {
    const y = model.predict(x, { batchSize: bm.inputShape[0] }) as tf.Tensor;
    y.dataSync();
    y.dispose();
  }, opts);
  x.dispose();
  return times;
}
