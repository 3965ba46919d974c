/**
 * `CuDNNLSTM` / `CuDNNGRU` (standalone Keras 2, tf.keras 1.x/2.x GPU layers) as the `LSTM` /
 * `GRU(reset_after=True)` they equal, with Keras's own weight conversion (Keras 2.3.1
 * `engine/saving.py` `_convert_rnn_weights`, which `load_model` applies when a CuDNN file is loaded into
 * the plain layers):
 * - kernel (in, G·U), G gates side by side: cuDNN reads each gate's block flattened in row-major order as
 *   a (U, in) matrix, so the plain layer's block is that matrix transposed (Keras: `k.T.reshape(k.shape,
 *   order='F')`);
 * - recurrent kernel (U, G·U): each gate's block transposed;
 * - bias (2·G·U) = input biases then recurrent biases: summed for LSTM, stacked as (2, G·U) for GRU.
 * The activations are cuDNN's fixed tanh and sigmoid. Gate order is unchanged (LSTM i, f, c, o; GRU z, r, h).
 */
import { KerasInteropError } from '../errors.js';
import { float16BitsToFloat32 } from '../model/float16.js';
import type { JsonObject, Weight, WeightData } from '../model/types.js';
import { isJsonObject, lazyWeight, weightValues } from '../model/types.js';
import { lookupTable } from '../model/config.js';

/** The plain class each CuDNN class runs as, and its number of gates. */
export const CUDNN_CLASSES: Readonly<Record<string, { rnn: 'LSTM' | 'GRU'; gates: number }>> = lookupTable({
  CuDNNLSTM: { rnn: 'LSTM', gates: 4 },
  CuDNNGRU: { rnn: 'GRU', gates: 3 },
});

/** CuDNN config keys (Keras 2.3.1 and tf.keras `get_config`), carried over unchanged. */
const KEPT_KEYS = [
  'name', 'trainable', 'dtype', 'batch_input_shape', 'batch_size', 'input_dtype',
  'return_sequences', 'return_state', 'go_backwards', 'stateful', 'units',
  'kernel_initializer', 'recurrent_initializer', 'bias_initializer', 'unit_forget_bias',
  'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer',
  'kernel_constraint', 'recurrent_constraint', 'bias_constraint',
];

/**
 * The `{class_name, config}` of the plain layer (tf.keras 2 dialect, as Keras 2.3.1's `LSTM`/`GRU`
 * `get_config` writes it). Keys the CuDNN class never writes are refused, not dropped.
 */
export function cudnnAsRnnConfig(className: string, config: JsonObject, where: { file?: string; place: string }): JsonObject {
  const spec = CUDNN_CLASSES[className];
  const unknown = Object.keys(config).filter((k) => !KEPT_KEYS.includes(k) && k !== 'time_major');
  if (unknown.length > 0) {
    throw new KerasInteropError('UNSUPPORTED_LAYER', `${className} config keys ${unknown.join(', ')} are not CuDNN layer arguments`, where);
  }
  if (config.time_major === true) {
    throw new KerasInteropError('UNSUPPORTED_LAYER', `${className} with time_major=True is not supported (tfjs recurrent layers are batch-major)`, where);
  }
  if (typeof config.units !== 'number' || !Number.isInteger(config.units) || config.units < 1) {
    throw new KerasInteropError('CONFIG_INVALID', `${className} needs a positive integer "units", got ${JSON.stringify(config.units)}`, where);
  }
  const out: JsonObject = {};
  const copy = (k: string) => {
    if (Object.prototype.hasOwnProperty.call(config, k)) out[k] = config[k];
  };
  for (const k of ['name', 'trainable', 'dtype', 'batch_input_shape', 'batch_size', 'input_dtype']) copy(k);
  for (const k of ['return_sequences', 'return_state', 'go_backwards', 'stateful']) out[k] = config[k] === true;
  out.unroll = false;
  out.units = config.units;
  out.activation = 'tanh';
  out.recurrent_activation = 'sigmoid';
  out.use_bias = true;
  for (const k of ['kernel_initializer', 'recurrent_initializer', 'bias_initializer']) copy(k);
  if (spec.rnn === 'LSTM') out.unit_forget_bias = config.unit_forget_bias !== false;
  for (const k of ['kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer']) copy(k);
  for (const k of ['kernel_constraint', 'recurrent_constraint', 'bias_constraint']) copy(k);
  out.dropout = 0;
  out.recurrent_dropout = 0;
  out.implementation = 2;
  if (spec.rnn === 'GRU') out.reset_after = true;
  return { class_name: spec.rnn, config: out };
}

type Role = 'kernel' | 'recurrent_kernel' | 'bias';

