/**
 * What a translated Lambda computes: a small expression language that mirrors the Python the function
 * was written in (calls by the names the code uses, `K.sum(x, axis=1)`, `tf.matmul(...)`, operators,
 * subscripts and slices, constants), the assignments of a `def` body, and the returned expression.
 *
 * It is produced by the symbolic evaluator (evaluate.ts), printed back as Python (`formatProgram`), run by
 * the executor (execute.ts), and stored in converted tfjs models (`programToJson` / `programFromJson`,
 * which checks everything it reads: a tfjs model.json is untrusted input too). No Node built-ins: the
 * layers entry point imports it.
 */

export type BinOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '@';
export type CmpOp = '<' | '<=' | '==' | '!=' | '>' | '>=';
export type UnaryOp = '-' | '+';

export const BIN_OPS: readonly BinOp[] = ['+', '-', '*', '/', '//', '%', '**', '@'];
export const CMP_OPS: readonly CmpOp[] = ['<', '<=', '==', '!=', '>', '>='];

export type Expr =
  /** A parameter of the function or a local it assigned. */
  | { k: 'name'; id: string }
  | { k: 'none' }
  | { k: 'ellipsis' }
  | { k: 'bool'; v: boolean }
  | { k: 'int'; v: number }
  | { k: 'float'; v: number }
  | { k: 'str'; v: string }
  | { k: 'tuple'; items: Expr[] }
  | { k: 'list'; items: Expr[] }
  | { k: 'slice'; start: Expr; stop: Expr; step: Expr }
  | { k: 'subscript'; value: Expr; index: Expr }
  | { k: 'binop'; op: BinOp; left: Expr; right: Expr }
  | { k: 'compare'; op: CmpOp; left: Expr; right: Expr }
  | { k: 'unary'; op: UnaryOp; operand: Expr }
  /** A call of a whitelisted function, by the dotted name the code uses (`tf.reduce_sum`). */
  | { k: 'call'; fn: string; args: Expr[]; kwargs: Keyword[] }
  /** A module attribute used as a value (`tf.float32`, `np.newaxis`). */
  | { k: 'ref'; path: string }
  /** An attribute of a value (`x.shape`). */
  | { k: 'attr'; value: Expr; name: string };

export interface Keyword {
  name: string;
  value: Expr;
}

/** `a = ...` or `a, b = ...` in a `def` body. */
export interface Assignment {
  targets: string[];
  /** `a, b = v` (unpacking), as opposed to `a = v`. */
  unpack: boolean;
  value: Expr;
}

/** A parameter other than the inputs, with the value Keras passes it. */
export interface BoundParameter {
  name: string;
  value: Expr;
  /**
   * Where the value comes from: the layer's `arguments`, the function's defaults, its closure, or Keras
   * itself (`training`, False at inference).
   */
  from: 'arguments' | 'default' | 'closure' | 'keras';
}

const BOUND_FROM: readonly BoundParameter['from'][] = ['arguments', 'default', 'closure', 'keras'];

export interface LambdaProgram {
  /** The parameter that receives the layer's inputs (a tensor, or a list of tensors). */
  input: string;
  /** The parameter that receives the layer's input mask, when the function takes one. */
  mask?: string;
  bound: BoundParameter[];
  body: Assignment[];
  result: Expr;
}

export const NONE: Expr = { k: 'none' };

