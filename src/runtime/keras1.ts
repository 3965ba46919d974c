/**
 * Keras 1 layer configs and weights as Keras 2 reads them (keras 2.0 `legacy/interfaces.py`, the
 * argument conversions its layers apply when built from a Keras 1 config, and `engine/topology.py`
 * `preprocess_weights_for_loading`):
 * - class names: `Convolution2D` → `Conv2D`, `AtrousConvolution1D` → `Conv1D` (with `dilation_rate`), ...;
 * - arguments: `output_dim` → `units`, `init` → `kernel_initializer`, `border_mode` → `padding`,
 *   `nb_filter` → `filters`, `pool_length` → `pool_size`, `dim_ordering` 'tf'/'th' → `data_format`, ...;
 *   `nb_row`/`nb_col` → `kernel_size`, `forget_bias_init='one'` → `unit_forget_bias`, `input_dim` (and
 *   `input_length`) → `batch_input_shape`; training-only arguments with no Keras 2 meaning (Embedding's
 *   `dropout`, BatchNormalization's `mode=0`) are dropped, others refused;
 * - weights: LSTM's 12 per-gate arrays (i, c, f, o) and GRU's 9 (z, r, h) joined into kernel, recurrent
 *   kernel and bias (gates i, f, c, o); a Conv1D kernel of shape (length, 1, in, filters) (or Keras 1.1's
 *   (filters, in, length, 1)) to (length, in, filters); a 'th' Conv2D kernel (filters, in, rows, cols)
 *   to (rows, cols, in, filters).
 * Only keys Keras 2 does not know for the class are converted, so Keras 2 configs pass unchanged.
 */
import { KerasInteropError } from '../errors.js';
import { lookupTable } from '../model/config.js';
import type { JsonObject, JsonValue, Weight, WeightData } from '../model/types.js';
import { isJsonObject, lazyWeight, weightValues } from '../model/types.js';

type Where = { file?: string; place: string };

/** Keras 1 class → Keras 2 class (keras 2.0 kept these names as aliases). */
const CLASS_RENAMES: Readonly<Record<string, string>> = lookupTable({
  Convolution1D: 'Conv1D',
  Convolution2D: 'Conv2D',
  Convolution3D: 'Conv3D',
  AtrousConvolution1D: 'Conv1D',
  AtrousConvolution2D: 'Conv2D',
  Deconvolution2D: 'Conv2DTranspose',
  SeparableConvolution2D: 'SeparableConv2D',
});

const WEIGHT_ARGS: [string, string][] = [
  ['W_regularizer', 'kernel_regularizer'],
  ['b_regularizer', 'bias_regularizer'],
  ['W_constraint', 'kernel_constraint'],
  ['b_constraint', 'bias_constraint'],
  ['bias', 'use_bias'],
];
const CONV: [string, string][] = [
  ['nb_filter', 'filters'],
  ['subsample', 'strides'],
  ['border_mode', 'padding'],
  ['dim_ordering', 'data_format'],
  ['init', 'kernel_initializer'],
  ['atrous_rate', 'dilation_rate'],
  ...WEIGHT_ARGS,
];
const RECURRENT: [string, string][] = [
  ['output_dim', 'units'],
  ['init', 'kernel_initializer'],
  ['inner_init', 'recurrent_initializer'],
  ['inner_activation', 'recurrent_activation'],
  ['W_regularizer', 'kernel_regularizer'],
  ['b_regularizer', 'bias_regularizer'],
  ['U_regularizer', 'recurrent_regularizer'],
  ['dropout_W', 'dropout'],
  ['dropout_U', 'recurrent_dropout'],
  ['consume_less', 'implementation'],
];
const POOL2D: [string, string][] = [['border_mode', 'padding'], ['dim_ordering', 'data_format']];
const DATA_FORMAT: [string, string][] = [['dim_ordering', 'data_format']];

