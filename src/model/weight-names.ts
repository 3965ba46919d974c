/**
 * What the weights of a layer are, in one place: for the common layer classes, the objects a layer
 * is made of (a Bidirectional's forward and backward RNN, an RNN's cell, MultiHeadAttention's four
 * projections, ...), each object's own variables in creation order, and the name scopes Keras puts in
 * front of them. From that follow
 *  - Keras's weight names (`dense/kernel` in Keras 3, `dense/kernel:0` in tf.keras 2) for weights that
 *    came from a Keras 3 object-tree file, where they are only `layers/dense/vars/0`;
 *  - where each weight of `layer.weights` order sits in Keras 3's object tree (`cell/vars/1`), which
 *    the `.keras` and `.weights.h5` writers need;
 *  - the names a tfjs manifest uses (the Keras 2 names without `:0`).
 *
 * `layer.weights` order is Keras's: trainable variables, then non-trainable ones, each over the
 * layer's own variables followed by its sub-layers' (depth first). A frozen layer (`trainable:
 * false`) has only non-trainable variables.
 */
import type { JsonObject } from './types.js';
import { isJsonObject } from './types.js';
import { isKeras3Operation } from '../runtime/ops/operation-node.js';
import { layerEntries, listItemNames, lookupTable, pythonClassName, toSnakeCase } from './config.js';
// Which library a same-named class is from is decided in one place (by its config here: no weights yet).
import { resolveClassName } from '../runtime/class-resolution.js';

export type KerasGeneration = 'keras2' | 'keras3';

export interface VarSpec {
  /** The variable's own name (`kernel`, `seq_self_attention_Add_Wt`). */
  name: string;
  trainable: boolean;
}

/** One Python object with variables or sub-objects. */
export interface LayerObject {
  /** The object's name (`layer.name`); Keras >= 3.6 stores it as the `name` attribute of `vars`. */
  name: string;
  /** Its class as Python names it (`LSTMCell`), or the config's class for layers. */
  className: string;
  /** Where its group sits below its parent's group in Keras 3's object tree ('' for a top-level layer). */
  treePath: string;
  /** The name scope it adds in front of its variables' names, per generation ('' for none). */
  scope: Record<KerasGeneration, string>;
  /** Its own variables, in `vars/<i>` order. */
  vars: VarSpec[];
  /** Its sub-objects in the order their variables follow its own in `layer.weights`. */
  children: LayerObject[];
}

/** One variable of a layer, located. */
export interface WeightSlot {
  /** The owning object's group below the layer's group (`''`, `cell`, `forward_layer/cell`). */
  treePath: string;
  /** Index in that object's `vars`. */
  index: number;
  trainable: boolean;
  /** The variable's name for each generation (`bidirectional/forward_lstm/lstm_cell/kernel`, `...:0`). */
  names: Record<KerasGeneration, string>;
  object: LayerObject;
}

function cfgOf(layer: JsonObject): JsonObject {
  return isJsonObject(layer.config) ? layer.config : {};
}

function nameOf(layer: JsonObject, fallback: string): string {
  const c = cfgOf(layer);
  if (typeof c.name === 'string') return c.name;
  return typeof layer.name === 'string' ? layer.name : fallback;
}

const flag = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);

function same(scope: string): Record<KerasGeneration, string> {
  return { keras2: scope, keras3: scope };
}

function obj(name: string, className: string, vars: VarSpec[], children: LayerObject[] = [], treePath = ''): LayerObject {
  return { name, className, treePath, scope: same(name), vars, children };
}

const trainableVars = (...names: (string | false)[]): VarSpec[] =>
  names.filter((n): n is string => n !== false).map((name) => ({ name, trainable: true }));

const CONV = new Set([
  'Conv1D', 'Conv2D', 'Conv3D', 'Conv1DTranspose', 'Conv2DTranspose', 'Conv3DTranspose',
  'Convolution1D', 'Convolution2D', 'Convolution3D', 'Convolution2DTranspose', 'Convolution3DTranspose',
]);
const SEPARABLE = new Set(['SeparableConv1D', 'SeparableConv2D', 'SeparableConvolution1D', 'SeparableConvolution2D']);
const DEPTHWISE = new Set(['DepthwiseConv1D', 'DepthwiseConv2D']);
const RNN_CELLS: Record<string, [string, string]> = lookupTable({
  LSTM: ['LSTMCell', 'lstm_cell'],
  GRU: ['GRUCell', 'gru_cell'],
  SimpleRNN: ['SimpleRNNCell', 'simple_rnn_cell'],
});
const MODEL_CLASSES = new Set(['Functional', 'Sequential', 'Model']);

