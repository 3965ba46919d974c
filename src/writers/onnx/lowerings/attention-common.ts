/**
 * Pieces the attention lowerings share: positions along an axis (for windows and causal masks computed
 * at run time, so that sequence lengths may stay dynamic), keras-self-attention's penalties (-10000 for
 * keys in the future or masked), and a mask from the list of call masks the way those layers pick it.
 */
import type { Dim, Graph, Value } from '../graph.js';
import { cast, maskAsFloat, squeeze, unsqueeze } from '../ops.js';

/** `[0, 1, ..., n-1]` (int64) for the size of `x` along `axis`. */
export function positions(g: Graph, x: string, axis: number): string {
  const size = g.op('Gather', [g.op('Shape', [x]), g.constant('int64', [axis], [])], { axis: 0 });
  return g.op('Range', [g.constant('int64', [0], []), size, g.constant('int64', [1], [])]);
}

/** Query positions as a column (Tq, 1) and key positions as a row (1, Tk). */
export function positionGrid(g: Graph, query: string, key: string, axis = 1): { rows: string; cols: string } {
  return { rows: unsqueeze(g, positions(g, query, axis), [1]), cols: unsqueeze(g, positions(g, key, axis), [0]) };
}

/** (Tq, Tk) float 1 where the key lies after the query (k > q). */
export function futureKeys(g: Graph, query: string, key: string): string {
  const { rows, cols } = positionGrid(g, query, key);
  return cast(g, g.op('Greater', [cols, rows]), 'float32');
}

/**
 * keras-self-attention's penalties on scores (…, Tq, Tk): minus 10000 where the key is in the future
 * (`historyOnly`) and where the key is masked (a (B, Tk) mask; `headAxes` axes are inserted after the
 * batch for scores with heads).
 */
export function penalize(g: Graph, scores: string, query: string, key: string, historyOnly: boolean, keyMask: Value | null, headAxes = 0): string {
  let e = scores;
  if (historyOnly) e = g.op('Sub', [e, g.op('Mul', [g.scalar(10000), futureKeys(g, query, key)])]);
  if (keyMask != null) {
    const axes = [1, ...Array.from({ length: headAxes }, (_, i) => i + 2)];
    const m = unsqueeze(g, maskAsFloat(g, keyMask), axes);
    e = g.op('Sub', [e, g.op('Mul', [g.scalar(10000), g.op('Sub', [g.scalar(1), m])])]);
  }
  return e;
}

/**
 * The mask a keras-self-attention layer reads from its call's masks: the one at `index`, else the first
 * when fewer were given (a layer called on one tensor gets that tensor's mask).
 */
export function pickMask(masks: (Value | null)[], index: number): Value | null {
  return masks[index] ?? (masks.length <= index ? (masks[0] ?? null) : null);
}

/**
 * Per sample, the (Tq, Tk, units) intermediate of additive scores from this many elements on (or when a
 * length is unknown) is computed one query step at a time: a Scan whose step touches (Tk, B, units), which
 * stays in cache, where the whole (B, Tq, Tk, units) tensor would go through memory three times (add, tanh,
 * matmul).
 */
export const ADDITIVE_SCAN_ELEMENTS = 1 << 16;

/** e[b, t, t'] = tanh(q[b, t] + k[b, t']) · wa, (B, Tq, Tk), from q (B, Tq, units), k (B, Tk, units), wa (units, 1). */
export function additiveScores(g: Graph, q: string, k: string, wa: string, querySteps: Dim, keySteps: Dim, units: number): string {
  if (typeof querySteps === 'number' && typeof keySteps === 'number' && querySteps * keySteps * units < ADDITIVE_SCAN_ELEMENTS) {
    // (B, T, 1, u) + (B, 1, T, u) → tanh → · Wa (u, 1) → (B, T, T).
    const h = g.op('Tanh', [g.op('Add', [unsqueeze(g, q, [2]), unsqueeze(g, k, [1])])]);
    return squeeze(g, g.op('MatMul', [h, wa]), [3]);
  }
  // The keys time-major, (Tk, B, u): a query step (B, u) then broadcasts over the leading axis, so the add
  // runs over contiguous B·u spans (onnxruntime's broadcast over a middle axis is ~1.5x slower here).
  const keys = g.op('Transpose', [k], { perm: [1, 0, 2] });
  const body = g.subgraph('additive_scores');
  const qt = body.fresh('query_step');
  body.inputs.push({ name: qt, dtype: 'float32', shape: [null, units] });
  const et = body.op('MatMul', [body.op('Tanh', [body.op('Add', [qt, keys])]), wa]);
  body.outputs.push({ name: et, dtype: 'float32', shape: [null, null, 1] });
  // Steps stacked first, (Tq, Tk, B, 1), then batch-major once.
  const steps = g.op('Scan', [q], { body, num_scan_inputs: 1, scan_input_axes: [1], scan_output_axes: [0] });
  return squeeze(g, g.op('Transpose', [steps], { perm: [2, 0, 1, 3] }), [3]);
}
