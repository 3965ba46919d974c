import { KerasInteropError } from '../errors.js';
import type { JsonValue } from '../model/types.js';

export const DEFAULT_MAX_CONFIG_DEPTH = 200;

/**
 * Python's json.dumps writes NaN, Infinity and -Infinity bare; JSON.parse refuses them. Outside
 * strings they become null (a config value, never a weight).
 */
function replacePythonNonFinite(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    const rest = text.startsWith('-Infinity', i) ? '-Infinity' : text.startsWith('Infinity', i) ? 'Infinity' : text.startsWith('NaN', i) ? 'NaN' : '';
    if (rest) {
      out += 'null';
      i += rest.length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function depthOf(v: JsonValue, max: number): number {
  // Iterative, so a hostile file cannot overflow the stack here.
  let deepest = 0;
  const stack: [JsonValue, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (d > deepest) deepest = d;
    if (deepest > max) return deepest;
    if (x !== null && typeof x === 'object') {
      for (const child of Array.isArray(x) ? x : Object.values(x)) stack.push([child, d + 1]);
    }
  }
  return deepest;
}

/** Parses a JSON document from a model file; errors name the file and where the text came from. */
export function parseJsonText(text: string, file: string, place: string, maxDepth = DEFAULT_MAX_CONFIG_DEPTH): JsonValue {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (first) {
    try {
      value = JSON.parse(replacePythonNonFinite(text)) as JsonValue;
    } catch {
      throw new KerasInteropError('CONFIG_INVALID', `not valid JSON (${(first as Error).message})`, { file, place });
    }
  }
  if (depthOf(value, maxDepth) > maxDepth) {
    throw new KerasInteropError('LIMIT_EXCEEDED', `JSON nests deeper than ${maxDepth} levels (raise --max-config-depth)`, { file, place });
  }
  return value;
}