/** The model's layers as Keras 3's object tree lists them (operations are no layers). */
export function treeLayers(model: JsonObject): { layer: JsonObject; item: string }[] {
  const layers = layerEntries(model).filter((l) => !isKeras3Operation(l));
  const items = listItemNames(layers.map(pythonClassName));
  return layers.map((layer, i) => ({ layer, item: items[i] }));
}

function rnnCell(layer: JsonObject, cls: string): LayerObject {
  const c = cfgOf(layer);
  const [cellClass, cellName] = RNN_CELLS[cls];
  return obj(cellName, cellClass, trainableVars('kernel', 'recurrent_kernel', flag(c.use_bias, true) && 'bias'), [], 'cell');
}

function withTree(o: LayerObject, treePath: string, scope?: Record<KerasGeneration, string>): LayerObject {
  return { ...o, treePath, scope: scope ?? o.scope };
}

/**
 * The objects and variables of a layer, from its config. Undefined for classes whose variables are
 * not known here (custom layers); such a layer's weights are taken as its own variables, in order.
 */
export function layerStructure(layer: JsonObject): LayerObject | undefined {
  const cls = pythonClassName(layer);
  const c = cfgOf(layer);
  const name = nameOf(layer, toSnakeCase(cls));
  const useBias = flag(c.use_bias, true);
  const origin = resolveClassName(cls, c).origin;
  let out: LayerObject | undefined;

  if (cls === 'Dense') out = obj(name, cls, trainableVars('kernel', useBias && 'bias'));
  else if (cls === 'EinsumDense') out = obj(name, cls, trainableVars('kernel', c.bias_axes != null && c.bias_axes !== '' && 'bias'));
  else if (CONV.has(cls)) out = obj(name, cls, trainableVars('kernel', useBias && 'bias'));
  else if (SEPARABLE.has(cls)) out = obj(name, cls, trainableVars('depthwise_kernel', 'pointwise_kernel', useBias && 'bias'));
  else if (DEPTHWISE.has(cls)) out = obj(name, cls, trainableVars('depthwise_kernel', useBias && 'bias'));
  else if (cls === 'Embedding') out = obj(name, cls, trainableVars('embeddings'));
  else if (cls === 'PReLU') out = obj(name, cls, trainableVars('alpha'));
  else if (cls === 'LayerNormalization' && origin === 'kulc') out = obj(name, cls, trainableVars('gain', 'bias'));
  else if (cls === 'LayerNormalization' || cls === 'GroupNormalization') {
    // Keras 3's LayerNormalization(rms_scaling=True) has no beta
    out = obj(name, cls, trainableVars(flag(c.scale, true) && 'gamma', flag(c.center, true) && c.rms_scaling !== true && 'beta'));
  } else if (cls === 'BatchNormalization' || cls === 'SyncBatchNormalization') {
    out = obj(name, cls, [
      ...trainableVars(flag(c.scale, true) && 'gamma', flag(c.center, true) && 'beta'),
      { name: 'moving_mean', trainable: false },
      { name: 'moving_variance', trainable: false },
    ]);
  } else if (cls === 'CuDNNLSTM' || cls === 'CuDNNGRU') {
    // no cell: the layer's own variables
    out = obj(name, cls, trainableVars('kernel', 'recurrent_kernel', 'bias'));
  } else if (cls in RNN_CELLS) {
    out = obj(name, cls, [], [rnnCell(layer, cls)]);
  } else if (cls === 'Bidirectional') {
    const fwdCfg = isJsonObject(c.layer) ? c.layer : undefined;
    const fwd = fwdCfg && layerStructure(fwdCfg);
    if (!fwd) return undefined;
    const fwdName = fwd.name.startsWith('forward_') ? fwd.name : `forward_${fwd.name}`;
    const bwdCfg = isJsonObject(c.backward_layer) ? c.backward_layer : fwdCfg;
    const bwd = layerStructure(bwdCfg);
    if (!bwd) return undefined;
    const bwdName = isJsonObject(c.backward_layer) ? bwd.name : `backward_${fwdName.slice('forward_'.length)}`;
    out = obj(name, cls, [], [
      withTree({ ...fwd, name: fwdName }, 'forward_layer', same(fwdName)),
      withTree({ ...bwd, name: bwdName }, 'backward_layer', same(bwdName)),
    ]);
  } else if (cls === 'TimeDistributed') {
    const inner = isJsonObject(c.layer) ? layerStructure(c.layer) : undefined;
    if (!inner) return undefined;
    // tf.keras 2 builds the inner layer inside the wrapper's scope without opening its own.
    out = obj(name, cls, [], [withTree(inner, 'layer', { keras2: '', keras3: inner.name })]);
  } else if (cls === 'MultiHeadAttention' && origin === 'keras-multi-head') {
    // keras-multi-head's MultiHeadAttention
    const w = (s: string) => `${name}_${s}`;
    out = obj(name, cls, trainableVars(w('Wq'), useBias && w('bq'), w('Wk'), useBias && w('bk'), w('Wv'), useBias && w('bv'), w('Wo'), useBias && w('bo')));
  } else if (cls === 'MultiHeadAttention') {
    // Keras's own: four EinsumDense projections (public attributes since Keras 3.0.3)
    const proj = (attr: string, sub: string) => obj(sub, 'EinsumDense', trainableVars('kernel', useBias && 'bias'), [], attr);
    out = obj(name, cls, [], [
      proj('query_dense', 'query'),
      proj('key_dense', 'key'),
      proj('value_dense', 'value'),
      proj('output_dense', 'attention_output'),
      obj('dropout', 'Dropout', [], [], '_dropout_layer'),
      obj('softmax', 'Softmax', [], [], '_softmax'),
    ]);
  } else if (cls === 'SeqSelfAttention') {
    const w = (s: string) => `${name}_${s}`;
    const attBias = flag(c.use_attention_bias, true);
    out =
      c.attention_type === 'multiplicative'
        ? obj(name, cls, trainableVars(w('Mul_Wa'), attBias && w('Mul_ba')))
        : obj(name, cls, trainableVars(w('Add_Wt'), w('Add_Wx'), flag(c.use_additive_bias, true) && w('Add_bh'), w('Add_Wa'), attBias && w('Add_ba')));
  } else if (cls === 'SeqWeightedAttention') {
    out = obj(name, cls, trainableVars(`${name}_W`, useBias && `${name}_b`));
  } else if (cls === 'Attention') {
    out = obj(name, cls, trainableVars(flag(c.use_scale, false) && 'scale', c.score_mode === 'concat' && 'concat_score_weight'));
  } else if (cls === 'AdditiveAttention') {
    out = obj(name, cls, trainableVars(flag(c.use_scale, true) && 'scale'));
  } else if (cls === 'ScaledDotProductAttention' || cls === 'ResidualScaledDotProductAttention') {
    out = obj(name, cls, []);
  } else if (cls === 'MultiHead') {
    out = multiHead(name, c);
  } else if (cls === 'SequenceAttention') {
    const similarity = typeof c.similarity === 'string' ? c.similarity.replace(/_/g, '').toLowerCase() : '';
    if (similarity.startsWith('additive')) out = obj(name, cls, trainableVars('w_a', 'v_a'));
    else if (similarity.startsWith('multiplicative')) out = obj(name, cls, trainableVars('w_a'));
    else out = obj(name, cls, []);
  } else if (cls === 'AttentionRNNWrapper' || cls === 'ExternalAttentionRNNWrapper') {
    out = attentionRnnWrapper(name, cls, c);
  } else if (MODEL_CLASSES.has(cls)) {
    const children: LayerObject[] = [];
    for (const { layer: l, item } of treeLayers(layer)) {
      const s = layerStructure(l);
      if (!s) return undefined;
      children.push(withTree(s, `layers/${item}`));
    }
    out = { ...obj(name, cls, [], children), scope: same('') };
  }
  if (!out) return undefined;
  return c.trainable === false ? freeze(out) : out;
}

