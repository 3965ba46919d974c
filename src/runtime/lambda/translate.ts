/**
 * A Keras `Lambda` layer's config → what its Python function computes, or why that is not known.
 *
 * The function is stored as `marshal.dumps(function.__code__)` (base64 since Keras 2.1; earlier as the
 * bytes decoded with `raw_unicode_escape`), with its positional defaults and closure values, in
 * `function` (tf.keras 2: `[code, defaults, closure]`; Keras 3: `{"class_name": "__lambda__", "config":
 * {code, defaults, closure}}`). The bytes do not say which Python wrote them: the code-object layout
 * narrows it to three versions, and every reading of the bytecode under each is evaluated; readings that
 * are not the real one stop at names, constants or stack shapes that do not fit. The surviving readings
 * must agree on what the function computes.
 *
 * Nothing of the function is executed here or later: the result is an expression over whitelisted ops.
 */
import type { JsonObject, JsonValue } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';
import { DisassemblyError, type Reading, disassemble } from './disassemble.js';
import { TranslationError, evaluate } from './evaluate.js';
import { type BoundParameter, type Expr, type LambdaProgram, NONE, brief, formatProgram } from './ir.js';
import { type ListingLine, listing } from './listing.js';
import {
  CO_ASYNC_GENERATOR,
  CO_COROUTINE,
  CO_GENERATOR,
  CO_ITERABLE_COROUTINE,
  CO_VARARGS,
  CO_VARKEYWORDS,
  type CodeObject,
  LAYOUT_VERSIONS,
  MarshalError,
  readCodeObject,
} from './marshal.js';
import { OPCODE_TABLES, type PyVersion } from './opcodes.js';

export interface LambdaFunction {
  /** `co_name` and the parameter names, as in the code object. */
  name: string;
  params: string[];
  /** The Python versions whose bytecode reading gave the translation (or, when none did, got furthest). */
  python: PyVersion[];
  /** The disassembly of that reading. */
  listing: ListingLine[];
}

export type LambdaTranslation =
  | { ok: true; program: LambdaProgram; expression: string; function: LambdaFunction; notes: string[] }
  | { ok: false; reason: string; function?: LambdaFunction };

/** Config keys a Lambda may carry (tf.keras 2 and Keras 3), besides the base layer's. */
const LAMBDA_KEYS = new Set([
  'name', 'trainable', 'dtype', 'function', 'function_type', 'module', 'output_shape', 'output_shape_type',
  'output_shape_module', 'arguments', 'mask', 'mask_type', 'mask_module', 'batch_input_shape', 'batch_size',
]);

const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

/**
 * The bytes Keras's `func_load` would unmarshal: base64 when the text decodes as base64 (padding
 * checked, other characters skipped, as `binascii.a2b_base64` does), else the text encoded with
 * `raw_unicode_escape`.
 */
export function lambdaCodeBytes(code: string): Uint8Array {
  if (BASE64.test(code)) {
    const data = code.replace(/[^A-Za-z0-9+/]/g, '');
    const pad = (code.match(/=/g) ?? []).length;
    if (data.length % 4 !== 1 && (data.length % 4 === 0 || (data.length % 4) + pad >= 4)) {
      const bin = atob(data + '='.repeat((4 - (data.length % 4)) % 4));
      return Uint8Array.from(bin, (c) => c.charCodeAt(0));
    }
  }
  const out: number[] = [];
  for (const ch of code) {
    const c = ch.codePointAt(0)!;
    if (c < 256) out.push(c);
    else for (const b of (c < 0x10000 ? `\\u${c.toString(16).padStart(4, '0')}` : `\\U${c.toString(16).padStart(8, '0')}`)) out.push(b.charCodeAt(0));
  }
  return Uint8Array.from(out);
}

