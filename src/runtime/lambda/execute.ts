/**
 * Runs a translated Lambda program: the layer's inputs (a tensor or a list of tensors) and mask in, the
 * returned tensor(s) out. Tensor computations are ops of the op table (src/runtime/ops), the same ones
 * TFOpLambda layers and Keras 3 op nodes run: calls through their alias (aliases.ts), operators and
 * subscripts as the op Python's operator dispatches to. Python values keep Python's semantics here (ints
 * and floats, tuples and lists, slices of lists, list concatenation). One evaluator serves the runtime
 * (`runProgram`, on tfjs) and the ONNX export (src/writers/onnx/lowerings/translated-lambda.ts, on graph
 * values): what differs between them is a `TensorHost`.
 *
 * `checkProgram` is the static half: every name defined before use, every call whitelisted and bound as
 * Python would bind it (checkCall). The translator runs it on what it produced and the layer on every
 * program it is handed (a tfjs model.json is untrusted input).
 */
import * as tf from '@tensorflow/tfjs';
import { tfjsDtype } from '../ops/spec.js';
import { type OpCall, bindOp, runOp } from '../ops/table.js';
import { ELLIPSIS as OP_ELLIPSIS, type OpValue, pySlice } from '../ops/values.js';
import { bindLambdaCall, checkCall, constantCall, constantOf, lambdaAlias } from './aliases.js';
import { type BinOp, type CmpOp, type Expr, type LambdaProgram, children, formatExpr } from './ir.js';
import { DType, ELLIPSIS, MAX_SEQUENCE, PySeq, PySlice, type PyValue, type TensorLike, type Value, isTensor, lambdaError, toInt, typeName } from './values.js';

/** The op each Python operator dispatches to on tensors. */
const BINARY_OPS: Readonly<Record<BinOp, string>> = {
  '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '//': 'floor_divide', '%': 'floor_mod', '**': 'pow', '@': 'matmul',
};
const COMPARE_OPS: Readonly<Record<CmpOp, string>> = {
  '<': 'less', '<=': 'less_equal', '==': 'equal', '!=': 'not_equal', '>': 'greater', '>=': 'greater_equal',
};

/** Why the program cannot run, or undefined when it can. */
export function checkProgram(p: LambdaProgram): string | undefined {
  const defined = new Set<string>([p.input, ...(p.mask ? [p.mask] : []), ...p.bound.map((b) => b.name)]);
  const visit = (e: Expr): string | undefined => {
    switch (e.k) {
      case 'name':
        return defined.has(e.id) ? undefined : `the name "${e.id}" is used before it is assigned`;
      case 'ref': {
        const c = constantOf(e.path);
        if (!c) return `${e.path} is not a whitelisted constant`;
        return 'dtype' in c && !tfjsDtype(c.dtype) ? `${e.path} is not a dtype tfjs computes in` : undefined;
      }
      case 'attr':
        if (e.name !== 'shape') return `the attribute .${e.name} is not translated`;
        break;
      case 'call': {
        const why = checkCall(e.fn, e.args, e.kwargs);
        if (why) return why;
        break;
      }
      default:
        break;
    }
    for (const c of children(e)) {
      const why = visit(c);
      if (why) return why;
    }
    return undefined;
  };
  for (const b of p.bound) {
    const why = visit(b.value);
    if (why) return why;
  }
  for (const a of p.body) {
    const why = visit(a.value);
    if (why) return why;
    for (const t of a.targets) defined.add(t);
  }
  return visit(p.result);
}

// ---------------------------------------------------------------------------------------------------------
// Python values.

/**
 * What a program's tensors are and how the op table's ops run on them: tfjs tensors when a model runs
 * (`runProgram`), graph values when the ONNX export lowers the program. Everything else (Python's numbers,
 * sequences, slices, names, whitelisted calls) is evaluated here, once for both.
 */
export interface TensorHost<T extends TensorLike> {
  isTensor(v: unknown): v is T;
  /** A bound op on these tensors: its tensor, or the list of tensors an op like split gives. */
  run(call: OpCall<T>): T | T[];
  /** A Python int (`what` names the value for the error). */
  int(v: PyValue<T>, what: string): number;
  /** `t.shape`, a tuple. */
  shape(t: T): PySeq<T>;
  /** A tensor unpacked into `n` names, by rows. */
  unpack(t: T, n: number): PyValue<T>[];
  /** Stops the evaluation: what Python would have raised, or what cannot be computed. */
  fail(message: string): never;
}

/** A value as an op argument (a tuple or list is a list, a dtype its name). */
function opValue<T>(v: PyValue<T>): OpValue<T> {
  if (v instanceof PySeq) return v.items.map(opValue);
  if (v instanceof PySlice) return pySlice(opValue(v.start), opValue(v.stop), opValue(v.step));
  if (v instanceof DType) return v.name;
  if (v === ELLIPSIS) return OP_ELLIPSIS;
  return v as OpValue<T>;
}

