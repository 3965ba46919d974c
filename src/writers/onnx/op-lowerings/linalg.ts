/** ONNX lowerings of the products (src/runtime/ops/linalg.ts, keras-backend.ts): matmul, einsum, dot, batch_dot. */
import type { Value } from '../graph.js';
import { type OnnxOpArgs, broadcastDims, registerOpLowering } from '../op-lowering.js';

function lastTwoSwapped(a: OnnxOpArgs, x: Value): Value {
  const r = x.shape.length;
  const perm = [...x.shape.keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return { name: a.g.op('Transpose', [x.name], { perm }), dtype: x.dtype, shape: perm.map((p) => x.shape[p]) };
}

registerOpLowering('matmul', (a) => {
  let [x, y] = a.pair('a', 'b');
  if (x.dtype === 'bool') [x, y] = [a.cast(x, 'float32'), a.cast(y, 'float32')];
  if ((a.bool('transpose_a') && a.bool('adjoint_a')) || (a.bool('transpose_b') && a.bool('adjoint_b'))) throw a.fail('transpose and adjoint of the same operand cannot both be set');
  if (x.shape.length === 0 || y.shape.length === 0) throw a.fail('matmul needs operands of rank 1 or more');
  if ((a.bool('transpose_a') || a.bool('adjoint_a')) && x.shape.length > 1) x = lastTwoSwapped(a, x);
  if ((a.bool('transpose_b') || a.bool('adjoint_b')) && y.shape.length > 1) y = lastTwoSwapped(a, y);
  // ONNX's MatMul is NumPy's matmul: 1-D operands as vectors, batch axes broadcast.
  const batch = broadcastDims(x.shape.slice(0, -2), y.shape.slice(0, -2));
  const shape = [...batch, ...(x.shape.length > 1 ? [x.shape[x.shape.length - 2]] : []), ...(y.shape.length > 1 ? [y.shape[y.shape.length - 1]] : [])];
  return { name: a.g.op('MatMul', [x.name, y.name]), dtype: x.dtype, shape };
});

registerOpLowering('einsum', (a) => {
  const eq = a.str('equation');
  if (eq === null) throw a.fail('equation is required');
  const ops = a.tensors('operands');
  const out = eq.includes('->') ? eq.split('->')[1].trim() : '';
  return { name: a.g.op('Einsum', ops.map((o) => o.name), { equation: eq.replace(/\s+/g, '') }), dtype: ops[0].dtype, shape: new Array(out.length).fill(null) };
});

registerOpLowering('dot', (a) => {
  let [x, y] = a.pair('x', 'y');
  if (x.dtype === 'bool') [x, y] = [a.cast(x, 'float32'), a.cast(y, 'float32')];
  const g = a.g;
  if (x.shape.length === 0 || y.shape.length === 0) return { name: g.op('Mul', [x.name, y.name]), dtype: x.dtype, shape: broadcastDims(x.shape, y.shape) };
  if (y.shape.length === 1) return { name: g.op('ReduceSum', [g.op('Mul', [x.name, y.name]), g.ints([-1])], { keepdims: 0 }), dtype: x.dtype, shape: x.shape.slice(0, -1) };
  // x's last axis with y's second-to-last, every other axis of y kept (NumPy's dot, not matmul's broadcasting).
  const letters = 'abcdefghijklmnopqrstuvwxy';
  const xs = letters.slice(0, x.shape.length - 1) + 'z';
  const yAxes = [...y.shape.keys()].map((i) => (i === y.shape.length - 2 ? 'z' : letters[x.shape.length - 1 + i]));
  const outLetters = xs.slice(0, -1) + yAxes.filter((l) => l !== 'z').join('');
  const shape = [...x.shape.slice(0, -1), ...y.shape.filter((_, i) => i !== y.shape.length - 2)];
  return { name: g.op('Einsum', [x.name, y.name], { equation: `${xs},${yAxes.join('')}->${outLetters}` }), dtype: x.dtype, shape };
});

registerOpLowering('batch_dot', (a) => {
  let [x, y] = a.pair('x', 'y');
  [x, y] = [a.cast(x, 'float32'), a.cast(y, 'float32')];
  const rx = x.shape.length;
  const ry = y.shape.length;
  if (rx < 2 || ry < 2) throw a.fail('batch_dot needs tensors of rank 2 or more');
  let axes = a.has('axes') ? a.ints('axes') : [rx - 1, ry === 2 ? 1 : ry - 2];
  if (axes.length === 1) axes = [axes[0], axes[0]];
  if (axes.length !== 2) throw a.fail('axes must be one int or two');
  const ax = a.normAxis(axes[0], rx);
  const ay = a.normAxis(axes[1], ry);
  if (ax === 0 || ay === 0) throw a.fail('batch_dot cannot contract the batch axis');
  const letters = 'bcdefghijklmnopqrstuvwxy';
  let next = 0;
  const xl = [...x.shape.keys()].map((i) => (i === 0 ? 'a' : i === ax ? 'z' : letters[next++]));
  const yl = [...y.shape.keys()].map((i) => (i === 0 ? 'a' : i === ay ? 'z' : letters[next++]));
  const rest = [...xl.slice(1), ...yl.slice(1)].filter((l) => l !== 'z');
  let y2 = a.g.op('Einsum', [x.name, y.name], { equation: `${xl.join('')},${yl.join('')}->a${rest.join('')}` });
  const restShape = [...x.shape.filter((_, i) => i !== 0 && i !== ax), ...y.shape.filter((_, i) => i !== 0 && i !== ay)];
  // 2-D by 2-D gives (batch, 1).
  if (rest.length === 0) y2 = a.g.op('Unsqueeze', [y2, a.g.ints([1])]);
  return { name: y2, dtype: 'float32', shape: rest.length === 0 ? [x.shape[0], 1] : [x.shape[0], ...restShape] };
});