/** A JSON value from the config as a Python constant expression. */
function jsonExpr(v: JsonValue, what: string): Expr | string {
  if (v === null) return NONE;
  if (typeof v === 'boolean') return { k: 'bool', v };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { k: 'int', v } : { k: 'float', v };
  if (typeof v === 'string') return { k: 'str', v };
  const items = Array.isArray(v) ? v : isJsonObject(v) && v.class_name === '__tuple__' && Array.isArray(v.items) ? v.items : undefined;
  if (!items) return `${what} is a ${isJsonObject(v) && typeof v.class_name === 'string' ? v.class_name : 'dict'}, which is not translated`;
  const out: Expr[] = [];
  for (const item of items) {
    const e = jsonExpr(item, what);
    if (typeof e === 'string') return e;
    out.push(e);
  }
  return { k: Array.isArray(v) ? 'list' : 'tuple', items: out };
}

interface FunctionParts {
  code: string;
  defaults: JsonValue;
  closure: JsonValue;
}

/** The stored function, in either generation's form; a string when it is not bytecode. */
function functionParts(config: JsonObject): FunctionParts | string {
  const fn = config.function;
  const type = config.function_type;
  if (isJsonObject(fn)) {
    if (fn.class_name === '__lambda__' && isJsonObject(fn.config) && typeof fn.config.code === 'string') {
      return { code: fn.config.code, defaults: fn.config.defaults ?? null, closure: fn.config.closure ?? null };
    }
    if (fn.class_name === 'function') return `the function is the Python function ${brief(fn.config)} named by reference, not bytecode`;
    return 'the function is stored in a form this reader does not know';
  }
  if (type !== undefined && type !== 'lambda') return `function_type ${brief(type)}: the function ${brief(fn)} is named by reference, not bytecode`;
  if (Array.isArray(fn) && typeof fn[0] === 'string') return { code: fn[0], defaults: fn[1] ?? null, closure: fn[2] ?? null };
  if (typeof fn === 'string') return { code: fn, defaults: null, closure: null };
  return 'the config holds no function bytecode';
}

interface Parameters {
  input: string;
  mask?: string;
  bound: BoundParameter[];
}

/** Binds what Keras passes the function: `function(inputs, **arguments)` (+ `mask`, `training` when it takes them). */
function bindParameters(code: CodeObject, config: JsonObject, parts: FunctionParts): Parameters | string {
  if (code.flags & (CO_VARARGS | CO_VARKEYWORDS)) return 'the function takes *args or **kwargs';
  if (code.flags & (CO_GENERATOR | CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR)) return 'the function is a generator or coroutine';
  if (code.argcount === 0) return 'the function takes no positional parameter for the inputs';
  const positional = code.varnames.slice(0, code.argcount);
  const kwonly = code.varnames.slice(code.argcount, code.argcount + code.kwonlyargcount);
  const args = config.arguments ?? {};
  if (!isJsonObject(args)) return `arguments is ${brief(args)}, not a dict`;
  const defaults = parts.defaults === null ? [] : Array.isArray(parts.defaults) ? parts.defaults : undefined;
  if (!defaults) return 'the function defaults are not a list';
  for (const k of Object.keys(args)) {
    if (k === positional[0] || (!positional.includes(k) && !kwonly.includes(k))) return `arguments has "${k}", which the function has no parameter for`;
  }
  const out: Parameters = { input: positional[0], bound: [] };
  const firstDefault = positional.length - defaults.length;
  const rest = [...positional.slice(1), ...kwonly];
  for (const name of rest) {
    const i = positional.indexOf(name);
    let value: Expr | string;
    let from: BoundParameter['from'];
    if (Object.prototype.hasOwnProperty.call(args, name)) {
      value = jsonExpr(args[name], `argument ${name}`);
      from = 'arguments';
    } else if (name === 'mask') {
      out.mask = name;
      continue;
    } else if (name === 'training') {
      value = { k: 'bool', v: false };
      from = 'keras';
    } else if (i >= firstDefault && i >= 0) {
      value = jsonExpr(defaults[i - firstDefault], `the default of ${name}`);
      from = 'default';
    } else {
      return `the parameter "${name}" gets no value (not in arguments${i < 0 ? '; keyword-only defaults are not saved by Keras' : ''})`;
    }
    if (typeof value === 'string') return value;
    out.bound.push({ name, value, from });
  }
  const closure = parts.closure === null ? [] : Array.isArray(parts.closure) ? parts.closure : undefined;
  if (!closure) return 'the closure is not a list';
  if (closure.length > 0 && closure.length !== code.freevars.length) {
    return `the config holds ${closure.length} closure values for ${code.freevars.length} free variables`;
  }
  closure.forEach((v, i) => {
    const value = jsonExpr(v, `the closure value of ${code.freevars[i]}`);
    if (typeof value !== 'string') out.bound.push({ name: code.freevars[i], value, from: 'closure' });
  });
  return out;
}

