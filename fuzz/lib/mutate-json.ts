/**
 * Structure-aware mutations of JSON documents (Keras configs, metadata, case.json, tfjs manifests):
 * deep nesting, huge strings, `__proto__` / `constructor` keys, wrong types, duplicated and missing
 * keys, broken references. Documents are held as a small tree whose objects keep their entries in a
 * list, so keys may repeat and `__proto__` is plain data, and written by our own serializer.
 */
import type { Rng } from './rng.js';

export class JObj {
  constructor(public entries: [string, JVal][]) {}
}
/** Text written as is (bare NaN, nesting too deep to build as objects). */
export class JRaw {
  constructor(readonly text: string) {}
}
export type JVal = null | boolean | number | string | JVal[] | JObj | JRaw;

export function toTree(v: unknown): JVal {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(toTree);
  if (typeof v === 'object') return new JObj(Object.keys(v as object).map((k) => [k, toTree((v as Record<string, unknown>)[k])]));
  return null;
}

export function serialize(v: JVal): string {
  if (v instanceof JRaw) return v.text;
  if (v instanceof JObj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}: ${serialize(x)}`).join(', ')}}`;
  if (Array.isArray(v)) return `[${v.map(serialize).join(', ')}]`;
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return JSON.stringify(v);
}

interface Site {
  get(): JVal;
  set(v: JVal): void;
  key?: string;
  parent: JVal[] | JObj | null;
}

/** Sites other than the root (the root alone when the document is a scalar). */
function inner(all: Site[]): Site[] {
  return all.length > 1 ? all.slice(1) : all;
}

function sites(root: { v: JVal }): Site[] {
  const out: Site[] = [{ get: () => root.v, set: (v) => (root.v = v), parent: null }];
  const walk = (v: JVal): void => {
    if (v instanceof JObj) {
      for (const entry of v.entries) {
        out.push({ get: () => entry[1], set: (x) => (entry[1] = x), key: entry[0], parent: v });
        walk(entry[1]);
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({ get: () => v[i], set: (y) => (v[i] = y), parent: v });
        walk(x);
      });
    }
  };
  walk(root.v);
  return out;
}

const CLASS_NAMES = [
  'Lambda', 'TFOpLambda', 'Functional', 'Sequential', 'Model', 'InputLayer', 'Dense', 'MultiHead', 'MultiHeadAttention',
  'SeqSelfAttention', 'SeqWeightedAttention', 'ScaledDotProductAttention', 'Bidirectional', 'TimeDistributed', 'LSTM',
  'GRU', 'SimpleRNN', 'RNN', 'Embedding', 'Masking', 'Add', 'Concatenate', 'Reshape', 'Conv1D', 'LayerNormalization',
  'BatchNormalization', 'Dropout', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'NoSuchLayer',
  'Custom>Thing', '__keras_tensor__', 'DTypePolicy', 'GlorotUniform',
];

const STRINGS = [
  '', ' ', '../../../../etc/passwd', '/etc/passwd', 'C:\\Windows\\win.ini', '..', '.', '/', '\u0000', 'a\u0000b', '💥', '\ud800',
  'NaN', 'null', 'undefined', '__proto__', 'constructor', 'prototype', 'float32', 'float16', 'int64', 'complex64', 'string',
  'relu', 'no_such_activation', 'channels_first', 'same', 'valid', 'glorot_uniform', '%2e%2e%2f', '{}', '[]',
];

const NUMBERS = [0, -1, 1, 2, -0, 0.5, 1.5, 2 ** 31, 2 ** 32, -(2 ** 31), 2 ** 53 + 2, 1e9, 1e15, 1e308, -1e308, 5e-324, 65536, 1e6];

function randomValue(rng: Rng, depth = 0): JVal {
  switch (rng.int(depth > 1 ? 6 : 8)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick(NUMBERS);
    case 3:
      return rng.pick([NaN, Infinity, -Infinity]);
    case 4:
      return rng.pick(STRINGS);
    case 5:
      return rng.chance(0.5) ? rng.pick(CLASS_NAMES) : rng.pick(STRINGS);
    case 6:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default:
      return new JObj(Array.from({ length: rng.int(3) }, () => [rng.pick([...STRINGS, 'class_name', 'config', 'name']), randomValue(rng, depth + 1)]));
  }
}

function typeOf(v: JVal): string {
  if (v instanceof JObj) return 'object';
  if (Array.isArray(v)) return 'array';
  if (v instanceof JRaw) return 'raw';
  return v === null ? 'null' : typeof v;
}

function wrongTyped(rng: Rng, v: JVal): JVal {
  for (let i = 0; i < 8; i++) {
    const x = randomValue(rng);
    if (typeOf(x) !== typeOf(v)) return x;
  }
  return typeOf(v) === 'null' ? 0 : null;
}

/** A value nested `depth` levels deep, as text (building it as objects would overflow the stack). */
export function deepNesting(rng: Rng, depth: number): JRaw {
  if (rng.chance(0.5)) return new JRaw('['.repeat(depth) + '1' + ']'.repeat(depth));
  const key = rng.pick(['a', 'config', 'layer', '__proto__']);
  return new JRaw(`{"${key}": `.repeat(depth) + 'null' + '}'.repeat(depth));
}

export const DEPTHS = [50, 199, 200, 201, 250, 1000, 10_000, 100_000];
export const HUGE_STRING_LENGTHS = [1 << 16, 1 << 20, 4 << 20];

type Op = (rng: Rng, root: { v: JVal }, all: Site[]) => string;

