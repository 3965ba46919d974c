/**
 * The symbolic evaluator: walks one reading of a function's bytecode with a stack of symbolic values and
 * builds the expression the function returns (ir.ts). Nothing is executed: an instruction either has a
 * whitelisted meaning here (loading arguments, constants and whitelisted module attributes; operators,
 * subscripts, slices, tuples and lists; calls of whitelisted functions; assignments) or the translation
 * stops with the reason. Control flow of any kind (if/else, loops, comprehensions, `and`/`or`), nested
 * functions, imports, attribute or item assignment, and names that resolve to nothing known all stop it.
 *
 * Bounded: the instruction count comes from the disassembler's limit, the stack may not grow past the
 * code object's own `co_stacksize` (nor 256), and every expression's size written out is limited.
 */
import { BINARY_INSTRUCTIONS, COMPARE_OPS, NB_OPS, type PyVersion, compareShift } from './opcodes.js';
import type { Instruction } from './disassemble.js';
import { type CodeObject, type PyObject, safeInt } from './marshal.js';
import { type BinOp, type CmpOp, type Expr, type LambdaProgram, type Assignment, type BoundParameter, NONE, exprSize, formatExpr } from './ir.js';
import { checkCall, constantOf } from './aliases.js';

export class TranslationError extends Error {
  constructor(
    message: string,
    /** Index of the instruction it stopped at (for choosing among readings: further is more plausible). */
    readonly step: number,
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (bytecode offset ${offset})`);
    this.name = 'TranslationError';
  }
}

/** A value on the symbolic stack. */
type Sym =
  | { s: 'expr'; e: Expr }
  /** The NULL CPython pushes below (3.11, 3.12) or above (3.13) a callable. */
  | { s: 'null' }
  /** A global name and the attributes taken from it, resolved when it is called or used. */
  | { s: 'global'; path: string[] }
  /** A value the translation cannot use (a nested code object, ...); fails when used. */
  | { s: 'opaque'; what: string }
  /** Item `index` of `UNPACK_SEQUENCE` of `source`. */
  | { s: 'item'; source: Expr; index: number; group: number; count: number };

export interface EvaluateInput {
  code: CodeObject;
  version: PyVersion;
  instructions: Instruction[];
  /** The parameter receiving the inputs and the values of the others (resolved by translate.ts). */
  input: string;
  mask?: string;
  /** Every other parameter, and the closure variables whose values the config holds. */
  bound: BoundParameter[];
}

/** Most nodes of one expression written out; a one-line Lambda has a few dozen. */
const MAX_EXPR_NODES = 5000;
const MAX_STACK = 256;

/** Python constants as expressions. */
export function constExpr(o: PyObject): Expr | string {
  switch (o.t) {
    case 'none':
      return NONE;
    case 'ellipsis':
      return { k: 'ellipsis' };
    case 'bool':
      return { k: 'bool', v: o.v };
    case 'int': {
      const v = safeInt(o.v);
      return v === undefined ? `the integer constant ${o.v} is too large` : { k: 'int', v };
    }
    case 'float':
      return { k: 'float', v: o.v };
    case 'str':
      return { k: 'str', v: o.v };
    case 'tuple': {
      const items: Expr[] = [];
      for (const item of o.items) {
        const e = constExpr(item);
        if (typeof e === 'string') return e;
        items.push(e);
      }
      return { k: 'tuple', items };
    }
    case 'code':
      return `a nested function (${o.code.name})`;
    default:
      return `a constant of type ${o.t}`;
  }
}

export function evaluate(input: EvaluateInput): LambdaProgram {
  return new Evaluator(input).run();
}

class Evaluator {
  private stack: Sym[] = [];
  private readonly locals = new Set<string>();
  private readonly body: (Assignment & { group?: number; index?: number; count?: number })[] = [];
  private kwnames: string[] | undefined;
  private step = 0;
  private offset = 0;
  private groups = 0;
  private readonly maxStack: number;
  private readonly v: PyVersion;

  constructor(private readonly input: EvaluateInput) {
    this.v = input.version;
    this.maxStack = Math.min(MAX_STACK, Math.max(input.code.stacksize, 1));
    const params = [input.input, ...(input.mask ? [input.mask] : []), ...input.bound.map((b) => b.name)];
    for (const p of params) this.locals.add(p);
  }

  private fail(message: string): never {
    throw new TranslationError(message, this.step, this.offset);
  }

  // --- stack ---------------------------------------------------------------------------------------------

  private push(...syms: Sym[]): void {
    for (const s of syms) {
      if (this.stack.length >= this.maxStack) this.fail(`the stack grows past the code's declared depth ${this.maxStack}`);
      this.stack.push(s);
    }
  }

  private pop(): Sym {
    const s = this.stack.pop();
    if (!s) this.fail('the code pops an empty stack');
    return s;
  }

  private popN(n: number): Sym[] {
    if (n > this.stack.length) this.fail(`the code pops ${n} values from a stack of ${this.stack.length}`);
    return this.stack.splice(this.stack.length - n, n);
  }

  private peek(depth: number): Sym {
    if (depth < 1 || depth > this.stack.length) this.fail(`the code reaches ${depth} deep into a stack of ${this.stack.length}`);
    return this.stack[this.stack.length - depth];
  }

  private pushExpr(e: Expr): void {
    if (exprSize(e) > MAX_EXPR_NODES) this.fail(`an expression grows past ${MAX_EXPR_NODES} nodes`);
    this.push({ s: 'expr', e });
  }

  /** A stack value as an expression: globals must be whitelisted constants. */
  private expr(s: Sym): Expr {
    switch (s.s) {
      case 'expr':
        return s.e;
      case 'item':
        return { k: 'subscript', value: s.source, index: { k: 'int', v: s.index } };
      case 'null':
        return this.fail('a NULL stack entry used as a value (the bytecode does not fit this Python version)');
      case 'opaque':
        return this.fail(`${s.what} is not translated`);
      case 'global': {
        const path = s.path.join('.');
        const c = constantOf(path);
        if (!c) {
          return this.fail(
            s.path.length === 1
              ? `the global name "${path}" is neither a known module (K, backend, keras, tf, np, math, ops) nor a whitelisted constant`
              : `${path} is not a whitelisted constant`,
          );
        }
        return { k: 'ref', path };
      }
    }
  }

  // --- names and constants -------------------------------------------------------------------------------

  private constAt(i: number): PyObject {
    const c = this.input.code.consts[i];
    if (!c) this.fail(`constant ${i} does not exist (${this.input.code.consts.length} constants)`);
    return c;
  }

  private constSym(i: number): Sym {
    const e = constExpr(this.constAt(i));
    return typeof e === 'string' ? { s: 'opaque', what: e } : { s: 'expr', e };
  }

  private nameAt(i: number): string {
    const n = this.input.code.names[i];
    if (n === undefined) this.fail(`name ${i} does not exist (${this.input.code.names.length} names)`);
    return n;
  }

  /** `LOAD_FAST`'s slot: `co_varnames` before 3.11, the local-plus slots from 3.11 on. */
  private varAt(i: number): string {
    const slots = this.input.code.layout === 'py311' ? this.input.code.derefNames : this.input.code.varnames;
    const n = slots[i];
    if (n === undefined) this.fail(`local ${i} does not exist (${slots.length} locals)`);
    return n;
  }

  /** `LOAD_DEREF`'s slot: a cell of this function (a parameter or local) or a closure variable. */
  private derefAt(i: number): string {
    const n = this.input.code.derefNames[i];
    if (n === undefined) this.fail(`cell or free variable ${i} does not exist`);
    return n;
  }

  private loadName(name: string): void {
    if (this.locals.has(name)) return this.pushExpr({ k: 'name', id: name });
    if (this.input.code.freevars.includes(name)) this.fail(`the closure variable "${name}" has no value in the config (closure not saved)`);
    this.fail(`local variable "${name}" is read before it is assigned`);
  }

  private store(name: string): void {
    const s = this.pop();
    this.locals.add(name);
    if (s.s === 'item') {
      this.body.push({ targets: [name], unpack: false, value: this.expr(s), group: s.group, index: s.index, count: s.count });
      // Unpacked into a name: later reads see the name, not `source[i]`.
      return;
    }
    this.body.push({ targets: [name], unpack: false, value: this.expr(s) });
  }

  // --- calls ---------------------------------------------------------------------------------------------

  private call(callee: Sym, args: Sym[], kwnames: readonly string[]): void {
    if (callee.s !== 'global') {
      if (callee.s === 'expr') this.fail(`calling ${formatExpr(callee.e)} (a method of a value, or a value) is not translated`);
      this.expr(callee);
    }
    const fn = (callee as { path: string[] }).path.join('.');
    if (kwnames.length > args.length) this.fail(`${fn}() is called with ${kwnames.length} keyword names for ${args.length} arguments`);
    const values = args.map((a) => this.expr(a));
    const npos = values.length - kwnames.length;
    const positional = values.slice(0, npos);
    const kwargs = kwnames.map((name, i) => ({ name, value: values[npos + i] }));
    const why = checkCall(fn, positional, kwargs);
    if (why) this.fail(why);
    this.pushExpr({ k: 'call', fn, args: positional, kwargs });
  }

  /** 3.11/3.12 `[NULL | method, callable | self, args...]`; 3.13 `[callable, NULL | self, args...]`. */
  private callFromStack(argc: number, kwnames: readonly string[]): void {
    const args = this.popN(argc);
    const upper = this.pop();
    const lower = this.pop();
    if (this.v === '3.13') {
      if (upper.s === 'null') this.call(lower, args, kwnames);
      else this.call(lower, [upper, ...args], kwnames);
    } else if (lower.s === 'null') this.call(upper, args, kwnames);
    else this.call(lower, [upper, ...args], kwnames);
  }

  private kwTuple(s: Sym, what: string): string[] {
    const e = s.s === 'expr' ? s.e : undefined;
    if (!e || e.k !== 'tuple' || !e.items.every((x) => x.k === 'str')) this.fail(`${what} expects a tuple of keyword names`);
    return e.items.map((x) => (x as { v: string }).v);
  }

  /** Loads an attribute; `method` pushes the NULL a later call expects (LOAD_METHOD, LOAD_ATTR with its low bit). */
  private loadAttr(name: string, method: boolean): void {
    const obj = this.pop();
    if (obj.s === 'global') {
      const attr: Sym = { s: 'global', path: [...obj.path, name] };
      if (!method) this.push(attr);
      else if (this.v === '3.13') this.push(attr, { s: 'null' });
      else this.push({ s: 'null' }, attr);
      return;
    }
    const value = this.expr(obj);
    if (method) this.fail(`the method call .${name}() on ${formatExpr(value)} is not translated`);
    if (name !== 'shape') this.fail(`the attribute .${name} of ${formatExpr(value)} is not translated (only .shape is)`);
    this.pushExpr({ k: 'attr', value, name });
  }

  private loadGlobal(arg: number): void {
    const modern = this.v === '3.11' || this.v === '3.12' || this.v === '3.13';
    const name = this.nameAt(modern ? arg >> 1 : arg);
    const g: Sym = { s: 'global', path: [name] };
    if (!modern || (arg & 1) === 0) this.push(g);
    else if (this.v === '3.13') this.push(g, { s: 'null' });
    else this.push({ s: 'null' }, g);
  }

  // --- operators -----------------------------------------------------------------------------------------

  private binary(op: string): void {
    const plain = op.endsWith('=') ? op.slice(0, -1) : op;
    if (!['+', '-', '*', '/', '//', '%', '**', '@'].includes(plain)) this.fail(`the bitwise operator ${op} is not translated`);
    const right = this.expr(this.pop());
    const left = this.expr(this.pop());
    this.pushExpr({ k: 'binop', op: plain as BinOp, left, right });
  }

  private compare(arg: number): void {
    const op = COMPARE_OPS[arg >> compareShift(this.v)];
    if (!op || !['<', '<=', '==', '!=', '>', '>='].includes(op)) this.fail(`the comparison ${op ?? arg} is not translated`);
    const right = this.expr(this.pop());
    const left = this.expr(this.pop());
    this.pushExpr({ k: 'compare', op: op as CmpOp, left, right });
  }

  // --- the walk ------------------------------------------------------------------------------------------

  run(): LambdaProgram {
    for (const ins of this.input.instructions) {
      this.offset = ins.offset;
      const result = this.exec(ins);
      if (result) return this.finish(result);
      this.step++;
    }
    return this.fail('the code ends without returning');
  }

  private finish(result: Expr): LambdaProgram {
    return { input: this.input.input, mask: this.input.mask, bound: this.input.bound, body: mergeUnpacking(this.body), result };
  }

  /** One instruction; returns the result expression when it returns. */
  private exec(ins: Instruction): Expr | undefined {
    const a = ins.arg;
    switch (ins.name) {
      case 'NOP':
      case 'RESUME':
      case 'PRECALL':
      case 'EXTENDED_ARG':
      case 'COPY_FREE_VARS':
      case 'MAKE_CELL':
        return undefined;
      case 'RETURN_VALUE':
        return this.expr(this.pop());
      case 'RETURN_CONST':
        return this.expr(this.constSym(a));
      case 'POP_TOP':
        this.pop();
        return undefined;
      case 'PUSH_NULL':
        this.push({ s: 'null' });
        return undefined;
      case 'LOAD_CONST':
        this.push(this.constSym(a));
        return undefined;
      case 'LOAD_FAST':
      case 'LOAD_FAST_CHECK':
        this.loadName(this.varAt(a));
        return undefined;
      case 'LOAD_FAST_LOAD_FAST':
        this.loadName(this.varAt(a >> 4));
        this.loadName(this.varAt(a & 15));
        return undefined;
      case 'STORE_FAST':
        this.store(this.varAt(a));
        return undefined;
      case 'STORE_FAST_LOAD_FAST':
        this.store(this.varAt(a >> 4));
        this.loadName(this.varAt(a & 15));
        return undefined;
      case 'STORE_FAST_STORE_FAST':
        this.store(this.varAt(a >> 4));
        this.store(this.varAt(a & 15));
        return undefined;
      case 'LOAD_DEREF':
        this.loadName(this.derefAt(a));
        return undefined;
      case 'STORE_DEREF':
        this.store(this.derefAt(a));
        return undefined;
      case 'LOAD_GLOBAL':
      case 'LOAD_NAME':
        if (ins.name === 'LOAD_GLOBAL') this.loadGlobal(a);
        else this.push({ s: 'global', path: [this.nameAt(a)] });
        return undefined;
      case 'LOAD_ATTR': {
        const modern = this.v === '3.12' || this.v === '3.13';
        this.loadAttr(this.nameAt(modern ? a >> 1 : a), modern && (a & 1) === 1);
        return undefined;
      }
      case 'LOAD_METHOD':
        this.loadAttr(this.nameAt(a), true);
        return undefined;
      case 'KW_NAMES':
        this.kwnames = this.kwTuple(this.constSym(a), 'KW_NAMES');
        return undefined;
      case 'CALL': {
        const kw = this.kwnames ?? [];
        this.kwnames = undefined;
        this.callFromStack(a, kw);
        return undefined;
      }
      case 'CALL_KW':
        this.callFromStack(a, this.kwTuple(this.pop(), 'CALL_KW'));
        return undefined;
      case 'CALL_METHOD': {
        const args = this.popN(a);
        const upper = this.pop();
        const lower = this.pop();
        if (lower.s === 'null') this.call(upper, args, []);
        else this.call(lower, [upper, ...args], []);
        return undefined;
      }
      case 'CALL_FUNCTION':
        if (this.v === '3.5') this.callFunction35(a);
        else {
          const args = this.popN(a);
          this.call(this.pop(), args, []);
        }
        return undefined;
      case 'CALL_FUNCTION_KW': {
        if (this.v === '3.5') this.fail('a call with **kwargs is not translated');
        const names = this.kwTuple(this.pop(), 'CALL_FUNCTION_KW');
        const args = this.popN(a);
        this.call(this.pop(), args, names);
        return undefined;
      }
      case 'BUILD_TUPLE':
      case 'BUILD_LIST': {
        const items = this.popN(a).map((s) => this.expr(s));
        this.pushExpr({ k: ins.name === 'BUILD_TUPLE' ? 'tuple' : 'list', items });
        return undefined;
      }
      case 'LIST_EXTEND': {
        const it = this.expr(this.pop());
        const target = this.peek(a);
        const list = target.s === 'expr' ? target.e : undefined;
        if (!list || list.k !== 'list' || (it.k !== 'tuple' && it.k !== 'list')) this.fail('extending a list by something other than a literal sequence is not translated');
        this.stack[this.stack.length - a] = { s: 'expr', e: { k: 'list', items: [...list.items, ...it.items] } };
        return undefined;
      }
      case 'LIST_TO_TUPLE':
        this.listToTuple();
        return undefined;
      case 'CALL_INTRINSIC_1':
        // INTRINSIC_UNARY_POSITIVE (5) and INTRINSIC_LIST_TO_TUPLE (6); the others are not expressions.
        if (a === 5) this.pushExpr({ k: 'unary', op: '+', operand: this.expr(this.pop()) });
        else if (a === 6) this.listToTuple();
        else this.fail(`CALL_INTRINSIC_1 ${a} is not translated`);
        return undefined;
      case 'BUILD_SLICE': {
        if (a !== 2 && a !== 3) this.fail(`BUILD_SLICE ${a}`);
        const parts = this.popN(a).map((s) => this.expr(s));
        this.pushExpr({ k: 'slice', start: parts[0], stop: parts[1], step: parts[2] ?? NONE });
        return undefined;
      }
      case 'BINARY_SUBSCR': {
        const index = this.expr(this.pop());
        const value = this.expr(this.pop());
        this.pushExpr({ k: 'subscript', value, index });
        return undefined;
      }
      case 'BINARY_SLICE': {
        const stop = this.expr(this.pop());
        const start = this.expr(this.pop());
        const value = this.expr(this.pop());
        this.pushExpr({ k: 'subscript', value, index: { k: 'slice', start, stop, step: NONE } });
        return undefined;
      }
      case 'BINARY_OP':
        if (!NB_OPS[a]) this.fail(`BINARY_OP ${a} is not an operator`);
        this.binary(NB_OPS[a]);
        return undefined;
      case 'COMPARE_OP':
        this.compare(a);
        return undefined;
      case 'UNARY_NEGATIVE':
      case 'UNARY_POSITIVE':
        this.pushExpr({ k: 'unary', op: ins.name === 'UNARY_NEGATIVE' ? '-' : '+', operand: this.expr(this.pop()) });
        return undefined;
      case 'UNPACK_SEQUENCE':
        this.unpack(a);
        return undefined;
      case 'DUP_TOP':
        this.push(this.peek(1));
        return undefined;
      case 'DUP_TOP_TWO':
        this.push(this.peek(2), this.peek(2));
        return undefined;
      case 'COPY':
        this.push(this.peek(a));
        return undefined;
      case 'ROT_TWO':
        this.rotate(2);
        return undefined;
      case 'ROT_THREE':
        this.rotate(3);
        return undefined;
      case 'ROT_FOUR':
        this.rotate(4);
        return undefined;
      case 'ROT_N':
        this.rotate(a);
        return undefined;
      case 'SWAP': {
        const top = this.peek(1);
        const other = this.peek(a);
        this.stack[this.stack.length - 1] = other;
        this.stack[this.stack.length - a] = top;
        return undefined;
      }
      default:
        if (BINARY_INSTRUCTIONS[ins.name]) {
          this.binary(BINARY_INSTRUCTIONS[ins.name]);
          return undefined;
        }
        return this.fail(unsupportedReason(ins.name));
    }
  }

  private listToTuple(): void {
    const e = this.expr(this.pop());
    if (e.k !== 'list') this.fail('LIST_TO_TUPLE of something other than a list');
    this.pushExpr({ k: 'tuple', items: e.items });
  }

  /** 3.5's CALL_FUNCTION: low byte positional count, high byte keyword pairs (name constant, value). */
  private callFunction35(arg: number): void {
    const npos = arg & 0xff;
    const nkw = (arg >> 8) & 0xff;
    if (arg > 0xffff) this.fail(`CALL_FUNCTION ${arg}`);
    const pairs = this.popN(2 * nkw);
    const args = this.popN(npos);
    const names: string[] = [];
    const values: Sym[] = [];
    for (let i = 0; i < nkw; i++) {
      const name = this.expr(pairs[2 * i]);
      if (name.k !== 'str') this.fail('a keyword argument whose name is not a string');
      names.push(name.v);
      values.push(pairs[2 * i + 1]);
    }
    this.call(this.pop(), [...args, ...values], names);
  }

  private unpack(count: number): void {
    const s = this.pop();
    const source = this.expr(s);
    if ((source.k === 'tuple' || source.k === 'list') && source.items.length !== count) {
      this.fail(`unpacking ${source.items.length} values into ${count} names`);
    }
    const group = this.groups++;
    // CPython pushes the last item first, so item 0 ends on top.
    for (let i = count - 1; i >= 0; i--) {
      if (source.k === 'tuple' || source.k === 'list') this.push({ s: 'expr', e: source.items[i] });
      else this.push({ s: 'item', source, index: i, group, count });
    }
  }

  private rotate(n: number): void {
    if (n < 2) return;
    const top = this.pop();
    if (n - 1 > this.stack.length) this.fail(`rotating ${n} values of a stack of ${this.stack.length + 1}`);
    this.stack.splice(this.stack.length - (n - 1), 0, top);
  }
}

