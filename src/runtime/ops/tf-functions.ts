/**
 * TensorFlow's spelling of the ops: API symbols without `tf.` (`math.reduce_mean`, `compat.v1.transpose`,
 * `__operators__.getitem`) with their Python signatures, as TFOpLambda / SlicingOpLambda layers of
 * tf.keras >= 2.4 record them (`config.function`) and as Python code calls them (`tf.reduce_mean(x, 1)`).
 *
 * tf.keras 2 records the canonical symbol of the function that dispatched (`tf.reduce_mean` is saved as
 * `math.reduce_mean`, `tf.transpose` as `compat.v1.transpose`, `tf.matmul` as `linalg.matmul`), and the
 * Python operators as `__operators__.add` (`+`), `math.subtract` (`-`), `math.multiply` (`*`),
 * `math.truediv` (`/`), `__operators__.getitem` (`[]`), ...; the exported aliases are listed too.
 */
import { type AliasTable, addAliases } from './table.js';

const UNARY = 'x, name=None';
const BINARY = 'x, y, name=None';
const FEATURES = 'features:x, name=None';
const REDUCE_V2 = 'input_tensor:x, axis=None, keepdims=False, name=None';
const REDUCE_V1 = 'input_tensor:x, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None';

/** Symbols (several spellings each) sharing one signature. */
function family(op: string, signature: string, names: string[]): Record<string, readonly [string, string]> {
  return Object.fromEntries(names.map((n) => [n, [op, signature] as const]));
}

/** `math.x` and its top-level alias `x` (TensorFlow exports most math ops under both). */
function mathNames(name: string, more: string[] = []): string[] {
  return [`math.${name}`, name, ...more];
}

