/**
 * Keras's LSTM, GRU, SimpleRNN and RNN(cell) (src/layers/recurrent.ts): gate orders i, f, c, o (LSTM) and
 * z, r, h (GRU, both `reset_after` conventions), the activations with Keras 3's semantics, `go_backwards`
 * (the sequence processed and returned in reverse), masks (a masked step keeps every state and outputs zeros
 * with `zero_output_for_mask`, else the previous output), initial states, `return_sequences`, `return_state`.
 *
 * Two lowerings of the same recurrence:
 * - without a mask, and with activations the ONNX recurrent ops know, ONNX's LSTM / GRU / RNN op (one fused
 *   kernel in onnxruntime), the kernels transposed and their gates reordered into ONNX's layout
 *   (LSTM i, o, f, c) when the initializers are written;
 * - otherwise a Scan over the steps whose body is the Keras cell's step, on the input projected for the
 *   whole sequence at once; a masked step selects the previous states with Where.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Graph, Value } from '../graph.js';
import { cast, reshape, reverse, shapeOf, shapeSlice, squeeze, transpose, unsqueeze } from '../ops.js';
import { type LayerCall, type LayerLowered, type LoweringContext, registerLowering } from '../registry.js';
import { lowerActivation, rnnActivation } from './activations.js';

export type CellKind = 'LSTMCell' | 'GRUCell' | 'SimpleRNNCell';

export interface Recurrence {
  kind: CellKind;
  cell: tf.layers.Layer;
  units: number;
  activation: unknown;
  recurrentActivation: unknown;
  useBias: boolean;
  resetAfter: boolean;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  zeroOutputForMask: boolean;
}

export const GATES: Record<CellKind, number> = { LSTMCell: 4, GRUCell: 3, SimpleRNNCell: 1 };
export const STATES: Record<CellKind, number> = { LSTMCell: 2, GRUCell: 1, SimpleRNNCell: 1 };

/** The recurrence a Keras RNN layer (LSTM, GRU, SimpleRNN or RNN of one of their cells) computes. */
export function recurrence(ctx: LoweringContext, layer: tf.layers.Layer): Recurrence {
  const cell = (layer as unknown as { cell?: tf.layers.Layer }).cell;
  const kind = cell?.getClassName();
  if (cell == null || (kind !== 'LSTMCell' && kind !== 'GRUCell' && kind !== 'SimpleRNNCell')) {
    return ctx.unsupported(layer, `its cell is ${kind ?? 'missing'}; LSTMCell, GRUCell and SimpleRNNCell lower (stacked cells do not)`);
  }
  const c = cell.getConfig();
  const l = layer.getConfig();
  return {
    kind,
    cell,
    units: Number(c.units),
    activation: c.activation,
    recurrentActivation: kind === 'SimpleRNNCell' ? null : c.recurrentActivation,
    useBias: c.useBias !== false,
    resetAfter: kind === 'GRUCell' && c.resetAfter !== false,
    returnSequences: l.returnSequences === true,
    returnState: l.returnState === true,
    goBackwards: l.goBackwards === true,
    // The object's own flag: Bidirectional sets it on its sub-layers.
    zeroOutputForMask: (layer as unknown as { zeroOutputForMask?: boolean }).zeroOutputForMask === true,
  };
}

/** `[batch, units]` zeros, the batch read from `x` at run time. */
export function zeroState(g: Graph, x: string, units: number): string {
  return g.op('ConstantOfShape', [shapeOf(g, [shapeSlice(g, x, 0, 1), [units]])]);
}

// ---------------------------------------------------------------------------------------------------------
// The ONNX recurrent ops.

/** Column blocks of a (rows, gates·units) kernel, transposed to ONNX's (gates·units, rows), in `order`. */
function onnxKernel(order: number[], units: number) {
  return (values: Float32Array): Float32Array => {
    const cols = order.length * units;
    const rows = values.length / cols;
    const out = new Float32Array(values.length);
    order.forEach((gate, slot) => {
      for (let u = 0; u < units; u++) {
        const src = gate * units + u;
        const dst = (slot * units + u) * rows;
        for (let r = 0; r < rows; r++) out[dst + r] = values[r * cols + src];
      }
    });
    return out;
  };
}