/** Argument renames by Keras 2 class (keras 2.0 `legacy_*_support`). */
const RENAMES: Readonly<Record<string, [string, string][]>> = lookupTable({
  Dense: [['output_dim', 'units'], ['init', 'kernel_initializer'], ...WEIGHT_ARGS],
  Dropout: [['p', 'rate']],
  SpatialDropout1D: [['p', 'rate']],
  SpatialDropout2D: [['p', 'rate'], ...DATA_FORMAT],
  SpatialDropout3D: [['p', 'rate'], ...DATA_FORMAT],
  GaussianDropout: [['p', 'rate']],
  GaussianNoise: [['sigma', 'stddev']],
  Embedding: [['init', 'embeddings_initializer'], ['W_regularizer', 'embeddings_regularizer'], ['W_constraint', 'embeddings_constraint']],
  LSTM: RECURRENT,
  GRU: RECURRENT,
  SimpleRNN: RECURRENT,
  Conv1D: [['filter_length', 'kernel_size'], ['subsample_length', 'strides'], ...CONV],
  Conv2D: CONV,
  Conv3D: CONV,
  Conv2DTranspose: CONV,
  SeparableConv2D: CONV.filter(([k]) => k !== 'init'),
  MaxPooling1D: [['pool_length', 'pool_size'], ['stride', 'strides'], ['border_mode', 'padding']],
  AveragePooling1D: [['pool_length', 'pool_size'], ['stride', 'strides'], ['border_mode', 'padding']],
  MaxPooling2D: POOL2D,
  AveragePooling2D: POOL2D,
  MaxPooling3D: POOL2D,
  AveragePooling3D: POOL2D,
  GlobalMaxPooling2D: DATA_FORMAT,
  GlobalAveragePooling2D: DATA_FORMAT,
  GlobalMaxPooling3D: DATA_FORMAT,
  GlobalAveragePooling3D: DATA_FORMAT,
  UpSampling1D: [['length', 'size']],
  UpSampling2D: DATA_FORMAT,
  UpSampling3D: DATA_FORMAT,
  ZeroPadding2D: DATA_FORMAT,
  ZeroPadding3D: DATA_FORMAT,
  Cropping2D: DATA_FORMAT,
  Cropping3D: DATA_FORMAT,
  PReLU: [['init', 'alpha_initializer']],
  BatchNormalization: [['beta_init', 'beta_initializer'], ['gamma_init', 'gamma_initializer']],
  InputLayer: [['input_dtype', 'dtype']],
});

const DATA_FORMATS: Readonly<Record<string, string>> = lookupTable({ tf: 'channels_last', th: 'channels_first', default: 'channels_last' });
const IMPLEMENTATIONS: Readonly<Record<string, number>> = lookupTable({ cpu: 0, mem: 1, gpu: 2 });
/** Layers whose Keras 1 config carries `input_dim` (and `input_length`) for the input shape. */
const INPUT_DIM_LAYERS = new Set(['Dense', 'LSTM', 'GRU', 'SimpleRNN', 'Conv1D']);

