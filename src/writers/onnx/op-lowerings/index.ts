/** ONNX lowerings of indexing (src/runtime/ops/index-ops.ts): `x[key]` as one Slice, gather, take, one_hot. */
import type { Dim, Value } from '../graph.js';
import { type OnnxOpArgs, type OnnxOpValue, isOnnxTensor, registerOpLowering } from '../op-lowering.js';
import { sliceIndices } from '../../../runtime/ops/index-ops.js';

/** Slice's "to the end" bounds: ONNX clamps them to the axis as Python clamps slice bounds. */
const END = 2 ** 53 - 1;

function intOrNone(a: OnnxOpArgs, v: OnnxOpValue, what: string): number | null {
  if (v === null) return null;
  const n = typeof v === 'object' && v !== null && 'value' in v && !Array.isArray((v as { value: unknown }).value) ? (v as { value: unknown }).value : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw a.fail(`${what} must be an integer constant in the ONNX export`);
  return n;
}

/**
 * NumPy's basic indexing: slices (negative bounds and steps) and int indices as one Slice node (ONNX
 * clamps bounds as Python does, so unknown sizes need no arithmetic), int indices then squeezed away,
 * None as new axes; a scalar tensor index is a Gather.
 */
function getItem(a: OnnxOpArgs, x: Value, key: OnnxOpValue[]): Value {
  const g = a.g;
  const ellipses = key.filter((k) => a.isEllipsis(k)).length;
  if (ellipses > 1) throw a.fail('an index can only have a single ellipsis');
  const consuming = key.filter((k) => k !== null && !a.isEllipsis(k)).length;
  const rank = x.shape.length;
  if (consuming > rank) throw a.fail(`too many indices (${consuming}) for a tensor of rank ${rank}`);
  const items = ellipses ? key : [...key, { kind: 'ellipsis' } as OnnxOpValue];
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  const drop: number[] = [];
  const gathers: { axis: number; index: Value }[] = [];
  const newAxes: number[] = [];
  const outShape: Dim[] = [];
  let axis = 0;
  for (const item of items) {
    if (item === null) {
      newAxes.push(outShape.length);
      outShape.push(1);
    } else if (a.isEllipsis(item)) {
      for (let k = 0; k < rank - consuming; k++, axis++) outShape.push(x.shape[axis]);
    } else if (a.isSlice(item)) {
      const n = x.shape[axis];
      const step = intOrNone(a, item.step as OnnxOpValue, 'a slice step') ?? 1;
      if (step === 0) throw a.fail('slice step cannot be zero');
      const start = intOrNone(a, item.start as OnnxOpValue, 'a slice start');
      const stop = intOrNone(a, item.stop as OnnxOpValue, 'a slice stop');
      starts.push(start ?? (step > 0 ? 0 : END));
      ends.push(stop ?? (step > 0 ? END : -END));
      axes.push(axis);
      steps.push(step);
      outShape.push(typeof n === 'number' ? sliceIndices(start, stop, step, n).count : null);
      axis++;
    } else if (isOnnxTensor(item)) {
      gathers.push({ axis, index: item });
      drop.push(axis);
      axis++;
    } else {
      const i = intOrNone(a, item, 'an index');
      const n = x.shape[axis];
      if (i === null) throw a.fail('an index must be an integer');
      if (typeof n === 'number' && (i >= n || i < -n)) throw a.fail(`index ${i} is out of bounds for an axis of length ${n}`);
      starts.push(i);
      ends.push(i === -1 ? END : i + 1);
      axes.push(axis);
      steps.push(1);
      drop.push(axis);
      axis++;
    }
  }
  let y = x.name;
  if (axes.length > 0) y = g.op('Slice', [y, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)]);
  // Tensor indices, from the last axis so the earlier ones keep their positions.
  for (const { axis: at, index } of [...gathers].reverse()) {
    const i = g.op('Reshape', [a.cast(index, 'int32').name, g.ints([1])]);
    y = g.op('Gather', [y, i], { axis: at });
  }
  if (drop.length > 0) y = g.op('Squeeze', [y, g.ints(drop)]);
  if (newAxes.length > 0) y = g.op('Unsqueeze', [y, g.ints(newAxes)]);
  return { name: y, dtype: x.dtype, shape: outShape };
}

registerOpLowering('getitem', (a) => getItem(a, a.tensor('x'), a.index('key')));

registerOpLowering('gather', (a) => {
  const x = a.tensor('params');
  const batchDims = a.int('batch_dims');
  if (batchDims !== 0) throw a.fail('batch_dims other than 0');
  const axis = a.normAxis(a.optInt('axis') ?? 0, x.shape.length);
  const indices = a.tensor('indices', 'int32');
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  return { name: a.g.op('Gather', [x.name, indices.name], { axis }), dtype: x.dtype, shape };
});

registerOpLowering('take', (a) => {
  const [x, ax] = a.alongAxis(a.tensor('x'));
  const indices = a.tensor('indices', 'int32');
  // ONNX's Gather counts negative indices from the end, as NumPy's take does.
  const shape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  return { name: a.g.op('Gather', [x.name, indices.name], { axis: ax }), dtype: x.dtype, shape };
});

registerOpLowering('one_hot', (a) => {
  const indices = a.tensor('indices', 'int32');
  const depth = a.int('depth');
  const on = a.has('on_value') ? a.num('on_value') : 1;
  const off = a.has('off_value') ? a.num('off_value') : 0;
  const type = a.dtype('dtype') ?? 'float32';
  const axis = a.optInt('axis') ?? -1;
  // TensorFlow gives all-off rows for negative indices; ONNX would count them from the end.
  const safe = a.g.op('Where', [a.g.op('Less', [indices.name, a.g.constant('int32', [0], [])]), a.g.constant('int32', [depth], []), indices.name]);
  const y = a.g.op('OneHot', [safe, a.g.constant('int32', [depth], []), a.g.constant('float32', [off, on])], { axis });
  const shape = [...indices.shape];
  shape.splice(axis < 0 ? shape.length + 1 + axis : axis, 0, depth);
  return a.cast({ name: y, dtype: 'float32', shape }, type);
});
