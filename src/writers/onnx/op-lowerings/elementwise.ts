/** ONNX lowerings of the elementwise ops (src/runtime/ops/elementwise.ts): the same dtype rules, the same formulas. */
import { type Value, float } from '../graph.js';
import { type OnnxOpArgs, broadcastDims, registerOpLowering } from '../op-lowering.js';

function binary(name: string, build: (a: OnnxOpArgs, x: Value, y: Value) => string, type?: 'bool' | 'float32'): void {
  registerOpLowering(name, (a) => {
    let [x, y] = a.pair('x', 'y');
    if (type === 'float32') [x, y] = [a.cast(x, 'float32'), a.cast(y, 'float32')];
    return { name: build(a, x, y), dtype: type === 'bool' ? 'bool' : x.dtype, shape: broadcastDims(x.shape, y.shape) };
  });
}

function unary(name: string, build: (a: OnnxOpArgs, x: Value) => string, opts: { float?: boolean; bool?: 'in' | 'out' | 'both' } = {}): void {
  registerOpLowering(name, (a) => {
    let x = a.tensor('x');
    if (opts.float) x = a.cast(x, 'float32');
    if (opts.bool === 'in' || opts.bool === 'both') x = a.cast(x, 'bool');
    return { name: build(a, x), dtype: opts.bool === 'out' || opts.bool === 'both' ? 'bool' : x.dtype, shape: x.shape };
  });
}

const op = (type: string) => (a: OnnxOpArgs, x: Value, y: Value) => a.g.op(type, [x.name, y.name]);
const op1 = (type: string) => (a: OnnxOpArgs, x: Value) => a.g.op(type, [x.name]);

binary('add', op('Add'));
binary('subtract', op('Sub'));
binary('multiply', op('Mul'));
binary('divide', op('Div'), 'float32');
binary('pow', op('Pow'));
binary('maximum', op('Max'));
binary('minimum', op('Min'));
binary('squared_difference', (a, x, y) => {
  const d = a.g.op('Sub', [x.name, y.name]);
  return a.g.op('Mul', [d, d]);
});
binary('floor_divide', (a, x, y) => {
  // Python's floor division; on integers through floats, as exact for int32 operands below 2^24.
  const q = a.g.op('Floor', [a.g.op('Div', [a.cast(x, 'float32').name, a.cast(y, 'float32').name])]);
  return x.dtype === 'float32' ? q : a.cast({ name: q, dtype: 'float32', shape: x.shape }, x.dtype).name;
});
binary('floor_mod', (a, x, y) => {
  // x - floor(x / y) * y: the sign of y, as Python's %.
  if (x.dtype !== 'float32') return a.g.op('Mod', [x.name, y.name], { fmod: 0 });
  return a.g.op('Sub', [x.name, a.g.op('Mul', [a.g.op('Floor', [a.g.op('Div', [x.name, y.name])]), y.name])]);
});
binary('divide_no_nan', (a, x, y) => {
  const zero = a.g.op('Equal', [y.name, a.g.scalar(0)]);
  const safe = a.g.op('Where', [zero, a.g.scalar(1), y.name]);
  return a.g.op('Where', [zero, a.g.scalar(0), a.g.op('Div', [x.name, safe])]);
}, 'float32');
registerOpLowering('atan2', (a) => {
  // ONNX has no Atan2: atan(y / x), moved by ±pi where x < 0 (the sign of y picks which), 0 where both are 0.
  const [y, x] = a.pair('y', 'x').map((v) => a.cast(v, 'float32'));
  const g = a.g;
  const q = g.op('Atan', [g.op('Div', [y.name, x.name])]);
  const turn = g.op('Where', [g.op('GreaterOrEqual', [y.name, g.scalar(0)]), g.scalar(Math.PI), g.scalar(-Math.PI)]);
  const r = g.op('Where', [g.op('Less', [x.name, g.scalar(0)]), g.op('Add', [q, turn]), q]);
  const origin = g.op('And', [g.op('Equal', [x.name, g.scalar(0)]), g.op('Equal', [y.name, g.scalar(0)])]);
  return { name: g.op('Where', [origin, g.scalar(0), r]), dtype: 'float32', shape: broadcastDims(y.shape, x.shape) };
});
binary('equal', op('Equal'), 'bool');
binary('not_equal', (a, x, y) => a.g.op('Not', [a.g.op('Equal', [x.name, y.name])]), 'bool');
binary('less', op('Less'), 'bool');
binary('less_equal', op('LessOrEqual'), 'bool');
binary('greater', op('Greater'), 'bool');
binary('greater_equal', op('GreaterOrEqual'), 'bool');
for (const [name, type] of [['logical_and', 'And'], ['logical_or', 'Or'], ['logical_xor', 'Xor']] as const) {
  registerOpLowering(name, (a) => {
    const [x, y] = a.pair('x', 'y').map((v) => a.cast(v, 'bool'));
    return { name: a.g.op(type, [x.name, y.name]), dtype: 'bool', shape: broadcastDims(x.shape, y.shape) };
  });
}

