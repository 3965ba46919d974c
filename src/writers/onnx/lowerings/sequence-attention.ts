/**
 * kulc's `SequenceAttention(similarity)` on `[source (B, T, ds), query (B, T, dq)]`: scores from kulc's
 * additive or multiplicative similarity, softmax over the last axis, and `batch_dot(score, source,
 * axes=[1, 1])`, i.e. `output[b, i] = Σ_t score[b, t, i] source[b, t]`. A user's own similarity is a
 * TypeScript function here (registerSequenceAttentionSimilarity), which has no ONNX form.
 */
import { transpose } from '../ops.js';
import { registerLowering } from '../registry.js';

registerLowering('SequenceAttention', (ctx, call) => {
  const g = ctx.graph;
  const similarity = String(call.layer.getConfig().similarity ?? '').replace(/_/g, '').toLowerCase();
  const [source, query] = call.inputs;
  let scores: string;
  if (similarity === 'additive' || similarity === 'additivesimilarity') {
    const [wA, vA] = ctx.weights(call.layer);
    // v_a · tanh([source_j; query_j] w_a) per key step j, the same row for every query step i.
    const both = g.op('Concat', [source.name, query.name], { axis: 2 });
    const perKey = g.op('MatMul', [g.op('Tanh', [g.op('MatMul', [both, wA.name])]), transpose(g, vA.name, [1, 0])]);
    const row = transpose(g, perKey, [0, 2, 1]);
    scores = g.op('Expand', [row, g.op('Concat', [g.op('Shape', [row], { start: 0, end: 1 }), g.op('Shape', [source.name], { start: 1, end: 2 }), g.op('Shape', [source.name], { start: 1, end: 2 })], { axis: 0 })]);
  } else if (similarity === 'multiplicative' || similarity === 'multiplicativesimilarity') {
    const [wA] = ctx.weights(call.layer);
    scores = g.op('MatMul', [g.op('MatMul', [query.name, wA.name]), transpose(g, source.name, [0, 2, 1])]);
  } else {
    return ctx.unsupported(call.layer, `its similarity "${String(call.layer.getConfig().similarity)}" is a TypeScript function here, which has no ONNX form`);
  }
  const attention = g.op('Softmax', [scores], { axis: -1 });
  const out = g.op('MatMul', [transpose(g, attention, [0, 2, 1]), source.name]);
  return { outputs: [{ name: out, dtype: 'float32', shape: call.outputShapes[0] }], masks: [null] };
});
