/**
 * Keras 3's spelling of the ops: the `keras.ops` operation classes (`keras.src.ops.numpy.Mean`, ...)
 * that a functional model records as nodes of its graph. Each entry is the class's `call()` parameters,
 * then (keyword-only, after `*`) its constructor's, which the saved config holds.
 * Which entries of a layer list are operations: `isKeras3Operation` (operation-node.ts).
 */
import { type AliasTable, addAliases } from './table.js';

const X = 'x';
const X1X2 = 'x1:x, x2:y';
const REDUCE = 'x, *, axis=None, keepdims=False';

function each(op: string, signature: string, classes: string[]): Record<string, readonly [string, string]> {
  return Object.fromEntries(classes.map((c) => [c, [op, signature] as const]));
}

const TABLE: Record<string, readonly [string, string]> = {
  ...each('add', X1X2, ['Add']),
  ...each('subtract', X1X2, ['Subtract']),
  ...each('multiply', X1X2, ['Multiply']),
  ...each('divide', X1X2, ['Divide', 'TrueDivide']),
  ...each('floor_divide', X1X2, ['FloorDivide']),
  ...each('floor_mod', X1X2, ['Mod']),
  ...each('pow', X1X2, ['Power']),
  ...each('maximum', X1X2, ['Maximum']),
  ...each('minimum', X1X2, ['Minimum']),
  ...each('divide_no_nan', X1X2, ['DivideNoNan']),
  ...each('equal', X1X2, ['Equal']),
  ...each('not_equal', X1X2, ['NotEqual']),
  ...each('less', X1X2, ['Less']),
  ...each('less_equal', X1X2, ['LessEqual']),
  ...each('greater', X1X2, ['Greater']),
  ...each('greater_equal', X1X2, ['GreaterEqual']),
  ...each('logical_and', X1X2, ['LogicalAnd']),
  ...each('logical_or', X1X2, ['LogicalOr']),
  ...each('logical_xor', X1X2, ['LogicalXor']),
  Arctan2: ['atan2', 'x1:y, x2:x'],
  ...each('negative', X, ['Negative']),
  ...each('abs', X, ['Abs', 'Absolute']),
  ...each('sign', X, ['Sign']),
  ...each('square', X, ['Square']),
  ...each('sqrt', X, ['Sqrt']),
  ...each('rsqrt', X, ['Rsqrt']),
  ...each('reciprocal', X, ['Reciprocal']),
  ...each('exp', X, ['Exp']),
  ...each('expm1', X, ['Expm1']),
  ...each('log', X, ['Log']),
  ...each('log1p', X, ['Log1p']),
  ...each('sin', X, ['Sin']),
  ...each('cos', X, ['Cos']),
  ...each('tan', X, ['Tan']),
  ...each('asin', X, ['Arcsin']),
  ...each('acos', X, ['Arccos']),
  ...each('atan', X, ['Arctan']),
  ...each('sinh', X, ['Sinh']),
  ...each('cosh', X, ['Cosh']),
  ...each('tanh', X, ['Tanh']),
  ...each('asinh', X, ['Arcsinh']),
  ...each('acosh', X, ['Arccosh']),
  ...each('atanh', X, ['Arctanh']),
  ...each('erf', X, ['Erf']),
  ...each('floor', X, ['Floor']),
  ...each('ceil', X, ['Ceil']),
  Round: ['round', 'x, *, decimals=0'],
  ...each('logical_not', X, ['LogicalNot']),
  ...each('is_nan', X, ['Isnan']),
  ...each('is_inf', X, ['Isinf']),
  ...each('is_finite', X, ['Isfinite']),
  ...each('identity', 'variable:x', ['StopGradient']),
  ConvertToTensor: ['identity', 'x, *, dtype=None, sparse=None, ragged=None'],
  ZerosLike: ['zeros_like', 'x, *, dtype=None'],
  OnesLike: ['ones_like', 'x, *, dtype=None'],
  Clip: ['clip', 'x, *, x_min:min, x_max:max'],
  Where: ['where', 'condition, x1:x=None, x2:y=None'],
  Cast: ['cast', 'x, *, dtype'],
  // keras.ops.nn
  ...each('relu', X, ['Relu']),
  ...each('relu6', X, ['Relu6']),
  ...each('sigmoid', X, ['Sigmoid']),
  ...each('log_sigmoid', X, ['LogSigmoid']),
  ...each('hard_sigmoid', X, ['HardSigmoid']),
  ...each('softplus', X, ['Softplus']),
  ...each('softsign', X, ['Softsign']),
  ...each('silu', X, ['Silu']),
  ...each('selu', X, ['Selu']),
  Elu: ['elu', 'x, *, alpha=1.0'],
  LeakyRelu: ['leaky_relu', 'x, *, negative_slope:alpha=0.2'],
  Gelu: ['gelu', 'x, *, approximate=True'],
  Softmax: ['softmax', 'x, *, axis=-1'],
  LogSoftmax: ['log_softmax', 'x, *, axis=-1'],
  // Reductions.
  ...each('reduce_sum', REDUCE, ['Sum']),
  ...each('reduce_mean', REDUCE, ['Mean']),
  ...each('reduce_max', 'x, *, axis=None, keepdims=False, initial=None', ['Max', 'Amax']),
  ...each('reduce_min', 'x, *, axis=None, keepdims=False, initial=None', ['Min', 'Amin']),
  Prod: ['reduce_prod', 'x, *, axis=None, keepdims=False, dtype=None'],
  ...each('reduce_any', REDUCE, ['Any']),
  ...each('reduce_all', REDUCE, ['All']),
  ...each('reduce_std', REDUCE, ['Std']),
  ...each('reduce_variance', REDUCE, ['Var']),
  ...each('reduce_logsumexp', REDUCE, ['Logsumexp']),
  Average: ['reduce_mean', 'x, weights=None, *, axis=None'],
  ...each('argmax', REDUCE, ['Argmax']),
  ...each('argmin', REDUCE, ['Argmin']),
  Cumsum: ['cumsum', 'x, *, axis=None, dtype=None'],
  Cumprod: ['cumprod', 'x, *, axis=None, dtype=None'],
  // Shapes (Keras 3 renamed Reshape's `newshape` to `new_shape` in some releases; both are read).
  Reshape: ['reshape', 'x, *, newshape:shape=None, new_shape:shape=None'],
  Transpose: ['transpose', 'x, *, axes:perm=None'],
  Swapaxes: ['swapaxes', 'x, *, axis1, axis2'],
  Moveaxis: ['moveaxis', 'x, *, source, destination'],
  Concatenate: ['concat', 'xs:values, *, axis=0'],
  Stack: ['stack', 'x:values, *, axis=0'],
  Unstack: ['unstack', 'x, *, num=None, axis=0'],
  ExpandDims: ['expand_dims', 'x, *, axis'],
  Squeeze: ['squeeze', 'x, *, axis=None'],
  Tile: ['tile', 'x, *, repeats:multiples'],
  Repeat: ['repeat', 'x, *, repeats, axis=None'],
  BroadcastTo: ['broadcast_to', 'x, *, shape'],
  Flip: ['reverse', 'x, *, axis=None'],
  Split: ['split_sections', 'x, *, indices_or_sections, axis=0'],
  Pad: ['pad', "x, constant_values=None, *, pad_width:paddings, mode='constant'"],
  Arange: ['range', 'start, stop:limit=None, step:delta=None, *, dtype=None'],
  GetItem: ['getitem', 'x, key'],
  Take: ['take', 'x, indices, *, axis=None'],
  OneHot: ['one_hot', 'x:indices, *, num_classes:depth, axis=-1, dtype=None, sparse=False'],
  Matmul: ['matmul', 'x1:a, x2:b'],
  Einsum: ['einsum', '*operands, subscripts:equation'],
};

