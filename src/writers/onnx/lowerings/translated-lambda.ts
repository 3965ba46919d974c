/**
 * `KerasInterop>Lambda`, a Lambda layer translated from its Python bytecode (src/runtime/lambda): its
 * program evaluated as src/runtime/lambda/execute.ts runs it, with ONNX values for tensors. Python values
 * keep Python's meaning (numbers, tuples and lists, slices); calls bind through the same alias table and
 * tensor work goes through the op table's ONNX lowerings. A tensor's `.shape` gives its known sizes as
 * numbers and its unknown ones as scalar tensors read at run time.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LambdaProgram, Expr, BinOp, CmpOp } from '../../../runtime/lambda/ir.js';
import { bindLambdaCall, constantCall, constantOf, lambdaAlias } from '../../../runtime/lambda/aliases.js';
import { DType, ELLIPSIS, PySeq, PySlice } from '../../../runtime/lambda/values.js';
import { ELLIPSIS as OP_ELLIPSIS, pySlice, type OpValue } from '../../../runtime/ops/values.js';
import type { Value } from '../graph.js';
import { type OnnxOpValue, isOnnxTensor } from '../op-lowering.js';
import { type LoweringContext, registerLowering } from '../registry.js';
import { lowerOp } from './op-layer.js';

type PyValue = Value | number | boolean | string | null | PySeq | PySlice | DType | typeof ELLIPSIS;

const BINARY_OPS: Readonly<Record<BinOp, string>> = {
  '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '//': 'floor_divide', '%': 'floor_mod', '**': 'pow', '@': 'matmul',
};
const COMPARE_OPS: Readonly<Record<CmpOp, string>> = {
  '<': 'less', '<=': 'less_equal', '==': 'equal', '!=': 'not_equal', '>': 'greater', '>=': 'greater_equal',
};

class Lowering {
  private readonly memo = new Map<Expr, PyValue>();

  constructor(
    private readonly ctx: LoweringContext,
    private readonly layer: tf.layers.Layer,
    private readonly env: Map<string, PyValue>,
  ) {}

  fail(message: string): never {
    return this.ctx.unsupported(this.layer, `its translated function: ${message}`);
  }

  private opValue(v: PyValue): OnnxOpValue {
    if (v instanceof PySeq) return (v.items as PyValue[]).map((x) => this.opValue(x));
    if (v instanceof PySlice) return pySlice(this.opValue(v.start as PyValue), this.opValue(v.stop as PyValue), this.opValue(v.step as PyValue)) as OnnxOpValue;
    if (v instanceof DType) return v.name;
    if (v === ELLIPSIS) return OP_ELLIPSIS as OnnxOpValue;
    return v as OnnxOpValue;
  }

  private fromResult(r: Value[], list: boolean): PyValue {
    return list ? new PySeq('list', r as never[]) : r[0];
  }

  private op(name: string, args: PyValue[], keywords: Record<string, OnnxOpValue> = {}, fn?: string): PyValue {
    const positional = args.map((a) => this.opValue(a));
    const alias = fn ? lambdaAlias(fn) : undefined;
    const call = fn && alias ? bindLambdaCall<Value>(fn, alias, positional as OpValue<Value>[], keywords as Record<string, OpValue<Value>>) : undefined;
    const opName = call ? call.op.name : name;
    const bound = call ? (call.args as unknown as Map<string, OnnxOpValue>) : this.bindPlain(name, positional);
    const out = lowerOp(this.ctx, this.layer, opName, `${fn ?? name} (layer "${this.layer.name}")`, bound);
    return this.fromResult(out, out.length !== 1 || ['split', 'unstack', 'split_sections'].includes(opName));
  }

  /** Operators' ops take their operands by the op's own parameter names, in order. */
  private bindPlain(name: string, positional: OnnxOpValue[]): Map<string, OnnxOpValue> {
    const params: Record<string, string[]> = { getitem: ['x', 'key'], negative: ['x'], identity: ['x'], matmul: ['a', 'b'] };
    const names = params[name] ?? ['x', 'y'];
    return new Map(names.map((n, i) => [n, positional[i] ?? null]));
  }

  eval(e: Expr): PyValue {
    const known = this.memo.get(e);
    if (known !== undefined) return known;
    const v = this.compute(e);
    this.memo.set(e, v);
    return v;
  }

  private int(v: PyValue, what: string): number {
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    return this.fail(`${what} must be an integer known when the model is written`);
  }

  private compute(e: Expr): PyValue {
    switch (e.k) {
      case 'name':
        if (!this.env.has(e.id)) return this.fail(`the name "${e.id}" has no value`);
        return this.env.get(e.id)!;
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
        return new PySeq(e.k, e.items.map((i) => this.eval(i)) as never[]);
      case 'slice':
        return new PySlice(this.eval(e.start) as never, this.eval(e.stop) as never, this.eval(e.step) as never);
      case 'subscript': {
        const value = this.eval(e.value);
        const index = this.eval(e.index);
        if (value instanceof PySeq) {
          const items = value.items as PyValue[];
          if (index instanceof PySlice) {
            // Python's slice.indices(len): negative positions count from the end, then clamp.
            const step = index.step === null ? 1 : this.int(index.step as PyValue, 'a slice step');
            if (step === 0) return this.fail('slice step cannot be zero');
            const n = items.length;
            const clamp = (v: unknown, dflt: number, lo: number, hi: number): number => {
              if (v === null) return dflt;
              const i = this.int(v as PyValue, 'a slice index');
              return Math.min(Math.max(i < 0 ? i + n : i, lo), hi);
            };
            const [start, stop] = step > 0 ? [clamp(index.start, 0, 0, n), clamp(index.stop, n, 0, n)] : [clamp(index.start, n - 1, -1, n - 1), clamp(index.stop, -1, -1, n - 1)];
            const picked: PyValue[] = [];
            for (let i = start; step > 0 ? i < stop : i > stop; i += step) picked.push(items[i]);
            return new PySeq(value.kind, picked as never[]);
          }
          const i = this.int(index, `${value.kind} index`);
          const j = i < 0 ? i + items.length : i;
          if (j < 0 || j >= items.length) return this.fail(`${value.kind} index ${i} out of range`);
          return items[j];
        }
        if (isOnnxTensor(value)) {
          if (index instanceof PySeq && index.kind === 'list') return this.fail('indexing a tensor by a list (gather) is not translated');
          return this.op('getitem', [value, index]);
        }
        return this.fail('a value that cannot be indexed');
      }
      case 'binop':
      case 'compare': {
        const l = this.eval(e.left);
        const r = this.eval(e.right);
        const num = (v: PyValue): v is number | boolean => typeof v === 'number' || typeof v === 'boolean';
        if (num(l) && num(r)) return numeric(e.op, Number(l), Number(r), (m) => this.fail(m));
        if (l instanceof PySeq && r instanceof PySeq && e.op === '+' && l.kind === r.kind) return new PySeq(l.kind, [...l.items, ...r.items]);
        if (l instanceof PySeq && typeof r === 'number' && e.op === '*') return new PySeq(l.kind, Array.from({ length: Math.max(0, Math.floor(r)) }, () => l.items).flat());
        if (!isOnnxTensor(l) && !isOnnxTensor(r)) return this.fail(`the operator ${e.op} on these values is not translated`);
        return this.op(e.op in BINARY_OPS ? BINARY_OPS[e.op as BinOp] : COMPARE_OPS[e.op as CmpOp], [l, r]);
      }
      case 'unary': {
        const v = this.eval(e.operand);
        if (typeof v === 'number' || typeof v === 'boolean') return e.op === '-' ? -Number(v) : Number(v);
        return this.op(e.op === '-' ? 'negative' : 'identity', [v]);
      }
      case 'ref': {
        const c = constantOf(e.path);
        if (!c) return this.fail(`${e.path} is not a whitelisted constant`);
        return 'dtype' in c ? new DType(c.dtype) : this.eval(c.value);
      }
      case 'attr': {
        const v = this.eval(e.value);
        if (!isOnnxTensor(v) || e.name !== 'shape') return this.fail(`.${e.name} of a value that is not a tensor`);
        // Known sizes as numbers, unknown ones read at run time.
        const g = this.ctx.graph;
        return new PySeq(
          'tuple',
          v.shape.map((d, i) =>
            typeof d === 'number'
              ? d
              : ({ name: g.op('Cast', [g.op('Gather', [g.op('Shape', [v.name]), g.constant('int64', [i], [])], { axis: 0 })], { to: 6 }), dtype: 'int32', shape: [] } as Value),
          ) as never[],
        );
      }
      case 'call': {
        const constant = constantCall(e.fn);
        if (constant) return this.eval(constant);
        if (!lambdaAlias(e.fn)) return this.fail(`${e.fn}() is not a whitelisted function`);
        const keywords: Record<string, OnnxOpValue> = {};
        for (const kw of e.kwargs) Object.defineProperty(keywords, kw.name, { value: this.opValue(this.eval(kw.value)), enumerable: true, writable: true, configurable: true });
        return this.op('', e.args.map((a) => this.eval(a)), keywords, e.fn);
      }
    }
  }
}