const TABLE: Record<string, readonly [string, string]> = {
  // Python operators on tensors.
  ...family('add', BINARY, ['__operators__.add', ...mathNames('add')]),
  ...family('subtract', BINARY, mathNames('subtract')),
  ...family('multiply', BINARY, mathNames('multiply')),
  ...family('divide', BINARY, [...mathNames('truediv'), ...mathNames('divide')]),
  ...family('floor_divide', BINARY, mathNames('floordiv')),
  ...family('floor_mod', BINARY, [...mathNames('floormod'), ...mathNames('mod')]),
  ...family('pow', BINARY, mathNames('pow')),
  ...family('negative', UNARY, mathNames('negative')),
  ...family('equal', 'self:x, other:y', ['__operators__.eq']),
  ...family('not_equal', 'self:x, other:y', ['__operators__.ne']),
  '__operators__.getitem': ['getitem', 'tensor:x, slice_spec:key, var=None'],
  // Elementwise math.
  ...family('maximum', BINARY, mathNames('maximum')),
  ...family('minimum', BINARY, mathNames('minimum')),
  ...family('squared_difference', BINARY, mathNames('squared_difference')),
  ...family('divide_no_nan', BINARY, mathNames('divide_no_nan')),
  ...family('equal', BINARY, mathNames('equal')),
  ...family('not_equal', BINARY, mathNames('not_equal')),
  ...family('less', BINARY, mathNames('less')),
  ...family('less_equal', BINARY, mathNames('less_equal')),
  ...family('greater', BINARY, mathNames('greater')),
  ...family('greater_equal', BINARY, mathNames('greater_equal')),
  ...family('logical_and', BINARY, mathNames('logical_and')),
  ...family('logical_or', BINARY, mathNames('logical_or')),
  ...family('logical_xor', "x, y, name='LogicalXor'", mathNames('logical_xor')),
  ...family('logical_not', UNARY, mathNames('logical_not')),
  ...family('atan2', 'y, x, name=None', mathNames('atan2')),
  ...family('add_n', 'inputs, name=None', mathNames('add_n')),
  ...family('abs', UNARY, mathNames('abs')),
  ...family('sign', UNARY, mathNames('sign')),
  ...family('square', UNARY, mathNames('square')),
  ...family('sqrt', UNARY, mathNames('sqrt')),
  ...family('rsqrt', UNARY, mathNames('rsqrt')),
  ...family('reciprocal', UNARY, mathNames('reciprocal')),
  ...family('exp', UNARY, mathNames('exp')),
  ...family('expm1', UNARY, mathNames('expm1')),
  ...family('log', UNARY, mathNames('log')),
  ...family('log1p', UNARY, mathNames('log1p')),
  ...family('sin', UNARY, mathNames('sin')),
  ...family('cos', UNARY, mathNames('cos')),
  ...family('tan', UNARY, mathNames('tan')),
  ...family('asin', UNARY, mathNames('asin')),
  ...family('acos', UNARY, mathNames('acos')),
  ...family('atan', UNARY, mathNames('atan')),
  ...family('sinh', UNARY, mathNames('sinh')),
  ...family('cosh', UNARY, mathNames('cosh')),
  ...family('tanh', UNARY, [...mathNames('tanh'), 'nn.tanh']),
  ...family('asinh', UNARY, mathNames('asinh')),
  ...family('acosh', UNARY, mathNames('acosh')),
  ...family('atanh', UNARY, mathNames('atanh')),
  ...family('erf', UNARY, mathNames('erf')),
  ...family('floor', UNARY, mathNames('floor')),
  ...family('ceil', UNARY, mathNames('ceil')),
  ...family('round', UNARY, mathNames('round')),
  ...family('is_nan', UNARY, mathNames('is_nan')),
  ...family('is_inf', UNARY, mathNames('is_inf')),
  ...family('is_finite', UNARY, mathNames('is_finite')),
  ...family('sigmoid', UNARY, [...mathNames('sigmoid'), 'nn.sigmoid']),
  ...family('log_sigmoid', UNARY, mathNames('log_sigmoid')),
  ...family('softplus', FEATURES, ['math.softplus', 'nn.softplus']),
  ...family('softsign', FEATURES, ['math.softsign', 'nn.softsign']),
  ...family('identity', 'input:x, name=None', ['identity', 'stop_gradient']),
  'zeros_like': ['zeros_like', 'input:x, dtype=None, name=None'],
  'ones_like': ['ones_like', 'input:x, dtype=None, name=None'],
  'compat.v1.zeros_like': ['zeros_like', 'tensor:x, dtype=None, name=None, optimize=True'],
  'compat.v1.ones_like': ['ones_like', 'tensor:x, dtype=None, name=None, optimize=True'],
  ...family('clip', 't:x, clip_value_min:min, clip_value_max:max, name=None', ['clip_by_value']),
  ...family('cast', 'x, dtype, name=None', ['cast', 'dtypes.cast']),
  'where': ['where', 'condition, x=None, y=None, name=None'],
  'compat.v1.where': ['where', 'condition, x=None, y=None, name=None'],
  'nn.bias_add': ['bias_add', 'value, bias, data_format=None, name=None'],
  // Activations (tf.nn).
  'nn.relu': ['relu', FEATURES],
  'nn.relu6': ['relu6', FEATURES],
  'nn.elu': ['elu', FEATURES],
  'nn.selu': ['selu', FEATURES],
  'nn.leaky_relu': ['leaky_relu', 'features:x, alpha=0.2, name=None'],
  'nn.gelu': ['gelu', 'features:x, approximate=False, name=None'],
  ...family('silu', 'features:x, beta=1.0', ['nn.silu', 'nn.swish']),
  ...family('softmax', 'logits:x, axis=-1, name=None', ['nn.softmax', 'math.softmax']),
  'compat.v1.nn.softmax': ['softmax', 'logits:x, axis=-1, name=None, dim=None'],
  ...family('log_softmax', 'logits:x, axis=-1, name=None', ['nn.log_softmax', 'math.log_softmax']),
  // tf.keras 2's own functions dispatch on KerasTensors too (TFOpLambda records their `keras` API name):
  // its hard_sigmoid is Keras 2's. TensorFlow itself has none.
  ...family('hard_sigmoid_keras2', 'x', ['keras.activations.hard_sigmoid', 'keras.backend.hard_sigmoid']),
  ...family('l2_normalize', 'x, axis=None, epsilon=1e-12, name=None, dim=None', ['math.l2_normalize', 'nn.l2_normalize', 'linalg.l2_normalize']),
  // Reductions.
  ...family('reduce_sum', REDUCE_V2, mathNames('reduce_sum')),
  ...family('reduce_mean', REDUCE_V2, mathNames('reduce_mean')),
  ...family('reduce_max', REDUCE_V2, mathNames('reduce_max')),
  ...family('reduce_min', REDUCE_V2, mathNames('reduce_min')),
  ...family('reduce_prod', REDUCE_V2, mathNames('reduce_prod')),
  ...family('reduce_any', REDUCE_V2, mathNames('reduce_any')),
  ...family('reduce_all', REDUCE_V2, mathNames('reduce_all')),
  ...family('reduce_logsumexp', REDUCE_V2, mathNames('reduce_logsumexp')),
  ...family('reduce_variance', REDUCE_V2, ['math.reduce_variance']),
  ...family('reduce_std', REDUCE_V2, ['math.reduce_std']),
  ...family('reduce_sum', REDUCE_V1, ['compat.v1.reduce_sum', 'compat.v1.math.reduce_sum']),
  ...family('reduce_mean', REDUCE_V1, ['compat.v1.reduce_mean', 'compat.v1.math.reduce_mean']),
  ...family('reduce_max', REDUCE_V1, ['compat.v1.reduce_max', 'compat.v1.math.reduce_max']),
  ...family('reduce_min', REDUCE_V1, ['compat.v1.reduce_min', 'compat.v1.math.reduce_min']),
  ...family('reduce_prod', REDUCE_V1, ['compat.v1.reduce_prod', 'compat.v1.math.reduce_prod']),
  // TensorFlow's argmax defaults to axis 0 (NumPy's flattens): the default differs, the op is one.
  ...family('argmax', "input:x, axis=0, output_type:-='int64', name=None", mathNames('argmax')),
  ...family('argmin', "input:x, axis=0, output_type:-='int64', name=None", mathNames('argmin')),
  ...family('cumsum', 'x, axis=0, exclusive=False, reverse=False, name=None', mathNames('cumsum')),
  ...family('cumprod', 'x, axis=0, exclusive=False, reverse=False, name=None', mathNames('cumprod')),
  // Shapes.
  'reshape': ['reshape', 'tensor:x, shape, name=None'],
  'transpose': ['transpose', "a:x, perm=None, conjugate=False, name='transpose'"],
  'compat.v1.transpose': ['transpose', "a:x, perm=None, name='transpose', conjugate=False"],
  'linalg.matrix_transpose': ['swapaxes', "a:x, name='matrix_transpose', conjugate=False, axis1=-2, axis2=-1"],
  'concat': ['concat', "values, axis, name='concat'"],
  'stack': ['stack', "values, axis=0, name='stack'"],
  'unstack': ['unstack', "value:x, num=None, axis=0, name='unstack'"],
  'expand_dims': ['expand_dims', 'input:x, axis, name=None'],
  'compat.v1.expand_dims': ['expand_dims', 'input:x, axis=None, name=None, dim=None'],
  'squeeze': ['squeeze', 'input:x, axis=None, name=None'],
  'compat.v1.squeeze': ['squeeze', 'input:x, axis=None, name=None, squeeze_dims=None'],
  'tile': ['tile', 'input:x, multiples, name=None'],
  'repeat': ['repeat', 'input:x, repeats, axis=None, name=None'],
  'broadcast_to': ['broadcast_to', 'input:x, shape, name=None'],
  'reverse': ['reverse', 'tensor:x, axis, name=None'],
  'split': ['split', "value:x, num_or_size_splits, axis=0, num=None, name='split'"],
  'pad': ['pad', "tensor:x, paddings, mode='CONSTANT', constant_values=0, name=None"],
  'compat.v1.pad': ['pad', "tensor:x, paddings, mode='CONSTANT', name=None, constant_values=0"],
  'shape': ['shape', "input:x, out_type='int32', name=None"],
  'compat.v1.shape': ['shape', "input:x, name=None, out_type='int32'"],
  'range': ['range', "start, limit=None, delta=1, dtype=None, name='range'"],
  'gather': ['gather', 'params, indices, validate_indices=None, axis=None, batch_dims=0, name=None'],
  'compat.v1.gather': ['gather', 'params, indices, validate_indices=None, name=None, axis=None, batch_dims=0'],
  'one_hot': ['one_hot', 'indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None'],
  // Matrices.
  ...family(
    'matmul',
    'a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False, name=None',
    ['linalg.matmul', 'matmul'],
  ),
  ...family('einsum', 'equation, *operands:operands, name=None', ['einsum', 'linalg.einsum']),
};

/** TensorFlow function symbols (without `tf.`) → canonical ops. Extend with `addAliases(TF_FUNCTIONS, ...)`. */
export const TF_FUNCTIONS: AliasTable = addAliases(new Map(), TABLE);
