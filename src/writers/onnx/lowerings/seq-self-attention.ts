/**
 * keras-self-attention's `SeqSelfAttention` (src/layers/seq-self-attention.ts): additive scores
 * tanh(x_t Wt + x_t' Wx + bh) · Wa + ba or multiplicative x_t Wa x_t'ᵀ + ba, the attention activation,
 * -10000 outside the local window and where both steps are masked, softmax over t', and the weighted sum
 * of the inputs. The window is computed from the sequence length at run time.
 */
import { cast, maskAsFloat, squeeze, transpose, unsqueeze } from '../ops.js';
import { registerLowering } from '../registry.js';
import { lowerActivation } from './activations.js';
import { additiveScores, positionGrid } from './attention-common.js';

registerLowering('SeqSelfAttention', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  const x = call.inputs[0];
  const weights = ctx.weights(call.layer);
  let e: string;
  if (c.attentionType === 'multiplicative') {
    const [wa, ba] = weights;
    e = g.op('MatMul', [g.op('MatMul', [x.name, wa.name]), transpose(g, x.name, [0, 2, 1])]);
    if (c.useAttentionBias !== false) e = g.op('Add', [e, ba.name]);
  } else {
    let i = 0;
    const wt = weights[i++];
    const wx = weights[i++];
    const bh = c.useAdditiveBias !== false ? weights[i++] : null;
    const wa = weights[i++];
    const ba = c.useAttentionBias !== false ? weights[i++] : null;
    let q = g.op('MatMul', [x.name, wt.name]);
    if (bh) q = g.op('Add', [q, bh.name]);
    const k = g.op('MatMul', [x.name, wx.name]);
    e = additiveScores(g, q, k, wa.name, x.shape[1], x.shape[1], Number(c.units));
    if (ba) e = g.op('Add', [e, ba.name]);
  }
  const activated = lowerActivation(g, c.attentionActivation, e, 'keras3');
  if (activated == null) return ctx.unsupported(call.layer, `attention_activation ${JSON.stringify(c.attentionActivation)} has no ONNX lowering`);
  e = activated;
  let width = c.attentionWidth == null ? null : Number(c.attentionWidth);
  if (c.historyOnly === true && width == null) width = 1e9;
  if (width != null) {
    // Outside the window: t' < t - shift or t' >= t - shift + width, shift = width - 1 (history only) or floor(width / 2).
    const { rows, cols } = positionGrid(g, x.name, x.name);
    const shift = c.historyOnly === true ? width - 1 : Math.floor(width / 2);
    const lower = g.op('Sub', [rows, g.constant('int64', [shift], [])]);
    const upper = g.op('Add', [lower, g.constant('int64', [width], [])]);
    const inside = g.op('And', [g.op('LessOrEqual', [lower, cols]), g.op('Less', [cols, upper])]);
    const outside = g.op('Sub', [g.scalar(1), cast(g, inside, 'float32')]);
    e = g.op('Sub', [e, g.op('Mul', [g.scalar(10000), outside])]);
  }
  const mask = call.masks[0];
  if (mask != null) {
    // Only pairs where both steps are masked are pushed down (as keras-self-attention 0.51.0 does).
    const off = g.op('Sub', [g.scalar(1), maskAsFloat(g, mask)]);
    const both = g.op('Mul', [unsqueeze(g, off, [2]), unsqueeze(g, off, [1])]);
    e = g.op('Sub', [e, g.op('Mul', [g.scalar(10000), both])]);
  }
  const attention = g.op('Softmax', [e], { axis: -1 });
  const out = { name: g.op('MatMul', [attention, x.name]), dtype: 'float32' as const, shape: call.outputShapes[0] };
  if (c.returnAttention === true) {
    return { outputs: [out, { name: attention, dtype: 'float32', shape: call.outputShapes[1] }], masks: [mask, null] };
  }
  return { outputs: [out], masks: [mask] };
});