function numeric(op: string, l: number, r: number, fail: (m: string) => never): number | boolean {
  switch (op) {
    case '+': return l + r;
    case '-': return l - r;
    case '*': return l * r;
    case '/': return r === 0 ? fail('division by zero') : l / r;
    case '//': return r === 0 ? fail('integer division by zero') : Math.floor(l / r);
    case '%': return r === 0 ? fail('modulo by zero') : l - Math.floor(l / r) * r;
    case '**': return l ** r;
    case '<': return l < r;
    case '<=': return l <= r;
    case '==': return l === r;
    case '!=': return l !== r;
    case '>': return l > r;
    case '>=': return l >= r;
    default: return fail(`the operator ${op} on numbers`);
  }
}

registerLowering('KerasInterop>Lambda', (ctx, call) => {
  const program = (call.layer as unknown as { program: LambdaProgram }).program;
  const env = new Map<string, PyValue>();
  env.set(program.input, call.inputs.length === 1 ? call.inputs[0] : new PySeq('list', call.inputs as never[]));
  if (program.mask) env.set(program.mask, null);
  const run = new Lowering(ctx, call.layer, env);
  for (const b of program.bound) env.set(b.name, run.eval(b.value));
  for (const a of program.body) {
    const v = run.eval(a.value);
    if (!a.unpack) env.set(a.targets[0], v);
    else if (v instanceof PySeq && v.items.length === a.targets.length) a.targets.forEach((t, i) => env.set(t, v.items[i] as PyValue));
    else return run.fail(`cannot unpack into ${a.targets.length} names`);
  }
  const out = run.eval(program.result);
  const outputs: Value[] = isOnnxTensor(out) ? [out] : out instanceof PySeq && (out.items as PyValue[]).every(isOnnxTensor) ? (out.items as unknown as Value[]) : run.fail('the function does not return tensors');
  if (outputs.length !== call.outputShapes.length) return run.fail(`it returns ${outputs.length} tensors, the layer has ${call.outputShapes.length} outputs`);
  return { outputs: outputs.map((o, i) => ({ ...o, shape: call.outputShapes[i] })), masks: outputs.map(() => null) };
});
