/**
 * kulc's `AttentionRNNWrapper` and `ExternalAttentionRNNWrapper` (src/layers/attention-rnn-wrapper.ts):
 * Luong-style input feeding around an LSTM, GRU or SimpleRNN, as a Scan over the steps. Per step, with h
 * the previous output and C the context (the input sequence itself, or the external input):
 *   attention = softmax over the context steps of ((C W1 + b2) + h W2) V
 *   cell input = [x_t; Σ attention · C] W3 + b3
 * then the wrapped cell's step. A masked step keeps every state and repeats the previous output; with
 * `go_backwards` the steps run in reverse (the context stays whole); the wrapped layer's return_sequences
 * and return_state decide the outputs, and the external wrapper's return_attention adds the attention.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Value } from '../graph.js';
import { cast, sliceAxis, squeeze, unsqueeze } from '../ops.js';
import { type LayerCall, type LoweringContext, registerLowering } from '../registry.js';
import { STATES, cellStep, cellWeights, recurrence, zeroState } from './recurrent.js';

function lowerWrapper(ctx: LoweringContext, call: LayerCall, external: boolean) {
  const g = ctx.graph;
  const layer = call.layer;
  const wrapped = (layer as unknown as { layer: tf.layers.Layer }).layer;
  const r = recurrence(ctx, wrapped);
  const returnAttention = external && layer.getConfig().returnAttention === true;
  const x = call.inputs[0];
  const context = external ? call.inputs[1] : x;
  const initialInputs = call.inputs.slice(external ? 2 : 1);
  // As the runtime: kulc's external wrapper cannot run masked (K.rnn compares its U + L wide outputs with
  // the U wide states), so there is nothing to reproduce.
  if (external && call.masks[0]) return ctx.unsupported(layer, "it got a mask, and kulc's code cannot run masked");
  const mask = external ? null : (call.masks[0] ?? null);
  const own = (key: string): string => {
    const i = layer.weights.findIndex((v) => v.originalName.endsWith(`_${key}`));
    if (i < 0) return ctx.unsupported(layer, `its weight ${key} is missing`);
    return ctx.weight(layer, i).name;
  };
  const [W1, W2, W3, b2, b3, V] = ['W1', 'W2', 'W3', 'b2', 'b3', 'V'].map(own);
  const cw = cellWeights(ctx, wrapped, r);
  const u = r.units;
  const projection = g.op('Add', [g.op('MatMul', [context.name, W1]), b2]);
  const stateCount = STATES[r.kind];
  if (initialInputs.length !== 0 && initialInputs.length !== stateCount) return ctx.unsupported(layer, `given ${initialInputs.length} initial states; its cell has ${stateCount}`);
  const initial = initialInputs.length > 0 ? initialInputs.map((s) => s.name) : Array.from({ length: stateCount }, () => zeroState(g, x.name, u));

  const body = g.subgraph(`${layer.name}_step`);
  const states = initial.map((_, i) => body.fresh(`state_${i}`));
  const xt = body.fresh('input_step');
  const mt = mask ? body.fresh('step_mask') : null;
  for (const s of states) body.inputs.push({ name: s, dtype: 'float32', shape: [null, u] });
  body.inputs.push({ name: xt, dtype: 'float32', shape: [null, x.shape[2]] });
  if (mt) body.inputs.push({ name: mt, dtype: 'bool', shape: [null, 1] });
  const hw = unsqueeze(body, body.op('MatMul', [states[0], W2]), [1]);
  const attention = body.op('Softmax', [squeeze(body, body.op('MatMul', [body.op('Add', [projection, hw]), V]), [2])], { axis: -1 });
  const weighted = squeeze(body, body.op('MatMul', [unsqueeze(body, attention, [1]), context.name]), [1]);
  const cellInput = body.op('Add', [body.op('MatMul', [body.op('Concat', [xt, weighted], { axis: 1 }), W3]), b3]);
  let xk = body.op('MatMul', [cellInput, cw.kernel]);
  if (cw.inputBias) xk = body.op('Add', [xk, cw.inputBias]);
  let [out, ...next] = cellStep(ctx, layer, r, { body, xk, states }, cw.recurrent, cw.recurrentBias, cw.uh);
  if (mt) {
    next = next.map((s, i) => body.op('Where', [mt, s, states[i]]));
    out = body.op('Where', [mt, out, states[0]]);
  }
  const bodyOutputs = [...next, ...(r.returnSequences ? [out] : []), ...(returnAttention ? [attention] : [])];
  bodyOutputs.forEach((name, i) => {
    const final = body.op('Identity', [name]);
    const isAttention = returnAttention && i === bodyOutputs.length - 1;
    body.outputs.push({ name: final, dtype: 'float32', shape: [null, isAttention ? null : u] });
  });

  const scanInputs = [x.name, ...(mask ? [unsqueeze(g, mask.dtype === 'bool' ? mask.name : cast(g, mask.name, 'bool'), [2])] : [])];
  const scanOutputs = (r.returnSequences ? 1 : 0) + (returnAttention ? 1 : 0);
  const results = g.opN('Scan', [...initial, ...scanInputs], stateCount + scanOutputs, {
    body,
    num_scan_inputs: scanInputs.length,
    scan_input_axes: scanInputs.map(() => 1),
    scan_input_directions: scanInputs.map(() => (r.goBackwards ? 1 : 0)),
    ...(scanOutputs > 0 ? { scan_output_axes: new Array<number>(scanOutputs).fill(1) } : {}),
  });
  const finalStates = results.slice(0, stateCount);
  // A step's output is its new h (or, masked, the kept one): the last output is the final h.
  const output = r.returnSequences ? results[stateCount] : finalStates[0];
  const outputs: Value[] = [{ name: output, dtype: 'float32', shape: call.outputShapes[0] }];
  if (r.returnState) finalStates.forEach((s) => outputs.push({ name: s, dtype: 'float32', shape: call.outputShapes[outputs.length] }));
  if (returnAttention) {
    const attentions = results[results.length - 1];
    const att = r.returnSequences ? attentions : squeeze(g, sliceAxis(g, attentions, 1, -1, 2 ** 53 - 1), [1]);
    outputs.push({ name: att, dtype: 'float32', shape: call.outputShapes[outputs.length] });
  }
  return { outputs, masks: outputs.map((_, i) => (i === 0 && r.returnSequences ? mask : null)) };
}

registerLowering('AttentionRNNWrapper', (ctx, call) => lowerWrapper(ctx, call, false));
registerLowering('ExternalAttentionRNNWrapper', (ctx, call) => lowerWrapper(ctx, call, true));
