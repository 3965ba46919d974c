/**
 * Keras's `MultiHeadAttention` (src/layers/keras-multi-head-attention.ts): EinsumDense projections of
 * query, key and value to (…, heads, dim) as one MatMul each (kernels viewed as (d, heads·dim); the
 * query's 1/sqrt(key_dim) folded into its kernel and bias), dot-product attention over `attention_axes`,
 * Keras 3's mask (query/value/key masks, causal mask, sliding window, `attention_mask`, ANDed) with the
 * softmax path Keras takes for it, and the output projection. With `contribOps`, unmasked 3-D attention is
 * onnxruntime's fused com.microsoft.MultiHeadAttention.
 */
import { type Dim, type Value, float } from '../graph.js';
import { MS_DOMAIN } from '../proto.js';
import { maskAsBool, reshape, transpose, unsqueeze } from '../ops.js';
import { type LayerCall, type LoweringContext, registerLowering } from '../registry.js';
import { positionGrid } from './attention-common.js';

type Role = 'query' | 'value' | 'key' | 'attentionMask';

/** What `jax.nn`-style fused attention puts at masked logits (`-0.7 * float32 max`). */
const FUSED_MASK_VALUE = -0.7 * 3.38953e38;
const SOFTMAX_MASK_VALUE = -1e9;

function roles(ctx: LoweringContext, call: LayerCall): Role[] {
  const given = call.kwargs.inputRoles;
  const count = call.inputs.length;
  if (Array.isArray(given)) {
    const parsed = given.map((r) => (r === 'attention_mask' ? 'attentionMask' : r));
    if (parsed.length !== count || !parsed.every((r) => r === 'query' || r === 'value' || r === 'key' || r === 'attentionMask')) {
      return ctx.unsupported(call.layer, `input roles ${JSON.stringify(given)} do not name each of the ${count} inputs`);
    }
    return parsed as Role[];
  }
  if (count > 4) return ctx.unsupported(call.layer, `expected at most 4 inputs, got ${count}`);
  return (['query', 'value', 'key', 'attentionMask'] as Role[]).slice(0, count);
}

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