interface Attempt {
  version: PyVersion;
  reading?: Reading;
  program?: LambdaProgram;
  error?: string;
  step: number;
}

function describe(code: CodeObject, versions: PyVersion[], reading: Reading | undefined): LambdaFunction {
  return {
    name: code.name,
    params: code.varnames.slice(0, code.argcount + code.kwonlyargcount),
    python: versions,
    listing: reading ? listing(reading.instructions, code, versions[0]) : [],
  };
}

/** Translates one Lambda layer's config. Never throws for bad input: a failure is `{ok: false, reason}`. */
export function translateLambda(config: JsonObject): LambdaTranslation {
  const unknown = Object.keys(config).filter((k) => !LAMBDA_KEYS.has(k));
  if (unknown.length > 0) return { ok: false, reason: `config keys not understood: ${unknown.join(', ')}` };
  if (config.mask != null) return { ok: false, reason: 'the layer has a mask (a mask function or fixed mask), which is not translated' };
  const parts = functionParts(config);
  if (typeof parts === 'string') return { ok: false, reason: parts };
  let code: CodeObject;
  try {
    code = readCodeObject(lambdaCodeBytes(parts.code)).code;
  } catch (e) {
    if (e instanceof MarshalError) return { ok: false, reason: `the marshalled function cannot be read: ${e.message}` };
    throw e;
  }
  const params = bindParameters(code, config, parts);
  if (typeof params === 'string') return { ok: false, reason: params, function: describe(code, [...LAYOUT_VERSIONS[code.layout]] as PyVersion[], undefined) };

  const attempts: Attempt[] = [];
  for (const version of LAYOUT_VERSIONS[code.layout] as PyVersion[]) {
    let readings: Reading[];
    try {
      readings = disassemble(code.code, OPCODE_TABLES[version]);
    } catch (e) {
      if (!(e instanceof DisassemblyError)) throw e;
      attempts.push({ version, error: e.message, step: -1 });
      continue;
    }
    for (const reading of readings) {
      try {
        const program = evaluate({ code, version, instructions: reading.instructions, ...params });
        attempts.push({ version, reading, program, step: Infinity });
      } catch (e) {
        if (!(e instanceof TranslationError)) throw e;
        attempts.push({ version, reading, error: e.message, step: e.step });
      }
    }
  }

  const ok = attempts.filter((a) => a.program);
  if (ok.length === 0) {
    const best = attempts.reduce((a, b) => (b.step > a.step ? b : a));
    return { ok: false, reason: `Python ${best.version} bytecode: ${best.error}`, function: describe(code, [best.version], best.reading) };
  }
  // Readings that needed no specialized opcodes and found no stray cache bytes are the likelier ones.
  const rank = (a: Attempt) => a.reading!.specialized * 1000 + a.reading!.dirtyCaches;
  const bestRank = Math.min(...ok.map(rank));
  const best = ok.filter((a) => rank(a) === bestRank);
  const texts = [...new Set(best.map((a) => formatProgram(a.program!)))];
  const versions = [...new Set(best.map((a) => a.version))];
  if (texts.length > 1) {
    return {
      ok: false,
      reason: `the bytecode reads as different functions depending on the Python version: ${best.map((a) => `${a.version}: ${formatProgram(a.program!)}`).join(' | ')}`,
      function: describe(code, versions, best[0].reading),
    };
  }
  const notes: string[] = [];
  if (best[0].reading!.specialized > 0) {
    notes.push(`the bytecode holds ${best[0].reading!.specialized} specialized opcode(s), read as the instruction they specialize`);
  }
  return { ok: true, program: best[0].program!, expression: texts[0], function: describe(code, versions, best[0].reading), notes };
}
