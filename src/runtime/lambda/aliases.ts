/**
 * The Lambda whitelist: which Python names a translated function may use, and which op each one is.
 *
 * Code names modules by what the user imported: `K` or `backend` (`keras.backend`), `tf`, `np`,
 * `keras.ops` / `ops`, `math`. `resolvePath` maps such an attribute chain to one namespace; `FUNCTIONS`
 * gives, per namespace-qualified function, the op it computes and how its Python parameters (by position
 * or keyword, with their defaults) bind onto the op's arguments. `CONSTANTS` are module attributes used as
 * values (`tf.float32`, `np.newaxis`, `math.pi`).
 *
 * The op names and argument names are those of the op table the TFOpLambda and Keras 3 op-node front-ends
 * use (one table of op semantics, three front-ends); until that table lands, the ops run through
 * interim-ops.ts.
 */
import { type Expr, NONE } from './ir.js';

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

export type Namespace = 'K' | 'tf' | 'ops' | 'np' | 'math';

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

// ---------------------------------------------------------------------------------------------------------
// Signatures.

export interface ParamSpec {
  /** Python names the parameter answers to as a keyword (usually one). */
  names: string[];
  /** The op argument it binds to; `null`: accepted and dropped (`name=`); `'!'`: must keep its default. */
  to: string | null;
  /** Its default; undefined when it is required. */
  default?: Expr;
  /** None means the default (`tf.nn.softmax(x, axis=None)` is the last axis). */
  noneIsDefault?: boolean;
}

export interface FunctionSpec {
  op: string;
  params: ParamSpec[];
}

function literal(text: string): Expr {
  if (text === 'None') return NONE;
  if (text === 'True' || text === 'False') return { k: 'bool', v: text === 'True' };
  if (/^-?\d+$/.test(text)) return { k: 'int', v: Number(text) };
  if (/^-?[\d.]+(e-?\d+)?$/.test(text)) return { k: 'float', v: Number(text) };
  throw new Error(`aliases: unsupported default ${text}`);
}

/**
 * `"input_tensor>x, axis=None, name>-=None"`: Python parameters in order; `>y` binds to op argument `y`
 * (default: the same name), `>-` drops it, `>!` requires its default, `a|b` accepts either keyword,
 * `?=v` makes None mean `v`.
 */
function sig(op: string, text: string): FunctionSpec {
  const params = text === '' ? [] : text.split(',').map((raw): ParamSpec => {
    const m = /^\s*([\w|]+)(?:>([\w!-]+))?(\?)?(?:=(.+?))?\s*$/.exec(raw);
    if (!m) throw new Error(`aliases: bad parameter ${raw}`);
    const names = m[1].split('|');
    const to = m[2] === '-' ? null : (m[2] ?? names[0]);
    return { names, to, default: m[4] === undefined ? undefined : literal(m[4]), noneIsDefault: m[3] === '?' };
  });
  return { op, params };
}

const UNARY = ['sqrt', 'square', 'exp', 'log', 'abs', 'tanh', 'sigmoid'];
const REDUCTIONS = ['sum', 'mean', 'max', 'min', 'prod', 'std', 'var'];