/**
 * kulc's (External)AttentionRNNWrapper: own W1, W2, W3, b2, b3, V (`<name>_W1`), then the wrapped RNN's
 * cell. Keras 2 builds the cell inside the wrapper's name scope (`wrapper/kernel:0`); Keras 3 keeps the
 * RNN as the wrapper's `layer` attribute (`layer/cell/vars/0`).
 */
function attentionRnnWrapper(name: string, cls: string, c: JsonObject): LayerObject | undefined {
  const inner = isJsonObject(c.layer) ? c.layer : undefined;
  const innerCls = inner ? pythonClassName(inner) : '';
  if (!inner || !(innerCls in RNN_CELLS)) return undefined;
  const rnnName = nameOf(inner, toSnakeCase(innerCls));
  const cell = rnnCell(inner, innerCls);
  const rnn = obj(rnnName, innerCls, [], [{ ...cell, scope: { keras2: '', keras3: cell.name } }], 'layer');
  const own = trainableVars(...['W1', 'W2', 'W3', 'b2', 'b3', 'V'].map((w) => `${name}_${w}`));
  return obj(name, cls, own, [{ ...rnn, scope: { keras2: '', keras3: rnnName } }]);
}

/** keras-multi-head's MultiHead: own W, b (with `hidden_dim`), then each sub-layer under `sub_<i>`. */
function multiHead(name: string, c: JsonObject): LayerObject | undefined {
  let subs: JsonObject[];
  if (Array.isArray(c.layers)) subs = c.layers.filter(isJsonObject);
  else if (Array.isArray(c.layer)) subs = c.layer.filter(isJsonObject);
  else if (isJsonObject(c.layer)) {
    const base = c.layer;
    const baseName = nameOf(base, toSnakeCase(pythonClassName(base)));
    subs = Array.from({ length: Number(c.layer_num ?? 1) }, (_, i) => ({
      ...base,
      config: { ...cfgOf(base), name: `${baseName}_${i + 1}` },
    }));
  } else subs = [];
  const items = listItemNames(subs.map(pythonClassName));
  const children: LayerObject[] = [];
  for (const [i, sub] of subs.entries()) {
    const s = layerStructure(sub);
    if (!s) return undefined;
    // After loading from a config the first sub-layer is also the wrapper's `layer` attribute, which
    // Keras 3's traversal reaches first.
    children.push(withTree(s, i === 0 ? 'layer' : `layers/${items[i]}`, { keras2: `sub_${i}`, keras3: `sub_${i}/${s.name}` }));
  }
  const own = c.hidden_dim != null ? trainableVars(`${name}_W`, flag(c.use_bias, true) && `${name}_b`) : [];
  return obj(name, 'MultiHead', own, children);
}