registerOpLowering('add_n', (a) => {
  const xs = a.tensors('inputs');
  return { name: xs.length === 1 ? xs[0].name : a.g.op('Sum', xs.map((x) => x.name)), dtype: xs[0].dtype, shape: xs[0].shape };
});
registerOpLowering('bias_add', (a) => {
  const value = a.tensor('value');
  const bias = a.tensor('bias', value.dtype as 'float32');
  const fmt = a.str('data_format');
  const b = fmt === null || !fmt.startsWith('NC') ? bias.name : a.g.op('Reshape', [bias.name, a.g.ints([-1, ...new Array<number>(Math.max(0, value.shape.length - 2)).fill(1)])]);
  return { name: a.g.op('Add', [value.name, b]), dtype: value.dtype, shape: value.shape };
});
registerOpLowering('where', (a) => {
  if (!a.has('x') || !a.has('y')) throw a.fail('the form with only a condition (indices of true values) is not supported');
  const cond = a.cast(a.tensor('condition'), 'bool');
  const [x, y] = a.pair('x', 'y');
  return { name: a.g.op('Where', [cond.name, x.name, y.name]), dtype: x.dtype, shape: broadcastDims(broadcastDims(cond.shape, x.shape), y.shape) };
});
registerOpLowering('clip', (a) => {
  let x = a.tensor('x');
  if (a.has('min')) x = { ...x, name: a.g.op('Max', [x.name, a.tensor('min', x.dtype as 'float32').name]) };
  if (a.has('max')) x = { ...x, name: a.g.op('Min', [x.name, a.tensor('max', x.dtype as 'float32').name]) };
  return x;
});
registerOpLowering('cast', (a) => {
  const to = a.dtype('dtype')!;
  const x = a.tensor('x');
  // float to int truncates toward zero (ONNX Cast, as TensorFlow); bool is x != 0.
  if (to === 'bool') return { name: a.g.op('Not', [a.g.op('Equal', [x.name, a.constant(0, x.dtype as 'float32')!.name])]), dtype: 'bool', shape: x.shape };
  return a.cast(x, to);
});

