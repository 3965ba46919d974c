/**
 * Lambda mutations: a model's Lambda layer keeps its place, and its stored Python function is changed in
 * the ways that reach the bytecode translator (src/runtime/lambda): the bytecode bytes themselves (opcodes,
 * arguments, EXTENDED_ARG chains, swapped, doubled and dropped instructions), the marshal structure
 * (type codes, length fields, the code object's header ints, refs, truncation), the constants and names
 * the code indexes (huge, deep, wrong-typed, names of things never whitelisted), the code read as another
 * Python version's layout, and the defaults, closure and `arguments` Keras passes it.
 */
import type { JsonObject, JsonValue, KerasModel } from '../../src/model/types.js';
import { isJsonObject } from '../../src/model/types.js';
import { type CodeObject, type PyObject, readCodeObject } from '../../src/runtime/lambda/marshal.js';
import { lambdaCodeBytes } from '../../src/runtime/lambda/translate.js';
import { type CodeSpec, type Const, base64, marshalCode } from './marshal-writer.js';
import { mutateBytes } from './mutate-bytes.js';
import type { Rng } from './rng.js';

interface Fn {
  code: Uint8Array;
  defaults: JsonValue;
  closure: JsonValue;
  arguments: JsonValue;
}

const WEIRD_CONSTS: (() => Const)[] = [
  () => 2n ** 200n,
  () => -(2n ** 31n),
  () => ({ float: 1e308 }),
  () => ({ float: NaN }),
  () => ({ float: -0 }),
  () => '',
  () => 'x'.repeat(100_000),
  () => {
    let t: Const = 1;
    for (let i = 0; i < 70; i++) t = [t];
    return t;
  },
  () => Array.from({ length: 50_000 }, () => null),
  () => Array.from({ length: 40 }, () => 'axis'),
  () => [1_000_000_000, 1_000_000_000],
  () => [-1, -1, -1],
  () => ({ ellipsis: true }),
  () => true,
  () => 'float16',
];

const WEIRD_NAMES = ['__import__', 'eval', 'exec', 'os', 'system', 'open', '', 'K', 'tf', 'np', 'sum', 'reduce_sum', 'float32', 'a'.repeat(5000), '__proto__'];

function toConst(o: PyObject): Const {
  switch (o.t) {
    case 'none':
      return null;
    case 'bool':
      return o.v;
    case 'int':
      return o.v;
    case 'float':
      return { float: o.v };
    case 'str':
      return o.v;
    case 'tuple':
      return o.items.map(toConst);
    case 'ellipsis':
      return { ellipsis: true };
    default:
      return null;
  }
}

/** The code object written again, with the changes `edit` makes to its parts. */
function rewrite(code: CodeObject, edit: (spec: Required<CodeSpec>) => void): Uint8Array {
  const spec: Required<CodeSpec> = {
    layout: code.layout,
    argcount: code.argcount,
    posonlyargcount: code.posonlyargcount,
    kwonlyargcount: code.kwonlyargcount,
    stacksize: code.stacksize,
    flags: code.flags,
    code: [...code.code],
    consts: code.consts.map(toConst),
    names: [...code.names],
    varnames: [...code.varnames],
    freevars: [...code.freevars],
    cellvars: [...code.cellvars],
    name: code.name,
  };
  edit(spec);
  return marshalCode(spec);
}

/** Instruction starts (two-byte units from 3.6; 3.5's are not tracked, any even offset will do). */
function instructionOffset(rng: Rng, code: number[]): number {
  return 2 * rng.int(Math.max(1, Math.floor(code.length / 2)));
}

function mutateBytecode(rng: Rng, code: CodeObject): { name: string; bytes: Uint8Array } {
  const kind = rng.pick(['opcode', 'arg', 'extended-arg', 'swap', 'duplicate', 'drop', 'byte']);
  const bytes = rewrite(code, (spec) => {
    const c = spec.code;
    if (c.length === 0) return;
    const at = instructionOffset(rng, c);
    switch (kind) {
      case 'opcode':
        // Any number: unknown ones, specialized ones (3.11+), CACHE, EXTENDED_ARG, jumps, returns.
        c[at] = rng.pick([0, 144, 71, 83, 36, 113, 114, 140, 77, 151, 149, 47, 3, 200, 255, rng.int(256)]);
        break;
      case 'arg':
        if (at + 1 < c.length) c[at + 1] = rng.pick([0, 1, 2, 0x7f, 0xff, rng.int(256)]);
        break;
      case 'extended-arg': {
        const n = rng.pick([1, 2, 3, 4, 8]);
        const prefix = Array.from({ length: n }, () => [rng.pick([144, 71]), rng.pick([0, 1, 0xff])]).flat();
        c.splice(at, 0, ...prefix);
        break;
      }
      case 'swap': {
        const other = instructionOffset(rng, c);
        const a = c.slice(at, at + 2);
        c.splice(at, 2, ...c.slice(other, other + 2));
        c.splice(other, 2, ...a);
        break;
      }
      case 'duplicate':
        c.splice(at, 0, ...c.slice(at, at + 2 * rng.pick([1, 1, 2, 50])));
        break;
      case 'drop':
        c.splice(at, 2 * rng.pick([1, 1, 2]));
        break;
      default:
        c[rng.int(c.length)] = rng.int(256);
    }
  });
  return { name: `lambda:bytecode:${kind}`, bytes };
}

