/**
 * The wrappers: Keras's `Bidirectional` and `TimeDistributed`, keras-multi-head's `MultiHead`. Each lowers
 * its sub-layers with their own lowerings (ctx.lowerLayer) and adds only what the wrapper itself does.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Value } from '../graph.js';
import { project, reverse, shapeOf, shapeSlice, unsqueeze } from '../ops.js';
import { registerLowering } from '../registry.js';
import { lowerBidirectionalWithOnnxOp } from './recurrent.js';

/**
 * Bidirectional: the forward and backward layers on the same input (each half of any initial states),
 * the backward sequence flipped back to input order, merged (concat, sum, ave, mul, or both outputs),
 * then the forward states and the backward states. Two mirrored unmasked RNNs are one bidirectional ONNX op.
 */
registerLowering('Bidirectional', (ctx, call) => {
  const g = ctx.graph;
  const { forward, backward } = call.layer as unknown as { forward: tf.layers.Layer; backward: tf.layers.Layer };
  const config = call.layer.getConfig();
  const mergeMode = config.mergeMode ?? null;
  const returnSequences = (forward.getConfig().returnSequences as boolean | undefined) === true;
  const returnState = (forward.getConfig().returnState as boolean | undefined) === true;
  const fused = lowerBidirectionalWithOnnxOp(ctx, call, forward, backward, mergeMode);
  if (fused) return fused;
  const [x, ...initial] = call.inputs;
  const half = initial.length / 2;
  const mask = call.masks[0] ?? null;
  const fwd = ctx.lowerLayer(forward, [x, ...initial.slice(0, half)], [mask, ...initial.slice(0, half).map(() => null)]);
  const bwd = ctx.lowerLayer(backward, [x, ...initial.slice(half)], [mask, ...initial.slice(half).map(() => null)]);
  const y = fwd.outputs[0];
  let yRev = bwd.outputs[0];
  if (returnSequences) yRev = { ...yRev, name: reverse(g, yRev.name, 1) };
  const states = [...fwd.outputs.slice(1), ...bwd.outputs.slice(1)];
  const shape = call.outputShapes[0];
  let merged: Value[];
  switch (mergeMode) {
    case 'concat':
      merged = [{ name: g.op('Concat', [y.name, yRev.name], { axis: -1 }), dtype: 'float32', shape }];
      break;
    case 'sum':
      merged = [{ name: g.op('Add', [y.name, yRev.name]), dtype: 'float32', shape }];
      break;
    case 'ave':
      merged = [{ name: g.op('Mul', [g.op('Add', [y.name, yRev.name]), g.scalar(0.5)]), dtype: 'float32', shape }];
      break;
    case 'mul':
      merged = [{ name: g.op('Mul', [y.name, yRev.name]), dtype: 'float32', shape }];
      break;
    case null:
      merged = [y, yRev];
      break;
    default:
      return ctx.unsupported(call.layer, `merge_mode ${JSON.stringify(mergeMode)}`);
  }
  const outputs = [...merged, ...(returnState ? states : [])];
  const outMask = returnSequences ? mask : null;
  return { outputs, masks: outputs.map((_, i) => (i < merged.length ? outMask : null)) };
});

/** TimeDistributed: the inner layer on (batch·steps, ...) and the result reshaped back to (batch, steps, ...). */
registerLowering('TimeDistributed', (ctx, call) => {
  const g = ctx.graph;
  const inner = (call.layer as unknown as { layer: tf.layers.Layer }).layer;
  const x = call.inputs[0];
  const flat = g.op('Reshape', [x.name, shapeOf(g, [[-1], shapeSlice(g, x.name, 2)])]);
  const lowered = ctx.lowerLayer(inner, [{ name: flat, dtype: x.dtype, shape: [null, ...x.shape.slice(2)] }], [null]);
  if (lowered.outputs.length !== 1) return ctx.unsupported(call.layer, `its layer "${inner.name}" has ${lowered.outputs.length} outputs`);
  const y = lowered.outputs[0];
  const out = g.op('Reshape', [y.name, shapeOf(g, [shapeSlice(g, x.name, 0, 2), shapeSlice(g, y.name, 1)])]);
  return { outputs: [{ name: out, dtype: y.dtype, shape: call.outputShapes[0] }] };
});

/**
 * keras-multi-head's MultiHead: every sub-layer on the input (with `hidden_dim`, sub-layer i on
 * x · W[:, i·h:(i+1)·h] + b[i·h:(i+1)·h]), outputs stacked on a new last axis; the mask is the first
 * sub-layer's.
 */
registerLowering('MultiHead', (ctx, call) => {
  const g = ctx.graph;
  const layer = call.layer as unknown as { layers: tf.layers.Layer[]; hiddenDim: number | null; useBias: boolean };
  const x = call.inputs[0];
  const mask = call.masks[0] ?? null;
  const h = layer.hiddenDim;
  const features = x.shape[x.shape.length - 1] as number;
  const width = (h ?? 0) * layer.layers.length;
  const outputs: string[] = [];
  let firstMask: Value | null = null;
  layer.layers.forEach((sub, i) => {
    let input = x;
    if (h != null) {
      const cols = (values: Float32Array) => {
        const rows = values.length / width;
        const out = new Float32Array(rows * h);
        for (let r = 0; r < rows; r++) out.set(values.subarray(r * width + i * h, r * width + (i + 1) * h), r * h);
        return out;
      };
      const w = ctx.weight(call.layer, 0, { dims: [features, h], transform: cols, suffix: `head_${i}` });
      const b = layer.useBias ? ctx.weight(call.layer, 1, { dims: [h], transform: cols, suffix: `head_${i}` }) : null;
      input = { name: project(g, x.name, w.name, b?.name), dtype: 'float32', shape: [...x.shape.slice(0, -1), h] };
    }
    const lowered = ctx.lowerLayer(sub, [input], [mask]);
    if (lowered.outputs.length !== 1) return ctx.unsupported(call.layer, `sub-layer "${sub.name}" has ${lowered.outputs.length} outputs; one is expected`);
    if (i === 0) firstMask = lowered.masks?.[0] ?? null;
    outputs.push(unsqueeze(g, lowered.outputs[0].name, [-1]));
  });
  const out = outputs.length === 1 ? outputs[0] : g.op('Concat', outputs, { axis: -1 });
  return { outputs: [{ name: out, dtype: 'float32', shape: call.outputShapes[0] }], masks: [firstMask] };
});
