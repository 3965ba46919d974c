/**
 * Keras 3 operation nodes: `{module: "keras.src.ops.numpy", class_name: "Mean", config: {name, axis,
 * keepdims}, inbound_nodes: [{args, kwargs}]}`. The config holds the operation's constructor arguments;
 * `args`/`kwargs` the call's, with tensors as `__keras_tensor__` objects and constants inline (Python
 * numbers, `__tensor__` / `__numpy__` arrays, `__slice__`, `__ellipsis__`; `__tuple__` in legacy `.h5`
 * configs).
 */
import { KerasInteropError } from '../../errors.js';
import type { JsonObject, JsonValue } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';
import { type TensorRef, keras3TensorRef, pointer } from '../config-walk.js';
import { KERAS3_OPS, keras3OpModule } from './keras3-ops.js';
import { type InputSlot, isInputSlot, slotOf } from './op-layer-config.js';
import { parseSignature } from './signature.js';
import { type OpCall, bindCall, preferredAlias, unbindCall, unsupportedOp } from './table.js';
import type { DecodedCall } from './tf-op-lambda.js';
import { ELLIPSIS, type OpValue, isArrayConstant, isEllipsis, isPySlice, pySlice, sameValue } from './values.js';

interface Ctx {
  file?: string;
  inputs: TensorRef[];
}

function decodeValue(v: JsonValue, place: string, ctx: Ctx): OpValue<InputSlot> {
  if (Array.isArray(v)) return v.map((x, i) => decodeValue(x, pointer(place, i), ctx));
  if (!isJsonObject(v)) return v;
  const ref = keras3TensorRef(v);
  if (ref) return slotOf(ctx.inputs, ref);
  const inner = isJsonObject(v.config) ? v.config : {};
  switch (v.class_name) {
    case '__slice__':
      return pySlice(
        decodeValue(inner.start ?? null, pointer(place, 'config', 'start'), ctx),
        decodeValue(inner.stop ?? null, pointer(place, 'config', 'stop'), ctx),
        decodeValue(inner.step ?? null, pointer(place, 'config', 'step'), ctx),
      );
    case '__ellipsis__':
      return ELLIPSIS;
    case '__tensor__':
    case '__numpy__':
      if ('value' in inner) return typeof inner.dtype === 'string' ? { kind: 'array', value: inner.value, dtype: inner.dtype } : { kind: 'array', value: inner.value };
      break;
    case '__tuple__':
      if (Array.isArray(v.items)) return decodeValue(v.items, pointer(place, 'items'), ctx);
      break;
    default:
  }
  throw new KerasInteropError('UNSUPPORTED_OP', `argument value ${JSON.stringify(v).slice(0, 160)} is not supported`, { file: ctx.file, place });
}

