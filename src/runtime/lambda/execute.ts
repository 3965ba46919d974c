/**
 * Runs a translated Lambda program on tfjs values: the layer's inputs (a tensor or a list of tensors) and
 * mask in, the returned tensor(s) out. Python semantics where the program has Python values (tuples,
 * ints, slices, list concatenation); ops through the op table (interim-ops.ts for now).
 *
 * `checkProgram` is the static half: every name defined before use, every call whitelisted and bound the
 * way Python would bind it, every constant dtype one tfjs computes in. The translator runs it on what it
 * produced and the layer on every program it is handed (a tfjs model.json is untrusted input).
 */
import * as tf from '@tensorflow/tfjs';
import { type BinOp, type CmpOp, type Expr, type LambdaProgram, children, formatExpr } from './ir.js';
import { bindCall, constantOf, functionSpec } from './aliases.js';
import { INTERIM_OPS } from './interim-ops.js';
import { DType, ELLIPSIS, PySeq, PySlice, type Value, isTensor, lambdaError, toDType, toInt, toTensor, typeName } from './values.js';

const BINARY_OPS: Readonly<Record<BinOp, string>> = {
  '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '//': 'floor_divide', '%': 'mod', '**': 'power', '@': 'matmul',
};
const COMPARE: Readonly<Record<CmpOp, string>> = {
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
        if ('dtype' in c) {
          try {
            toDType(new DType(c.dtype), e.path);
          } catch (err) {
            return (err as Error).message;
          }
        }
        return undefined;
      }
      case 'attr':
        if (e.name !== 'shape') return `the attribute .${e.name} is not translated`;
        return visit(e.value);
      case 'call': {
        const spec = functionSpec(e.fn);
        if (!spec) return `${e.fn}() is not a whitelisted function`;
        if (!INTERIM_OPS[spec.op]) return `${e.fn}() has no implementation`;
        const bound = bindCall(e.fn, spec, e.args, e.kwargs);
        if (typeof bound === 'string') return bound;
        if (spec.op === 'cast' && (bound.args.dtype.k === 'str' || bound.args.dtype.k === 'ref')) {
          const d = bound.args.dtype;
          const c = d.k === 'ref' ? constantOf(d.path) : { dtype: d.v };
          try {
            toDType(new DType(c && 'dtype' in c ? c.dtype : '?'), `${e.fn}() dtype`);
          } catch (err) {
            return (err as Error).message;
          }
        }
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
// Subscripts.

/** Python's `slice.indices(length)`: start, stop, step clamped for a dimension of `length`. */
function sliceIndices(s: PySlice, length: number): [number, number, number] {
  const step = s.step === null ? 1 : toInt(s.step, 'slice step');
  if (step === 0) throw lambdaError('slice step cannot be zero');
  const clamp = (v: Value, dflt: number, lo: number, hi: number): number => {
    if (v === null) return dflt;
    let i = toInt(v, 'slice index');
    if (i < 0) i += length;
    return Math.min(Math.max(i, lo), hi);
  };
  if (step > 0) return [clamp(s.start, 0, 0, length), clamp(s.stop, length, 0, length), step];
  return [clamp(s.start, length - 1, -1, length - 1), clamp(s.stop, -1, -1, length - 1), step];
}

function sliceCount(start: number, stop: number, step: number): number {
  return step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
}

function indexSequence(seq: PySeq, index: Value): Value {
  if (index instanceof PySlice) {
    const [start, stop, step] = sliceIndices(index, seq.items.length);
    const out: Value[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(seq.items[i]);
    return new PySeq(seq.kind, out);
  }
  const i = toInt(index, `${seq.kind} index`);
  const j = i < 0 ? i + seq.items.length : i;
  if (j < 0 || j >= seq.items.length) throw lambdaError(`${seq.kind} index ${i} out of range for ${seq.items.length} items`);
  return seq.items[j];
}

/** NumPy/TensorFlow basic indexing: ints, slices, None (new axis) and one Ellipsis. */
function indexTensor(t: tf.Tensor, index: Value): tf.Tensor {
  const parts = index instanceof PySeq && index.kind === 'tuple' ? index.items : [index];
  const ellipses = parts.filter((p) => p === ELLIPSIS).length;
  if (ellipses > 1) throw lambdaError('an index can only have a single ellipsis');
  const consuming = parts.filter((p) => p !== null && p !== ELLIPSIS).length;
  if (consuming > t.rank) throw lambdaError(`too many indices (${consuming}) for a tensor of rank ${t.rank}`);
  const begin: number[] = [];
  const end: number[] = [];
  const strides: number[] = [];
  let endMask = 0;
  const outShape: number[] = [];
  let empty = false;
  let dim = 0;
  const take = (p: Value): void => {
    const length = t.shape[dim];
    if (p instanceof PySlice) {
      const [start, stop, step] = sliceIndices(p, length);
      const n = sliceCount(start, stop, step);
      if (n === 0) empty = true;
      begin.push(Math.max(start, 0));
      end.push(stop < 0 ? 0 : stop);
      if (stop < 0) endMask |= 1 << dim;
      strides.push(step);
      outShape.push(n);
    } else if (typeof p === 'number' || typeof p === 'boolean' || isTensor(p)) {
      if (isTensor(p) && p.size !== 1) throw lambdaError('indexing a tensor by a tensor (gather) is not translated');
      if (typeof p === 'boolean') throw lambdaError('indexing a tensor by a bool is not translated');
      const i = toInt(p, 'index');
      const j = i < 0 ? i + length : i;
      if (j < 0 || j >= length) throw lambdaError(`index ${i} is out of bounds for axis ${dim} with size ${length}`);
      begin.push(j);
      end.push(j + 1);
      strides.push(1);
    } else throw lambdaError(`indexing a tensor by ${typeName(p)} is not translated`);
    dim++;
  };
  for (const p of parts) {
    if (p === null) outShape.push(1);
    else if (p === ELLIPSIS) {
      for (let n = t.rank - consuming; n > 0; n--) take(new PySlice(null, null, null));
    } else take(p);
  }
  while (dim < t.rank) take(new PySlice(null, null, null));
  if (empty) return tf.zeros(outShape, t.dtype);
  return tf.reshape(tf.stridedSlice(t, begin, end, strides, 0, endMask), outShape);
}

function subscript(value: Value, index: Value): Value {
  if (value instanceof PySeq) return indexSequence(value, index);
  if (isTensor(value)) {
    if (index instanceof PySeq && index.kind === 'list') throw lambdaError('indexing a tensor by a list (gather) is not translated');
    return indexTensor(value, index);
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

  private op(name: string, args: Record<string, Value>): Value {
    const impl = INTERIM_OPS[name];
    if (!impl) throw lambdaError(`the op ${name} has no implementation`);
    return impl(args);
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
        return this.op(BINARY_OPS[e.op], { x: this.eval(e.left), y: this.eval(e.right), transpose_x: false, transpose_y: false });
      case 'compare':
        return this.op(COMPARE[e.op], { x: this.eval(e.left), y: this.eval(e.right) });
      case 'unary':
        return this.op(e.op === '-' ? 'negative' : 'positive', { x: this.eval(e.operand) });
      case 'ref':
        return constantValue(e.path);
      case 'attr': {
        const v = this.eval(e.value);
        if (!isTensor(v)) throw lambdaError(`${formatExpr(e)}: ${typeName(v)} has no .${e.name}`);
        return new PySeq('tuple', v.shape);
      }
      case 'call': {
        const spec = functionSpec(e.fn);
        if (!spec) throw lambdaError(`${e.fn}() is not a whitelisted function`);
        const bound = bindCall(e.fn, spec, e.args, e.kwargs);
        if (typeof bound === 'string') throw lambdaError(bound);
        const args: Record<string, Value> = {};
        for (const [k, v] of Object.entries(bound.args)) args[k] = this.eval(v);
        return this.op(bound.op, args);
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
  if (typeof out === 'number' || typeof out === 'boolean') return toTensor(out, 'the result', typeof out === 'boolean' ? 'bool' : 'float32');
  throw lambdaError(`the function returns ${typeName(out)}, not a tensor`);
}