/** A value quoted for a message: JSON, cut at 80 characters (a config may hold megabytes). */
export function brief(v: unknown): string {
  let text: string;
  try {
    text = typeof v === 'string' ? JSON.stringify(v.length > 200 ? v.slice(0, 200) : v) : (JSON.stringify(v) ?? String(v));
  } catch {
    text = String(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// ---------------------------------------------------------------------------------------------------------
// Size: expressions share sub-expressions (a DUP_TOP / COPY pushes one node twice), and printing or storing
// them expands the sharing, so the evaluator bounds the expanded size.

const sizes = new WeakMap<Expr, number>();

export function children(e: Expr): Expr[] {
  switch (e.k) {
    case 'tuple':
    case 'list':
      return e.items;
    case 'slice':
      return [e.start, e.stop, e.step];
    case 'subscript':
      return [e.value, e.index];
    case 'binop':
    case 'compare':
      return [e.left, e.right];
    case 'unary':
      return [e.operand];
    case 'call':
      return [...e.args, ...e.kwargs.map((k) => k.value)];
    case 'attr':
      return [e.value];
    default:
      return [];
  }
}

/** Nodes of the expression written out as a tree. */
export function exprSize(e: Expr): number {
  const known = sizes.get(e);
  if (known !== undefined) return known;
  let n = 1;
  for (const c of children(e)) n += exprSize(c);
  sizes.set(e, n);
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Python text.

const PREC_ATOM = 10;
const PREC_POWER = 9;
const PREC_UNARY = 8;
const PREC_TERM = 7;
const PREC_ARITH = 6;
const PREC_COMPARE = 5;
const PREC_TUPLE = 0;

function binPrec(op: BinOp): number {
  return op === '**' ? PREC_POWER : op === '+' || op === '-' ? PREC_ARITH : PREC_TERM;
}

function prec(e: Expr): number {
  switch (e.k) {
    case 'binop':
      return binPrec(e.op);
    case 'compare':
      return PREC_COMPARE;
    case 'unary':
      return PREC_UNARY;
    case 'int':
    case 'float':
      return e.v < 0 || Object.is(e.v, -0) ? PREC_UNARY : PREC_ATOM;
    case 'slice':
      return PREC_TUPLE;
    default:
      return PREC_ATOM;
  }
}

/** Python's `repr` of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(v).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  let text: string;
  if (exp < 0) text = `0.${'0'.repeat(-exp - 1)}${digits}`;
  else if (digits.length <= exp + 1) text = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  else text = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return sign + text;
}

/** Python's `repr` of a str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + quote;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

function wrap(text: string, inner: number, min: number): string {
  return inner < min ? `(${text})` : text;
}

function sliceText(e: Extract<Expr, { k: 'slice' }>): string {
  const part = (x: Expr) => (x.k === 'none' ? '' : formatExpr(x));
  const head = `${part(e.start)}:${part(e.stop)}`;
  return e.step.k === 'none' ? head : `${head}:${part(e.step)}`;
}

function indexText(index: Expr): string {
  const one = (x: Expr) => (x.k === 'slice' ? sliceText(x) : formatExpr(x));
  if (index.k === 'tuple') {
    if (index.items.length === 0) return '()';
    if (index.items.length === 1) return `${one(index.items[0])},`;
    return index.items.map(one).join(', ');
  }
  return one(index);
}

/** The expression as Python source. */
export function formatExpr(e: Expr): string {
  switch (e.k) {
    case 'name':
      return e.id;
    case 'none':
      return 'None';
    case 'ellipsis':
      return '...';
    case 'bool':
      return e.v ? 'True' : 'False';
    case 'int':
      return String(e.v);
    case 'float':
      return pyFloatRepr(e.v);
    case 'str':
      return pyStrRepr(e.v);
    case 'tuple':
      return e.items.length === 1 ? `(${formatExpr(e.items[0])},)` : `(${e.items.map(formatExpr).join(', ')})`;
    case 'list':
      return `[${e.items.map(formatExpr).join(', ')}]`;
    case 'slice':
      return `slice(${[e.start, e.stop, e.step].map(formatExpr).join(', ')})`;
    case 'subscript':
      return `${wrap(formatExpr(e.value), prec(e.value), PREC_ATOM)}[${indexText(e.index)}]`;
    case 'binop': {
      const p = binPrec(e.op);
      // `**` groups to the right, the others to the left.
      const [lmin, rmin] = e.op === '**' ? [p + 1, p] : [p, p + 1];
      return `${wrap(formatExpr(e.left), prec(e.left), lmin)} ${e.op} ${wrap(formatExpr(e.right), prec(e.right), rmin)}`;
    }
    case 'compare':
      return `${wrap(formatExpr(e.left), prec(e.left), PREC_COMPARE + 1)} ${e.op} ${wrap(formatExpr(e.right), prec(e.right), PREC_COMPARE + 1)}`;
    case 'unary':
      return `${e.op}${wrap(formatExpr(e.operand), prec(e.operand), PREC_UNARY)}`;
    case 'call':
      return `${e.fn}(${[...e.args.map(formatExpr), ...e.kwargs.map((k) => `${k.name}=${formatExpr(k.value)}`)].join(', ')})`;
    case 'ref':
      return e.path;
    case 'attr':
      return `${wrap(formatExpr(e.value), prec(e.value), PREC_ATOM)}.${e.name}`;
  }
}

/** The function's body as Python: `x[:, -1, :]`, or `a, b = inputs; return tf.reduce_sum(a * b, axis=1)`. */
export function formatProgram(p: LambdaProgram): string {
  const stmts = p.body.map((a) => `${a.targets.join(', ')}${a.unpack && a.targets.length === 1 ? ',' : ''} = ${formatExpr(a.value)}`);
  const result = formatExpr(p.result);
  return stmts.length === 0 ? result : `${stmts.join('; ')}; return ${result}`;
}

// ---------------------------------------------------------------------------------------------------------
// JSON, for tfjs model configs.

export class ProgramFormatError extends Error {
  constructor(message: string, readonly place: string) {
    super(`${place}: ${message}`);
    this.name = 'ProgramFormatError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** JSON has no NaN or infinities; floats spell them as strings. */
function floatToJson(v: number): Json {
  return Number.isFinite(v) ? v : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

export function exprToJson(e: Expr): Json {
  switch (e.k) {
    case 'name':
      return { k: e.k, id: e.id };
    case 'none':
    case 'ellipsis':
      return { k: e.k };
    case 'bool':
    case 'int':
    case 'str':
      return { k: e.k, v: e.v };
    case 'float':
      return { k: e.k, v: floatToJson(e.v) };
    case 'tuple':
    case 'list':
      return { k: e.k, items: e.items.map(exprToJson) };
    case 'slice':
      return { k: e.k, start: exprToJson(e.start), stop: exprToJson(e.stop), step: exprToJson(e.step) };
    case 'subscript':
      return { k: e.k, value: exprToJson(e.value), index: exprToJson(e.index) };
    case 'binop':
    case 'compare':
      return { k: e.k, op: e.op, left: exprToJson(e.left), right: exprToJson(e.right) };
    case 'unary':
      return { k: e.k, op: e.op, operand: exprToJson(e.operand) };
    case 'call':
      return { k: e.k, fn: e.fn, args: e.args.map(exprToJson), kwargs: e.kwargs.map((kw) => ({ name: kw.name, value: exprToJson(kw.value) })) };
    case 'ref':
      return { k: e.k, path: e.path };
    case 'attr':
      return { k: e.k, value: exprToJson(e.value), name: e.name };
  }
}

export function programToJson(p: LambdaProgram): Json {
  const out: { [k: string]: Json } = {
    input: p.input,
    bound: p.bound.map((b) => ({ name: b.name, value: exprToJson(b.value), from: b.from })),
    body: p.body.map((a) => ({ targets: a.targets, unpack: a.unpack, value: exprToJson(a.value) })),
    result: exprToJson(p.result),
  };
  if (p.mask !== undefined) out.mask = p.mask;
  return out;
}

/** Limits on a stored program: far above what a one-line function needs. */
const MAX_NODES = 20_000;
const MAX_DEPTH = 200;
const MAX_TEXT = 1024;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

class JsonReader {
  nodes = 0;

  fail(message: string, place: string): never {
    throw new ProgramFormatError(message, place);
  }

  obj(v: unknown, place: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail('expected an object', place);
    return v as Record<string, unknown>;
  }

  keys(o: Record<string, unknown>, allowed: string[], place: string): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(`unexpected key "${k}"`, place);
  }

  array(v: unknown, place: string): unknown[] {
    if (!Array.isArray(v)) this.fail('expected a list', place);
    return v;
  }

  text(v: unknown, place: string, pattern?: RegExp): string {
    if (typeof v !== 'string' || v.length > MAX_TEXT) this.fail(`expected a string of at most ${MAX_TEXT} characters`, place);
    if (pattern && !pattern.test(v)) this.fail(`${brief(v)} is not a Python name`, place);
    return v;
  }

  expr(v: unknown, place: string, depth: number): Expr {
    if (depth > MAX_DEPTH) this.fail(`expression nested deeper than ${MAX_DEPTH}`, place);
    if (++this.nodes > MAX_NODES) this.fail(`more than ${MAX_NODES} expression nodes`, place);
    const o = this.obj(v, place);
    const at = (k: string | number) => `${place}/${k}`;
    const sub = (k: string) => this.expr(o[k], at(k), depth + 1);
    const list = (k: string) => this.array(o[k], at(k)).map((x, i) => this.expr(x, `${at(k)}/${i}`, depth + 1));
    switch (o.k) {
      case 'name':
        this.keys(o, ['k', 'id'], place);
        return { k: 'name', id: this.text(o.id, at('id'), IDENTIFIER) };
      case 'none':
      case 'ellipsis':
        this.keys(o, ['k'], place);
        return { k: o.k };
      case 'bool':
        this.keys(o, ['k', 'v'], place);
        if (typeof o.v !== 'boolean') this.fail('expected true or false', at('v'));
        return { k: 'bool', v: o.v };
      case 'int':
        this.keys(o, ['k', 'v'], place);
        if (typeof o.v !== 'number' || !Number.isSafeInteger(o.v)) this.fail('expected an integer', at('v'));
        return { k: 'int', v: o.v };
      case 'float': {
        this.keys(o, ['k', 'v'], place);
        const f = o.v === 'inf' ? Infinity : o.v === '-inf' ? -Infinity : o.v === 'nan' ? NaN : o.v;
        if (typeof f !== 'number') this.fail('expected a number', at('v'));
        return { k: 'float', v: f };
      }
      case 'str':
        this.keys(o, ['k', 'v'], place);
        return { k: 'str', v: this.text(o.v, at('v')) };
      case 'tuple':
      case 'list':
        this.keys(o, ['k', 'items'], place);
        return { k: o.k, items: list('items') };
      case 'slice':
        this.keys(o, ['k', 'start', 'stop', 'step'], place);
        return { k: 'slice', start: sub('start'), stop: sub('stop'), step: sub('step') };
      case 'subscript':
        this.keys(o, ['k', 'value', 'index'], place);
        return { k: 'subscript', value: sub('value'), index: sub('index') };
      case 'binop':
        this.keys(o, ['k', 'op', 'left', 'right'], place);
        if (!BIN_OPS.includes(o.op as BinOp)) this.fail(`unknown operator ${brief(o.op)}`, at('op'));
        return { k: 'binop', op: o.op as BinOp, left: sub('left'), right: sub('right') };
      case 'compare':
        this.keys(o, ['k', 'op', 'left', 'right'], place);
        if (!CMP_OPS.includes(o.op as CmpOp)) this.fail(`unknown comparison ${brief(o.op)}`, at('op'));
        return { k: 'compare', op: o.op as CmpOp, left: sub('left'), right: sub('right') };
      case 'unary':
        this.keys(o, ['k', 'op', 'operand'], place);
        if (o.op !== '-' && o.op !== '+') this.fail(`unknown unary operator ${brief(o.op)}`, at('op'));
        return { k: 'unary', op: o.op, operand: sub('operand') };
      case 'call': {
        this.keys(o, ['k', 'fn', 'args', 'kwargs'], place);
        const kwargs = this.array(o.kwargs, at('kwargs')).map((x, i) => {
          const p = `${at('kwargs')}/${i}`;
          const kw = this.obj(x, p);
          this.keys(kw, ['name', 'value'], p);
          return { name: this.text(kw.name, `${p}/name`, IDENTIFIER), value: this.expr(kw.value, `${p}/value`, depth + 1) };
        });
        return { k: 'call', fn: this.text(o.fn, at('fn'), DOTTED), args: list('args'), kwargs };
      }
      case 'ref':
        this.keys(o, ['k', 'path'], place);
        return { k: 'ref', path: this.text(o.path, at('path'), DOTTED) };
      case 'attr':
        this.keys(o, ['k', 'value', 'name'], place);
        return { k: 'attr', value: sub('value'), name: this.text(o.name, at('name'), IDENTIFIER) };
      default:
        return this.fail(`unknown expression kind ${brief(o.k)}`, at('k'));
    }
  }
}

/** A program from its JSON form, every field checked. */
export function programFromJson(v: unknown, place = 'program'): LambdaProgram {
  const r = new JsonReader();
  const o = r.obj(v, place);
  r.keys(o, ['input', 'mask', 'bound', 'body', 'result'], place);
  const input = r.text(o.input, `${place}/input`, IDENTIFIER);
  const mask = o.mask === undefined ? undefined : r.text(o.mask, `${place}/mask`, IDENTIFIER);
  const bound = r.array(o.bound, `${place}/bound`).map((x, i) => {
    const p = `${place}/bound/${i}`;
    const b = r.obj(x, p);
    r.keys(b, ['name', 'value', 'from'], p);
    const from = b.from as BoundParameter['from'];
    if (!BOUND_FROM.includes(from)) r.fail(`expected one of ${BOUND_FROM.join(', ')}`, `${p}/from`);
    return { name: r.text(b.name, `${p}/name`, IDENTIFIER), value: r.expr(b.value, `${p}/value`, 0), from };
  });
  const body = r.array(o.body, `${place}/body`).map((x, i) => {
    const p = `${place}/body/${i}`;
    const a = r.obj(x, p);
    r.keys(a, ['targets', 'unpack', 'value'], p);
    const targets = r.array(a.targets, `${p}/targets`).map((t, j) => r.text(t, `${p}/targets/${j}`, IDENTIFIER));
    if (targets.length === 0) r.fail('an assignment needs a target', `${p}/targets`);
    const unpack = a.unpack;
    if (typeof unpack !== 'boolean') return r.fail('expected true or false', `${p}/unpack`);
    if (!unpack && targets.length !== 1) r.fail('a plain assignment has one target', `${p}/targets`);
    return { targets, unpack, value: r.expr(a.value, `${p}/value`, 0) };
  });
  return { input, mask, bound, body, result: r.expr(o.result, `${place}/result`, 0) };
}
