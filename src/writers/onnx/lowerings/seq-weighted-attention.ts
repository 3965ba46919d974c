/**
 * keras-self-attention's `SeqWeightedAttention`: logits x · W (+ b) per step, exp(l - max) zeroed at
 * masked steps, normalized with 1e-7 added to the sum, and the weighted sum of the steps.
 */
import { maskAsFloat, squeeze, unsqueeze } from '../ops.js';
import { registerLowering } from '../registry.js';

const EPSILON = 1e-7;

registerLowering('SeqWeightedAttention', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  const x = call.inputs[0];
  const [w, b] = ctx.weights(call.layer);
  let logits = squeeze(g, g.op('MatMul', [x.name, w.name]), [2]);
  if (c.useBias !== false) logits = g.op('Add', [logits, b.name]);
  let ai = g.op('Exp', [g.op('Sub', [logits, g.op('ReduceMax', [logits], { axes: [-1], keepdims: 1 })])]);
  const mask = call.masks[0];
  if (mask != null) ai = g.op('Mul', [ai, maskAsFloat(g, mask)]);
  const att = g.op('Div', [ai, g.op('Add', [g.op('ReduceSum', [ai, g.ints([-1])], { keepdims: 1 }), g.scalar(EPSILON)])]);
  const out = squeeze(g, g.op('MatMul', [unsqueeze(g, att, [1]), x.name]), [1]);
  const outputs = [{ name: out, dtype: 'float32' as const, shape: call.outputShapes[0] }];
  if (c.returnAttention === true) outputs.push({ name: att, dtype: 'float32', shape: call.outputShapes[1] });
  return { outputs, masks: outputs.map(() => null) };
});
