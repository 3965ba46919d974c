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
import { KERAS3_OPS } from './keras3-ops.js';
import { type InputSlot, inputSlot } from './op-layer-config.js';
import { bindCall, unsupportedOp } from './table.js';
import type { DecodedCall } from './tf-op-lambda.js';
import { ELLIPSIS, type OpValue, pySlice } from './values.js';

interface Ctx {
  file?: string;
  inputs: TensorRef[];
}

function decodeValue(v: JsonValue, place: string, ctx: Ctx): OpValue<InputSlot> {
  if (Array.isArray(v)) return v.map((x, i) => decodeValue(x, pointer(place, i), ctx));
  if (!isJsonObject(v)) return v;
  const ref = keras3TensorRef(v);
  if (ref) {
    ctx.inputs.push(ref);
    return inputSlot(ctx.inputs.length - 1);
  }
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