function build(): Record<string, FunctionSpec> {
  const f: Record<string, FunctionSpec> = {};
  const tfName = 'name>-=None';

  // keras.backend (tf.keras 2 / Keras 2).
  for (const r of REDUCTIONS) f[`K.${r}`] = sig(r, 'x, axis=None, keepdims=False');
  for (const u of UNARY) f[`K.${u}`] = sig(u, 'x');
  Object.assign(f, {
    'K.expand_dims': sig('expand_dims', 'x, axis=-1'),
    'K.squeeze': sig('squeeze', 'x, axis'),
    'K.reshape': sig('reshape', 'x, shape'),
    'K.permute_dimensions': sig('transpose', 'x, pattern>axes'),
    'K.transpose': sig('transpose', 'x'),
    'K.repeat': sig('repeat_vector', 'x, n'),
    'K.repeat_elements': sig('repeat', 'x, rep>repeats, axis'),
    'K.tile': sig('tile', 'x, n>repeats'),
    'K.concatenate': sig('concatenate', 'tensors>xs, axis=-1'),
    'K.stack': sig('stack', 'x>xs, axis=0'),
    'K.dot': sig('dot', 'x, y'),
    'K.batch_dot': sig('batch_dot', 'x, y, axes=None'),
    'K.softmax': sig('softmax', 'x, axis=-1'),
    'K.l2_normalize': sig('l2_normalize', 'x, axis=None'),
    'K.cast': sig('cast', 'x, dtype'),
    'K.shape': sig('shape', 'x'),
    'K.maximum': sig('maximum', 'x, y'),
    'K.minimum': sig('minimum', 'x, y'),
    'K.pow': sig('power', 'x, a>y'),
    'K.floatx': sig('floatx', ''),
    'K.epsilon': sig('epsilon', ''),
  });

  // TensorFlow: tf.* and the tf.math / tf.nn / tf.linalg spellings of the same ops.
  const tf = (names: string[], spec: FunctionSpec) => {
    for (const n of names) f[`tf.${n}`] = spec;
  };
  for (const r of ['sum', 'mean', 'max', 'min', 'prod']) {
    tf([`reduce_${r}`, `math.reduce_${r}`], sig(r, `input_tensor>x, axis=None, keepdims=False, ${tfName}`));
  }
  tf(['math.reduce_std'], sig('std', `input_tensor>x, axis=None, keepdims=False, ${tfName}`));
  tf(['math.reduce_variance'], sig('var', `input_tensor>x, axis=None, keepdims=False, ${tfName}`));
  for (const u of ['sqrt', 'square', 'exp', 'abs', 'tanh', 'sigmoid']) tf([u, `math.${u}`], sig(u, `x, ${tfName}`));
  tf(['math.log', 'log'], sig('log', `x, ${tfName}`));
  tf(['nn.sigmoid'], sig('sigmoid', `x, ${tfName}`));
  tf(['expand_dims'], sig('expand_dims', `input>x, axis, ${tfName}`));
  tf(['squeeze'], sig('squeeze', `input>x, axis=None, ${tfName}`));
  tf(['reshape'], sig('reshape', `tensor>x, shape, ${tfName}`));
  tf(['transpose'], sig('transpose', `a>x, perm>axes=None, conjugate>!=False, ${tfName}`));
  tf(['tile'], sig('tile', `input>x, multiples>repeats, ${tfName}`));
  tf(['repeat'], sig('repeat', `input>x, repeats, axis=None, ${tfName}`));
  tf(['concat'], sig('concatenate', `values>xs, axis, ${tfName}`));
  tf(['stack'], sig('stack', `values>xs, axis=0, ${tfName}`));
  tf(
    ['matmul', 'linalg.matmul'],
    sig(
      'matmul',
      `a>x, b>y, transpose_a>transpose_x=False, transpose_b>transpose_y=False, adjoint_a>!=False, adjoint_b>!=False, a_is_sparse>!=False, b_is_sparse>!=False, output_type>!=None, ${tfName}`,
    ),
  );
  tf(['nn.softmax', 'math.softmax'], sig('softmax', `logits>x, axis?=-1, ${tfName}`));
  tf(['math.l2_normalize', 'nn.l2_normalize', 'linalg.l2_normalize'], sig('l2_normalize', `x, axis=None, epsilon=1e-12, ${tfName}`));
  tf(['cast'], sig('cast', `x, dtype, ${tfName}`));
  tf(['shape'], sig('shape', `input>x, out_type>-=None, ${tfName}`));
  for (const b of ['add', 'subtract', 'multiply', 'maximum', 'minimum']) tf([b, `math.${b}`], sig(b, `x, y, ${tfName}`));
  tf(['divide', 'math.divide', 'math.truediv', 'truediv'], sig('divide', `x, y, ${tfName}`));
  tf(['pow', 'math.pow'], sig('power', `x, y, ${tfName}`));

  // Keras 3 keras.ops.
  for (const r of REDUCTIONS) f[`ops.${r}`] = sig(r, r === 'max' || r === 'min' ? 'x, axis=None, keepdims=False, initial>!=None' : 'x, axis=None, keepdims=False');
  for (const u of UNARY) f[`ops.${u}`] = sig(u, 'x');
  Object.assign(f, {
    'ops.expand_dims': sig('expand_dims', 'x, axis'),
    'ops.squeeze': sig('squeeze', 'x, axis=None'),
    'ops.reshape': sig('reshape', 'x, newshape|new_shape>shape'),
    'ops.transpose': sig('transpose', 'x, axes=None'),
    'ops.repeat': sig('repeat', 'x, repeats, axis=None'),
    'ops.tile': sig('tile', 'x, repeats'),
    'ops.concatenate': sig('concatenate', 'xs, axis=0'),
    'ops.stack': sig('stack', 'x>xs, axis=0'),
    'ops.dot': sig('dot', 'x1>x, x2>y'),
    'ops.matmul': sig('matmul', 'x1>x, x2>y'),
    'ops.softmax': sig('softmax', 'x, axis=-1'),
    'ops.cast': sig('cast', 'x, dtype'),
    'ops.shape': sig('shape_tuple', 'x'),
  });
  for (const b of ['add', 'subtract', 'multiply', 'divide', 'maximum', 'minimum', 'power']) f[`ops.${b}`] = sig(b, 'x1>x, x2>y');

  // NumPy, on the same tensors.
  Object.assign(f, {
    'np.sum': sig('sum', 'a>x, axis=None, dtype>!=None, out>!=None, keepdims=False'),
    'np.mean': sig('mean', 'a>x, axis=None, dtype>!=None, out>!=None, keepdims=False'),
    'np.max': sig('max', 'a>x, axis=None, out>!=None, keepdims=False'),
    'np.min': sig('min', 'a>x, axis=None, out>!=None, keepdims=False'),
    'np.prod': sig('prod', 'a>x, axis=None, dtype>!=None, out>!=None, keepdims=False'),
    'np.std': sig('std', 'a>x, axis=None, dtype>!=None, out>!=None, ddof>!=0, keepdims=False'),
    'np.expand_dims': sig('expand_dims', 'a>x, axis'),
    'np.squeeze': sig('squeeze', 'a>x, axis=None'),
    'np.reshape': sig('reshape', 'a>x, newshape|shape>shape'),
    'np.transpose': sig('transpose', 'a>x, axes=None'),
    'np.repeat': sig('repeat', 'a>x, repeats, axis=None'),
    'np.tile': sig('tile', 'A>x, reps>repeats'),
    'np.concatenate': sig('concatenate', 'arrays>xs, axis=0'),
    'np.stack': sig('stack', 'arrays>xs, axis=0'),
    'np.dot': sig('dot', 'a>x, b>y'),
    'np.matmul': sig('matmul', 'x1>x, x2>y'),
  });
  for (const u of ['sqrt', 'square', 'exp', 'log', 'abs', 'tanh']) f[`np.${u}`] = sig(u, 'x');

  // math: Python numbers only.
  for (const u of ['sqrt', 'exp', 'log', 'tanh']) f[`math.${u}`] = sig(u, 'x');
  return f;
}