/** The calls of one Keras 3 operation node (one per inbound node), bound onto the op table. */
export function decodeKeras3Operation(entry: JsonObject, path: string, file?: string): DecodedCall[] {
  const cls = typeof entry.class_name === 'string' ? entry.class_name : '?';
  const config = isJsonObject(entry.config) ? entry.config : {};
  const name = typeof config.name === 'string' ? config.name : String(entry.name ?? '?');
  const module = typeof entry.module === 'string' ? entry.module : 'keras.ops';
  const what = `${module}.${cls}`;
  const where = { file, place: path };
  const alias = KERAS3_OPS.get(cls);
  if (!alias) throw unsupportedOp(what, `Keras 3 operation "${name}" is ${what}, which is not in the op table`, where);
  const nodes = Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
  return nodes.map((node, j) => {
    const place = pointer(path, 'inbound_nodes', j);
    if (!isJsonObject(node)) throw new KerasInteropError('CONFIG_INVALID', 'a Keras 3 operation node must be {args, kwargs}', { file, place });
    const ctx: Ctx = { file, inputs: [] };
    const args = Array.isArray(node.args) ? node.args : node.args == null ? [] : [node.args];
    const positional = args.map((a, i) => decodeValue(a, pointer(place, 'args', i), ctx));
    const keywords: Record<string, OpValue<InputSlot>> = {};
    const put = (k: string, v: OpValue<InputSlot>) => Object.defineProperty(keywords, k, { value: v, enumerable: true, writable: true, configurable: true });
    // The constructor's arguments (config) and the call's keywords bind by name alike.
    for (const k of Object.keys(config)) if (k !== 'name') put(k, decodeValue(config[k], pointer(path, 'config', k), ctx));
    const kwargs = isJsonObject(node.kwargs) ? node.kwargs : {};
    for (const k of Object.keys(kwargs)) {
      if (Object.prototype.hasOwnProperty.call(keywords, k)) {
        throw new KerasInteropError('CONFIG_INVALID', `argument ${k} is given both in the config and in the call`, { file, place: pointer(place, 'kwargs', k) });
      }
      put(k, decodeValue(kwargs[k], pointer(place, 'kwargs', k), ctx));
    }
    const call = bindCall(alias, positional, keywords, `${what} (operation "${name}")`, { file, place });
    return { call, inputs: ctx.inputs };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Writing calls as Keras 3 operation nodes (a TFOpLambda converted for Keras 3).

export interface Keras3OperationEntry {
  module: string;
  class_name: string;
  config: JsonObject;
  registered_name: string;
  /** The inbound node `{args, kwargs}`. */
  node: JsonObject;
}

/** The dtype NumPy gives a nested list of Python numbers (Keras 3 saves arrays with theirs). */
function listDtype(v: JsonValue): string {
  let float = false;
  let bool = true;
  const walk = (x: JsonValue): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (typeof x === 'number') {
      bool = false;
      if (!Number.isInteger(x)) float = true;
    }
  };
  walk(v);
  return float ? 'float32' : bool ? 'bool' : 'int32';
}

function encodeValue(v: OpValue<InputSlot>, tensor: (index: number) => JsonObject): JsonValue {
  if (isInputSlot(v)) return tensor(v.index);
  if (Array.isArray(v)) return v.map((x) => encodeValue(x, tensor));
  if (isPySlice<InputSlot>(v)) {
    return { class_name: '__slice__', config: { start: encodeValue(v.start, tensor), stop: encodeValue(v.stop, tensor), step: encodeValue(v.step, tensor) } };
  }
  if (isEllipsis(v)) return { class_name: '__ellipsis__', config: {} };
  if (isArrayConstant(v)) {
    if (!Array.isArray(v.value)) return v.value;
    return { class_name: '__numpy__', config: { value: v.value, dtype: v.dtype ?? listDtype(v.value) } };
  }
  return v as JsonValue;
}

/**
 * A bound call as the Keras 3 operation node Keras 3 would have saved for it: the class KERAS3_OPS lists
 * first for the op, the call's arguments in `args` (trailing defaults left out), the constructor's (with
 * defaults, as Keras records them) in the config. `tensor` writes the call's i-th tensor as a
 * `__keras_tensor__` object.
 */
export function encodeKeras3Operation(call: OpCall<InputSlot>, name: string, tensor: (index: number) => JsonObject, where: { file?: string; place?: string } = {}): Keras3OperationEntry {
  const found = preferredAlias(KERAS3_OPS, call.op.name);
  if (!found) throw unsupportedOp(call.what, `Keras 3 has no operation for op "${call.op.name}" in the op table`, where);
  const [cls, alias] = found;
  const values = unbindCall(call, alias, {}, where);
  const params = parseSignature(alias.signature).params;
  const config: JsonObject = { name };
  const args: JsonValue[] = [];
  const positional = params.filter((p) => p.kind === 'positional' || p.kind === 'varargs');
  // Keras records the arguments the call was given: trailing ones at their defaults were not.
  let last = positional.length - 1;
  while (last >= 0 && positional[last].kind === 'positional' && positional[last].default !== undefined && sameValue(values.get(positional[last].name) ?? positional[last].default, positional[last].default)) last--;
  positional.slice(0, last + 1).forEach((p) => {
    const v = values.has(p.name) ? (values.get(p.name) as OpValue<InputSlot>) : (p.default as OpValue<InputSlot>);
    if (p.kind === 'varargs') args.push(...(v as OpValue<InputSlot>[]).map((x) => encodeValue(x, tensor)));
    else args.push(encodeValue(v, tensor));
  });
  // Parameters that feed no canonical one (or another spelling of one) keep the class's own default.
  for (const p of params) {
    if (p.kind !== 'keyword' || !values.has(p.name)) continue;
    Object.defineProperty(config, p.name, { value: encodeValue(values.get(p.name) as OpValue<InputSlot>, tensor), enumerable: true, writable: true, configurable: true });
  }
  return { module: keras3OpModule(cls), class_name: cls, config, registered_name: cls, node: { args, kwargs: {} } };
}
