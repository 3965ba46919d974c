/**
 * keras-multi-head's `MultiHeadAttention` (`head_num`; registered as `KerasMultiHead>MultiHeadAttention`):
 * act(x W + b) projections of query, key and value to the value's width F, F/h per head, scaled dot-product
 * attention per head with keras-self-attention's penalties (key mask, history), heads joined and projected
 * by act(y Wo + bo).
 */
import type { Graph, Value } from '../graph.js';
import { project, reshape, transpose } from '../ops.js';
import { registerLowering } from '../registry.js';
import { lowerActivation } from './activations.js';
import { penalize } from './attention-common.js';

registerLowering('KerasMultiHead>MultiHeadAttention', (ctx, call) => {
  const g: Graph = ctx.graph;
  const c = call.layer.getConfig();
  if (call.inputs.length !== 1 && call.inputs.length !== 3) return ctx.unsupported(call.layer, `expects one input or [query, key, value], got ${call.inputs.length}`);
  const [q, k, v] = call.inputs.length === 1 ? [call.inputs[0], call.inputs[0], call.inputs[0]] : call.inputs;
  const heads = Number(c.headNum);
  const feature = v.shape[v.shape.length - 1] as number;
  const headDim = feature / heads;
  const w = ctx.weights(call.layer);
  const useBias = c.useBias !== false;
  const [wq, bq, wk, bk, wv, bv, wo, bo] = useBias ? w : [w[0], null, w[1], null, w[2], null, w[3], null];
  const act = (x: string): string => {
    const y = lowerActivation(g, c.activation, x, 'keras3');
    if (y == null) return ctx.unsupported(call.layer, `activation ${JSON.stringify(c.activation)} has no ONNX lowering`);
    return y;
  };
  // (B, L, F) → (B, h, L, F/h): heads major within each batch item, as `_reshape_to_batches`.
  const split = (x: Value, weight: Value, bias: Value | null, perm: number[]) =>
    transpose(g, reshape(g, act(project(g, x.name, weight.name, bias?.name)), [0, 0, heads, headDim]), perm);
  const qh = split(q, wq, bq, [0, 2, 1, 3]);
  const khT = split(k, wk, bk, [0, 2, 3, 1]);
  const vh = split(v, wv, bv, [0, 2, 1, 3]);
  // keras-multi-head reads the key's mask: mask[1] of a list, or the one mask of a single input.
  const keyMask = call.masks.length === 1 ? call.masks[0] : (call.masks[1] ?? null);
  const scores = g.op('Div', [g.op('MatMul', [qh, khT]), g.scalar(Math.sqrt(headDim))]);
  const e = penalize(g, scores, q.name, k.name, c.historyOnly === true, keyMask, 1);
  const attention = g.op('Softmax', [e], { axis: -1 });
  const joined = reshape(g, transpose(g, g.op('MatMul', [attention, vh]), [0, 2, 1, 3]), [0, 0, feature]);
  const out = act(project(g, joined, wo.name, bo?.name));
  return { outputs: [{ name: out, dtype: 'float32', shape: call.outputShapes[0] }], masks: [call.masks[0] ?? null] };
});
