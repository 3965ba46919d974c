/**
 * The Lambda front-end of the op table (src/runtime/ops): which Python names a translated function may
 * use, and which canonical op each one is.
 *
 * Code names modules by what the user imported: `K` or `backend` (`keras.backend`), `tf`, `np`,
 * `keras.ops` / `ops`, `math`. `resolvePath` maps such an attribute chain to one namespace. TensorFlow's
 * functions are the op table's own TensorFlow spellings (`TF_FUNCTIONS`, shared with TFOpLambda layers:
 * `tf.reduce_sum` is `reduce_sum` there); the others are this front-end's aliases (`LAMBDA_FUNCTIONS`),
 * each with its Python signature bound onto the canonical op's parameters. `CONSTANTS` are module
 * attributes used as values (`tf.float32`, `np.newaxis`, `math.pi`), `CONSTANT_CALLS` functions that only
 * return a constant (`K.epsilon()`).
 */
import { type ErrorLocation, KerasInteropError } from '../../errors.js';
import { type InputSlot, inputSlot } from '../ops/op-layer-config.js';
import { tfjsDtype } from '../ops/spec.js';
import { type AliasTable, type OpAlias, type OpCall, addAliases, bindCall } from '../ops/table.js';
import { TF_FUNCTIONS } from '../ops/tf-functions.js';
import { ELLIPSIS, type OpValue, pySlice } from '../ops/values.js';
import { type Expr, NONE } from './ir.js';

export type Namespace = 'K' | 'tf' | 'ops' | 'np' | 'math';

/** Module prefixes, as code spells them, and the namespace each stands for. Longest prefix wins. */
const NAMESPACES: readonly [prefix: string, ns: Namespace][] = [
  ['K', 'K'],
  ['backend', 'K'],
  ['keras.backend', 'K'],
  ['keras.src.backend', 'K'],
  ['tf.keras.backend', 'K'],
  ['tensorflow.keras.backend', 'K'],
  ['tensorflow.python.keras.backend', 'K'],
  ['ops', 'ops'],
  ['keras.ops', 'ops'],
  ['keras.src.ops', 'ops'],
  ['tf', 'tf'],
  ['tensorflow', 'tf'],
  ['np', 'np'],
  ['numpy', 'np'],
  ['math', 'math'],
];

/** `['tf', 'math', 'reduce_sum']` → `'tf.math.reduce_sum'`; undefined when the chain starts at no known module. */
export function resolvePath(path: readonly string[]): string | undefined {
  let best: [number, Namespace] | undefined;
  for (const [prefix, ns] of NAMESPACES) {
    const parts = prefix.split('.');
    if (parts.length > path.length || (best && parts.length <= best[0])) continue;
    if (parts.every((p, i) => path[i] === p)) best = [parts.length, ns];
  }
  if (!best) return undefined;
  return [best[1], ...path.slice(best[0])].join('.');
}

const REDUCE = 'x, axis=None, keepdims=False';

function each(names: string[], op: (n: string) => string, signature: string): Record<string, readonly [string, string]> {
  return Object.fromEntries(names.map((n) => [n, [op(n), signature] as const]));
}

const UNARY = ['sqrt', 'square', 'exp', 'log', 'abs', 'tanh', 'sigmoid'];
const REDUCTIONS: Record<string, string> = { sum: 'reduce_sum', mean: 'reduce_mean', max: 'reduce_max', min: 'reduce_min', prod: 'reduce_prod', std: 'reduce_std', var: 'reduce_variance' };
const BINARY: Record<string, string> = { add: 'add', subtract: 'subtract', multiply: 'multiply', divide: 'divide', maximum: 'maximum', minimum: 'minimum', power: 'pow' };