/** Python arithmetic and comparison of two numbers. */
function numeric(op: string, l: number, r: number, fail: (message: string) => never): number | boolean {
  const zero = (what: string) => {
    if (r === 0) fail(`${what} by zero`);
  };
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      zero('division');
      return l / r;
    case '//':
      zero('integer division');
      return Math.floor(l / r);
    case '%':
      zero('modulo');
      return l - Math.floor(l / r) * r;
    case '**':
      return l ** r;
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
    default:
      return fail(`the operator ${op} on numbers`);
  }
}

const isNumber = (v: unknown): v is number | boolean => typeof v === 'number' || typeof v === 'boolean';

// ---------------------------------------------------------------------------------------------------------
// Evaluation.

class Run<T extends TensorLike> {
  private readonly memo = new Map<Expr, PyValue<T>>();

  constructor(
    private readonly host: TensorHost<T>,
    private readonly env: Map<string, PyValue<T>>,
  ) {}

  eval(e: Expr): PyValue<T> {
    const known = this.memo.get(e);
    if (known !== undefined) return known;
    const v = this.compute(e);
    this.memo.set(e, v);
    return v;
  }

  /** A constant expression (a whitelisted constant, a bound parameter's value), evaluated without names. */
  private constant(e: Expr): PyValue<T> {
    return new Run(this.host, new Map()).eval(e);
  }

  private fromResult(r: T | T[]): PyValue<T> {
    return Array.isArray(r) ? new PySeq('list', r) : r;
  }

  private named(name: string, args: PyValue<T>[]): PyValue<T> {
    return this.fromResult(this.host.run(bindOp(name, args.map(opValue))));
  }

  /** `l op r`: Python's meaning on numbers and sequences, the op table's on tensors. */
  private operator(op: BinOp | CmpOp, l: PyValue<T>, r: PyValue<T>): PyValue<T> {
    const host = this.host;
    if (isNumber(l) && isNumber(r)) return numeric(op, Number(l), Number(r), (m) => host.fail(m));
    if (l instanceof PySeq && r instanceof PySeq && op === '+' && l.kind === r.kind) return new PySeq(l.kind, [...l.items, ...r.items]);
    if (l instanceof PySeq && typeof r === 'number' && op === '*') {
      const times = Math.max(0, Math.floor(r));
      if (times * l.items.length > MAX_SEQUENCE) return host.fail(`a ${l.kind} of ${times * l.items.length} items (at most ${MAX_SEQUENCE})`);
      return new PySeq(l.kind, Array.from({ length: times }, () => l.items).flat());
    }
    if (!host.isTensor(l) && !host.isTensor(r)) return host.fail(`${typeName(l)} ${op} ${typeName(r)} is not translated`);
    const name = op in BINARY_OPS ? BINARY_OPS[op as BinOp] : COMPARE_OPS[op as CmpOp];
    return this.named(name, [l, r]);
  }

  /** Python's `slice.indices(length)` for a list: the positions a slice selects. */
  private slicePositions(s: PySlice<T>, length: number): number[] {
    const step = s.step === null ? 1 : this.host.int(s.step, 'slice step');
    if (step === 0) return this.host.fail('slice step cannot be zero');
    const clamp = (v: PyValue<T>, dflt: number, lo: number, hi: number): number => {
      if (v === null) return dflt;
      let i = this.host.int(v, 'slice index');
      if (i < 0) i += length;
      return Math.min(Math.max(i, lo), hi);
    };
    const [start, stop] = step > 0 ? [clamp(s.start, 0, 0, length), clamp(s.stop, length, 0, length)] : [clamp(s.start, length - 1, -1, length - 1), clamp(s.stop, -1, -1, length - 1)];
    const out: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
    return out;
  }

  private subscript(value: PyValue<T>, index: PyValue<T>): PyValue<T> {
    if (value instanceof PySeq) {
      if (index instanceof PySlice) return new PySeq(value.kind, this.slicePositions(index, value.items.length).map((i) => value.items[i]));
      const i = this.host.int(index, `${value.kind} index`);
      const j = i < 0 ? i + value.items.length : i;
      if (j < 0 || j >= value.items.length) return this.host.fail(`${value.kind} index ${i} out of range for ${value.items.length} items`);
      return value.items[j];
    }
    if (this.host.isTensor(value)) {
      // A list index is NumPy's fancy indexing (a gather), which `x[...]` of a Keras tensor is not.
      if (index instanceof PySeq && index.kind === 'list') return this.host.fail('indexing a tensor by a list (gather) is not translated');
      return this.named('getitem', [value, index]);
    }
    return this.host.fail(`${typeName(value)} cannot be indexed`);
  }

