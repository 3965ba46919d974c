/**
 * Python call signatures, written as Python writes them, and Python's rules for binding a call's
 * positional and keyword arguments to them.
 *
 * Syntax (one string per signature): `a, b=1, *rest, c=None, **kw`; a bare `*` starts keyword-only
 * parameters. A parameter may name the canonical op parameter it feeds with `:`: `input_tensor:x` binds
 * Python's `input_tensor` to the op's `x`; `:-` drops it. A parameter called `name` is dropped unless it
 * says otherwise (TensorFlow and Keras name ops with it; it never changes a result). Defaults are Python
 * literals: None, True, False, numbers, 'strings', tuples and lists of them.
 */
import { KerasInteropError, type ErrorLocation } from '../../errors.js';
import { type OpValue, pyRepr } from './values.js';

export type ParamKind = 'positional' | 'varargs' | 'keyword' | 'varkw';

export interface Param {
  /** The Python parameter name. */
  name: string;
  /** The canonical parameter it binds to; null when dropped. */
  target: string | null;
  kind: ParamKind;
  /** Absent: required. */
  default?: OpValue<never>;
}

export interface Signature {
  /** The text it was parsed from. */
  text: string;
  params: Param[];
}

const cache = new Map<string, Signature>();

/** Parses (and caches) a signature string; a malformed one is a programming error (TypeError). */
export function parseSignature(text: string): Signature {
  const hit = cache.get(text);
  if (hit) return hit;
  const params: Param[] = [];
  let keywordOnly = false;
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    if (part === '') continue;
    if (part === '*') {
      keywordOnly = true;
      continue;
    }
    const eq = part.indexOf('=');
    const head = (eq < 0 ? part : part.slice(0, eq)).trim();
    const m = /^(\*\*|\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*|-))?$/.exec(head);
    if (!m) throw new TypeError(`signature "${text}": cannot read parameter "${part}"`);
    const [, star, name, target] = m;
    const kind: ParamKind = star === '**' ? 'varkw' : star === '*' ? 'varargs' : keywordOnly ? 'keyword' : 'positional';
    if (kind === 'varargs') keywordOnly = true;
    const param: Param = { name, target: target === '-' ? null : (target ?? (name === 'name' ? null : name)), kind };
    if (eq >= 0) param.default = parseLiteral(part.slice(eq + 1).trim(), text);
    params.push(param);
  }
  const sig = { text, params };
  cache.set(text, sig);
  return sig;
}

/** Splits on commas outside brackets and quotes. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** A Python literal (the subset defaults use). */
export function parseLiteral(src: string, context = src): OpValue<never> {
  const s = src.trim();
  if (s === 'None') return null;
  if (s === 'True') return true;
  if (s === 'False') return false;
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s)) return Number(s);
  if (/^'[^']*'$|^"[^"]*"$/.test(s)) return s.slice(1, -1);
  if ((s.startsWith('(') && s.endsWith(')')) || (s.startsWith('[') && s.endsWith(']'))) {
    return splitTopLevel(s.slice(1, -1))
      .map((x) => x.trim())
      .filter((x) => x !== '')
      .map((x) => parseLiteral(x, context));
  }
  throw new TypeError(`signature "${context}": cannot read default value "${s}"`);
}

/** The arguments of one call, by this signature's Python parameter names (defaults filled in). */
export type BoundArguments<T> = Map<string, OpValue<T>>;

/**
 * Binds a call as Python would: positional arguments fill positional parameters in order (the rest go
 * to `*args`), keywords fill parameters by name (unknown ones go to `**kwargs`), and defaults fill what
 * is left. A call Python would refuse is an `UNSUPPORTED_OP` error naming `what` (the op as the file
 * spells it).
 */
export function bindArguments<T>(
  sig: Signature,
  positional: readonly OpValue<T>[],
  keywords: Readonly<Record<string, OpValue<T>>>,
  what: string,
  where: ErrorLocation = {},
): BoundArguments<T> {
  const fail = (message: string) =>
    new KerasInteropError('UNSUPPORTED_OP', `${what}${sig.text ? `(${sig.text})` : '()'}: ${message}`, where);
  const out: BoundArguments<T> = new Map();
  const slots = sig.params.filter((p) => p.kind === 'positional');
  const varargs = sig.params.find((p) => p.kind === 'varargs');
  const varkw = sig.params.find((p) => p.kind === 'varkw');
  positional.forEach((v, i) => {
    if (i < slots.length) out.set(slots[i].name, v);
    else if (!varargs) throw fail(`takes ${slots.length} positional arguments but ${positional.length} were given`);
  });
  if (varargs) out.set(varargs.name, positional.slice(slots.length) as OpValue<T>[]);
  const extra: Record<string, OpValue<T>> = {};
  for (const key of Object.keys(keywords)) {
    const p = sig.params.find((q) => q.name === key && (q.kind === 'positional' || q.kind === 'keyword'));
    if (!p) {
      if (!varkw) throw fail(`got an unexpected keyword argument '${key}'`);
      Object.defineProperty(extra, key, { value: keywords[key], enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (out.has(p.name)) throw fail(`got multiple values for argument '${key}'`);
    out.set(p.name, keywords[key]);
  }
  if (varkw) out.set(varkw.name, extra as unknown as OpValue<T>);
  const missing: string[] = [];
  for (const p of sig.params) {
    if (out.has(p.name) || p.kind === 'varargs' || p.kind === 'varkw') continue;
    if (p.default === undefined) missing.push(p.name);
    else out.set(p.name, p.default);
  }
  if (missing.length > 0) throw fail(`missing required argument${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`);
  return out;
}

/** `name=value` pairs of a binding, for messages. */
export function describeArguments<T>(args: BoundArguments<T>, isTensor: (x: unknown) => boolean): string {
  return [...args].map(([k, v]) => `${k}=${pyRepr(v, isTensor)}`).join(', ');
}