/** ONNX's bias `[Wb, Rb]` (2·gates·units) from Keras's bias: (gates·units) input bias, or (2, gates·units) with `reset_after`. */
function onnxBias(order: number[], units: number, twoRows: boolean) {
  return (values: Float32Array): Float32Array => {
    const width = order.length * units;
    const out = new Float32Array(2 * width);
    for (let row = 0; row < (twoRows ? 2 : 1); row++) {
      order.forEach((gate, slot) => out.set(values.subarray(row * width + gate * units, row * width + (gate + 1) * units), row * width + slot * units));
    }
    return out;
  };
}

const ONNX_OPS: Record<CellKind, { op: string; order: number[] }> = {
  // Keras i, f, c, o → ONNX i, o, f, c.
  LSTMCell: { op: 'LSTM', order: [0, 3, 1, 2] },
  GRUCell: { op: 'GRU', order: [0, 1, 2] },
  SimpleRNNCell: { op: 'RNN', order: [0] },
};

/** The ONNX op's `activations` (and alpha/beta) for this cell, or null when one has no ONNX name here. */
function onnxActivations(r: Recurrence): { activations: string[] } | null {
  const f = r.kind === 'SimpleRNNCell' ? null : rnnActivation(r.recurrentActivation, 'keras3');
  const g = rnnActivation(r.activation, 'keras3');
  if (g == null || (r.kind !== 'SimpleRNNCell' && f == null)) return null;
  const list = r.kind === 'LSTMCell' ? [f!, g, g] : r.kind === 'GRUCell' ? [f!, g] : [g];
  // Parameterized activations (HardSigmoid, Affine, Elu) go through the Scan lowering, so that no
  // runtime's reading of activation_alpha/beta can differ.
  if (list.some((a) => a.alpha !== undefined)) return null;
  return { activations: list.map((a) => a.name) };
}

function lowerWithOnnxOp(ctx: LoweringContext, call: LayerCall, r: Recurrence, attrs: { activations: string[] }): LayerLowered {
  const g = ctx.graph;
  const layer = call.layer;
  const { op } = ONNX_OPS[r.kind];
  const u = r.units;
  const x = call.inputs[0];
  const weights = onnxWeights(ctx, layer, r, x.shape[2] as number);
  // ONNX's layout 0: (steps, batch, features).
  const xs = transpose(g, r.goBackwards ? reverse(g, x.name, 1) : x.name, [1, 0, 2]);
  const initial = call.inputs.slice(1).map((s) => unsqueeze(g, s.name, [0]));
  const inputs = [xs, weights.w, weights.r, weights.b, '', initial[0] ?? ''];
  if (r.kind === 'LSTMCell') inputs.push(initial[1] ?? '');
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const outCount = r.kind === 'LSTMCell' ? 3 : 2;
  const attributes: Record<string, unknown> = { hidden_size: u, ...attrs };
  if (r.kind === 'GRUCell') attributes.linear_before_reset = r.resetAfter ? 1 : 0;
  const [y, yh, yc] = g.opN(op, inputs, outCount, attributes as Record<string, never>);
  // Y (steps, 1, batch, units) is in processing order, which is what Keras returns with go_backwards too.
  const output = r.returnSequences ? transpose(g, squeeze(g, y, [1]), [1, 0, 2]) : squeeze(g, yh, [0]);
  const states = r.kind === 'LSTMCell' ? [squeeze(g, yh, [0]), squeeze(g, yc, [0])] : [squeeze(g, yh, [0])];
  return finish(call, r, output, states);
}

/** The ONNX op's W, R and B inputs for a layer: kernels transposed and gates reordered when written. */
function onnxWeights(ctx: LoweringContext, layer: tf.layers.Layer, r: Recurrence, features: number): { w: string; r: string; b: string } {
  const { order } = ONNX_OPS[r.kind];
  const gates = GATES[r.kind];
  const u = r.units;
  return {
    w: ctx.weight(layer, 0, { dims: [1, gates * u, features], transform: onnxKernel(order, u), suffix: 'onnx' }).name,
    r: ctx.weight(layer, 1, { dims: [1, gates * u, u], transform: onnxKernel(order, u), suffix: 'onnx' }).name,
    b: r.useBias ? ctx.weight(layer, 2, { dims: [1, 2 * gates * u], transform: onnxBias(order, u, r.resetAfter), suffix: 'onnx' }).name : '',
  };
}

/** Configs that differ only in name and direction. */
function sameRecurrence(a: Recurrence, b: Recurrence): boolean {
  const key = (r: Recurrence) => JSON.stringify([r.kind, r.units, r.activation, r.recurrentActivation, r.useBias, r.resetAfter, r.returnSequences, r.returnState]);
  return key(a) === key(b);
}

