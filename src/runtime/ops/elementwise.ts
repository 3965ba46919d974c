/**
 * Elementwise ops: arithmetic and comparisons with NumPy/TensorFlow broadcasting, math functions and
 * activations. Python constants take the dtype of the tensor they meet (TensorFlow converts `x * 2.0`'s
 * constant to `x`'s dtype); functions TensorFlow only defines on floats compute integer inputs as float32
 * (as Keras 3 does).
 */
import * as tf from '@tensorflow/tfjs';
import { type OpArgs, type OpSpec, asBool, asFloat, broadcastShape } from './spec.js';

function unary(name: string, doc: string, fn: (x: tf.Tensor, a: OpArgs) => tf.Tensor, signature = 'x'): OpSpec {
  return { name, signature, doc, run: (a) => fn(a.tensor('x'), a) };
}

function binary(name: string, doc: string, fn: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): OpSpec {
  return {
    name,
    signature: 'x, y',
    doc,
    run: (a) => {
      const [x, y] = a.pair('x', 'y');
      return fn(x, y);
    },
  };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export const ELEMENTWISE_OPS: OpSpec[] = [
  binary('add', 'x + y', (x, y) => tf.add(x, y)),
  binary('subtract', 'x - y', (x, y) => tf.sub(x, y)),
  binary('multiply', 'x * y', (x, y) => tf.mul(x, y)),
  binary('divide', 'x / y (true division: integers divide as floats)', (x, y) => tf.div(asFloat(x), asFloat(y))),
  binary('floor_divide', 'floor(x / y)', (x, y) => tf.floorDiv(x, y)),
  binary('floor_mod', 'x - floor(x / y) * y (the sign of y, as Python\'s %)', (x, y) => tf.mod(x, y)),
  binary('pow', 'x ** y', (x, y) => tf.pow(x, y)),
  binary('maximum', 'elementwise max(x, y)', (x, y) => tf.maximum(x, y)),
  binary('minimum', 'elementwise min(x, y)', (x, y) => tf.minimum(x, y)),
  binary('squared_difference', '(x - y) ** 2', (x, y) => tf.squaredDifference(x, y)),
  binary('divide_no_nan', 'x / y, 0 where y == 0', (x, y) => {
    const fy = asFloat(y);
    const zero = tf.equal(fy, 0);
    return tf.where(zero, tf.zerosLike(fy), tf.div(asFloat(x), tf.where(zero, tf.onesLike(fy), fy)));
  }),
  binary('equal', 'x == y (bool)', (x, y) => tf.equal(x, y)),
  binary('not_equal', 'x != y (bool)', (x, y) => tf.notEqual(x, y)),
  binary('less', 'x < y (bool)', (x, y) => tf.less(x, y)),
  binary('less_equal', 'x <= y (bool)', (x, y) => tf.lessEqual(x, y)),
  binary('greater', 'x > y (bool)', (x, y) => tf.greater(x, y)),
  binary('greater_equal', 'x >= y (bool)', (x, y) => tf.greaterEqual(x, y)),
  binary('logical_and', 'x and y (bool)', (x, y) => tf.logicalAnd(asBool(x), asBool(y))),
  binary('logical_or', 'x or y (bool)', (x, y) => tf.logicalOr(asBool(x), asBool(y))),
  binary('logical_xor', 'x xor y (bool)', (x, y) => tf.logicalXor(asBool(x), asBool(y))),
  {
    name: 'atan2',
    signature: 'y, x',
    doc: 'atan2(y, x), the angle of (x, y)',
    run: (a) => {
      const [y, x] = a.pair('y', 'x');
      return tf.atan2(asFloat(y), asFloat(x));
    },
  },
  {
    name: 'add_n',
    signature: 'inputs',
    doc: 'the sum of a list of tensors',
    run: (a) => a.tensors('inputs').reduce((s, t) => tf.add(s, t)),
  },
  {
    name: 'bias_add',
    signature: "value, bias, data_format=None",
    doc: 'value + bias along the channels axis (last, or 1 for NC... formats)',
    run: (a) => {
      const value = a.tensor('value');
      const bias = a.tensor('bias', value.dtype);
      const fmt = a.str('data_format');
      if (fmt === null || !fmt.startsWith('NC')) return tf.add(value, bias);
      return tf.add(value, tf.reshape(bias, [bias.size, ...Array(Math.max(0, value.rank - 2)).fill(1)]));
    },
  },
  {
    name: 'where',
    signature: 'condition, x=None, y=None',
    doc: 'x where condition else y (broadcast); the one-argument form is not supported',
    run: (a) => {
      if (!a.has('x') || !a.has('y')) throw a.fail('the form with only a condition (indices of true values) is not supported');
      const cond = asBool(a.tensor('condition'));
      const [x, y] = a.pair('x', 'y');
      const s = broadcastShape(a, broadcastShape(a, cond.shape, x.shape), y.shape);
      return tf.where(tf.broadcastTo(cond, s), tf.broadcastTo(x, s), tf.broadcastTo(y, s));
    },
  },
  {
    name: 'clip',
    signature: 'x, min=None, max=None',
    doc: 'x limited to [min, max] (either may be None)',
    run: (a) => {
      let x = a.tensor('x');
      if (a.has('min')) x = tf.maximum(x, a.tensor('min', x.dtype));
      if (a.has('max')) x = tf.minimum(x, a.tensor('max', x.dtype));
      return x;
    },
  },
  {
    name: 'cast',
    signature: 'x, dtype',
    doc: 'x as dtype (float to int truncates toward zero)',
    run: (a) => {
      const to = a.dtype('dtype') as tf.DataType;
      const x = a.tensor('x');
      // tfjs casts float to int by truncation, as TensorFlow does; bool comes from != 0.
      return to === 'bool' ? asBool(x) : tf.cast(x, to);
    },
  },
  unary('negative', '-x', (x) => tf.neg(x)),
  unary('abs', '|x|', (x) => tf.abs(x)),
  unary('sign', 'sign(x)', (x) => tf.sign(x)),
  unary('square', 'x * x', (x) => tf.square(x)),
  unary('sqrt', 'sqrt(x)', (x) => tf.sqrt(asFloat(x))),
  unary('rsqrt', '1 / sqrt(x)', (x) => tf.rsqrt(asFloat(x))),
  unary('reciprocal', '1 / x', (x) => tf.reciprocal(asFloat(x))),
  unary('exp', 'e ** x', (x) => tf.exp(asFloat(x))),
  unary('expm1', 'e ** x - 1', (x) => tf.expm1(asFloat(x))),
  unary('log', 'natural log', (x) => tf.log(asFloat(x))),
  unary('log1p', 'log(1 + x)', (x) => tf.log1p(asFloat(x))),
  unary('sin', 'sin(x)', (x) => tf.sin(asFloat(x))),
  unary('cos', 'cos(x)', (x) => tf.cos(asFloat(x))),
  unary('tan', 'tan(x)', (x) => tf.tan(asFloat(x))),
  unary('asin', 'arcsin(x)', (x) => tf.asin(asFloat(x))),
  unary('acos', 'arccos(x)', (x) => tf.acos(asFloat(x))),
  unary('atan', 'arctan(x)', (x) => tf.atan(asFloat(x))),
  unary('sinh', 'sinh(x)', (x) => tf.sinh(asFloat(x))),
  unary('cosh', 'cosh(x)', (x) => tf.cosh(asFloat(x))),
  unary('tanh', 'tanh(x)', (x) => tf.tanh(asFloat(x))),
  unary('asinh', 'arcsinh(x)', (x) => tf.asinh(asFloat(x))),
  unary('acosh', 'arccosh(x)', (x) => tf.acosh(asFloat(x))),
  unary('atanh', 'arctanh(x)', (x) => tf.atanh(asFloat(x))),
  unary('erf', 'the error function', (x) => tf.erf(asFloat(x))),
  unary('floor', 'floor(x)', (x) => tf.floor(asFloat(x))),
  unary('ceil', 'ceil(x)', (x) => tf.ceil(asFloat(x))),
  unary('round', 'x rounded half to even', (x) => tf.round(asFloat(x))),
  unary('logical_not', 'not x (bool)', (x) => tf.logicalNot(asBool(x))),
  unary('is_nan', 'x is NaN (bool)', (x) => tf.isNaN(asFloat(x))),
  unary('is_inf', 'x is ±inf (bool)', (x) => tf.isInf(asFloat(x))),
  unary('is_finite', 'x is finite (bool)', (x) => tf.isFinite(asFloat(x))),
  unary('identity', 'x itself (also stop_gradient)', (x) => tf.clone(x)),
  unary('zeros_like', 'zeros of x\'s shape (dtype: x\'s unless given)', (x, a) => tf.zeros(x.shape, a.dtype('dtype') ?? x.dtype), 'x, dtype=None'),
  unary('ones_like', 'ones of x\'s shape (dtype: x\'s unless given)', (x, a) => tf.ones(x.shape, a.dtype('dtype') ?? x.dtype), 'x, dtype=None'),
  // Activations.
  unary('relu', 'max(x, 0)', (x) => tf.relu(x)),
  unary('relu6', 'min(max(x, 0), 6)', (x) => tf.relu6(x)),
  unary('sigmoid', '1 / (1 + e ** -x)', (x) => tf.sigmoid(asFloat(x))),
  unary('log_sigmoid', 'log(sigmoid(x))', (x) => tf.logSigmoid(asFloat(x))),
  // Keras 3's and Keras 1/2's hard_sigmoid differ; each front-end names the one its Keras computes.
  unary('hard_sigmoid', 'relu6(x + 3) / 6 (Keras 3)', (x) => tf.div(tf.relu6(tf.add(asFloat(x), 3)), 6)),
  unary('hard_sigmoid_keras2', 'clip(0.2 x + 0.5, 0, 1) (Keras 1/2, tf.keras 2)', (x) => tf.clipByValue(tf.add(tf.mul(asFloat(x), 0.2), 0.5), 0, 1)),
  unary('softplus', 'log(1 + e ** x)', (x) => tf.softplus(asFloat(x))),
  unary('softsign', 'x / (1 + |x|)', (x) => tf.div(asFloat(x), tf.add(tf.abs(asFloat(x)), 1))),
  unary('silu', 'x * sigmoid(beta * x) (swish)', (x, a) => {
    const f = asFloat(x);
    const beta = a.num('beta');
    return tf.mul(f, tf.sigmoid(beta === 1 ? f : tf.mul(f, beta)));
  }, 'x, beta=1.0'),
  unary('elu', 'x if x > 0 else alpha * (e ** x - 1)', (x, a) => {
    const f = asFloat(x);
    const alpha = a.num('alpha');
    return alpha === 1 ? tf.elu(f) : tf.where(tf.greater(f, 0), f, tf.mul(tf.expm1(f), alpha));
  }, 'x, alpha=1.0'),
  unary('selu', 'scale * elu(x, alpha) with SELU\'s constants', (x) => tf.selu(asFloat(x))),
  unary('leaky_relu', 'x if x >= 0 else alpha * x', (x, a) => tf.leakyRelu(asFloat(x), a.num('alpha')), 'x, alpha=0.2'),
  unary('gelu', 'x * Φ(x); approximate: the tanh form', (x, a) => {
    const f = asFloat(x);
    if (a.bool('approximate')) {
      const inner = tf.mul(tf.add(f, tf.mul(tf.pow(f, 3), 0.044715)), SQRT_2_OVER_PI);
      return tf.mul(tf.mul(f, 0.5), tf.add(tf.tanh(inner), 1));
    }
    return tf.mul(tf.mul(f, 0.5), tf.add(tf.erf(tf.mul(f, Math.SQRT1_2)), 1));
  }, 'x, approximate=False'),
];
