/**
 * Keras 1 / 2.0's legacy `Merge` (src/layers/merge.ts): `sum`, `mul`, `ave`, `max` elementwise, `concat`
 * along `concat_axis`, `dot` (batch_dot over `dot_axes`) and `cos` (cosine of two 2-D inputs, with the new
 * axis 1 Keras's code leaves). Masks as Keras's `compute_mask`: elementwise modes AND them, `concat` joins
 * them along its axis (an unmasked input counting as all-true; joining features keeps the steps), `dot`
 * and `cos` give none.
 */
import type { Graph, Value } from '../graph.js';
import { maskAsBool, shapeSlice, transpose } from '../ops.js';
import { registerLowering } from '../registry.js';

const EPSILON = 1e-7;

/** Keras's batch_dot of two 2-D (→ (batch, 1)) or 3-D inputs over axes `a`, `b` (non-negative). */
function batchDot(g: Graph, x: Value, y: Value, [a, b]: [number, number]): string {
  if (x.shape.length === 2) return g.op('ReduceSum', [g.op('Mul', [x.name, y.name]), g.ints([1])], { keepdims: 1 });
  return g.op('MatMul', [a === 1 ? transpose(g, x.name, [0, 2, 1]) : x.name, b === 2 ? transpose(g, y.name, [0, 2, 1]) : y.name]);
}

registerLowering('Merge', (ctx, call) => {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  const mode = String(c.mode);
  const xs = call.inputs;
  const rank = xs[0].shape.length;
  const given = c.dotAxes ?? -1;
  const [da, db] = Array.isArray(given) ? (given as number[]) : [Number(given), Number(given)];
  const axes: [number, number] = [da < 0 ? da + rank : da, db < 0 ? db + xs[1]?.shape.length : db];
  const concatAxis = Number(c.concatAxis ?? -1);
  let y: string;
  switch (mode) {
    case 'sum':
    case 'ave':
      y = xs.length === 1 ? xs[0].name : g.op('Sum', xs.map((x) => x.name));
      if (mode === 'ave') y = g.op('Div', [y, g.scalar(xs.length)]);
      break;
    case 'mul':
      y = xs.slice(1).reduce((acc, x) => g.op('Mul', [acc, x.name]), xs[0].name);
      break;
    case 'max':
      y = xs.length === 1 ? xs[0].name : g.op('Max', xs.map((x) => x.name));
      break;
    case 'concat':
      y = g.op('Concat', xs.map((x) => x.name), { axis: concatAxis });
      break;
    case 'dot':
      y = batchDot(g, xs[0], xs[1], axes);
      break;
    case 'cos': {
      const [x, z] = xs;
      const denominator = g.op('Max', [g.op('Sqrt', [g.op('Mul', [batchDot(g, x, x, axes), batchDot(g, z, z, axes)])]), g.scalar(EPSILON)]);
      y = g.op('Unsqueeze', [g.op('Div', [batchDot(g, x, z, axes), denominator]), g.ints([1])]);
      break;
    }
    default:
      return ctx.unsupported(call.layer, `mode ${JSON.stringify(c.mode)}`);
  }
  const out: Value = { name: y, dtype: 'float32', shape: call.outputShapes[0] };
  if (call.masks.every((m) => m == null) || mode === 'dot' || mode === 'cos') return { outputs: [out], masks: [null] };
  // Each mask, or all-true over an unmasked input's axes but the last.
  const full = xs.map((x, i) => {
    const m = call.masks[i];
    return m ? maskAsBool(g, m) : g.op('Expand', [g.constant('bool', [true], []), shapeSlice(g, x.name, 0, -1)]);
  });
  const axis = concatAxis < 0 ? rank + concatAxis : concatAxis;
  const mask =
    mode === 'concat' && axis !== rank - 1 ? g.op('Concat', full, { axis }) : full.slice(1).reduce((acc, m) => g.op('And', [acc, m]), full[0]);
  return { outputs: [out], masks: [{ name: mask, dtype: 'bool', shape: call.outputShapes[0].slice(0, -1) }] };
});
