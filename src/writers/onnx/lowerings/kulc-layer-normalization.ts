/**
 * kulc's `LayerNormalization` (`Kulc>LayerNormalization`, src/layers/kulc-layer-normalization.ts):
 * `gain * (x - mean) / (std + epsilon) + bias` over the last axis, the population std, epsilon on the std;
 * on rank 2 kulc's code divides by the mean instead (its slip, reproduced).
 */
import { registerLowering } from '../registry.js';

registerLowering('Kulc>LayerNormalization', (ctx, call) => {
  const g = ctx.graph;
  const x = call.inputs[0];
  const epsilon = Number(call.layer.getConfig().epsilon ?? 1e-8);
  const [gain, bias] = ctx.weights(call.layer);
  const mean = g.op('ReduceMean', [x.name], { axes: [-1], keepdims: 1 });
  const centered = g.op('Sub', [x.name, mean]);
  const spread = x.shape.length === 3 ? g.op('Sqrt', [g.op('ReduceMean', [g.op('Mul', [centered, centered])], { axes: [-1], keepdims: 1 })]) : mean;
  const y = g.op('Add', [g.op('Div', [g.op('Mul', [gain.name, centered]), g.op('Add', [spread, g.scalar(epsilon)])]), bias.name]);
  return { outputs: [{ ...x, name: y, shape: call.outputShapes[0] }] };
});
