/**
 * Runs a translated Lambda program on tfjs values: the layer's inputs (a tensor or a list of tensors) and
 * mask in, the returned tensor(s) out. Tensor computations are ops of the op table (src/runtime/ops), the
 * same ones TFOpLambda layers and Keras 3 op nodes run: calls through their alias (aliases.ts), operators
 * and subscripts as the op Python's operator dispatches to. Python values keep Python's semantics here
 * (ints and floats, tuples and lists, slices of lists, list concatenation).
 *
 * `checkProgram` is the static half: every name defined before use, every call whitelisted and bound as
 * Python would bind it (checkCall). The translator runs it on what it produced and the layer on every
 * program it is handed (a tfjs model.json is untrusted input).
 */
import * as tf from '@tensorflow/tfjs';
import { tfjsDtype } from '../ops/spec.js';
import { bindOp, runOp } from '../ops/table.js';
import { ELLIPSIS as OP_ELLIPSIS, type OpValue, pySlice } from '../ops/values.js';
import { bindLambdaCall, checkCall, constantCall, constantOf, lambdaAlias } from './aliases.js';
import { type BinOp, type CmpOp, type Expr, type LambdaProgram, children, formatExpr } from './ir.js';
import { DType, ELLIPSIS, MAX_SEQUENCE, PySeq, PySlice, type Value, isTensor, lambdaError, toInt, typeName } from './values.js';

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

/** A value as an op argument (a tuple or list is a list, a dtype its name). */
function opValue(v: Value): OpValue<tf.Tensor> {
  if (v instanceof PySeq) return v.items.map(opValue);
  if (v instanceof PySlice) return pySlice(opValue(v.start), opValue(v.stop), opValue(v.step));
  if (v instanceof DType) return v.name;
  if (v === ELLIPSIS) return OP_ELLIPSIS;
  return v as OpValue<tf.Tensor>;
}

/** An op's result as a value: a tensor, or the list of tensors an op like split gives. */
function fromResult(r: tf.Tensor | tf.Tensor[]): Value {
  return Array.isArray(r) ? new PySeq('list', r) : r;
}

function runNamedOp(name: string, args: Value[]): Value {
  return fromResult(runOp(bindOp(name, args.map(opValue))));
}

/** Python arithmetic and comparison of two numbers. */
function numeric(op: string, l: number, r: number): number | boolean {
  const zero = (what: string) => {
    if (r === 0) throw lambdaError(`${what} by zero`);
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
      throw lambdaError(`the operator ${op} on numbers`);
  }
}

const isNumber = (v: Value): v is number | boolean => typeof v === 'number' || typeof v === 'boolean';

/** `l op r`: Python's meaning on numbers and sequences, the op table's on tensors. */
function operator(op: BinOp | CmpOp, l: Value, r: Value): Value {
  if (isNumber(l) && isNumber(r)) return numeric(op, Number(l), Number(r));
  if (l instanceof PySeq && r instanceof PySeq && op === '+' && l.kind === r.kind) return new PySeq(l.kind, [...l.items, ...r.items]);
  if (l instanceof PySeq && typeof r === 'number' && op === '*') {
    const times = Math.max(0, Math.floor(r));
    if (times * l.items.length > MAX_SEQUENCE) throw lambdaError(`a ${l.kind} of ${times * l.items.length} items (at most ${MAX_SEQUENCE})`);
    return new PySeq(l.kind, Array.from({ length: times }, () => l.items).flat());
  }
  if (!isTensor(l) && !isTensor(r)) throw lambdaError(`${typeName(l)} ${op} ${typeName(r)} is not translated`);
  const name = op in BINARY_OPS ? BINARY_OPS[op as BinOp] : COMPARE_OPS[op as CmpOp];
  return runNamedOp(name, [l, r]);
}

