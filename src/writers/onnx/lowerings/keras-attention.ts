/**
 * Keras's `Attention` (Luong: `dot` or `concat` scores) and `AdditiveAttention` (Bahdanau), as
 * src/layers/base-dense-attention.ts computes them: inputs `[query, value, key]` (a missing key is the
 * value, a missing value the query), scores minus 1e9 at masked keys (the value's mask) and, when causal,
 * at keys after the query step; softmax over the keys; the weights applied to the value; the output zeroed
 * at masked query steps. With `return_attention_scores` the weights are a second output.
 */
import type { Value } from '../graph.js';
import { cast, maskAsBool, maskAsFloat, transpose, unsqueeze } from '../ops.js';
import { type LayerCall, type LoweringContext, registerLowering } from '../registry.js';
import { additiveScores, positionGrid } from './attention-common.js';

const MASKED_SCORE = 1e9;

/** The layer's weight named `name` (its Keras name's last part), or null. */
function weightNamed(ctx: LoweringContext, call: LayerCall, name: string): Value | null {
  const i = call.layer.weights.findIndex((w) => w.originalName.split('/').pop() === name || w.originalName.endsWith(`/${name}`));
  return i < 0 ? null : ctx.weight(call.layer, i);
}

function lowerDenseAttention(ctx: LoweringContext, call: LayerCall, kind: 'attention' | 'additive') {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  if (call.inputs.length < 1 || call.inputs.length > 3) return ctx.unsupported(call.layer, `takes [query, value] or [query, value, key], got ${call.inputs.length} inputs`);
  const query = call.inputs[0];
  const value = call.inputs[1] ?? query;
  const key = call.inputs[2] ?? value;
  const queryMask = call.masks[0] ?? null;
  const valueMask = call.inputs.length > 1 ? (call.masks[1] ?? null) : queryMask;
  const dim = query.shape[query.shape.length - 1] as number;
  const scale = weightNamed(ctx, call, 'scale');

  let scores: string;
  if (kind === 'attention' && c.scoreMode !== 'concat') {
    scores = g.op('MatMul', [query.name, transpose(g, key.name, [0, 2, 1])]);
    if (scale) scores = g.op('Mul', [scores, scale.name]);
  } else {
    // Σ_d w_d tanh(q + k)_d: additive scores with w = scale (AdditiveAttention) or ones, the scalar scale
    // inside the tanh and concat_score_weight outside (Attention's concat mode).
    let q = query.name;
    let k = key.name;
    let w: string;
    if (kind === 'additive') {
      w = scale ? g.op('Reshape', [scale.name, g.ints([-1, 1])]) : g.constant('float32', new Array<number>(dim).fill(1), [dim, 1]);
    } else {
      if (scale) [q, k] = [g.op('Mul', [q, scale.name]), g.op('Mul', [k, scale.name])];
      w = g.constant('float32', new Array<number>(dim).fill(1), [dim, 1]);
    }
    scores = additiveScores(g, q, k, w, query.shape[1], key.shape[1], dim);
    const weight = kind === 'attention' ? weightNamed(ctx, call, 'concat_score_weight') : null;
    if (weight) scores = g.op('Mul', [scores, weight.name]);
  }

  const causal = Boolean(call.kwargs.useCausalMask ?? c.causal ?? false);
  let keep: string | null = valueMask ? unsqueeze(g, maskAsBool(g, valueMask), [1]) : null;
  if (causal) {
    const { rows, cols } = positionGrid(g, query.name, key.name);
    const lower = g.op('GreaterOrEqual', [rows, cols]);
    keep = keep ? g.op('And', [keep, lower]) : lower;
  }
  // A subtraction, as Keras: a row whose keys are all masked stays a softmax of its scores.
  if (keep) scores = g.op('Sub', [scores, g.op('Mul', [cast(g, g.op('Not', [keep]), 'float32'), g.scalar(MASKED_SCORE)])]);
  const weights = g.op('Softmax', [scores], { axis: -1 });
  let output = g.op('MatMul', [weights, value.name]);
  if (queryMask) output = g.op('Mul', [output, unsqueeze(g, maskAsFloat(g, queryMask), [-1])]);
  const out: Value = { name: output, dtype: 'float32', shape: call.outputShapes[0] };
  if (call.outputShapes.length > 1) return { outputs: [out, { name: weights, dtype: 'float32' as const, shape: call.outputShapes[1] }], masks: [queryMask, null] };
  return { outputs: [out], masks: [queryMask] };
}

registerLowering('Attention', (ctx, call) => lowerDenseAttention(ctx, call, 'attention'));
registerLowering('AdditiveAttention', (ctx, call) => lowerDenseAttention(ctx, call, 'additive'));
