/** ONNX lowerings of the ops along axes (src/runtime/ops/reduce.ts): reductions, arg-max/min, cumulative sums, softmaxes. */
import { reducedAxes } from '../../../runtime/ops/spec.js';
import type { Dim, Value } from '../graph.js';
import { type OnnxOpArgs, registerOpLowering } from '../op-lowering.js';

function reducedShape(shape: Dim[], axes: number[] | null, keepdims: boolean): Dim[] {
  const all = axes ?? shape.map((_, i) => i);
  return keepdims ? shape.map((d, i) => (all.includes(i) ? 1 : d)) : shape.filter((_, i) => !all.includes(i));
}

/** A Reduce* node over `axes` (all when null); ReduceSum takes its axes as an input in opset 13+. */
function reduce(a: OnnxOpArgs, type: string, x: Value, axes: number[] | null, keepdims: boolean): string {
  const all = axes ?? x.shape.map((_, i) => i);
  if (type === 'ReduceSum') return a.g.op(type, [x.name, a.g.ints(all)], { keepdims: keepdims ? 1 : 0 });
  return a.g.op(type, [x.name], { axes: all, keepdims: keepdims ? 1 : 0 });
}

function reduction(name: string, type: string, input: 'float' | 'same' | 'bool' | 'count' = 'same', output?: 'bool'): void {
  registerOpLowering(name, (a) => {
    let x = a.tensor('x');
    const axes = reducedAxes(a, 'axis', x.shape.length);
    const keepdims = a.bool('keepdims');
    if (axes !== null && axes.length === 0) return x;
    if (input === 'float') x = a.cast(x, 'float32');
    if (input === 'count' && x.dtype === 'bool') x = a.cast(x, 'int32');
    // any/all as max/min of 0/1.
    if (input === 'bool') x = a.cast(a.cast(x, 'bool'), 'int32');
    let y = reduce(a, type, x, axes, keepdims);
    if (output === 'bool') y = a.cast({ name: y, dtype: 'int32', shape: [] }, 'bool').name;
    return { name: y, dtype: output ?? x.dtype, shape: reducedShape(x.shape, axes, keepdims) };
  });
}

reduction('reduce_sum', 'ReduceSum', 'count');
reduction('reduce_mean', 'ReduceMean', 'float');
reduction('reduce_max', 'ReduceMax');
reduction('reduce_min', 'ReduceMin');
reduction('reduce_prod', 'ReduceProd');
reduction('reduce_any', 'ReduceMax', 'bool', 'bool');
reduction('reduce_all', 'ReduceMin', 'bool', 'bool');
reduction('reduce_logsumexp', 'ReduceLogSumExp', 'float');

for (const [name, root] of [['reduce_variance', false], ['reduce_std', true]] as const) {
  registerOpLowering(name, (a) => {
    const x = a.cast(a.tensor('x'), 'float32');
    const axes = reducedAxes(a, 'axis', x.shape.length);
    const keepdims = a.bool('keepdims');
    const all = axes ?? x.shape.map((_, i) => i);
    const mean = a.g.op('ReduceMean', [x.name], { axes: all, keepdims: 1 });
    const d = a.g.op('Sub', [x.name, mean]);
    let y = a.g.op('ReduceMean', [a.g.op('Mul', [d, d])], { axes: all, keepdims: keepdims ? 1 : 0 });
    if (root) y = a.g.op('Sqrt', [y]);
    return { name: y, dtype: 'float32', shape: reducedShape(x.shape, axes, keepdims) };
  });
}

for (const [name, type] of [['argmax', 'ArgMax'], ['argmin', 'ArgMin']] as const) {
  registerOpLowering(name, (a) => {
    let x = a.tensor('x');
    if (x.dtype === 'bool') x = a.cast(x, 'int32');
    const axis = a.optInt('axis');
    const keepdims = a.bool('keepdims');
    if (axis === null) {
      // NumPy: the index into the flattened array.
      const flat = a.g.op('Reshape', [x.name, a.g.ints([-1])]);
      let r = a.g.op(type, [flat], { axis: 0, keepdims: 0, select_last_index: 0 });
      if (keepdims) r = a.g.op('Reshape', [r, a.g.ints(x.shape.map(() => 1))]);
      return a.cast({ name: r, dtype: 'int64', shape: keepdims ? x.shape.map(() => 1) : [] }, 'int32');
    }
    const ax = a.normAxis(axis, x.shape.length);
    const r = a.g.op(type, [x.name], { axis: ax, keepdims: keepdims ? 1 : 0, select_last_index: 0 });
    return a.cast({ name: r, dtype: 'int64', shape: reducedShape(x.shape, [ax], keepdims) }, 'int32');
  });
}