function has(o: JsonObject, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** True when the layer object is written in Keras 1's spelling (its class or one of its keys). */
export function isKeras1Layer(v: unknown): v is JsonObject & { class_name: string; config: JsonObject } {
  if (!isJsonObject(v) || typeof v.class_name !== 'string' || !isJsonObject(v.config)) return false;
  if (v.class_name in CLASS_RENAMES) return true;
  const config = v.config;
  const renames = RENAMES[v.class_name] ?? [];
  if (renames.some(([old]) => has(config, old))) return true;
  if (INPUT_DIM_LAYERS.has(v.class_name) && has(config, 'input_dim')) return true;
  if (v.class_name === 'Embedding' && has(config, 'dropout')) return true;
  if (v.class_name === 'BatchNormalization' && has(config, 'mode')) return true;
  return ['LSTM', 'GRU', 'SimpleRNN', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'SeparableConv2D'].includes(v.class_name) &&
    ['forget_bias_init', 'nb_row', 'nb_col', 'kernel_dim1'].some((k) => has(config, k));
}

/** `{class_name, config}` of a Keras 1 layer in Keras 2's spelling. */
export function keras1AsKeras2(className: string, config: JsonObject, where: Where): { class_name: string; config: JsonObject } {
  const cls = CLASS_RENAMES[className] ?? className;
  const out: JsonObject = {};
  for (const k of Object.keys(config)) out[k] = config[k];
  const take = (k: string): JsonValue | undefined => {
    const v = out[k];
    delete out[k];
    return v;
  };
  const refuse = (message: string) => new KerasInteropError('UNSUPPORTED_LAYER', `${className} "${String(config.name)}": ${message}`, where);

  // preprocessors (keras 2.0 legacy/interfaces.py)
  if (has(out, 'nb_row') || has(out, 'nb_col')) out.kernel_size = [take('nb_row') ?? null, take('nb_col') ?? null];
  if (has(out, 'kernel_dim1')) out.kernel_size = [take('kernel_dim1') ?? null, take('kernel_dim2') ?? null, take('kernel_dim3') ?? null];
  if (has(out, 'forget_bias_init')) {
    if (take('forget_bias_init') === 'one') out.unit_forget_bias = true;
  }
  if (INPUT_DIM_LAYERS.has(cls) && has(out, 'input_dim')) {
    const dim = take('input_dim');
    const length = cls === 'Dense' ? undefined : take('input_length');
    if (!has(out, 'batch_input_shape') && dim != null) out.batch_input_shape = cls === 'Dense' ? [null, dim] : [null, length ?? null, dim];
  }
  if (cls === 'Embedding') take('dropout'); // training only; Keras 2 warns and drops it
  if (cls === 'BatchNormalization' && has(out, 'mode')) {
    const mode = take('mode');
    if (mode !== 0) throw refuse(`mode=${JSON.stringify(mode)} is gone since Keras 2 (only mode 0 is the layer Keras 2 has)`);
  }
  if (cls === 'Conv2DTranspose') take('output_shape');
  if (cls === 'SeparableConv2D' && has(out, 'init')) {
    const init = take('init') ?? null;
    out.depthwise_initializer = init;
    out.pointwise_initializer = init;
  }
  for (const [old, neu] of RENAMES[cls] ?? []) {
    if (!has(out, old)) continue;
    if (has(out, neu)) throw refuse(`has both the Keras 1 argument ${old} and the Keras 2 argument ${neu}`);
    let v = take(old) ?? null;
    if (old === 'dim_ordering' && typeof v === 'string') v = DATA_FORMATS[v] ?? v;
    if (old === 'consume_less' && typeof v === 'string') v = IMPLEMENTATIONS[v] ?? v;
    out[neu] = v;
  }
  if (out.padding === 'full') throw refuse(`border_mode="full" has no Keras 2 counterpart`);
  // Keras 1's GRU applies the reset gate before the recurrent product (Keras 2's reset_after=False)
  if (cls === 'GRU' && !has(out, 'reset_after')) out.reset_after = false;
  return { class_name: cls, config: out };
}

// ---------------------------------------------------------------------------------------------------------
// Weights.

type Floats = Float32Array | Float64Array;

/** A weight made from `sources` when its values are read (lazily if any source is lazy). */
function derived(name: string, path: string, shape: number[], sources: Weight[], make: (values: Floats[]) => Floats, where: Where): Weight {
  const dtype = sources.some((s) => s.dtype === 'float64') ? 'float64' : 'float32';
  const values = sources.map(weightValues);
  const read = () => make(values.map((v, i) => floats(typeof v === 'function' ? v() : v, sources[i], where)));
  if (values.some((v) => typeof v === 'function')) return lazyWeight({ name, path, shape, dtype }, read);
  return { name, path, shape, dtype, data: read() };
}

function floats(raw: WeightData, w: Weight, where: Where): Floats {
  const size = w.shape.reduce((a, b) => a * b, 1);
  if (raw.length !== size) {
    throw new KerasInteropError('WEIGHTS_MISMATCH', `Keras 1 weight "${w.name}" holds ${raw.length} values but its shape [${w.shape.join(', ')}] needs ${size}`, where);
  }
  if (raw instanceof Float32Array || raw instanceof Float64Array) return raw;
  throw new KerasInteropError('UNSUPPORTED_DTYPE', `Keras 1 weight "${w.name}" is ${w.dtype}; expected float32 or float64`, where);
}

/** Arrays of shape (rows, c_i) side by side: (rows, Σ c_i). */
function concatColumns(parts: Floats[], rows: number): Floats {
  const cols = parts.map((p) => p.length / rows);
  const width = cols.reduce((a, b) => a + b, 0);
  const out = new (parts[0].constructor as Float32ArrayConstructor)(rows * width);
  let at = 0;
  parts.forEach((p, i) => {
    for (let r = 0; r < rows; r++) out.set(p.subarray(r * cols[i], (r + 1) * cols[i]), r * width + at);
    at += cols[i];
  });
  return out;
}

/** `np.transpose(a, perm)` of a row-major array. */
function transpose(a: Floats, shape: number[], perm: number[]): Floats {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  const out = new (a.constructor as Float32ArrayConstructor)(a.length);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < a.length; o++) {
    let src = 0;
    for (let d = 0; d < idx.length; d++) src += idx[d] * strides[perm[d]];
    out[o] = a[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * A Keras 1 layer's weights in Keras 2's layout (`preprocess_weights_for_loading` for Keras 1 files),
 * given its Keras 1 config; wrappers convert their inner layer's. Unchanged where nothing differs.
 */
export function keras1Weights(layer: JsonObject & { class_name: string; config: JsonObject }, weights: Weight[], where: Where): Weight[] {
  const cls = CLASS_RENAMES[layer.class_name] ?? layer.class_name;
  const inner = layer.config.layer;
  if (cls === 'Bidirectional' && isJsonObject(inner) && typeof inner.class_name === 'string' && isJsonObject(inner.config)) {
    const half = weights.length / 2;
    const sub = inner as JsonObject & { class_name: string; config: JsonObject };
    return [...keras1Weights(sub, weights.slice(0, half), where), ...keras1Weights(sub, weights.slice(half), where)];
  }
  if (cls === 'TimeDistributed' && isJsonObject(inner) && typeof inner.class_name === 'string' && isJsonObject(inner.config)) {
    return keras1Weights(inner as JsonObject & { class_name: string; config: JsonObject }, weights, where);
  }
  const prefix = (w: Weight) => w.name.replace(/(_W|_U|_b)?(_[icfozrh])?(:\d+)?$/, '');
  if ((cls === 'LSTM' && weights.length === 12) || (cls === 'GRU' && weights.length === 9)) {
    // Keras 1: [W, U, b] per gate; LSTM gates i, c, f, o (Keras 2: i, f, c, o), GRU z, r, h
    const gates = cls === 'LSTM' ? [0, 2, 1, 3] : [0, 1, 2];
    const pick = (k: number) => gates.map((g) => weights[3 * g + k]);
    const rows = (w: Weight) => (w.shape.length === 2 ? w.shape[0] : 1);
    const base = prefix(weights[0]);
    // per gate: W (in, units), U (units, units), b (units)
    const units = weights[1].shape[0];
    const fits = gates.every((g) => {
      const [W, U, b] = weights.slice(3 * g, 3 * g + 3);
      return W.shape.length === 2 && W.shape[1] === units && W.shape[0] === weights[0].shape[0] && U.shape.length === 2 && U.shape[0] === units && U.shape[1] === units && b.shape.length === 1 && b.shape[0] === units;
    });
    if (!fits) {
      throw new KerasInteropError('WEIGHTS_MISMATCH', `Keras 1 ${cls} weights [${weights.map((w) => `${w.name} [${w.shape.join(', ')}]`).join(', ')}] are not W (in, units), U (units, units), b (units) per gate`, where);
    }
    return (['kernel', 'recurrent_kernel', 'bias'] as const).map((role, k) => {
      const parts = pick(k);
      const r = rows(parts[0]);
      const width = parts.reduce((a, p) => a + (p.shape[p.shape.length - 1] ?? 1), 0);
      const shape = k === 2 ? [width] : [r, width];
      return derived(`${base}/${role}:0`, parts[0].path, shape, parts, (v) => concatColumns(v, r), where);
    });
  }
  if (cls === 'Conv1D' && weights[0]?.shape.length === 4) {
    const [w, ...rest] = weights;
    const s = w.shape;
    if (s[1] !== 1 && s[3] !== 1) {
      throw new KerasInteropError('WEIGHTS_MISMATCH', `Keras 1 Conv1D kernel "${w.name}" [${s.join(', ')}] is neither (length, 1, in, filters) nor (filters, in, length, 1)`, where);
    }
    const filters = layer.config.nb_filter ?? layer.config.filters;
    const length = layer.config.filter_length ?? layer.config.kernel_size;
    // Keras 1.1: (filters, in, length, 1); later Keras 1: (length, 1, in, filters)
    const legacy = !(s[0] === (Array.isArray(length) ? length[0] : length) && s[1] === 1 && s[3] === filters);
    const shape = legacy ? [s[2], s[1], s[0]] : [s[0], s[2], s[3]];
    const make = (v: Floats[]) => (legacy ? transpose(v[0], s, [2, 3, 1, 0]) : v[0]);
    return [derived(w.name, w.path, shape, [w], make, where), ...rest];
  }
  if (cls === 'Conv2D' && layer.config.dim_ordering === 'th' && weights[0]?.shape.length === 4) {
    const [w, ...rest] = weights;
    const s = w.shape;
    return [derived(w.name, w.path, [s[2], s[3], s[1], s[0]], [w], (v) => transpose(v[0], s, [2, 3, 1, 0]), where), ...rest];
  }
  return weights;
}