function isRole(name: string): name is Role {
  return name === 'kernel' || name === 'recurrent_kernel' || name === 'bias';
}

/**
 * One weight of a CuDNN layer (`role` is its variable name) in the plain layer's layout. Lazy weights
 * stay lazy: the conversion runs when the values are read.
 */
export function cudnnWeightAsRnn(className: string, role: string, units: number, w: Weight, where: { file?: string; place: string }): Weight {
  const spec = CUDNN_CLASSES[className];
  const g = spec.gates;
  const mismatch = (want: string) =>
    new KerasInteropError('WEIGHTS_MISMATCH', `${className} weight "${w.name}" has shape [${w.shape.join(', ')}]; with units=${units} it must be ${want}`, where);
  if (!isRole(role)) throw new KerasInteropError('WEIGHTS_MISMATCH', `${className} has no weight "${role}" (kernel, recurrent_kernel, bias)`, where);
  let shape: number[];
  let convert: (v: Float32Array | Float64Array) => Float32Array | Float64Array;
  if (role === 'kernel') {
    if (w.shape.length !== 2 || w.shape[1] !== g * units) throw mismatch(`(input_dim, ${g * units})`);
    shape = w.shape.slice();
    convert = (v) => transposeGateBlocks(v, w.shape[0], units, g, true);
  } else if (role === 'recurrent_kernel') {
    if (w.shape.length !== 2 || w.shape[0] !== units || w.shape[1] !== g * units) throw mismatch(`(${units}, ${g * units})`);
    shape = w.shape.slice();
    convert = (v) => transposeGateBlocks(v, units, units, g, false);
  } else {
    if (w.shape.length !== 1 || w.shape[0] !== 2 * g * units) throw mismatch(`(${2 * g * units})`);
    if (spec.rnn === 'GRU') {
      shape = [2, g * units];
      convert = (v) => v;
    } else {
      shape = [g * units];
      convert = (v) => {
        const out = new (v.constructor as Float32ArrayConstructor)(g * units);
        for (let i = 0; i < g * units; i++) out[i] = v[i] + v[i + g * units];
        return out;
      };
    }
  }
  const dtype = w.dtype === 'float64' ? 'float64' : 'float32';
  const meta = { name: w.name, path: w.path, shape, dtype } as const;
  const values = weightValues(w);
  const make = (raw: WeightData) => convert(asFloats(raw, w, where));
  if (typeof values === 'function') return lazyWeight(meta, () => make(values()));
  return { ...meta, data: make(values) };
}

function asFloats(raw: WeightData, w: Weight, where: { file?: string; place: string }): Float32Array | Float64Array {
  const size = w.shape.reduce((a, b) => a * b, 1);
  if (raw.length !== size) {
    throw new KerasInteropError('WEIGHTS_MISMATCH', `CuDNN weight "${w.name}" holds ${raw.length} values but its shape [${w.shape.join(', ')}] needs ${size}`, where);
  }
  if (w.dtype === 'float16' && raw instanceof Uint16Array) return float16BitsToFloat32(raw);
  if (raw instanceof Float32Array || raw instanceof Float64Array) return raw;
  throw new KerasInteropError('UNSUPPORTED_DTYPE', `CuDNN weight "${w.name}" is ${w.dtype}; expected floats`, where);
}

/**
 * Per gate block of a (rows, G·U) matrix: with `readAsUByRows`, the block's values in row-major order
 * read as a (U, rows) matrix and transposed (the input kernel); otherwise the (U, U) block transposed.
 */
function transposeGateBlocks(v: Float32Array | Float64Array, rows: number, units: number, gates: number, readAsUByRows: boolean): Float32Array | Float64Array {
  const cols = gates * units;
  const out = new (v.constructor as Float32ArrayConstructor)(v.length);
  for (let gIdx = 0; gIdx < gates; gIdx++) {
    const c0 = gIdx * units;
    for (let r = 0; r < rows; r++) {
      for (let u = 0; u < units; u++) {
        let src: number;
        if (readAsUByRows) {
          // block element #(u * rows + r) in row-major order of the (rows, U) block
          const flat = u * rows + r;
          src = Math.floor(flat / units) * cols + c0 + (flat % units);
        } else {
          src = u * cols + c0 + r;
        }
        out[r * cols + c0 + u] = v[src];
      }
    }
  }
  return out;
}

/** Whether a layer config is a CuDNN layer. */
export function isCudnnLayer(v: unknown): v is JsonObject & { class_name: string; config: JsonObject } {
  return isJsonObject(v) && typeof v.class_name === 'string' && v.class_name in CUDNN_CLASSES && isJsonObject(v.config);
}
