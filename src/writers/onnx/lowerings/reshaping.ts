/** Layers that only move values: Flatten, Reshape, Permute, RepeatVector. */
import { reshape, transpose, unsqueeze } from '../ops.js';
import { registerLowering } from '../registry.js';
import { isChannelsFirst } from './config.js';

registerLowering('Flatten', (ctx, call) => {
  const x = call.inputs[0];
  const rank = x.shape.length;
  // tfjs and Keras move channels last first, so that the flattened order is the channels_last one.
  const moved = isChannelsFirst(call.layer.getConfig().dataFormat) && rank > 2 ? transpose(ctx.graph, x.name, [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1]) : x.name;
  return { outputs: [{ name: ctx.graph.op('Flatten', [moved], { axis: 1 }), dtype: x.dtype, shape: call.outputShapes[0] }] };
});

registerLowering('Reshape', (ctx, call) => {
  // tfjs spells Keras's -1 (the size inferred) as null.
  const given = call.layer.getConfig().targetShape;
  const target = Array.isArray(given) ? given.map((d) => (d == null ? -1 : d)) : null;
  if (target == null || !target.every((d) => typeof d === 'number' && (d > 0 || d === -1)) || target.filter((d) => d === -1).length > 1) {
    return ctx.unsupported(call.layer, `target_shape ${JSON.stringify(given)} is not a list of positive sizes (and at most one -1)`);
  }
  // 0 keeps the batch dimension as it is.
  const x = call.inputs[0];
  return { outputs: [{ name: reshape(ctx.graph, x.name, [0, ...(target as number[])]), dtype: x.dtype, shape: call.outputShapes[0] }] };
});

registerLowering('Permute', (ctx, call) => {
  const dims = call.layer.getConfig().dims;
  if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'number')) return ctx.unsupported(call.layer, `dims ${JSON.stringify(dims)}`);
  const x = call.inputs[0];
  return { outputs: [{ name: transpose(ctx.graph, x.name, [0, ...(dims as number[])]), dtype: x.dtype, shape: call.outputShapes[0] }] };
});

registerLowering('RepeatVector', (ctx, call) => {
  const n = Number(call.layer.getConfig().n);
  const g = ctx.graph;
  const x = call.inputs[0];
  return { outputs: [{ name: g.op('Expand', [unsqueeze(g, x.name, [1]), g.ints([1, n, 1])]), dtype: x.dtype, shape: call.outputShapes[0] }] };
});
