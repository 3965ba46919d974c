/**
 * Keras's merge layers: Add, Multiply, Average, Maximum, Minimum (elementwise, broadcasting), Concatenate
 * and Dot. Masks as Keras merges them: the elementwise layers AND their inputs' masks; Concatenate
 * concatenates them along its axis (an unmasked input counting as all-true) and keeps a step when all of
 * it is kept; Dot gives none.
 */
import type { Graph, Value } from '../graph.js';
import { cast, maskAsBool, shapeSlice, unsqueeze } from '../ops.js';
import { type LayerCall, type LoweringContext, registerLowering } from '../registry.js';

/** The AND of the masks that are present, or null when none is. */
function andMasks(g: Graph, masks: (Value | null)[]): Value | null {
  const present = masks.filter((m): m is Value => m != null);
  if (present.length === 0) return null;
  let out = maskAsBool(g, present[0]);
  for (const m of present.slice(1)) out = g.op('And', [out, maskAsBool(g, m)]);
  return { name: out, dtype: 'bool', shape: present[0].shape };
}

function elementwise(op: string, average = false) {
  return (ctx: LoweringContext, call: LayerCall) => {
    const g = ctx.graph;
    const names = call.inputs.map((v) => v.name);
    let y = names.length === 1 ? names[0] : g.op(op, names);
    if (average) y = g.op('Div', [y, g.scalar(names.length)]);
    return { outputs: [{ name: y, dtype: call.inputs[0].dtype, shape: call.outputShapes[0] }], masks: [andMasks(g, call.masks)] };
  };
}

registerLowering('Add', elementwise('Sum'));
registerLowering('Multiply', elementwise('Mul'));
registerLowering('Average', elementwise('Sum', true));
registerLowering('Maximum', elementwise('Max'));
registerLowering('Minimum', elementwise('Min'));
// Keras's Subtract (two inputs); tfjs has no such class, so only a registered implementation reaches it.
registerLowering('Subtract', (ctx, call) => ({
  outputs: [{ name: ctx.graph.op('Sub', [call.inputs[0].name, call.inputs[1].name]), dtype: call.inputs[0].dtype, shape: call.outputShapes[0] }],
  masks: [andMasks(ctx.graph, call.masks)],
}));

registerLowering('Concatenate', (ctx, call) => {
  const g = ctx.graph;
  const axis = Number(call.layer.getConfig().axis ?? -1);
  const out = { name: g.op('Concat', call.inputs.map((v) => v.name), { axis }), dtype: call.inputs[0].dtype, shape: call.outputShapes[0] };
  if (call.masks.every((m) => m == null)) return { outputs: [out], masks: [null] };
  const full = call.inputs.map((v, i) => {
    const m = call.masks[i];
    const shape = shapeSlice(g, v.name, 0);
    if (m == null) return g.op('Expand', [g.constant('bool', [true], []), shape]);
    const b = maskAsBool(g, m);
    return m.shape.length < v.shape.length ? g.op('Expand', [unsqueeze(g, b, [-1]), shape]) : b;
  });
  const joined = cast(g, g.op('Concat', full, { axis }), 'int32');
  const all = cast(g, g.op('ReduceMin', [joined], { axes: [-1], keepdims: 0 }), 'bool');
  return { outputs: [out], masks: [{ name: all, dtype: 'bool', shape: call.outputShapes[0].slice(0, -1) }] };
});

const LETTERS = 'bcdefghijklmnopqrstuvwxyz';

/** Keras's `batch_dot` of two tensors over one axis each (never the batch axis), via Einsum. */
registerLowering('Dot', (ctx, call) => {
  const g = ctx.graph;
  const config = call.layer.getConfig();
  const [x, y] = call.inputs;
  if (call.inputs.length !== 2) return ctx.unsupported(call.layer, `Dot takes two inputs, got ${call.inputs.length}`);
  const given = Array.isArray(config.axes) ? (config.axes as number[]) : [Number(config.axes), Number(config.axes)];
  const axes = given.map((a, i) => (a < 0 ? a + call.inputs[i].shape.length : a));
  if (axes.some((a) => a <= 0)) return ctx.unsupported(call.layer, `axes ${JSON.stringify(config.axes)} include the batch axis`);
  const operands = [x.name, y.name].map((name, i) => {
    if (config.normalize !== true) return name;
    const sumSq = g.op('ReduceSumSquare', [name], { axes: [axes[i]], keepdims: 1 });
    return g.op('Div', [name, g.op('Sqrt', [g.op('Max', [sumSq, g.scalar(1e-12)])])]);
  });
  let next = 0;
  const shared = 'z';
  const xs = x.shape.map((_, i) => (i === 0 ? 'a' : i === axes[0] ? shared : LETTERS[next++]));
  const ys = y.shape.map((_, i) => (i === 0 ? 'a' : i === axes[1] ? shared : LETTERS[next++]));
  const outLetters = [...xs, ...ys].filter((l, i, all) => l !== shared && (l !== 'a' || all.indexOf('a') === i));
  let out = g.op('Einsum', operands, { equation: `${xs.join('')},${ys.join('')}->${outLetters.join('')}` });
  // batch_dot of two vectors per sample gives (batch, 1).
  if (outLetters.length === 1) out = unsqueeze(g, out, [1]);
  return { outputs: [{ name: out, dtype: 'float32', shape: call.outputShapes[0] }], masks: [null] };
});