/** Python's `slice.indices(length)` for a list: the positions a slice selects. */
function slicePositions(s: PySlice, length: number): number[] {
  const step = s.step === null ? 1 : toInt(s.step, 'slice step');
  if (step === 0) throw lambdaError('slice step cannot be zero');
  const clamp = (v: Value, dflt: number, lo: number, hi: number): number => {
    if (v === null) return dflt;
    let i = toInt(v, 'slice index');
    if (i < 0) i += length;
    return Math.min(Math.max(i, lo), hi);
  };
  const [start, stop] = step > 0 ? [clamp(s.start, 0, 0, length), clamp(s.stop, length, 0, length)] : [clamp(s.start, length - 1, -1, length - 1), clamp(s.stop, -1, -1, length - 1)];
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function subscript(value: Value, index: Value): Value {
  if (value instanceof PySeq) {
    if (index instanceof PySlice) return new PySeq(value.kind, slicePositions(index, value.items.length).map((i) => value.items[i]));
    const i = toInt(index, `${value.kind} index`);
    const j = i < 0 ? i + value.items.length : i;
    if (j < 0 || j >= value.items.length) throw lambdaError(`${value.kind} index ${i} out of range for ${value.items.length} items`);
    return value.items[j];
  }
  if (isTensor(value)) {
    // A list index is NumPy's fancy indexing (a gather), which `x[...]` of a Keras tensor is not.
    if (index instanceof PySeq && index.kind === 'list') throw lambdaError('indexing a tensor by a list (gather) is not translated');
    return runNamedOp('getitem', [value, index]);
  }
  throw lambdaError(`${typeName(value)} cannot be indexed`);
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation.

function constantValue(path: string): Value {
  const c = constantOf(path);
  if (!c) throw lambdaError(`${path} is not a whitelisted constant`);
  if ('dtype' in c) return new DType(c.dtype);
  return evalConst(c.value);
}

function evalConst(e: Expr): Value {
  return new Run(new Map()).eval(e);
}

class Run {
  private readonly memo = new Map<Expr, Value>();

  constructor(private readonly env: Map<string, Value>) {}

  eval(e: Expr): Value {
    const known = this.memo.get(e);
    if (known !== undefined) return known;
    const v = this.compute(e);
    this.memo.set(e, v);
    return v;
  }

  private compute(e: Expr): Value {
    switch (e.k) {
      case 'name': {
        if (!this.env.has(e.id)) throw lambdaError(`the name "${e.id}" has no value`);
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
        return subscript(this.eval(e.value), this.eval(e.index));
      case 'binop':
      case 'compare':
        return operator(e.op, this.eval(e.left), this.eval(e.right));
      case 'unary': {
        const v = this.eval(e.operand);
        if (isNumber(v)) return e.op === '-' ? -Number(v) : Number(v);
        return runNamedOp(e.op === '-' ? 'negative' : 'identity', [v]);
      }
      case 'ref':
        return constantValue(e.path);
      case 'attr': {
        const v = this.eval(e.value);
        if (!isTensor(v)) throw lambdaError(`${formatExpr(e)}: ${typeName(v)} has no .${e.name}`);
        return new PySeq('tuple', v.shape);
      }
      case 'call': {
        const constant = constantCall(e.fn);
        if (constant) return evalConst(constant);
        const alias = lambdaAlias(e.fn);
        if (!alias) throw lambdaError(`${e.fn}() is not a whitelisted function`);
        const keywords: Record<string, OpValue<tf.Tensor>> = {};
        for (const kw of e.kwargs) Object.defineProperty(keywords, kw.name, { value: opValue(this.eval(kw.value)), enumerable: true, writable: true, configurable: true });
        return fromResult(runOp(bindLambdaCall(e.fn, alias, e.args.map((a) => opValue(this.eval(a))), keywords)));
      }
    }
  }
}

/** Unpacking as Python does it: a tuple or list of exactly `n` items, or a tensor of `n` rows. */
function unpack(v: Value, n: number): Value[] {
  if (v instanceof PySeq) {
    if (v.items.length !== n) throw lambdaError(`cannot unpack ${v.items.length} values into ${n} names`);
    return v.items;
  }
  if (isTensor(v) && v.rank > 0) {
    if (v.shape[0] !== n) throw lambdaError(`cannot unpack a tensor of ${v.shape[0]} rows into ${n} names`);
    return tf.unstack(v);
  }
  throw lambdaError(`cannot unpack ${typeName(v)}`);
}

/**
 * The program's result for these inputs: a tensor, or the tensors of a returned tuple or list. Tensors
 * made on the way are the caller's to free (run it inside `tf.tidy`).
 */
export function runProgram(p: LambdaProgram, inputs: Value, mask: Value = null): tf.Tensor | tf.Tensor[] {
  const env = new Map<string, Value>();
  env.set(p.input, inputs);
  if (p.mask) env.set(p.mask, mask);
  for (const b of p.bound) env.set(b.name, evalConst(b.value));
  const run = new Run(env);
  for (const a of p.body) {
    const v = run.eval(a.value);
    if (!a.unpack) env.set(a.targets[0], v);
    else unpack(v, a.targets.length).forEach((item, i) => env.set(a.targets[i], item));
  }
  const out = run.eval(p.result);
  if (isTensor(out)) return out;
  if (out instanceof PySeq && out.items.every(isTensor)) return out.items as tf.Tensor[];
  if (isNumber(out)) return tf.scalar(Number(out), typeof out === 'boolean' ? 'bool' : 'float32');
  throw lambdaError(`the function returns ${typeName(out)}, not a tensor`);
}
