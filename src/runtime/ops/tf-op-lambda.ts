/**
 * tf.keras 2's TFOpLambda / SlicingOpLambda layers (tf.keras >= 2.4): a TensorFlow function called on
 * KerasTensors, saved as `config.function` (the symbol without `tf.`) and one inbound node per call.
 *
 * The node (keras `Node.serialize` with `_preserve_input_structure_in_config`): the call's first argument
 * keeps its structure, each tensor in it an entry `[layer, node, tensor, kwargs]` (one tensor: the entry
 * itself, not wrapped in a list; a list argument such as `tf.concat`'s: a list of entries), a constant in
 * it `["_CONSTANT_VALUE", -1, value, kwargs]`. Every other argument is in `kwargs`, named by the
 * function's signature: tensors as `[layer, node, tensor]`, NumPy values as nested lists, slices as
 * `{start, stop, step}` and Ellipsis as `{"class_name": "__ellipsis__"}`.
 */
import { KerasInteropError } from '../../errors.js';
import type { JsonObject, JsonValue } from '../../model/types.js';
import { isJsonObject } from '../../model/types.js';
import { type TensorRef, keras2TensorRef, pointer } from '../config-walk.js';
import { type InputSlot, isInputSlot, slotOf } from './op-layer-config.js';
import { parseSignature } from './signature.js';
import { type FrontEndOptions, type OpCall, bindCall, preferredAlias, unbindCall, unsupportedOp } from './table.js';
import { TF_FUNCTIONS } from './tf-functions.js';
import { ELLIPSIS, type OpValue, isArrayConstant, isEllipsis, isPySlice, pySlice, sameValue } from './values.js';

export const TF_OP_LAYER_CLASSES: ReadonlySet<string> = new Set(['TFOpLambda', 'SlicingOpLambda']);

const CONSTANT_VALUE = '_CONSTANT_VALUE';

/** TensorFlow's functions take an explicit None as "use the default" (`tf.nn.softmax(x, axis=None)`). */
const TF_CONVENTIONS: FrontEndOptions = { noneMeansDefault: true };

export interface DecodedCall {
  call: OpCall<InputSlot>;
  /** The tensors the call reads, in input-slot order. */
  inputs: TensorRef[];
}

interface Ctx {
  file?: string;
  inputs: TensorRef[];
}

function invalid(ctx: Ctx, place: string, message: string): KerasInteropError {
  return new KerasInteropError('CONFIG_INVALID', message, { file: ctx.file, place });
}

function slot(ctx: Ctx, ref: TensorRef): InputSlot {
  return slotOf(ctx.inputs, ref);
}

/** A `[layer, node, tensor(, kwargs)]` entry of the first argument (or a constant in its place). */
function isEntry(v: JsonValue): v is JsonValue[] {
  return Array.isArray(v) && (v.length === 3 || v.length === 4) && typeof v[0] === 'string' && Number.isInteger(v[1]);
}

/** A keyword argument's value. */
function decodeKwarg(v: JsonValue, place: string, ctx: Ctx): OpValue<InputSlot> {
  const ref = keras2TensorRef(v);
  if (ref) return slot(ctx, ref);
  if (Array.isArray(v)) return v.map((x, i) => decodeKwarg(x, pointer(place, i), ctx));
  if (!isJsonObject(v)) return v;
  const keys = Object.keys(v).sort().join(',');
  if (keys === 'start,step,stop') {
    return pySlice(decodeKwarg(v.start, pointer(place, 'start'), ctx), decodeKwarg(v.stop, pointer(place, 'stop'), ctx), decodeKwarg(v.step, pointer(place, 'step'), ctx));
  }
  if (v.class_name === '__ellipsis__') return ELLIPSIS;
  if (v.class_name === '__tuple__' && Array.isArray(v.items)) return decodeKwarg(v.items, pointer(place, 'items'), ctx);
  throw new KerasInteropError('UNSUPPORTED_OP', `argument value ${JSON.stringify(v).slice(0, 160)} is not supported`, { file: ctx.file, place });
}

/** The first argument, its structure kept; `kwargs` gets the entries' keyword arguments. */
function decodeFirst(v: JsonValue, place: string, ctx: Ctx, kwargs: { value?: JsonObject }): OpValue<InputSlot> {
  if (isEntry(v)) {
    if (v.length === 4) {
      if (!isJsonObject(v[3])) throw invalid(ctx, pointer(place, 3), 'the keyword arguments of an inbound entry must be an object');
      kwargs.value = v[3];
    }
    if (v[0] === CONSTANT_VALUE) return decodeKwarg(v[2], pointer(place, 2), ctx);
    if (!Number.isInteger(v[2])) throw invalid(ctx, place, `malformed inbound entry ${JSON.stringify(v).slice(0, 200)}`);
    return slot(ctx, [v[0] as string, v[1] as number, v[2] as number]);
  }
  if (Array.isArray(v)) return v.map((x, i) => decodeFirst(x, pointer(place, i), ctx, kwargs));
  throw invalid(ctx, place, `expected [layer_name, node_index, tensor_index, kwargs] entries, found ${JSON.stringify(v).slice(0, 200)}`);
}