/** Keras 3 operation classes → canonical ops. Extend with `addAliases(KERAS3_OPS, ...)`. */
export const KERAS3_OPS: AliasTable = addAliases(new Map(), TABLE);

/** Modules of the operation classes outside `keras.src.ops.numpy` (what a `.keras` archive records). */
const MODULES: Record<string, string> = {
  ...Object.fromEntries(
    ['Relu', 'Relu6', 'Sigmoid', 'LogSigmoid', 'HardSigmoid', 'Softplus', 'Softsign', 'Silu', 'Selu', 'Elu', 'LeakyRelu', 'Gelu', 'Softmax', 'LogSoftmax', 'OneHot'].map((c) => [c, 'keras.src.ops.nn']),
  ),
  ...Object.fromEntries(['Cast', 'ConvertToTensor', 'StopGradient', 'Unstack'].map((c) => [c, 'keras.src.ops.core'])),
  ...Object.fromEntries(['Erf', 'Rsqrt', 'Logsumexp'].map((c) => [c, 'keras.src.ops.math'])),
};

/** The module Keras 3 saves an operation class under. */
export function keras3OpModule(cls: string): string {
  return Object.prototype.hasOwnProperty.call(MODULES, cls) ? MODULES[cls] : 'keras.src.ops.numpy';
}