/** `a = v[0]; b = v[1]` written by one `UNPACK_SEQUENCE` become `a, b = v` again. */
function mergeUnpacking(body: (Assignment & { group?: number; index?: number; count?: number })[]): Assignment[] {
  const out: Assignment[] = [];
  for (let i = 0; i < body.length; i++) {
    const a = body[i];
    if (a.group !== undefined && a.index === 0 && a.count !== undefined) {
      const run = body.slice(i, i + a.count);
      if (run.length === a.count && run.every((b, j) => b.group === a.group && b.index === j)) {
        const source = (a.value as Extract<Expr, { k: 'subscript' }>).value;
        out.push({ targets: run.map((b) => b.targets[0]), unpack: true, value: source });
        i += a.count - 1;
        continue;
      }
    }
    out.push({ targets: a.targets, unpack: false, value: a.value });
  }
  return out;
}

function unsupportedReason(name: string): string {
  if (/JUMP|FOR_ITER|GET_ITER|SEND|END_FOR|TO_BOOL|UNARY_NOT|JUMP_IF/.test(name)) {
    return `${name}: control flow (if/else, loops, comprehensions, and/or, not) is not translated`;
  }
  if (name === 'MAKE_FUNCTION' || name === 'MAKE_CLOSURE' || name === 'LOAD_CLOSURE' || name === 'SET_FUNCTION_ATTRIBUTE') return `${name}: a function defined inside the Lambda is not translated`;
  if (name.startsWith('IMPORT')) return `${name}: an import inside the function is not translated`;
  if (name.startsWith('STORE_') || name.startsWith('DELETE_')) return `${name}: assigning to attributes, items or globals is not translated`;
  if (name === 'CALL_FUNCTION_EX' || name === 'CALL_FUNCTION_VAR' || name === 'CALL_FUNCTION_VAR_KW') return `${name}: a call with *args or **kwargs is not translated`;
  if (name === 'BUILD_MAP' || name === 'BUILD_CONST_KEY_MAP') return `${name}: dicts are not translated`;
  if (name.startsWith('<')) return `opcode ${name} is not an instruction of this Python version`;
  return `the instruction ${name} is not translated`;
}