/**
 * Keras's Bidirectional over a forward and a backward recurrent layer of the same config, without a mask
 * or initial states, as one ONNX op with `direction: bidirectional` (onnxruntime runs the two directions
 * together). The reverse direction's outputs are aligned with the input steps, which is the order Keras's
 * Bidirectional puts the backward sequence back into. Null when the layers do not qualify.
 */
export function lowerBidirectionalWithOnnxOp(ctx: LoweringContext, call: LayerCall, forward: tf.layers.Layer, backward: tf.layers.Layer, mergeMode: unknown): LayerLowered | null {
  if (call.inputs.length !== 1 || call.masks[0] != null || !['concat', 'sum', 'ave', 'mul'].includes(String(mergeMode))) return null;
  const known = (l: tf.layers.Layer) => ['LSTMCell', 'GRUCell', 'SimpleRNNCell'].includes((l as unknown as { cell?: tf.layers.Layer }).cell?.getClassName() ?? '');
  if (!known(forward) || !known(backward)) return null;
  const f = recurrence(ctx, forward);
  const b = recurrence(ctx, backward);
  const attrs = onnxActivations(f);
  if (!attrs || !sameRecurrence(f, b) || f.goBackwards || !b.goBackwards || typeof call.inputs[0].shape[2] !== 'number') return null;
  const g = ctx.graph;
  const x = call.inputs[0];
  const features = x.shape[2] as number;
  const fw = onnxWeights(ctx, forward, f, features);
  const bw = onnxWeights(ctx, backward, b, features);
  const both = (a: string, c: string) => (a === '' ? '' : g.op('Concat', [a, c], { axis: 0 }));
  const inputs = [transpose(g, x.name, [1, 0, 2]), both(fw.w, bw.w), both(fw.r, bw.r), both(fw.b, bw.b)];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const attributes: Record<string, unknown> = { hidden_size: f.units, direction: 'bidirectional', activations: [...attrs.activations, ...attrs.activations] };
  if (f.kind === 'GRUCell') attributes.linear_before_reset = f.resetAfter ? 1 : 0;
  const [y, yh, yc] = g.opN(ONNX_OPS[f.kind].op, inputs, f.kind === 'LSTMCell' ? 3 : 2, attributes as Record<string, never>);
  const u = f.units;
  // Sequences: Y (steps, 2, batch, units) → (batch, steps, 2, units); last outputs: Y_h (2, batch, units) → (batch, 2, units).
  const pair = f.returnSequences ? transpose(g, y, [2, 0, 1, 3]) : transpose(g, yh, [1, 0, 2]);
  const axis = f.returnSequences ? 2 : 1;
  let merged: string;
  if (mergeMode === 'concat') merged = reshape(g, pair, f.returnSequences ? [0, 0, 2 * u] : [0, 2 * u]);
  else if (mergeMode === 'sum') merged = g.op('ReduceSum', [pair, g.ints([axis])], { keepdims: 0 });
  else if (mergeMode === 'ave') merged = g.op('ReduceMean', [pair], { axes: [axis], keepdims: 0 });
  else merged = g.op('ReduceProd', [pair], { axes: [axis], keepdims: 0 });
  const outputs: Value[] = [{ name: merged, dtype: 'float32', shape: call.outputShapes[0] }];
  if (f.returnState) {
    const [hf, hb] = g.opN('Split', [yh, g.ints([1, 1])], 2, { axis: 0 });
    const states = [squeeze(g, hf, [0])];
    const backStates = [squeeze(g, hb, [0])];
    if (f.kind === 'LSTMCell') {
      const [cf, cb] = g.opN('Split', [yc, g.ints([1, 1])], 2, { axis: 0 });
      states.push(squeeze(g, cf, [0]));
      backStates.push(squeeze(g, cb, [0]));
    }
    [...states, ...backStates].forEach((name, i) => outputs.push({ name, dtype: 'float32', shape: call.outputShapes[i + 1] }));
  }
  return { outputs, masks: outputs.map(() => null) };
}

function finish(call: LayerCall, r: Recurrence, output: string, states: string[]): LayerLowered {
  const outputs: Value[] = [{ name: output, dtype: 'float32', shape: call.outputShapes[0] }];
  if (r.returnState) states.forEach((s, i) => outputs.push({ name: s, dtype: 'float32', shape: call.outputShapes[i + 1] }));
  const mask = r.returnSequences ? (call.masks[0] ?? null) : null;
  return { outputs, masks: outputs.map((_, i) => (i === 0 ? mask : null)) };
}