/** keras.backend (`K.`), keras.ops (`ops.`), NumPy (`np.`) and math (`math.`) spellings, by namespace-qualified name. */
const TABLE: Record<string, readonly [string, string]> = {
  // keras.backend (tf.keras 2 / Keras 2).
  ...each(Object.keys(REDUCTIONS).map((r) => `K.${r}`), (n) => REDUCTIONS[n.slice(2)], REDUCE),
  ...each(UNARY.map((u) => `K.${u}`), (n) => n.slice(2), 'x'),
  'K.expand_dims': ['expand_dims', 'x, axis=-1'],
  'K.squeeze': ['squeeze', 'x, axis'],
  'K.reshape': ['reshape', 'x, shape'],
  'K.permute_dimensions': ['transpose', 'x, pattern:perm'],
  'K.transpose': ['transpose', 'x'],
  'K.repeat': ['repeat_vector', 'x, n'],
  'K.repeat_elements': ['repeat', 'x, rep:repeats, axis'],
  'K.tile': ['tile', 'x, n:multiples'],
  'K.concatenate': ['concat', 'tensors:values, axis=-1'],
  'K.stack': ['stack', 'x:values, axis=0'],
  'K.dot': ['dot', 'x, y'],
  'K.batch_dot': ['batch_dot', 'x, y, axes=None'],
  'K.softmax': ['softmax', 'x, axis=-1'],
  'K.l2_normalize': ['l2_normalize', 'x, axis=None'],
  'K.cast': ['cast', 'x, dtype'],
  'K.shape': ['shape', 'x'],
  'K.maximum': ['maximum', 'x, y'],
  'K.minimum': ['minimum', 'x, y'],
  'K.pow': ['pow', 'x, a:y'],
  // Keras 2's backend and the one Keras 3 keeps for tf.keras (keras.src.legacy.backend) alike.
  'K.hard_sigmoid': ['hard_sigmoid_keras2', 'x'],
  // Keras 3 keras.ops functions (their operation classes, as op nodes, are KERAS3_OPS).
  ...each(Object.keys(REDUCTIONS).map((r) => `ops.${r}`), (n) => REDUCTIONS[n.slice(4)], REDUCE),
  'ops.max': ['reduce_max', `${REDUCE}, initial=None`],
  'ops.min': ['reduce_min', `${REDUCE}, initial=None`],
  ...each(UNARY.map((u) => `ops.${u}`), (n) => n.slice(4), 'x'),
  ...each(Object.keys(BINARY).map((b) => `ops.${b}`), (n) => BINARY[n.slice(4)], 'x1:x, x2:y'),
  'ops.expand_dims': ['expand_dims', 'x, axis'],
  'ops.squeeze': ['squeeze', 'x, axis=None'],
  'ops.reshape': ['reshape', 'x, newshape:shape=None, new_shape:shape=None'],
  'ops.transpose': ['transpose', 'x, axes:perm=None'],
  'ops.repeat': ['repeat', 'x, repeats, axis=None'],
  'ops.tile': ['tile', 'x, repeats:multiples'],
  'ops.concatenate': ['concat', 'xs:values, axis=0'],
  'ops.stack': ['stack', 'x:values, axis=0'],
  'ops.dot': ['dot', 'x1:x, x2:y'],
  'ops.matmul': ['matmul', 'x1:a, x2:b'],
  'ops.softmax': ['softmax', 'x, axis=-1'],
  'ops.hard_sigmoid': ['hard_sigmoid', 'x'],
  'ops.cast': ['cast', 'x, dtype'],
  'ops.shape': ['shape', 'x'],
  // NumPy on the same tensors (parameters NumPy has and the op lacks must keep their defaults).
  'np.sum': ['reduce_sum', 'a:x, axis=None, dtype=None, out=None, keepdims=False'],
  'np.mean': ['reduce_mean', 'a:x, axis=None, dtype=None, out=None, keepdims=False'],
  'np.max': ['reduce_max', 'a:x, axis=None, out=None, keepdims=False'],
  'np.min': ['reduce_min', 'a:x, axis=None, out=None, keepdims=False'],
  'np.prod': ['reduce_prod', 'a:x, axis=None, dtype=None, out=None, keepdims=False'],
  'np.std': ['reduce_std', 'a:x, axis=None, dtype=None, out=None, ddof=0, keepdims=False'],
  ...each(['sqrt', 'square', 'exp', 'log', 'abs', 'tanh'].map((u) => `np.${u}`), (n) => n.slice(3), 'x'),
  'np.expand_dims': ['expand_dims', 'a:x, axis'],
  'np.squeeze': ['squeeze', 'a:x, axis=None'],
  'np.reshape': ['reshape', 'a:x, newshape:shape'],
  'np.transpose': ['transpose', 'a:x, axes:perm=None'],
  'np.repeat': ['repeat', 'a:x, repeats, axis=None'],
  'np.tile': ['tile', 'A:x, reps:multiples'],
  'np.concatenate': ['concat', 'arrays:values, axis=0'],
  'np.stack': ['stack', 'arrays:values, axis=0'],
  'np.dot': ['dot', 'a:x, b:y'],
  'np.matmul': ['matmul', 'x1:a, x2:b'],
  // math: on Python numbers.
  ...each(['sqrt', 'exp', 'log', 'tanh'].map((u) => `math.${u}`), (n) => n.slice(5), 'x'),
};

/** This front-end's own spellings (everything but `tf.`), by namespace-qualified name. */
export const LAMBDA_FUNCTIONS: AliasTable = addAliases(new Map(), TABLE);

/** The alias of a call written as `fn` (dotted, as the code spells it); undefined when not whitelisted. */
export function lambdaAlias(fn: string): OpAlias | undefined {
  const key = resolvePath(fn.split('.'));
  if (key === undefined) return undefined;
  // tf.keras's functions (as TFOpLambda records them) are tf.keras 2's, but in Lambda code `tf.keras` is
  // Keras 3 under TensorFlow >= 2.16, whose hard_sigmoid differs: not knowing which, refused.
  if (key.startsWith('tf.keras.')) return undefined;
  if (key.startsWith('tf.')) return TF_FUNCTIONS.get(key.slice(3));
  return LAMBDA_FUNCTIONS.get(key);
}