/** Whitelisted functions by namespace-qualified name (`tf.math.reduce_sum`). */
export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = build();

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

/** The spec of a call written as `fn` (dotted, as the code spells it); undefined when not whitelisted. */
export function functionSpec(fn: string): FunctionSpec | undefined {
  const key = resolvePath(fn.split('.'));
  return key !== undefined && Object.prototype.hasOwnProperty.call(FUNCTIONS, key) ? FUNCTIONS[key] : undefined;
}

/** The constant a module attribute written as `path` stands for; undefined when not whitelisted. */
export function constantOf(path: string): ConstantValue | undefined {
  const key = resolvePath(path.split('.'));
  return key !== undefined && Object.prototype.hasOwnProperty.call(CONSTANTS, key) ? CONSTANTS[key] : undefined;
}

export interface BoundCall {
  op: string;
  /** Op arguments by name, defaults filled in. */
  args: Record<string, Expr>;
}

/**
 * Binds a call's positional and keyword arguments to the op's arguments as Python would bind them to
 * the function's parameters. Returns a message when Python would raise (or the call uses a parameter the
 * translation does not support).
 */
export function bindCall(fn: string, spec: FunctionSpec, args: readonly Expr[], kwargs: readonly { name: string; value: Expr }[]): BoundCall | string {
  if (args.length > spec.params.length) return `${fn}() takes ${spec.params.length} positional arguments but ${args.length} were given`;
  const given = new Map<ParamSpec, Expr>();
  args.forEach((a, i) => given.set(spec.params[i], a));
  for (const kw of kwargs) {
    const p = spec.params.find((q) => q.names.includes(kw.name));
    if (!p) return `${fn}() got an unexpected keyword argument '${kw.name}'`;
    if (given.has(p)) return `${fn}() got multiple values for argument '${kw.name}'`;
    given.set(p, kw.value);
  }
  const out: Record<string, Expr> = Object.create(null) as Record<string, Expr>;
  for (const p of spec.params) {
    let v = given.get(p);
    if (v === undefined) {
      if (p.default === undefined) return `${fn}() missing required argument '${p.names[0]}'`;
      v = p.default;
    }
    if (p.noneIsDefault && v.k === 'none' && p.default) v = p.default;
    if (p.to === null) continue;
    if (p.to === '!') {
      if (!sameLiteral(v, p.default)) return `${fn}(${p.names[0]}=...) is only translated with its default value`;
      continue;
    }
    out[p.to] = v;
  }
  return { op: spec.op, args: out };
}

function sameLiteral(a: Expr, b: Expr | undefined): boolean {
  if (!b) return false;
  if (a.k === 'none' || b.k === 'none') return a.k === b.k;
  if ((a.k === 'int' || a.k === 'float' || a.k === 'bool') && (b.k === 'int' || b.k === 'float' || b.k === 'bool')) return Number(a.v) === Number(b.v);
  return false;
}