// ---------------------------------------------------------------------------------------------------------
// Scan.

export interface StepIo {
  body: Graph;
  xk: string;
  states: string[];
}

function act(ctx: LoweringContext, layer: tf.layers.Layer, body: Graph, value: unknown, x: string, what: string): string {
  const y = lowerActivation(body, value, x, 'keras3');
  if (y == null) return ctx.unsupported(layer, `${what} ${JSON.stringify(value)} has no ONNX lowering`);
  return y;
}

/** One step of the cell on a projected input: [output, ...new states], as src/layers/recurrent.ts computes it. */
export function cellStep(ctx: LoweringContext, layer: tf.layers.Layer, r: Recurrence, io: StepIo, recurrent: string, recurrentBias: string | null, uh: string | null): string[] {
  const b = io.body;
  const u = r.units;
  const split = (v: string, n: number) => b.opN('Split', [v, b.ints(new Array<number>(n).fill(u))], n, { axis: -1 });
  const rec = (v: string) => act(ctx, layer, b, r.recurrentActivation, v, 'recurrent_activation');
  const main = (v: string) => act(ctx, layer, b, r.activation, v, 'activation');
  const [h] = io.states;
  if (r.kind === 'LSTMCell') {
    const c = io.states[1];
    const z = b.op('Add', [io.xk, b.op('MatMul', [h, recurrent])]);
    const [z0, z1, z2, z3] = split(z, 4);
    const cNew = b.op('Add', [b.op('Mul', [rec(z1), c]), b.op('Mul', [rec(z0), main(z2)])]);
    const hNew = b.op('Mul', [rec(z3), main(cNew)]);
    return [hNew, hNew, cNew];
  }
  if (r.kind === 'GRUCell') {
    const [xz, xr, xh] = split(io.xk, 3);
    let hh: string;
    let z: string;
    if (r.resetAfter) {
      let inner = b.op('MatMul', [h, recurrent]);
      if (recurrentBias) inner = b.op('Add', [inner, recurrentBias]);
      const [rz, rr, rh] = split(inner, 3);
      z = rec(b.op('Add', [xz, rz]));
      const reset = rec(b.op('Add', [xr, rr]));
      hh = main(b.op('Add', [xh, b.op('Mul', [reset, rh])]));
    } else {
      const [rz, rr] = split(b.op('MatMul', [h, recurrent]), 2);
      z = rec(b.op('Add', [xz, rz]));
      const reset = rec(b.op('Add', [xr, rr]));
      hh = main(b.op('Add', [xh, b.op('MatMul', [b.op('Mul', [reset, h]), uh!])]));
    }
    const hNew = b.op('Add', [b.op('Mul', [z, h]), b.op('Mul', [b.op('Sub', [b.scalar(1), z]), hh])]);
    return [hNew, hNew];
  }
  const hNew = main(b.op('Add', [io.xk, b.op('MatMul', [h, recurrent])]));
  return [hNew, hNew];
}

export interface CellWeights {
  /** (features, gates·units). */
  kernel: string;
  /** Added to the input projection: the bias, or with GRU's reset_after its input row. */
  inputBias: string | null;
  /** (units, gates·units); for GRU without reset_after the z and r columns only. */
  recurrent: string;
  /** GRU with reset_after: the bias's recurrent row. */
  recurrentBias: string | null;
  /** GRU without reset_after: the h columns of the recurrent kernel. */
  uh: string | null;
}

/** The cell's weights of a recurrent layer as `cellStep` takes them (`layer.weights`: kernel, recurrent kernel, bias). */
export function cellWeights(ctx: LoweringContext, layer: tf.layers.Layer, r: Recurrence): CellWeights {
  const g = ctx.graph;
  const u = r.units;
  const kernel = ctx.weight(layer, 0).name;
  const recurrentW = ctx.weight(layer, 1).name;
  const bias = r.useBias ? ctx.weight(layer, 2).name : null;
  let inputBias = bias;
  let recurrentBias: string | null = null;
  if (bias && r.resetAfter) {
    const [inputRow, recurrentRow] = g.opN('Split', [bias, g.ints([1, 1])], 2, { axis: 0 });
    inputBias = squeeze(g, inputRow, [0]);
    recurrentBias = squeeze(g, recurrentRow, [0]);
  }
  let recurrent = recurrentW;
  let uh: string | null = null;
  if (r.kind === 'GRUCell' && !r.resetAfter) [recurrent, uh] = g.opN('Split', [recurrentW, g.ints([2 * u, u])], 2, { axis: 1 });
  return { kernel, inputBias, recurrent, recurrentBias, uh };
}