registerLowering('MultiHeadAttention', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  const layer = call.layer;
  const role = roles(ctx, call);
  const at = (r: Role) => role.indexOf(r);
  const query = call.inputs[at('query')];
  const value = at('value') >= 0 ? call.inputs[at('value')] : query;
  const key = at('key') >= 0 ? call.inputs[at('key')] : value;
  const attentionMask = at('attentionMask') >= 0 ? call.inputs[at('attentionMask')] : null;
  const queryMask = call.masks[at('query')] ?? null;
  const valueMask = at('value') >= 0 ? (call.masks[at('value')] ?? null) : queryMask;
  const keyMask = at('key') >= 0 ? (call.masks[at('key')] ?? null) : null;
  const returnScores = Boolean(call.kwargs.returnAttentionScores ?? false);
  const causal = Boolean(call.kwargs.useCausalMask ?? false);
  const kerasTwo = 'queryShape' in c || 'keyShape' in c || 'valueShape' in c;
  const slidingWindow = c.slidingWindow == null ? null : Number(c.slidingWindow);

  const heads = Number(c.numHeads);
  const keyDim = Number(c.keyDim);
  const useBias = c.useBias !== false;
  const w = ctx.weights(layer);
  const [qk, qb, kk, kb, vk, vb, ok, ob] = useBias ? w : [w[0], null, w[1], null, w[2], null, w[3], null];
  const valueDim = vk.shape[2] as number;
  const outShape = (ok.shape as number[]).slice(2);

  // Projections (…, d) → (…, heads·dim): one MatMul on the kernel viewed as (d, heads·dim).
  const scale = 1 / Math.sqrt(keyDim);
  const scaleBy = (values: Float32Array) => values.map((v) => v * scale);
  /** A kernel (d, heads, dim) as (d, heads·dim) and its bias as (heads·dim), the query's scaled. */
  const flatWeights = (kernel: Value, bias: Value | null, scaled: boolean): { kernel: string; bias: string | null } => {
    const [d, n, h] = kernel.shape as number[];
    const view = (weight: Value, dims: number[]) =>
      ctx.weight(layer, w.indexOf(weight), scaled ? { dims, transform: scaleBy, suffix: 'scaled' } : { dims }).name;
    return { kernel: view(kernel, [d, n * h]), bias: bias ? view(bias, [n * h]) : null };
  };
  const q = flatWeights(qk, qb, true);
  const k = flatWeights(kk, kb, false);
  const v = flatWeights(vk, vb, false);
  const projectIn = (x: Value, p: { kernel: string; bias: string | null }): string => {
    const y = g.op('MatMul', [x.name, p.kernel]);
    return p.bias ? g.op('Add', [y, p.bias]) : y;
  };
  let qFlat: string, kFlat: string, vFlat: string;
  if (query.name === key.name && key.name === value.name) {
    // Self-attention: one product with the three kernels side by side (the Concat of initializers is
    // folded into one when onnxruntime loads the model), split after.
    const both = (a: string, b: string, c: string) => g.op('Concat', [a, b, c], { axis: -1 });
    const kernels = both(q.kernel, k.kernel, v.kernel);
    const biases = q.bias && k.bias && v.bias ? both(q.bias, k.bias, v.bias) : null;
    [qFlat, kFlat, vFlat] = g.opN('Split', [projectIn(query, { kernel: kernels, bias: biases }), g.ints([heads * keyDim, heads * keyDim, heads * valueDim])], 3, { axis: -1 });
  } else {
    qFlat = projectIn(query, q);
    kFlat = projectIn(key, k);
    vFlat = projectIn(value, v);
  }
  const toHeads = (flat: string, x: Value, dim: number) => reshape(g, flat, [...x.shape.slice(0, -1).map(() => 0), heads, dim]);

  // Axes of the projected tensors (B, …, heads, dim): attention over `attention_axes`, the rest batch-like.
  const rank = query.shape.length + 1;
  const cfgAxes = c.attentionAxes;
  const attnAxes: number[] =
    cfgAxes == null
      ? Array.from({ length: rank - 3 }, (_, i) => i + 1)
      : (Array.isArray(cfgAxes) ? (cfgAxes as number[]) : [Number(cfgAxes)]).map((a) => (a >= 0 ? a : rank - 1 + a));
  const batchAxes = Array.from({ length: rank }, (_, i) => i).filter((i) => !attnAxes.includes(i) && i !== rank - 1);
  const perm = [...batchAxes, ...attnAxes, rank - 1];
  const outputProjection = (joinedFlat: string): Value => {
    const okIndex = w.indexOf(ok);
    let y = g.op('MatMul', [joinedFlat, ctx.weight(layer, okIndex, { dims: [heads * valueDim, prod(outShape)] }).name]);
    if (ob) y = g.op('Add', [y, ctx.weight(layer, w.indexOf(ob), { dims: [prod(outShape)] }).name]);
    if (outShape.length !== 1) y = reshape(g, y, [...query.shape.slice(0, -1).map(() => 0), ...outShape]);
    return { name: y, dtype: 'float32', shape: call.outputShapes[0] };
  };
  const masked = queryMask != null || valueMask != null || keyMask != null || causal || slidingWindow != null || attentionMask != null;
  if (ctx.options.contribOps && rank === 4 && attnAxes.length === 1 && attnAxes[0] === 1 && !masked && !returnScores) {
    // onnxruntime's fused attention (com.microsoft.MultiHeadAttention) on the (…, heads·dim) projections;
    // the query already carries the 1/sqrt(key_dim) scale.
    const context = g.op('MultiHeadAttention', [qFlat, kFlat, vFlat], { num_heads: heads, scale: float(1) }, MS_DOMAIN);
    return { outputs: [outputProjection(context)], masks: [queryMask] };
  }
  const qHeads = toHeads(qFlat, query, keyDim);
  const kHeads = toHeads(kFlat, key, keyDim);
  const vHeads = toHeads(vFlat, value, valueDim);

  // (batch axes…, T, dim), or (batch axes…, dim, S) for the key; several attention axes flattened into one.
  const flatten = (x: string, dim: number, transposeLast: boolean): string => {
    const t = transpose(g, x, transposeLast ? [...batchAxes, rank - 1, ...attnAxes] : perm);
    if (attnAxes.length === 1) return t;
    return reshape(g, t, [...batchAxes.map(() => 0), ...(transposeLast ? [dim, -1] : [-1, dim])]);
  };
  const qf = flatten(qHeads, keyDim, false);
  const kfT = flatten(kHeads, keyDim, true);
  const vf = flatten(vHeads, valueDim, false);
  let scores = g.op('MatMul', [qf, kfT]);

  // Keras 3's `_compute_attention_mask`, for 3-D query/value (the masks are (B, T) and (B, S)).
  const pieces: string[] = [];
  if (queryMask) pieces.push(unsqueeze(g, maskAsBool(g, queryMask), [-1]));
  if (valueMask) pieces.push(unsqueeze(g, maskAsBool(g, valueMask), [-2]));
  if (keyMask) pieces.push(unsqueeze(g, maskAsBool(g, keyMask), [-2]));
  if (causal || slidingWindow != null) {
    const { rows, cols } = positionGrid(g, query.name, value.name);
    if (causal) pieces.push(g.op('GreaterOrEqual', [rows, cols]));
    if (slidingWindow != null) pieces.push(g.op('LessOrEqual', [g.op('Abs', [g.op('Sub', [rows, cols])]), g.constant('int64', [slidingWindow - 1], [])]));
  }
  if (attentionMask) pieces.push(maskAsBool(g, attentionMask));
  let mask: string | null = null;
  if (pieces.length > 0) {
    if (rank !== 4 || attnAxes.length !== 1 || attnAxes[0] !== 1) {
      return ctx.unsupported(layer, 'masks (query/value/key masks, attention_mask, a causal mask or a sliding window) with attention_axes other than the sequence axis of 3-D inputs');
    }
    mask = pieces.reduce((a, b) => g.op('And', [a, b]));
    // (B, T, S) or broadcastable → (B, 1, T, S) over the heads.
    mask = unsqueeze(g, mask, [1]);
  }
  const training = Boolean(call.kwargs.training ?? false);
  const dropout = Number(c.dropout ?? 0);
  const fused = !kerasTwo && !returnScores && !(training && dropout > 0) && rank === 4;
  let probs: string;
  if (mask == null) {
    probs = g.op('Softmax', [scores], { axis: -1 });
  } else if (kerasTwo) {
    const off = g.op('Sub', [g.scalar(1), g.op('Cast', [mask], { to: 1 })]);
    scores = g.op('Add', [scores, g.op('Mul', [off, g.scalar(SOFTMAX_MASK_VALUE)])]);
    probs = g.op('Softmax', [scores], { axis: -1 });
  } else if (fused) {
    probs = g.op('Softmax', [g.op('Where', [mask, scores, g.scalar(FUSED_MASK_VALUE)])], { axis: -1 });
  } else {
    probs = g.op('Softmax', [g.op('Where', [mask, scores, g.scalar(SOFTMAX_MASK_VALUE)])], { axis: -1 });
    probs = g.op('Where', [mask, probs, g.scalar(0)]);
  }
  let context = g.op('MatMul', [probs, vf]);
  // Back to (B, …, heads, dim): unflatten the attention axes, then undo the permutation.
  if (attnAxes.length > 1) {
    const qAttn = attnAxes.map((a) => query.shape[a] as Dim);
    if (!qAttn.every((d) => typeof d === 'number')) return ctx.unsupported(layer, 'several attention axes of unknown size');
    context = reshape(g, context, [...batchAxes.map(() => 0), ...(qAttn as number[]), valueDim]);
  }
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const joined = transpose(g, context, inverse);
  // Output projection: (…, heads, dim) · (heads·dim, prod(out)).
  const out = outputProjection(reshape(g, joined, [...query.shape.slice(0, -1).map(() => 0), heads * valueDim]));
  if (!returnScores) return { outputs: [out], masks: [queryMask] };
  let scoresOut = probs;
  if (attnAxes.length > 1) {
    const dims = [...attnAxes.map((a) => query.shape[a]), ...attnAxes.map((a) => key.shape[a])];
    scoresOut = reshape(g, probs, [...batchAxes.map(() => 0), ...(dims as number[])]);
  }
  return { outputs: [out, { name: scoresOut, dtype: 'float32', shape: call.outputShapes[1] }], masks: [queryMask, null] };
});