function freeze(o: LayerObject): LayerObject {
  return { ...o, vars: o.vars.map((v) => ({ ...v, trainable: false })), children: o.children.map(freeze) };
}

/**
 * The layer's variables in `layer.weights` order (trainable first, then non-trainable, each depth
 * first), with their place in the object tree and their names.
 */
export function weightSlots(top: LayerObject): WeightSlot[] {
  const all: WeightSlot[] = [];
  const walk = (o: LayerObject, treePath: string, scopes: Record<KerasGeneration, string[]>) => {
    const here = {
      keras2: o.scope.keras2 ? [...scopes.keras2, o.scope.keras2] : scopes.keras2,
      keras3: o.scope.keras3 ? [...scopes.keras3, o.scope.keras3] : scopes.keras3,
    };
    o.vars.forEach((v, index) => {
      all.push({
        treePath,
        index,
        trainable: v.trainable,
        object: o,
        names: {
          keras2: `${[...here.keras2, v.name].join('/')}:0`,
          keras3: [...here.keras3, v.name].join('/'),
        },
      });
    });
    for (const ch of o.children) walk(ch, treePath ? `${treePath}/${ch.treePath}` : ch.treePath, here);
  };
  walk(top, '', { keras2: [], keras3: [] });
  return [...all.filter((s) => s.trainable), ...all.filter((s) => !s.trainable)];
}

/** Every object of the tree with its path below the layer's group (`''` for the layer itself). */
export function treeObjects(top: LayerObject): { path: string; object: LayerObject }[] {
  const out: { path: string; object: LayerObject }[] = [];
  const walk = (o: LayerObject, path: string) => {
    out.push({ path, object: o });
    for (const ch of o.children) walk(ch, path ? `${path}/${ch.treePath}` : ch.treePath);
  };
  walk(top, '');
  return out;
}

/** A Keras 3 object-tree weight name (`layers/dense/vars/0`) split into its owner and index. */
export function parseTreeName(name: string): { owner: string; index: number } | undefined {
  const m = /^(.*)\/vars\/(\d+)$/.exec(name);
  if (!m) return undefined;
  return { owner: m[1], index: Number(m[2]) };
}

export function isTreeName(name: string): boolean {
  return parseTreeName(name) !== undefined;
}

/** A weight name in a generation's spelling: `:0` on in tf.keras 2, off in Keras 3 and tfjs. */
export function spellWeightName(name: string, generation: KerasGeneration | 'tfjs'): string {
  const bare = name.replace(/:\d+$/, '');
  return generation === 'keras2' ? `${bare}:${/:(\d+)$/.exec(name)?.[1] ?? '0'}` : bare;
}

/**
 * Keras's names for a layer's weights. Names the weights already carry are kept (spelled for the
 * generation); Keras 3 object-tree names (`layers/dense/vars/0`) are replaced: by Keras's names for
 * the known classes, otherwise by `<layer>/<path below the layer>/<index>`.
 */
export function kerasWeightNames(
  layer: JsonObject | undefined,
  layerName: string,
  current: string[],
  generation: KerasGeneration,
): string[] {
  if (!current.some(isTreeName)) return current.map((n) => spellWeightName(n, generation));
  const spec = layer && layerStructure(layer);
  if (spec) {
    const slots = weightSlots(spec);
    if (slots.length === current.length) return slots.map((s) => s.names[generation]);
  }
  return current.map((n) => {
    const tree = parseTreeName(n);
    if (!tree) return spellWeightName(n, generation);
    const below = tree.owner.replace(/^layers\/[^/]+\/?/, '');
    const name = [layerName, below, String(tree.index)].filter((p) => p !== '').join('/');
    return generation === 'keras2' ? `${name}:0` : name;
  });
}