const ops: [number, Op][] = [
  [2, (rng, _root, all) => {
    const depth = rng.pick(DEPTHS);
    rng.pick(all).set(deepNesting(rng, depth));
    return `nest-${depth}`;
  }],
  [2, (rng, _root, all) => {
    const len = rng.pick(HUGE_STRING_LENGTHS);
    const str = rng.chance(0.8) ? 'A'.repeat(len) : '\u00e9\ud83d\udca5'.repeat(len >> 2);
    const keyed = all.filter((s) => s.key !== undefined && s.parent instanceof JObj);
    if (keyed.length && rng.chance(0.3)) {
      const s = rng.pick(keyed);
      const entry = (s.parent as JObj).entries.find((e) => e[0] === s.key)!;
      entry[0] = str;
      return `huge-key-${len}`;
    }
    const strings = all.filter((s) => typeof s.get() === 'string');
    rng.pick(strings.length ? strings : all).set(str);
    return `huge-string-${len}`;
  }],
  [3, (rng, _root, all) => {
    const objs = all.map((s) => s.get()).filter((v): v is JObj => v instanceof JObj);
    if (!objs.length) return 'proto-none';
    const o = rng.pick(objs);
    const key = rng.pick(['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'hasOwnProperty', 'valueOf']);
    const value = rng.pick<JVal>([new JObj([['polluted', true]]), new JObj([]), 'x', null, [], 1, new JObj([['class_name', 'Dense'], ['config', new JObj([])]])]);
    if (rng.chance(0.5) && o.entries.length) o.entries[rng.int(o.entries.length)][0] = key;
    else o.entries.splice(rng.int(o.entries.length + 1), 0, [key, value]);
    return `proto-key-${key}`;
  }],
  [5, (rng, _root, all) => {
    const s = rng.pick(inner(all));
    s.set(wrongTyped(rng, s.get()));
    return `wrong-type${s.key ? `-${s.key}` : ''}`;
  }],
  [2, (rng, _root, all) => {
    const objs = all.map((s) => s.get()).filter((v): v is JObj => v instanceof JObj);
    if (!objs.length) return 'wrong-all-none';
    const o = rng.pick(objs);
    for (const e of o.entries) e[1] = wrongTyped(rng, e[1]);
    return 'wrong-type-every-field';
  }],
  [3, (rng, _root, all) => {
    const objs = all.map((s) => s.get()).filter((v): v is JObj => v instanceof JObj && v.entries.length > 0);
    if (!objs.length) return 'delete-none';
    const o = rng.pick(objs);
    const [k] = o.entries.splice(rng.int(o.entries.length), 1)[0];
    return `delete-${k}`;
  }],
  [2, (rng, _root, all) => {
    const objs = all.map((s) => s.get()).filter((v): v is JObj => v instanceof JObj && v.entries.length > 0);
    if (!objs.length) return 'dup-none';
    const o = rng.pick(objs);
    const [k] = rng.pick(o.entries);
    o.entries.push([k, randomValue(rng)]);
    return `dup-key-${k}`;
  }],
  [3, (rng, _root, all) => {
    const nums = all.filter((s) => typeof s.get() === 'number');
    if (!nums.length) return 'number-none';
    const s = rng.pick(nums);
    s.set(rng.chance(0.2) ? rng.pick([NaN, Infinity, -Infinity]) : rng.pick(NUMBERS));
    return `extreme-number${s.key ? `-${s.key}` : ''}`;
  }],
  [2, (rng, _root, all) => {
    const cls = all.filter((s) => s.key === 'class_name');
    if (!cls.length) return 'class-none';
    rng.pick(cls).set(rng.pick(CLASS_NAMES));
    return 'class-swap';
  }],
  [2, (rng, _root, all) => {
    // References by name (inbound nodes, keras_history, input_layers): point them elsewhere or at themselves.
    const strings = all.filter((s) => typeof s.get() === 'string');
    if (strings.length < 2) return 'ref-none';
    const names = strings.map((s) => s.get() as string);
    const s = rng.pick(strings);
    s.set(rng.chance(0.7) ? rng.pick(names) : rng.pick(STRINGS));
    return 'string-swap';
  }],
  [2, (rng, _root, all) => {
    const arrays = all.filter((s) => Array.isArray(s.get()) && (s.get() as JVal[]).length > 0);
    if (!arrays.length) return 'array-none';
    const a = rng.pick(arrays).get() as JVal[];
    const how = rng.int(4);
    if (how === 0) a.splice(rng.int(a.length), 1);
    else if (how === 1) a.push(a[rng.int(a.length)]);
    else if (how === 2) a.reverse();
    else a.length = Math.max(0, a.length - 1 - rng.int(a.length));
    return ['array-drop', 'array-dup', 'array-reverse', 'array-truncate'][how];
  }],
  [1, (rng, _root, all) => {
    const a = rng.pick(inner(all));
    const b = rng.pick(inner(all));
    const va = a.get();
    a.set(b.get());
    b.set(va);
    return 'swap-subtrees';
  }],
  [1, (rng, root) => {
    root.v = randomValue(rng);
    return 'replace-root';
  }],
];

export interface JsonMutation {
  name: string;
  text: string;
}

/** One to three structural mutations of a JSON document. */
export function mutateJson(rng: Rng, value: unknown): JsonMutation {
  const root = { v: toTree(value) };
  const names: string[] = [];
  const n = rng.pick([1, 1, 1, 2, 3]);
  for (let i = 0; i < n; i++) {
    const all = sites(root);
    names.push(rng.weighted(ops)(rng, root, all));
  }
  return { name: `json:${names.join('+')}`, text: serialize(root.v) };
}
