/**
 * JSON text the way Python's `json.dumps` writes it with its defaults (Keras writes `model_config`,
 * `config.json` and `metadata.json` so): `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`,
 * floats in `repr` form (`1e-05`, `1e+16`). A parsed config no longer knows whether a number was a
 * Python float with an integral value (`1.0`): those come out as integers, which Keras reads the same.
 */
import type { JsonValue } from '../model/types.js';

const HEX = [...'0123456789abcdef'].map((c) => c.charCodeAt(0));
const ascii = new TextDecoder('ascii');

/**
 * JSON.stringify already writes Python's escapes for `"`, `\`, control characters (short forms, else
 * lowercase `\u00XX`) and lone surrogates; what is left is every code unit past `~`, escaped here into
 * one byte buffer. Building the text a character at a time cost hundreds of MiB and a second for a
 * config holding a 4 MiB string (found by the fuzzer).
 */
export function pythonString(s: string): string {
  const json = JSON.stringify(s);
  let wide = 0;
  for (let i = 0; i < json.length; i++) if (json.charCodeAt(i) > 0x7e) wide++;
  if (wide === 0) return json;
  const out = new Uint8Array(json.length + 5 * wide);
  let o = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c <= 0x7e) {
      out[o++] = c;
      continue;
    }
    out[o++] = 0x5c; // backslash
    out[o++] = 0x75; // u
    out[o++] = HEX[c >> 12];
    out[o++] = HEX[(c >> 8) & 15];
    out[o++] = HEX[(c >> 4) & 15];
    out[o++] = HEX[c & 15];
  }
  return ascii.decode(out);
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) {
    // Integral values print as Python ints (a parsed config cannot tell 1.0 from 1).
    return String(x === 0 ? 0 : x);
  }
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let body: string;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      body = `0.${'0'.repeat(-exp - 1)}${digits}`;
    } else if (digits.length > exp + 1) {
      body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    } else {
      body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
    }
  } else {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    body = `${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return negative ? `-${body}` : body;
}

/** `json.dumps(value)` with Python's default settings. */
export function pythonJsonDumps(value: JsonValue): string {
  const parts: string[] = [];
  // Iterative, so a deeply nested config cannot overflow the stack.
  const stack: (JsonValue | { text: string })[] = [value];
  while (stack.length) {
    const v = stack.pop()!;
    if (v !== null && typeof v === 'object' && TEXT.has(v)) {
      parts.push((v as { text: string }).text);
      continue;
    }
    if (v === null) parts.push('null');
    else if (typeof v === 'boolean') parts.push(v ? 'true' : 'false');
    else if (typeof v === 'number') parts.push(pythonFloat(v));
    else if (typeof v === 'string') parts.push(pythonString(v));
    else if (Array.isArray(v)) {
      if (v.length === 0) {
        parts.push('[]');
        continue;
      }
      parts.push('[');
      const items: (JsonValue | { text: string })[] = [];
      v.forEach((item, i) => {
        if (i > 0) items.push(text(', '));
        items.push(item);
      });
      items.push(text(']'));
      for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]);
    } else {
      const keys = Object.keys(v);
      if (keys.length === 0) {
        parts.push('{}');
        continue;
      }
      parts.push('{');
      const items: (JsonValue | { text: string })[] = [];
      keys.forEach((k, i) => {
        items.push(text(`${i > 0 ? ', ' : ''}${pythonString(k)}: `));
        items.push((v as Record<string, JsonValue>)[k]);
      });
      items.push(text('}'));
      for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]);
    }
  }
  return parts.join('');
}

/** Literal text markers on the work stack; kept in a set so a config object can never pose as one. */
const TEXT = new WeakSet<object>();
function text(t: string): { text: string } {
  const o = { text: t };
  TEXT.add(o);
  return o;
}

/**
 * The JSON text to store for `value`: `raw` (the text the source file held, when a reader kept it)
 * if it still says exactly `value`, so numbers like `1.0` survive a round trip; else `json.dumps`.
 */
export function jsonTextFor(value: JsonValue, raw: unknown): string {
  if (typeof raw === 'string') {
    try {
      if (JSON.stringify(JSON.parse(raw)) === JSON.stringify(value)) return raw;
    } catch {
      // not JSON (Python's NaN, say): write it afresh
    }
  }
  return pythonJsonDumps(value);
}