/**
 * The calls of one TFOpLambda / SlicingOpLambda layer (one per inbound node), bound onto the op table.
 * An op missing from the table, or an argument it does not implement, is `UNSUPPORTED_OP`.
 */
export function decodeTfOpLayer(layer: JsonObject, path: string, file?: string): DecodedCall[] {
  const config = isJsonObject(layer.config) ? layer.config : {};
  const fn = typeof config.function === 'string' ? config.function : undefined;
  const name = typeof config.name === 'string' ? config.name : String(layer.name ?? '?');
  const what = `tf.${fn ?? '?'}`;
  const where = { file, place: path };
  if (fn === undefined) throw new KerasInteropError('CONFIG_INVALID', `${String(layer.class_name)} layer "${name}" has no "function" in its config`, { file, place: pointer(path, 'config') });
  const alias = TF_FUNCTIONS.get(fn.replace(/^tf\./, ''));
  if (!alias) throw unsupportedOp(what, `${String(layer.class_name)} layer "${name}" calls ${what}, which is not in the op table`, where);
  const nodes = Array.isArray(layer.inbound_nodes) ? layer.inbound_nodes : [];
  return nodes.map((node, j) => {
    const place = pointer(path, 'inbound_nodes', j);
    const ctx: Ctx = { file, inputs: [] };
    const kwargs: { value?: JsonObject } = {};
    const first = decodeFirst(node, place, ctx, kwargs);
    const keywords: Record<string, OpValue<InputSlot>> = {};
    const kw = kwargs.value ?? {};
    for (const k of Object.keys(kw)) {
      Object.defineProperty(keywords, k, { value: decodeKwarg(kw[k], pointer(place, k), ctx), enumerable: true, writable: true, configurable: true });
    }
    const call = bindCall(alias, [first], keywords, `${what} (layer "${name}")`, { file, place }, TF_CONVENTIONS);
    return { call, inputs: ctx.inputs };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Writing calls as TFOpLambda layers (a Keras 3 operation converted for tf.keras 2).

export interface TfOpLayer {
  class_name: 'TFOpLambda' | 'SlicingOpLambda';
  config: JsonObject;
  /** The inbound node, as tf.keras 2 serializes one. */
  node: JsonValue;
}

function encodeKwarg(v: OpValue<InputSlot>, tensor: (index: number) => JsonValue): JsonValue {
  if (isInputSlot(v)) return tensor(v.index);
  if (Array.isArray(v)) return v.map((x) => encodeKwarg(x, tensor));
  if (isPySlice<InputSlot>(v)) return { start: encodeKwarg(v.start, tensor), stop: encodeKwarg(v.stop, tensor), step: encodeKwarg(v.step, tensor) };
  if (isEllipsis(v)) return { class_name: '__ellipsis__' };
  if (isArrayConstant(v)) return v.value;
  return v as JsonValue;
}

/**
 * A bound call as the TFOpLambda (SlicingOpLambda for indexing) layer tf.keras 2 would have saved for it:
 * the TensorFlow function TF_FUNCTIONS lists first for the op, its first argument as the node's
 * entries, the other arguments that differ from the function's defaults as keywords. `tensor` writes
 * the call's i-th tensor as `[layer, node, tensor]`.
 */
export function encodeTfOpLayer(call: OpCall<InputSlot>, name: string, tensor: (index: number) => [string, number, number], where: { file?: string; place?: string } = {}): TfOpLayer {
  const found = preferredAlias(TF_FUNCTIONS, call.op.name);
  if (!found) throw unsupportedOp(call.what, `TensorFlow has no function for op "${call.op.name}" in the op table`, where);
  const [symbol, alias] = found;
  const values = unbindCall(call, alias, TF_CONVENTIONS, where);
  const params = parseSignature(alias.signature).params;
  const [firstParam, ...rest] = params;
  const kwargs: JsonObject = {};
  for (const p of rest) {
    if (!values.has(p.name)) continue;
    if (p.kind === 'varargs') {
      // A TFOpLambda node names every argument after the first: *args cannot be written there.
      if ((values.get(p.name) as OpValue<InputSlot>[]).length > 0) throw unsupportedOp(call.what, `tf.${symbol} takes *${p.name}, which a TFOpLambda node cannot hold`, where);
      continue;
    }
    const v = values.get(p.name) as OpValue<InputSlot>;
    if (p.default !== undefined && sameValue(v, p.default)) continue;
    Object.defineProperty(kwargs, p.name, { value: encodeKwarg(v, (i) => tensor(i)), enumerable: true, writable: true, configurable: true });
  }
  const first = (v: OpValue<InputSlot>): JsonValue => {
    if (isInputSlot(v)) return [...tensor(v.index), kwargs];
    if (Array.isArray(v)) return v.map(first);
    return [CONSTANT_VALUE, -1, encodeKwarg(v, (i) => tensor(i)), kwargs];
  };
  const slicing = symbol === '__operators__.getitem';
  return {
    class_name: slicing ? 'SlicingOpLambda' : 'TFOpLambda',
    config: { name, trainable: true, dtype: 'float32', function: symbol },
    node: first(values.get(firstParam.name) as OpValue<InputSlot>),
  };
}
