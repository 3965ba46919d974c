/**
 * The runtime's form of an op call: one `KerasInterop>Op` layer per call, whatever encoding the file used
 * (TFOpLambda, Keras 3 operation node, translated Lambda). Its config names the canonical op and holds
 * the bound arguments, with the call's tensors as numbered inputs (the layer's inbound tensors, in order):
 *
 *   {"name": "tf.math.multiply", "trainable": false, "op": "multiply",
 *    "arguments": {"x": {"input": 0}, "y": 2.828}}
 *
 * Values: numbers, booleans, strings, null and lists as in Python; `{"input": i}` a tensor input;
 * `{"slice": [start, stop, step]}`; `{"ellipsis": true}`; `{"array": nested, "dtype": "float32"}` an
 * array constant. No key has an underscore, so tfjs's camel-casing of loaded configs leaves the encoding
 * alone (argument names it camel-cases are matched back against the op's parameters).
 */
import { KerasInteropError, type ErrorLocation } from '../../errors.js';
import type { JsonObject, JsonValue } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';
import type { TensorRef } from '../config-walk.js';
import { parseSignature } from './signature.js';
import { type OpCall, getOp } from './table.js';
import type { OpSpec } from './spec.js';
import { ELLIPSIS, type OpValue, isArrayConstant, isEllipsis, isPySlice, pySlice } from './values.js';

export const OP_LAYER_CLASS = 'KerasInterop>Op';

/** A tensor argument of an op call in a config: the `index`-th tensor the layer takes. */
export interface InputSlot {
  readonly kind: 'input';
  readonly index: number;
}

export function isInputSlot(v: unknown): v is InputSlot {
  return isJsonObject(v as JsonValue) && (v as { kind?: unknown }).kind === 'input' && typeof (v as { index?: unknown }).index === 'number';
}

export function inputSlot(index: number): InputSlot {
  return { kind: 'input', index };
}

/**
 * The slot of a tensor a call reads, added to `inputs` the first time: a tensor the call reads twice
 * (`x * x`) is one input, as tfjs's predict frees a tensor one node reads twice before its other readers.
 */
export function slotOf(inputs: TensorRef[], ref: TensorRef): InputSlot {
  const found = inputs.findIndex((r) => r[0] === ref[0] && r[1] === ref[1] && r[2] === ref[2]);
  if (found >= 0) return inputSlot(found);
  inputs.push(ref);
  return inputSlot(inputs.length - 1);
}

function encodeValue(v: OpValue<InputSlot>): JsonValue {
  if (isInputSlot(v)) return { input: v.index };
  if (Array.isArray(v)) return v.map(encodeValue);
  if (isPySlice<InputSlot>(v)) return { slice: [encodeValue(v.start), encodeValue(v.stop), encodeValue(v.step)] };
  if (isEllipsis(v)) return { ellipsis: true };
  if (isArrayConstant(v)) return v.dtype ? { array: v.value, dtype: v.dtype } : { array: v.value };
  return v as JsonValue;
}

/** The config of the op layer for one bound call. */
export function opLayerConfig(name: string, call: OpCall<InputSlot>): JsonObject {
  const args: JsonObject = {};
  for (const [k, v] of call.args) Object.defineProperty(args, k, { value: encodeValue(v), enumerable: true, writable: true, configurable: true });
  return { name, trainable: false, op: call.op.name, arguments: args };
}

function decodeValue(v: JsonValue, path: string, where: ErrorLocation): OpValue<InputSlot> {
  if (Array.isArray(v)) return v.map((x, i) => decodeValue(x, `${path}/${i}`, where));
  if (!isJsonObject(v)) return v;
  const keys = Object.keys(v);
  const bad = () => new KerasInteropError('CONFIG_INVALID', `unreadable op argument ${JSON.stringify(v).slice(0, 120)} at ${path}`, where);
  if (keys.length === 1 && keys[0] === 'input' && Number.isInteger(v.input) && (v.input as number) >= 0) return inputSlot(v.input as number);
  if (keys.length === 1 && keys[0] === 'slice' && Array.isArray(v.slice) && v.slice.length === 3) {
    const [a, b, c] = v.slice.map((x, i) => decodeValue(x, `${path}/slice/${i}`, where));
    return pySlice(a, b, c);
  }
  if (keys.length === 1 && keys[0] === 'ellipsis') return ELLIPSIS;
  if ('array' in v && keys.every((k) => k === 'array' || k === 'dtype')) {
    if (v.dtype !== undefined && typeof v.dtype !== 'string') throw bad();
    return v.dtype === undefined ? { kind: 'array', value: v.array } : { kind: 'array', value: v.array, dtype: v.dtype as string };
  }
  throw bad();
}

export interface OpLayerCall {
  op: OpSpec;
  args: Map<string, OpValue<InputSlot>>;
  /** How many tensor inputs the arguments refer to (highest index + 1). */
  inputs: number;
}

/**
 * Reads an op layer's config, as written by `opLayerConfig` or after tfjs camel-cased it. An op missing
 * from the table is `UNSUPPORTED_OP`; anything else unreadable `CONFIG_INVALID`.
 */
export function readOpLayerConfig(config: JsonObject, where: ErrorLocation = {}): OpLayerCall {
  const name = typeof config.op === 'string' ? config.op : '';
  const op = getOp(name);
  if (!op) {
    throw new KerasInteropError('UNSUPPORTED_OP', `op layer ${JSON.stringify(config.name ?? '?')}: op "${name}" is not in the op table (registerOp adds one)`, where);
  }
  const given = isJsonObject(config.arguments) ? config.arguments : {};
  const args = new Map<string, OpValue<InputSlot>>();
  const used = new Set<string>();
  let inputs = 0;
  const count = (v: OpValue<InputSlot>): void => {
    if (isInputSlot(v)) inputs = Math.max(inputs, v.index + 1);
    else if (Array.isArray(v)) v.forEach(count);
    else if (isPySlice<InputSlot>(v)) [v.start, v.stop, v.step].forEach(count);
  };
  for (const p of parseSignature(op.signature).params) {
    const key = [p.name, p.name.replace(/[_]+(\w|$)/g, (_m, c: string) => c.toUpperCase())].find((k) => Object.prototype.hasOwnProperty.call(given, k));
    if (key === undefined) {
      if (p.default === undefined && p.kind !== 'varargs') {
        throw new KerasInteropError('CONFIG_INVALID', `op layer ${JSON.stringify(config.name ?? '?')} (${op.name}): argument ${p.name} is missing`, where);
      }
      args.set(p.name, p.kind === 'varargs' ? [] : (p.default as OpValue<InputSlot>));
      continue;
    }
    used.add(key);
    const v = decodeValue(given[key], `arguments/${key}`, where);
    count(v);
    args.set(p.name, v);
  }
  const unknown = Object.keys(given).filter((k) => !used.has(k));
  if (unknown.length > 0) {
    throw new KerasInteropError('CONFIG_INVALID', `op layer ${JSON.stringify(config.name ?? '?')} (${op.name}): unknown arguments ${unknown.join(', ')}`, where);
  }
  return { op, args, inputs };
}