  /** Unpacking as Python does it: a tuple or list of exactly `n` items, or a tensor of `n` rows. */
  unpack(v: PyValue<T>, n: number): PyValue<T>[] {
    if (v instanceof PySeq) {
      if (v.items.length !== n) return this.host.fail(`cannot unpack ${v.items.length} values into ${n} names`);
      return v.items;
    }
    if (this.host.isTensor(v)) return this.host.unpack(v, n);
    return this.host.fail(`cannot unpack ${typeName(v)}`);
  }

  private compute(e: Expr): PyValue<T> {
    switch (e.k) {
      case 'name': {
        if (!this.env.has(e.id)) return this.host.fail(`the name "${e.id}" has no value`);
        return this.env.get(e.id)!;
      }
      case 'none':
        return null;
      case 'ellipsis':
        return ELLIPSIS;
      case 'bool':
      case 'int':
      case 'float':
      case 'str':
        return e.v;
      case 'tuple':
      case 'list':
        return new PySeq(e.k, e.items.map((i) => this.eval(i)));
      case 'slice':
        return new PySlice(this.eval(e.start), this.eval(e.stop), this.eval(e.step));
      case 'subscript':
        return this.subscript(this.eval(e.value), this.eval(e.index));
      case 'binop':
      case 'compare':
        return this.operator(e.op, this.eval(e.left), this.eval(e.right));
      case 'unary': {
        const v = this.eval(e.operand);
        if (isNumber(v)) return e.op === '-' ? -Number(v) : Number(v);
        return this.named(e.op === '-' ? 'negative' : 'identity', [v]);
      }
      case 'ref': {
        const c = constantOf(e.path);
        if (!c) return this.host.fail(`${e.path} is not a whitelisted constant`);
        if ('dtype' in c) return new DType(c.dtype);
        return this.constant(c.value);
      }
      case 'attr': {
        const v = this.eval(e.value);
        if (!this.host.isTensor(v)) return this.host.fail(`${formatExpr(e)}: ${typeName(v)} has no .${e.name}`);
        if (e.name !== 'shape') return this.host.fail(`the attribute .${e.name} is not translated`);
        return this.host.shape(v);
      }
      case 'call': {
        const constant = constantCall(e.fn);
        if (constant) return this.constant(constant);
        const alias = lambdaAlias(e.fn);
        if (!alias) return this.host.fail(`${e.fn}() is not a whitelisted function`);
        const keywords: Record<string, OpValue<T>> = {};
        for (const kw of e.kwargs) Object.defineProperty(keywords, kw.name, { value: opValue(this.eval(kw.value)), enumerable: true, writable: true, configurable: true });
        return this.fromResult(this.host.run(bindLambdaCall(e.fn, alias, e.args.map((a) => opValue(this.eval(a))), keywords)));
      }
    }
  }
}

/**
 * What the program returns for these inputs (a value of `host`'s tensors), Python values and names
 * evaluated here and tensor work handed to the host. Bound parameters are constants, evaluated without
 * names.
 */
export function evaluateProgram<T extends TensorLike>(p: LambdaProgram, host: TensorHost<T>, inputs: PyValue<T>, mask: PyValue<T>): PyValue<T> {
  const env = new Map<string, PyValue<T>>();
  env.set(p.input, inputs);
  if (p.mask) env.set(p.mask, mask);
  const run = new Run(host, env);
  for (const b of p.bound) env.set(b.name, new Run(host, new Map()).eval(b.value));
  for (const a of p.body) {
    const v = run.eval(a.value);
    if (!a.unpack) env.set(a.targets[0], v);
    else run.unpack(v, a.targets.length).forEach((item, i) => env.set(a.targets[i], item));
  }
  return run.eval(p.result);
}

// ---------------------------------------------------------------------------------------------------------
// On tfjs.

const TFJS: TensorHost<tf.Tensor> = {
  isTensor: (v): v is tf.Tensor => v instanceof tf.Tensor,
  run: (call) => runOp(call),
  int: toInt,
  shape: (t) => new PySeq<tf.Tensor>('tuple', t.shape),
  unpack: (t, n) => {
    if (t.rank === 0) throw lambdaError(`cannot unpack ${typeName(t)}`);
    if (t.shape[0] !== n) throw lambdaError(`cannot unpack a tensor of ${t.shape[0]} rows into ${n} names`);
    return tf.unstack(t);
  },
  fail: (message) => {
    throw lambdaError(message);
  },
};

/**
 * The program's result for these inputs: a tensor, or the tensors of a returned tuple or list. Tensors
 * made on the way are the caller's to free (run it inside `tf.tidy`).
 */
export function runProgram(p: LambdaProgram, inputs: Value, mask: Value = null): tf.Tensor | tf.Tensor[] {
  const out = evaluateProgram(p, TFJS, inputs, mask);
  if (isTensor(out)) return out;
  if (out instanceof PySeq && out.items.every(isTensor)) return out.items as tf.Tensor[];
  if (isNumber(out)) return tf.scalar(Number(out), typeof out === 'boolean' ? 'bool' : 'float32');
  throw lambdaError(`the function returns ${typeName(out)}, not a tensor`);
}