function lowerWithScan(ctx: LoweringContext, call: LayerCall, r: Recurrence): LayerLowered {
  const g = ctx.graph;
  const layer = call.layer;
  const u = r.units;
  const gates = GATES[r.kind];
  const x = call.inputs[0];
  const mask = call.masks[0] ?? null;
  const w = cellWeights(ctx, layer, r);
  // The input projection for every step at once; GRU with reset_after adds only the input bias here.
  const xk = w.inputBias ? g.op('Add', [g.op('MatMul', [x.name, w.kernel]), w.inputBias]) : g.op('MatMul', [x.name, w.kernel]);
  const { recurrent, recurrentBias, uh } = w;

  const stateCount = STATES[r.kind];
  const initial = call.inputs.length > 1 ? call.inputs.slice(1).map((s) => s.name) : Array.from({ length: stateCount }, () => zeroState(g, x.name, u));
  const keepLast = !r.returnSequences;
  const body = g.subgraph(`${layer.name}_step`);
  const stateInputs = [...initial.map((_, i) => body.fresh(`state_${i}`)), ...(keepLast ? [body.fresh('last_output')] : [])];
  const xkStep = body.fresh('projected_input');
  const maskStep = mask ? body.fresh('step_mask') : null;
  for (const name of stateInputs) body.inputs.push({ name, dtype: 'float32', shape: [null, u] });
  body.inputs.push({ name: xkStep, dtype: 'float32', shape: [null, gates * u] });
  if (maskStep) body.inputs.push({ name: maskStep, dtype: 'bool', shape: [null, 1] });

  const states = stateInputs.slice(0, stateCount);
  let [out, ...next] = cellStep(ctx, layer, r, { body, xk: xkStep, states }, recurrent, recurrentBias, uh);
  if (maskStep) {
    next = next.map((s, i) => body.op('Where', [maskStep, s, states[i]]));
    out = body.op('Where', [maskStep, out, r.zeroOutputForMask ? body.scalar(0) : states[0]]);
  }
  const bodyOutputs = [...next, ...(keepLast ? [out] : []), ...(r.returnSequences ? [out] : [])];
  // A body output must be a value the body makes: pass-throughs get an Identity.
  bodyOutputs.forEach((name, i) => {
    const final = body.op('Identity', [name]);
    body.outputs.push({ name: final, dtype: 'float32', shape: [null, u] });
    bodyOutputs[i] = final;
  });

  const scanInputs = [xk, ...(mask ? [unsqueeze(g, mask.dtype === 'bool' ? mask.name : cast(g, mask.name, 'bool'), [2])] : [])];
  const direction = r.goBackwards ? 1 : 0;
  const scanOutputCount = r.returnSequences ? 1 : 0;
  const results = g.opN('Scan', [...initial, ...(keepLast ? [zeroState(g, x.name, u)] : []), ...scanInputs], stateInputs.length + scanOutputCount, {
    body,
    num_scan_inputs: scanInputs.length,
    scan_input_axes: scanInputs.map(() => 1),
    scan_input_directions: scanInputs.map(() => direction),
    ...(r.returnSequences ? { scan_output_axes: [1] } : {}),
  });
  const finalStates = results.slice(0, stateCount);
  const output = r.returnSequences ? results[results.length - 1] : results[stateCount];
  return finish(call, r, output, finalStates);
}

function lowerRecurrent(ctx: LoweringContext, call: LayerCall): LayerLowered {
  const r = recurrence(ctx, call.layer);
  const expected = 1 + STATES[r.kind];
  if (call.inputs.length !== 1 && call.inputs.length !== expected) {
    return ctx.unsupported(call.layer, `called with ${call.inputs.length} inputs; expected the sequence and optionally ${STATES[r.kind]} initial state(s)`);
  }
  if (typeof call.inputs[0].shape[2] !== 'number') return ctx.unsupported(call.layer, 'the feature size of its input is unknown');
  const attrs = call.masks[0] == null ? onnxActivations(r) : null;
  return attrs ? lowerWithOnnxOp(ctx, call, r, attrs) : lowerWithScan(ctx, call, r);
}

for (const className of ['LSTM', 'GRU', 'SimpleRNN', 'RNN']) registerLowering(className, lowerRecurrent);
