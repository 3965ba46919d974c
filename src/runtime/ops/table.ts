/**
 * The op table: every canonical op (its Python-style signature and tfjs implementation, see `OpSpec`),
 * and binding a front-end's call onto it. Front-ends (TFOpLambda names, Keras 3 op classes, translated
 * Lambda bytecode) each keep an alias table: their spelling of an op, with their Python signature and
 * which canonical parameter each of its parameters feeds. An op is added once here and works in all of
 * them; `registerOp` plugs in one the table lacks.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError, type ErrorLocation } from '../../errors.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { INDEX_OPS } from './index-ops.js';
import { KERAS_BACKEND_OPS } from './keras-backend.js';
import { LINALG_OPS } from './linalg.js';
import { REDUCE_OPS } from './reduce.js';
import { SHAPE_OPS } from './shape.js';
import { type BoundArguments, bindArguments, parseSignature } from './signature.js';
import { OpArgs, type OpResult, type OpSpec, isTensor } from './spec.js';
import { type OpValue, pyRepr, sameValue } from './values.js';

const OPS = new Map<string, OpSpec>();
/** tfjs camel-cases string values of configs it loads (`reduce_mean` → `reduceMean`); both find the op. */
const BY_TFJS_SPELLING = new Map<string, string>();

function tfjsSpelling(name: string): string {
  return name.replace(/[_]+(\w|$)/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Adds an op to the table (or replaces the one of that name). `name` is snake_case; `signature` a Python
 * parameter list (see signature.ts); `run` computes it with tfjs from the bound arguments.
 */
export function registerOp(spec: OpSpec): void {
  if (!/^[a-z][a-z0-9_]*$/.test(spec.name)) throw new TypeError(`registerOp: the name "${spec.name}" must be snake_case`);
  if (typeof spec.run !== 'function') throw new TypeError(`registerOp('${spec.name}'): run must be a function`);
  parseSignature(spec.signature);
  OPS.set(spec.name, Object.freeze({ ...spec }));
  BY_TFJS_SPELLING.set(tfjsSpelling(spec.name), spec.name);
}

for (const spec of [...ELEMENTWISE_OPS, ...REDUCE_OPS, ...SHAPE_OPS, ...INDEX_OPS, ...LINALG_OPS, ...KERAS_BACKEND_OPS]) registerOp(spec);

/** The op of a canonical name (or of its tfjs camel-cased spelling). */
export function getOp(name: string): OpSpec | undefined {
  return OPS.get(name) ?? OPS.get(BY_TFJS_SPELLING.get(name) ?? '');
}

/** Every op in the table, by name. */
export function listOps(): OpSpec[] {
  return [...OPS.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------------------
// Aliases: a front-end's spelling of an op.

export interface OpAlias {
  /** The canonical op. */
  readonly op: string;
  /**
   * The front-end's Python signature, parameters renamed onto the op's with `:` where they differ
   * (`'input_tensor:x, axis=None, keepdims=False, name=None'`). A parameter the op lacks must keep its
   * default in a call (else the call is refused); `name` is dropped.
   */
  readonly signature: string;
}

/** A front-end's aliases by the name it spells ops with. Extend one with `addAliases`. */
export type AliasTable = Map<string, OpAlias>;

/** Adds aliases (`{name: [op, signature]}`) to a front-end's table. */
export function addAliases(table: AliasTable, entries: Record<string, readonly [string, string]>): AliasTable {
  for (const name of Object.keys(entries)) {
    const [op, signature] = entries[name];
    parseSignature(signature);
    table.set(name, Object.freeze({ op, signature }));
  }
  return table;
}

/** One call bound onto a canonical op: every canonical parameter with its value (defaults filled in). */
export interface OpCall<T> {
  readonly op: OpSpec;
  readonly args: BoundArguments<T>;
  /** The op as the file spelled it (`tf.math.reduce_mean`), for messages. */
  readonly what: string;
}

function isAnyTensor(v: unknown): boolean {
  return isTensor(v) || (typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'input');
}

/**
 * Binds a call written against an alias (positional and keyword arguments by the alias's Python names)
 * onto its canonical op. Refused with `UNSUPPORTED_OP` (naming `what` and the argument): an op missing
 * from the table, a call Python would refuse, an argument the op does not implement given a value other
 * than its default.
 */
export function bindCall<T>(
  alias: OpAlias,
  positional: readonly OpValue<T>[],
  keywords: Readonly<Record<string, OpValue<T>>>,
  what: string,
  where: ErrorLocation = {},
  opts: FrontEndOptions = {},
): OpCall<T> {
  const op = getOp(alias.op);
  if (!op) throw unsupportedOp(what, `its canonical op "${alias.op}" is not in the op table`, where);
  const aliasSig = parseSignature(alias.signature);
  const bound = bindArguments(aliasSig, positional, keywords, what, where);
  if (opts.noneMeansDefault) {
    for (const p of aliasSig.params) if (bound.get(p.name) === null && p.default !== undefined) bound.set(p.name, p.default);
  }
  const fail = (message: string) => new KerasInteropError('UNSUPPORTED_OP', `${what}: ${message}`, where);
  const canonical = new Map<string, OpValue<T>>();
  // Which alias parameter gave each canonical one a value other than its own default (two spellings of
  // one parameter, like Keras's `newshape`/`new_shape`, may not both be given).
  const givenBy = new Map<string, string>();
  const opSig = parseSignature(op.signature);
  for (const p of aliasSig.params) {
    const v = bound.get(p.name) as OpValue<T>;
    const isDefault = p.default !== undefined && sameValue(v, p.default);
    if (p.kind === 'varkw') {
      const extra = Object.keys(v as object);
      if (extra.length > 0) throw fail(`keyword arguments ${extra.join(', ')} are not supported`);
      continue;
    }
    if (p.target === null) continue;
    if (!opSig.params.some((q) => q.name === p.target)) {
      if (!isDefault) throw fail(`argument ${p.name}=${pyRepr(v, isAnyTensor)} is not supported (only its default, ${pyRepr(p.default)})`);
      continue;
    }
    const other = givenBy.get(p.target);
    if (other !== undefined && !isDefault) throw fail(`arguments ${other} and ${p.name} mean the same and cannot both be given`);
    if (other !== undefined || (isDefault && canonical.has(p.target))) continue;
    canonical.set(p.target, v);
    if (!isDefault) givenBy.set(p.target, p.name);
  }
  const missing: string[] = [];
  for (const q of opSig.params) {
    if (canonical.has(q.name)) continue;
    if (q.default !== undefined) canonical.set(q.name, q.default);
    else if (q.kind === 'varargs') canonical.set(q.name, []);
    else missing.push(q.name);
  }
  if (missing.length > 0) throw fail(`missing argument${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  return { op, args: canonical, what };
}

/** Binds a call onto a canonical op by the op's own signature (what a Lambda translator calls directly). */
export function bindOp<T>(name: string, positional: readonly OpValue<T>[], keywords: Readonly<Record<string, OpValue<T>>> = {}, where: ErrorLocation = {}): OpCall<T> {
  const op = getOp(name);
  if (!op) throw unsupportedOp(name, 'it is not in the op table', where);
  return bindCall({ op: op.name, signature: op.signature }, positional, keywords, name, where);
}

/** Runs a bound call on tfjs tensors. */
export function runOp(call: OpCall<tf.Tensor>): OpResult {
  return call.op.run(new OpArgs(call.what, call.args));
}

/** How to plug in an op the table lacks, for every `UNSUPPORTED_OP` that names a missing op. */
export const PLUG_IN_HINT =
  "Add it with registerOp({name, signature, doc, run}) (canonical op, tfjs implementation) and map the file's spelling onto it " +
  'with addAliases(TF_FUNCTIONS or KERAS3_OPS, {...}) before building (see "Ops" in the README).';

export function unsupportedOp(what: string, why: string, where: ErrorLocation = {}): KerasInteropError {
  return new KerasInteropError('UNSUPPORTED_OP', `op ${what} is not supported: ${why}. ${PLUG_IN_HINT}`, where);
}

// ---------------------------------------------------------------------------------------------------------
// Writing a call back in a front-end's spelling.

/** The first alias a front-end lists for an op: how it writes that op. */
export function preferredAlias(table: AliasTable, op: string): [string, OpAlias] | undefined {
  for (const entry of table) if (entry[1].op === op) return entry;
  return undefined;
}

export interface FrontEndOptions {
  /**
   * The front-end reads an explicit None as "the default" (TensorFlow's functions do): a canonical None
   * can then only be written where the alias's default is None too.
   */
  noneMeansDefault?: boolean;
}

/**
 * The inverse of `bindCall`: the call's arguments by the alias's parameter names (every parameter that
 * feeds a canonical one; the others keep their defaults). Refused (`UNSUPPORTED_OP`) when a canonical
 * argument has no alias parameter and is not the op's default, or cannot be said in the alias.
 */
export function unbindCall<T>(call: OpCall<T>, alias: OpAlias, opts: FrontEndOptions = {}, where: ErrorLocation = {}): Map<string, OpValue<T>> {
  const aliasSig = parseSignature(alias.signature);
  const opSig = parseSignature(call.op.signature);
  const out = new Map<string, OpValue<T>>();
  const fail = (message: string) => new KerasInteropError('UNSUPPORTED_OP', `${call.what}: ${message}`, where);
  for (const q of opSig.params) {
    const v = call.args.get(q.name) as OpValue<T>;
    const p = aliasSig.params.find((x) => x.target === q.name);
    if (!p) {
      const unset = q.kind === 'varargs' ? Array.isArray(v) && v.length === 0 : q.default !== undefined && sameValue(v, q.default);
      if (!unset) throw fail(`argument ${q.name}=${pyRepr(v, isAnyTensor)} has no counterpart in ${alias.signature}`);
      continue;
    }
    if (opts.noneMeansDefault && v === null && p.default !== undefined && p.default !== null) {
      throw fail(`argument ${q.name}=None cannot be written: ${p.name}=None means ${pyRepr(p.default)} there`);
    }
    out.set(p.name, v);
  }
  return out;
}