unary('negative', op1('Neg'));
unary('abs', op1('Abs'));
unary('sign', op1('Sign'));
unary('square', (a, x) => a.g.op('Mul', [x.name, x.name]));
unary('sqrt', op1('Sqrt'), { float: true });
unary('rsqrt', (a, x) => a.g.op('Reciprocal', [a.g.op('Sqrt', [x.name])]), { float: true });
unary('reciprocal', op1('Reciprocal'), { float: true });
unary('exp', op1('Exp'), { float: true });
unary('expm1', (a, x) => a.g.op('Sub', [a.g.op('Exp', [x.name]), a.g.scalar(1)]), { float: true });
unary('log', op1('Log'), { float: true });
unary('log1p', (a, x) => a.g.op('Log', [a.g.op('Add', [x.name, a.g.scalar(1)])]), { float: true });
for (const [name, type] of [
  ['sin', 'Sin'], ['cos', 'Cos'], ['tan', 'Tan'], ['asin', 'Asin'], ['acos', 'Acos'], ['atan', 'Atan'], ['sinh', 'Sinh'], ['cosh', 'Cosh'],
  ['tanh', 'Tanh'], ['asinh', 'Asinh'], ['acosh', 'Acosh'], ['atanh', 'Atanh'], ['erf', 'Erf'], ['floor', 'Floor'], ['ceil', 'Ceil'], ['round', 'Round'],
  ['sigmoid', 'Sigmoid'], ['softplus', 'Softplus'], ['softsign', 'Softsign'], ['selu', 'Selu'],
] as const) {
  unary(name, op1(type), { float: true });
}
unary('logical_not', op1('Not'), { bool: 'both' });
unary('is_nan', op1('IsNaN'), { float: true, bool: 'out' });
unary('is_inf', op1('IsInf'), { float: true, bool: 'out' });
unary('is_finite', (a, x) => a.g.op('Not', [a.g.op('Or', [a.g.op('IsNaN', [x.name]), a.g.op('IsInf', [x.name])])]), { float: true, bool: 'out' });
unary('identity', op1('Identity'));
unary('relu', op1('Relu'));
unary('relu6', (a, x) => a.g.op('Clip', [x.name, a.constant(0, x.dtype as 'float32')!.name, a.constant(6, x.dtype as 'float32')!.name]));
unary('log_sigmoid', (a, x) => a.g.op('Neg', [a.g.op('Softplus', [a.g.op('Neg', [x.name])])]), { float: true });
// Keras 3's relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1); Keras 1/2's clip(0.2 x + 0.5, 0, 1).
unary('hard_sigmoid', (a, x) => a.g.op('HardSigmoid', [x.name], { alpha: float(1 / 6), beta: float(0.5) }), { float: true });
unary('hard_sigmoid_keras2', (a, x) => a.g.op('HardSigmoid', [x.name], { alpha: float(0.2), beta: float(0.5) }), { float: true });
unary('silu', (a, x) => {
  const beta = a.num('beta');
  return a.g.op('Mul', [x.name, a.g.op('Sigmoid', [beta === 1 ? x.name : a.g.op('Mul', [x.name, a.g.scalar(beta)])])]);
}, { float: true });
unary('elu', (a, x) => a.g.op('Elu', [x.name], { alpha: float(a.num('alpha')) }), { float: true });
unary('leaky_relu', (a, x) => a.g.op('LeakyRelu', [x.name], { alpha: float(a.num('alpha')) }), { float: true });
unary('gelu', (a, x) => {
  const g = a.g;
  if (a.bool('approximate')) {
    const cube = g.op('Mul', [g.op('Mul', [x.name, x.name]), x.name]);
    const inner = g.op('Mul', [g.op('Add', [x.name, g.op('Mul', [cube, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))]);
    return g.op('Mul', [g.op('Mul', [x.name, g.scalar(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)])]);
  }
  return g.op('Mul', [g.op('Mul', [x.name, g.scalar(0.5)]), g.op('Add', [g.op('Erf', [g.op('Mul', [x.name, g.scalar(Math.SQRT1_2)])]), g.scalar(1)])]);
}, { float: true });

for (const [name, fill] of [['zeros_like', 0], ['ones_like', 1]] as const) {
  registerOpLowering(name, (a) => {
    const x = a.tensor('x');
    const type = a.dtype('dtype') ?? (x.dtype as 'float32');
    const like = a.cast(x, type);
    const value = a.constant(fill, type)!;
    return { name: a.g.op('Expand', [value.name, a.g.op('Shape', [like.name])]), dtype: type, shape: x.shape };
  });
}