function mutateParts(rng: Rng, code: CodeObject): { name: string; bytes: Uint8Array } {
  const kind = rng.pick(['const', 'const', 'names', 'varnames', 'header', 'layout', 'freevars']);
  const bytes = rewrite(code, (spec) => {
    switch (kind) {
      case 'const':
        if (spec.consts.length) spec.consts[rng.int(spec.consts.length)] = rng.pick(WEIRD_CONSTS)();
        else spec.consts.push(rng.pick(WEIRD_CONSTS)());
        break;
      case 'names':
        if (spec.names.length) spec.names[rng.int(spec.names.length)] = rng.pick(WEIRD_NAMES);
        else spec.names.push(rng.pick(WEIRD_NAMES));
        break;
      case 'varnames':
        spec.varnames = rng.chance(0.5) ? [] : [...spec.varnames, ...spec.varnames];
        break;
      case 'header': {
        const field = rng.pick(['argcount', 'kwonlyargcount', 'posonlyargcount', 'stacksize', 'flags'] as const);
        spec[field] = rng.pick([0, 1, 2, 255, 0x7fffffff, 0x04, 0x08, 0x20, 0x80, rng.int(1 << 16)]);
        break;
      }
      case 'freevars':
        spec.freevars = rng.chance(0.5) ? ['k', 'scale'] : [];
        break;
      default:
        // The same code under another Python's field layout.
        spec.layout = rng.pick(['py35', 'py38', 'py311'] as const);
    }
  });
  return { name: `lambda:code:${kind}`, bytes };
}

/** Marshal bytes changed without regard for their structure: type codes, lengths, refs, truncation. */
function mutateMarshal(rng: Rng, bytes: Uint8Array): { name: string; bytes: Uint8Array } {
  if (rng.chance(0.5)) {
    const m = mutateBytes(rng, bytes);
    return { name: `lambda:marshal:${m.name}`, bytes: m.bytes };
  }
  const out = bytes.slice();
  const kind = rng.pick(['type', 'length', 'ref', 'header-int']);
  const at = rng.int(out.length);
  if (kind === 'type') out[at] = rng.pick([0x28, 0x29, 0x5b, 0x7b, 0x3c, 0x72, 0x6c, 0x63, 0xe3, 0x73, 0x75, 0x7a, 0x30, 0x3f, 0xa8, 0xf2]);
  else if (kind === 'header-int') new DataView(out.buffer).setInt32(1 + 4 * rng.int(5), rng.pick([-1, 0, 0x7fffffff, 1 << 20]), true);
  else if (at + 4 < out.length) {
    // A length or ref index: the four bytes after a type code, set to absurd values.
    new DataView(out.buffer).setInt32(at + 1, rng.pick([-1, 0x7fffffff, 1 << 24, 65536, 3]), true);
    if (kind === 'ref') out[at] = 0x72;
  }
  return { name: `lambda:marshal:${kind}`, bytes: out };
}

/**
 * Values Keras passes the function, wrong in kind and size. (Megabyte strings and 100,000-deep nesting
 * in configs are the JSON mutator's, on every format; here they would only retest the HDF5 reader.)
 */
function mutateConfigValues(rng: Rng, fn: Fn): { name: string; fn: Fn } {
  const which = rng.pick(['defaults', 'closure', 'arguments'] as const);
  const nested = (depth: number): JsonValue => (depth === 0 ? 1 : [nested(depth - 1)]);
  const values: (() => JsonValue)[] = [
    () => null, () => [], () => [1e9], () => [-1], () => ['x'], () => [null, null, null], () => 1e308, () => 'x'.repeat(10_000),
    () => ({ axis: 1e9 }), () => ({ axis: [0, 1, 2, 3, 4] }), () => ({ n: 1e8 }), () => ({ rep: -3 }), () => ({ axis: 'one' }),
    () => ({ x: 1 }), () => ({ mask: [1] }), () => ({ class_name: '__tuple__', items: [1e9, 1e9] }), () => ({ class_name: '__numpy__', config: {} }),
    () => nested(150), () => Array.from({ length: 10_000 }, (_, i) => i), () => ({ ['__proto__']: { axis: 1 } }),
  ];
  return { name: `lambda:config:${which}`, fn: { ...fn, [which]: rng.pick(values)() } };
}

function lambdaConfig(model: KerasModel): JsonObject | undefined {
  let found: JsonObject | undefined;
  const walk = (v: unknown): void => {
    if (found) return;
    if (Array.isArray(v)) v.forEach(walk);
    else if (isJsonObject(v)) {
      if (v.class_name === 'Lambda' && isJsonObject(v.config)) found = v.config;
      else Object.values(v).forEach(walk);
    }
  };
  walk(model.config);
  return found;
}

/** The model with its (first) Lambda's function mutated; undefined when it has no Lambda. */
export function mutateLambdaModel(rng: Rng, pristine: KerasModel): { name: string; model: KerasModel } | undefined {
  const model: KerasModel = { ...pristine, config: JSON.parse(JSON.stringify(pristine.config)) as JsonObject };
  const config = lambdaConfig(model);
  if (!config || !Array.isArray(config.function) || typeof config.function[0] !== 'string') return undefined;
  let fn: Fn = { code: lambdaCodeBytes(config.function[0]), defaults: config.function[1] ?? null, closure: config.function[2] ?? null, arguments: config.arguments ?? {} };
  const code = readCodeObject(fn.code).code;
  const r = rng.next();
  let name: string;
  if (r < 0.35) ({ name, bytes: fn.code } = mutateBytecode(rng, code));
  else if (r < 0.6) ({ name, bytes: fn.code } = mutateParts(rng, code));
  else if (r < 0.85) ({ name, bytes: fn.code } = mutateMarshal(rng, fn.code));
  else ({ name, fn } = mutateConfigValues(rng, fn));
  config.function = [base64(fn.code), fn.defaults, fn.closure];
  config.arguments = fn.arguments;
  return { name, model };
}