/** Functions that only give a constant. */
const CONSTANT_CALLS: Readonly<Record<string, Expr>> = {
  'K.floatx': { k: 'str', v: 'float32' },
  'K.epsilon': { k: 'float', v: 1e-7 },
};

/** The constant a call of `fn` (with no arguments) gives, when it is one of those. */
export function constantCall(fn: string): Expr | undefined {
  const key = resolvePath(fn.split('.'));
  return key !== undefined && Object.prototype.hasOwnProperty.call(CONSTANT_CALLS, key) ? CONSTANT_CALLS[key] : undefined;
}

/**
 * Binds a call onto its op as Python would bind it (TensorFlow's functions read an explicit None as their
 * default). Throws the op table's `UNSUPPORTED_OP` error when Python would refuse the call or the op does
 * not implement an argument given.
 */
export function bindLambdaCall<T>(fn: string, alias: OpAlias, positional: readonly OpValue<T>[], keywords: Readonly<Record<string, OpValue<T>>>, where: ErrorLocation = {}): OpCall<T> {
  const key = resolvePath(fn.split('.'));
  return bindCall(alias, positional, keywords, fn, where, { noneMeansDefault: key?.startsWith('tf.') });
}

/** A constant a module attribute stands for. */
export type ConstantValue = { dtype: string } | { value: Expr };

const DTYPES = ['float16', 'float32', 'float64', 'int32', 'int64', 'bool', 'bfloat16', 'int8', 'int16', 'uint8'];

function constants(): Record<string, ConstantValue> {
  const c: Record<string, ConstantValue> = {};
  for (const d of DTYPES) {
    c[`tf.${d}`] = { dtype: d };
    if (d !== 'bfloat16') c[`np.${d}`] = { dtype: d };
  }
  c['np.bool_'] = { dtype: 'bool' };
  c['tf.newaxis'] = { value: NONE };
  c['np.newaxis'] = { value: NONE };
  for (const m of ['math', 'np']) {
    c[`${m}.pi`] = { value: { k: 'float', v: Math.PI } };
    c[`${m}.e`] = { value: { k: 'float', v: Math.E } };
    c[`${m}.inf`] = { value: { k: 'float', v: Infinity } };
  }
  return c;
}

/** Whitelisted module attributes used as values, by namespace-qualified name. */
export const CONSTANTS: Readonly<Record<string, ConstantValue>> = constants();

/** The constant a module attribute written as `path` stands for; undefined when not whitelisted. */
export function constantOf(path: string): ConstantValue | undefined {
  const key = resolvePath(path.split('.'));
  return key !== undefined && Object.prototype.hasOwnProperty.call(CONSTANTS, key) ? CONSTANTS[key] : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Checking a call before anything runs.

/** A value the translation cannot know before run time (a tensor, or anything computed from one). */
const UNKNOWN: InputSlot = inputSlot(0);

/** A call argument as the op table takes it, where the expression is a constant; UNKNOWN otherwise. */
function staticValue(e: Expr): OpValue<InputSlot> {
  switch (e.k) {
    case 'none':
      return null;
    case 'bool':
    case 'int':
    case 'float':
    case 'str':
      return e.v;
    case 'ellipsis':
      return ELLIPSIS;
    case 'tuple':
    case 'list':
      return e.items.map(staticValue);
    case 'slice':
      return pySlice(staticValue(e.start), staticValue(e.stop), staticValue(e.step));
    case 'ref': {
      const c = constantOf(e.path);
      return c && 'dtype' in c ? c.dtype : c ? staticValue(c.value) : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

/**
 * Why a call of `fn` with these arguments cannot be translated (not whitelisted, bound as Python would
 * refuse, an argument the op does not implement, a constant dtype tfjs does not compute in), or
 * undefined when it can.
 */
export function checkCall(fn: string, args: readonly Expr[], kwargs: readonly { name: string; value: Expr }[]): string | undefined {
  if (constantCall(fn)) return args.length + kwargs.length > 0 ? `${fn}() takes no arguments` : undefined;
  const alias = lambdaAlias(fn);
  if (!alias) return `${fn}() is not a whitelisted function`;
  const keywords: Record<string, OpValue<InputSlot>> = {};
  for (const kw of kwargs) Object.defineProperty(keywords, kw.name, { value: staticValue(kw.value), enumerable: true, writable: true, configurable: true });
  let call: OpCall<InputSlot>;
  try {
    call = bindLambdaCall(fn, alias, args.map(staticValue), keywords);
  } catch (e) {
    if (e instanceof KerasInteropError) return e.message;
    throw e;
  }
  const dtype = call.args.get('dtype');
  if (call.op.name === 'cast' && typeof dtype === 'string' && !tfjsDtype(dtype)) return `${fn}(): the dtype '${dtype}' is not one tfjs computes in`;
  return undefined;
}
