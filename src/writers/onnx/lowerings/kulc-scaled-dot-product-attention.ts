/**
 * kulc's `ScaledDotProductAttention` (`Kulc>ScaledDotProductAttention`): inputs `[q, k, v]` plus, in
 * converted graphs, the explicit mask the call was given (input role `mask`);
 * `softmax((q kᵀ + -1e10 (1 - mask)) / sqrt(d_k)) v`. Masks propagated from the inputs are not used (they
 * never reached kulc's code); the output keeps the query's, the attention the key's.
 */
import { transpose } from '../ops.js';
import { registerLowering } from '../registry.js';
import { pickMask } from './attention-common.js';

const MASK_PENALTY = -1e10;

registerLowering('Kulc>ScaledDotProductAttention', (ctx, call) => {
  const g = ctx.graph;
  const roles = Array.isArray(call.kwargs.inputRoles) ? (call.kwargs.inputRoles as unknown[]) : [];
  const qkv = call.inputs.filter((_, i) => roles[i] !== 'mask');
  const explicit = call.inputs.filter((_, i) => roles[i] === 'mask');
  if (qkv.length !== 3 || explicit.length > 1) return ctx.unsupported(call.layer, `takes [q, k, v] and at most one mask, got ${qkv.length} inputs and ${explicit.length} masks`);
  const [q, k, v] = qkv;
  let weights = g.op('MatMul', [q.name, transpose(g, k.name, [0, 2, 1])]);
  if (explicit[0]) {
    const mask = explicit[0].dtype === 'float32' ? explicit[0].name : g.op('Cast', [explicit[0].name], { to: 1 });
    weights = g.op('Add', [weights, g.op('Mul', [g.scalar(MASK_PENALTY), g.op('Sub', [g.scalar(1), mask])])]);
  }
  const a = g.op('Softmax', [g.op('Div', [weights, g.scalar(Math.sqrt(q.shape[2] as number))])], { axis: -1 });
  const out = { name: g.op('MatMul', [a, v.name]), dtype: 'float32' as const, shape: call.outputShapes[0] };
  if (call.outputShapes.length > 1) {
    return { outputs: [out, { name: a, dtype: 'float32' as const, shape: call.outputShapes[1] }], masks: [pickMask(call.masks, 0), pickMask(call.masks, 1)] };
  }
  return { outputs: [out], masks: [pickMask(call.masks, 0)] };
});
