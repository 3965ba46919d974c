/**
 * keras-self-attention's `ScaledDotProductAttention` and `ResidualScaledDotProductAttention` (RealFormer):
 * softmax(Q Kᵀ / sqrt(d_q) (+ the previous layer's logits) - penalties) V, with the penalties of
 * attention-common.ts. One input is self-attention.
 */
import { transpose } from '../ops.js';
import { registerLowering } from '../registry.js';
import { penalize, pickMask } from './attention-common.js';
import type { Graph, Value } from '../graph.js';

function scaledScores(g: Graph, q: Value, k: Value): string {
  const d = q.shape[q.shape.length - 1] as number;
  return g.op('Div', [g.op('MatMul', [q.name, transpose(g, k.name, [0, 2, 1])]), g.scalar(Math.sqrt(d))]);
}

registerLowering('ScaledDotProductAttention', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  if (call.inputs.length !== 1 && call.inputs.length !== 3) return ctx.unsupported(call.layer, `expects one tensor or [query, key, value], got ${call.inputs.length}`);
  const [q, k, v] = call.inputs.length === 1 ? [call.inputs[0], call.inputs[0], call.inputs[0]] : call.inputs;
  const e = penalize(g, scaledScores(g, q, k), q.name, k.name, c.historyOnly === true, pickMask(call.masks, 1));
  const a = g.op('Softmax', [e], { axis: -1 });
  const out = { name: g.op('MatMul', [a, v.name]), dtype: 'float32' as const, shape: call.outputShapes[0] };
  const mask = pickMask(call.masks, 0);
  if (c.returnAttention === true) return { outputs: [out, { name: a, dtype: 'float32', shape: call.outputShapes[1] }], masks: [mask, null] };
  return { outputs: [out], masks: [mask] };
});

registerLowering('ResidualScaledDotProductAttention', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  let q: Value, k: Value, v: Value, prev: Value, maskIndex: number;
  if (call.inputs.length === 4) [q, k, v, prev, maskIndex] = [...call.inputs, 1] as [Value, Value, Value, Value, number];
  else if (call.inputs.length === 2) [q, k, v, prev, maskIndex] = [call.inputs[0], call.inputs[0], call.inputs[0], call.inputs[1], 0];
  else return ctx.unsupported(call.layer, `expects [x, prev] or [query, key, value, prev], got ${call.inputs.length} inputs`);
  const logits = g.op('Add', [scaledScores(g, q, k), prev.name]);
  const e = penalize(g, logits, q.name, k.name, c.historyOnly === true, pickMask(call.masks, maskIndex));
  const a = g.op('Softmax', [e], { axis: -1 });
  const outputs: Value[] = [
    { name: g.op('MatMul', [a, v.name]), dtype: 'float32', shape: call.outputShapes[0] },
    { name: logits, dtype: 'float32', shape: call.outputShapes[1] },
  ];
  if (c.returnAttention === true) outputs.push({ name: a, dtype: 'float32', shape: call.outputShapes[2] });
  return { outputs, masks: [pickMask(call.masks, 0), ...outputs.slice(1).map(() => null)] };
});