for (const [name, cumulativeProduct] of [['cumsum', false], ['cumprod', true]] as const) {
  registerOpLowering(name, (a) => {
    const [x, ax] = a.alongAxis(a.tensor('x'));
    const attrs = { exclusive: a.bool('exclusive') ? 1 : 0, reverse: a.bool('reverse') ? 1 : 0 };
    if (!cumulativeProduct) return { name: a.g.op('CumSum', [x.name, a.g.ints([ax])], attrs), dtype: x.dtype, shape: x.shape };
    // ONNX has no cumulative product: a Scan along the axis carrying the running product (exact, as
    // tfjs's), started from ones of the shape the other axes have; reverse scans backwards.
    const g = a.g;
    const rest = x.shape.filter((_, i) => i !== ax);
    const others = g.op('Gather', [g.op('Shape', [x.name]), g.ints(x.shape.map((_, i) => i).filter((i) => i !== ax))]);
    const ones = g.op('Expand', [a.constant(1, x.dtype as 'float32')!.name, others]);
    const body = g.subgraph('cumprod');
    const [carry, step] = [body.fresh('product'), body.fresh('step')];
    body.inputs.push({ name: carry, dtype: x.dtype, shape: rest }, { name: step, dtype: x.dtype, shape: rest });
    const next = body.op('Mul', [carry, step]);
    body.outputs.push({ name: next, dtype: x.dtype, shape: rest }, { name: body.op('Identity', [attrs.exclusive ? carry : next]), dtype: x.dtype, shape: rest });
    const dir = [attrs.reverse];
    const [, out] = g.opN('Scan', [ones, x.name], 2, { body, num_scan_inputs: 1, scan_input_axes: [ax], scan_output_axes: [ax], scan_input_directions: dir, scan_output_directions: dir });
    return { name: out, dtype: x.dtype, shape: x.shape };
  });
}

/** exp(x - max) / sum over the axes; ONNX's Softmax when it is one axis. */
function softmaxOver(a: OnnxOpArgs, x: Value, axes: number[]): string {
  if (axes.length === 1) return a.g.op('Softmax', [x.name], { axis: axes[0] });
  const e = a.g.op('Exp', [a.g.op('Sub', [x.name, a.g.op('ReduceMax', [x.name], { axes, keepdims: 1 })])]);
  return a.g.op('Div', [e, a.g.op('ReduceSum', [e, a.g.ints(axes)], { keepdims: 1 })]);
}

registerOpLowering('softmax', (a) => {
  const x = a.cast(a.tensor('x'), 'float32');
  return { name: softmaxOver(a, x, reducedAxes(a, 'axis', x.shape.length) ?? [x.shape.length - 1]), dtype: 'float32', shape: x.shape };
});
registerOpLowering('log_softmax', (a) => {
  const x = a.cast(a.tensor('x'), 'float32');
  const axes = reducedAxes(a, 'axis', x.shape.length) ?? [x.shape.length - 1];
  const y = axes.length === 1 ? a.g.op('LogSoftmax', [x.name], { axis: axes[0] }) : a.g.op('Sub', [x.name, a.g.op('ReduceLogSumExp', [x.name], { axes, keepdims: 1 })]);
  return { name: y, dtype: 'float32', shape: x.shape };
});
registerOpLowering('l2_normalize', (a) => {
  const x = a.cast(a.tensor('x'), 'float32');
  const axes = reducedAxes(a, 'axis', x.shape.length) ?? x.shape.map((_, i) => i);
  const sum = a.g.op('ReduceSum', [a.g.op('Mul', [x.name, x.name]), a.g.ints(axes)], { keepdims: 1 });
  const y = a.g.op('Mul', [x.name, a.g.op('Reciprocal', [a.g.op('Sqrt', [a.g.op('Max', [sum, a.g.scalar(a.num('epsilon'))])])])]);
  return { name: y, dtype: 'float32', shape: x.shape };
});
