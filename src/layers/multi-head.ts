/**
 * keras-multi-head's `MultiHead` wrapper: the same input goes through several sub-layers (one layer
 * duplicated `layer_num` times, or a list of layers) and their outputs are stacked on a new last axis.
 * With `hidden_dim`, each sub-layer first sees its own linear map of the input (`x · W[:, i*h:(i+1)*h] + b[...]`).
 * Weights follow the Python properties: the wrapper's own trainable weights (`W`, `b`), then each
 * sub-layer's trainable weights in sub-layer order, then the non-trainable ones in the same order.
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import { attentionHead } from '../runtime/attention-taps.js';
import { cloneConfig, deserializeLayer, serializeLayer, type SerializedLayer } from './keras-objects.js';
import { type Kwargs, type LayerArgs, type LayerVariable, type Shape, isShapeList } from './types.js';
import { validWeightName } from './weight-name.js';


/** One Python `slice` as `get_config` writes it: `[start, stop, step]`, each possibly null. */
export type PySlice = [number | null, number | null, number | null];
/** One entry of `reg_slice`: the whole weight (null), one slice, or a tuple of slices (one per axis). */
export type RegSliceEntry = null | PySlice | PySlice[];

export interface MultiHeadArgs extends LayerArgs {
  /** One layer (duplicated `layerNum` times) or a list of layers; objects or `{className, config}`. */
  layer?: tf.layers.Layer | SerializedLayer | (tf.layers.Layer | SerializedLayer)[];
  /** The list form Python's `get_config` writes. Takes precedence over `layer`. */
  layers?: (tf.layers.Layer | SerializedLayer)[];
  layerNum?: number;
  hiddenDim?: number | null;
  useBias?: boolean;
  regIndex?: number | number[] | null;
  /** The outer list of entries, as `get_config` writes it (`from_config` iterates over it). */
  regSlice?: RegSliceEntry[] | null;
  regFactor?: number | number[] | null;
}

function isSliceList(entry: PySlice | PySlice[]): entry is PySlice[] {
  return Array.isArray(entry[0]);
}

/** Python's `slice.indices(length)` followed by `range(...)`. */
export function pySliceIndices(length: number, slice: PySlice): number[] {
  const step = slice[2] ?? 1;
  if (step === 0) throw new KerasInteropError('CONFIG_INVALID', 'reg_slice: slice step cannot be zero');
  const lower = step > 0 ? 0 : -1;
  const upper = step > 0 ? length : length - 1;
  const clamp = (v: number | null, dflt: number): number => {
    if (v == null) return dflt;
    if (v < 0) return Math.max(v + length, lower);
    return Math.min(v, upper);
  };
  const start = clamp(slice[0], step < 0 ? upper : lower);
  const stop = clamp(slice[1], step < 0 ? lower : upper);
  const out: number[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  return out;
}

function applyRegSlice(w: tf.Tensor, entry: RegSliceEntry): tf.Tensor {
  if (entry == null) return w;
  const slices = isSliceList(entry) ? entry : [entry];
  if (slices.length > w.rank) {
    throw new KerasInteropError('CONFIG_INVALID', `reg_slice has ${slices.length} slices for a weight of rank ${w.rank}`);
  }
  let x = w;
  slices.forEach((s, axis) => {
    const idx = pySliceIndices(x.shape[axis], s);
    x = tf.gather(x, tf.tensor1d(idx, 'int32'), axis);
  });
  return x;
}

function single<T>(v: T | T[]): T {
  if (Array.isArray(v)) {
    if (v.length !== 1) throw new KerasInteropError('INPUT_MISMATCH', `MultiHead with hidden_dim expects one input, got ${v.length}`);
    return v[0];
  }
  return v;
}

export class MultiHead extends tf.layers.Layer {
  static className = 'MultiHead';

  /** The sub-layers, in order (Python `self.layers`). */
  readonly layers: tf.layers.Layer[];
  readonly layerNum: number;
  readonly hiddenDim: number | null;
  readonly useBias: boolean;
  readonly regIndex: number[] | null;
  readonly regSlice: RegSliceEntry[] | null;
  readonly regFactor: number | number[] | null;
  private W: LayerVariable | null = null;
  private b: LayerVariable | null = null;
  private readonly dtypeConfig: unknown;

  constructor(args: MultiHeadArgs) {
    super(args);
    const given = args.layers ?? args.layer;
    if (given == null) {
      throw new KerasInteropError('CONFIG_MISSING', `MultiHead "${this.name}": config has neither "layers" nor "layer"`);
    }
    if (Array.isArray(given)) {
      if (given.length === 0) throw new KerasInteropError('CONFIG_INVALID', `MultiHead "${this.name}": "layers" is empty`);
      this.layers = given.map((l, i) => deserializeLayer(l, `${this.name}/layers/${i}`));
    } else {
      // Python clones the template through its config, naming the copies <name>_1 ... <name>_n.
      const template = deserializeLayer(given, `${this.name}/layer`);
      const n = args.layerNum ?? 1;
      const base = serializeLayer(template);
      this.layers = [];
      for (let i = 0; i < n; i++) {
        const config = cloneConfig(base.config);
        config.name = `${template.name}_${i + 1}`;
        this.layers.push(deserializeLayer({ className: base.className, config }, `${this.name}/layer`));
      }
    }
    this.layerNum = this.layers.length;
    this.hiddenDim = args.hiddenDim ?? null;
    this.useBias = args.useBias ?? true;
    // The same normalisation as Python's __init__, so getConfig writes what get_config would.
    const regIndex = args.regIndex ?? null;
    this.regIndex = regIndex == null ? null : Array.isArray(regIndex) ? regIndex : [regIndex];
    const regSlice = args.regSlice ?? null;
    this.regSlice = regSlice == null ? (this.regIndex == null ? null : this.regIndex.map(() => null)) : regSlice;
    const regFactor = args.regFactor === undefined ? 0.0 : args.regFactor;
    this.regFactor =
      regFactor == null || Array.isArray(regFactor) || this.regIndex == null ? regFactor : this.regIndex.map(() => regFactor);
    this.supportsMasking = this.layers[0].supportsMasking;
    this.dtypeConfig = args.dtype ?? 'float32';
  }

  override build(inputShape: Shape | Shape[]): void {
    let subShape: Shape | Shape[] = inputShape;
    if (this.hiddenDim != null) {
      const shape = isShapeList(inputShape) ? single(inputShape) : inputShape;
      const features = shape[shape.length - 1];
      if (features == null) throw new KerasInteropError('INPUT_MISMATCH', `MultiHead "${this.name}": the last input dimension must be known`);
      const width = this.hiddenDim * this.layerNum;
      this.W = this.addWeight(validWeightName(this.name, 'W'), [features, width], 'float32', tf.initializers.glorotUniform({}), undefined, true);
      if (this.useBias) {
        this.b = this.addWeight(validWeightName(this.name, 'b'), [width], 'float32', tf.initializers.zeros(), undefined, true);
      }
      subShape = [...shape.slice(0, -1), this.hiddenDim];
    } else if (isShapeList(inputShape) && inputShape.length === 1) {
      subShape = inputShape[0];
    }
    for (const layer of this.layers) {
      if (layer.built) continue;
      // Building through apply() on a placeholder gives each sub-layer its own weight-name scope
      // (tfjs's nameScope is not exported), so duplicated sub-layers never share weight names.
      const placeholder = isShapeList(subShape)
        ? subShape.map((s) => new tf.SymbolicTensor('float32', s, null as never, [], {}))
        : new tf.SymbolicTensor('float32', subShape, null as never, [], {});
      layer.apply(placeholder);
    }
    if (this.regIndex != null && this.regIndex.length > 0) {
      this.addLoss(() => multiHeadRegularizationLoss(this) ?? tf.scalar(0));
    }
    this.built = true;
  }

  override get trainableWeights(): LayerVariable[] {
    const own = super.trainableWeights;
    return own.concat(...(this.layers ?? []).map((l) => l.trainableWeights));
  }

  override set trainableWeights(weights: LayerVariable[]) {
    super.trainableWeights = weights;
  }

  override get nonTrainableWeights(): LayerVariable[] {
    const own = super.nonTrainableWeights;
    return own.concat(...(this.layers ?? []).map((l) => l.nonTrainableWeights));
  }

  override set nonTrainableWeights(weights: LayerVariable[]) {
    super.nonTrainableWeights = weights;
  }

  override get trainable(): boolean {
    return super.trainable;
  }

  override set trainable(value: boolean) {
    super.trainable = value;
    for (const l of this.layers ?? []) l.trainable = value;
  }

  /** Python's property: the wrapper's own losses, then each sub-layer's. */
  override get losses(): tf.layers.Layer['losses'] {
    return super.losses.concat(...(this.layers ?? []).map((l) => l.losses));
  }

  // tfjs's addLoss pushes onto `this.losses`, which is a fresh array here; keep them in our own list.
  override addLoss(losses: Parameters<tf.layers.Layer['addLoss']>[0]): void {
    if (losses == null) return;
    super.losses.push(...(Array.isArray(losses) ? losses : [losses]));
  }

  /** The input of sub-layer `i` when `hidden_dim` is set: `x · W[:, i*h:(i+1)*h] (+ b[i*h:(i+1)*h])`. */
  private transformed(x: tf.Tensor, i: number): tf.Tensor {
    const h = this.hiddenDim as number;
    const features = x.shape[x.rank - 1];
    const w = tf.slice(this.W!.read(), [0, i * h], [features, h]);
    let y = tf.reshape(tf.matMul(tf.reshape(x, [-1, features]), w), [...x.shape.slice(0, -1), h]);
    if (this.b != null) y = tf.add(y, tf.slice(this.b.read(), [i * h], [h]));
    return y;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const subKwargs: Kwargs = { ...(kwargs ?? {}) };
      let mask = subKwargs.mask as tf.Tensor | (tf.Tensor | null)[] | null | undefined;
      if (Array.isArray(mask) && mask.length === 1) mask = mask[0];
      if (mask == null) delete subKwargs.mask;
      else subKwargs.mask = mask;
      const x = Array.isArray(inputs) && inputs.length === 1 ? inputs[0] : inputs;
      const outputs = this.layers.map((layer, i) => {
        const xi = this.hiddenDim == null ? x : this.transformed(single(x), i);
        // Sub-layers are heads: attention they tap becomes head i of this layer's map.
        const y = attentionHead(this, i, () => layer.call(xi, subKwargs));
        const yt = Array.isArray(y) ? y[0] : y;
        if (yt == null || (Array.isArray(y) && y.length !== 1)) {
          throw new KerasInteropError('UNSUPPORTED_LAYER', `MultiHead "${this.name}": sub-layer "${layer.name}" returned ${Array.isArray(y) ? y.length : 0} outputs; one is expected`);
        }
        return tf.expandDims(yt, -1);
      });
      return tf.concat(outputs, -1);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    let shape: Shape | Shape[] = isShapeList(inputShape) && inputShape.length === 1 ? inputShape[0] : inputShape;
    if (this.hiddenDim != null) {
      const s: Shape = isShapeList(shape) ? single(shape) : shape;
      shape = [...s.slice(0, -1), this.hiddenDim];
    }
    const child = this.layers[0].computeOutputShape(shape) as Shape | Shape[];
    if (isShapeList(child)) {
      throw new KerasInteropError('UNSUPPORTED_LAYER', `MultiHead "${this.name}": sub-layer "${this.layers[0].name}" has several outputs`);
    }
    return [...child, this.layerNum];
  }

  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) && inputs.length === 1 ? inputs[0] : inputs;
    const m = Array.isArray(mask) && mask.length === 1 ? mask[0] : mask;
    try {
      return this.layers[0].computeMask(x, m);
    } catch {
      // tfjs throws where a sub-layer does not support masking; Python's layers[0].compute_mask drops it.
      return null as unknown as tf.Tensor;
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dtype: cloneConfig(this.dtypeConfig) as tf.serialization.ConfigDictValue,
      layers: this.layers.map((l) => serializeLayer(l) as unknown as tf.serialization.ConfigDict),
      hiddenDim: this.hiddenDim,
      useBias: this.useBias,
      regIndex: this.regIndex,
      // Python writes None for an empty reg_slice (`if self.reg_slice:`).
      regSlice: (this.regSlice == null || this.regSlice.length === 0 ? null : cloneConfig(this.regSlice)) as tf.serialization.ConfigDictValue,
      regFactor: cloneConfig(this.regFactor),
    };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    const result = super.dispose();
    for (const l of this.layers) {
      try {
        l.dispose();
      } catch {
        // sub-layer weights were already released through this.weights
      }
    }
    return result;
  }
}

/**
 * The orthogonality loss keras-multi-head adds in `build` when `reg_index` is set:
 * for each (index, slice, factor), stack the flattened slices of `layer.get_weights()[index]` of every
 * sub-layer into a matrix M (one row per sub-layer) and add `factor * sum((M Mᵀ - I)²)`.
 * Python computes it once from the weight values at build time; this reads the current variables,
 * so the value is the same and it also has gradients for training in tfjs. Null when `reg_index` is unset.
 */
export function multiHeadRegularizationLoss(layer: MultiHead): tf.Scalar | null {
  const { regIndex, regSlice, regFactor } = layer;
  if (regIndex == null || regIndex.length === 0) return null;
  if (regFactor == null) {
    throw new KerasInteropError('CONFIG_INVALID', `MultiHead "${layer.name}": reg_factor is None while reg_index is set`);
  }
  const factors = Array.isArray(regFactor) ? regFactor : regIndex.map(() => regFactor);
  const slices = regSlice ?? regIndex.map(() => null);
  const count = Math.min(regIndex.length, slices.length, factors.length);
  return tf.tidy(() => {
    let total: tf.Scalar = tf.scalar(0);
    for (let r = 0; r < count; r++) {
      const rows = layer.layers.map((sub) => {
        const weights = sub.weights;
        const idx = regIndex[r] < 0 ? weights.length + regIndex[r] : regIndex[r];
        const w = weights[idx];
        if (w == null) {
          throw new KerasInteropError('CONFIG_INVALID', `MultiHead "${layer.name}": reg_index ${regIndex[r]} is out of range for sub-layer "${sub.name}" (${weights.length} weights)`);
        }
        return tf.reshape(applyRegSlice(w.read(), slices[r]), [-1]);
      });
      const m = tf.stack(rows);
      const gram = tf.matMul(m, m, false, true);
      const diff = tf.sub(gram, tf.eye(layer.layers.length));
      total = tf.add(total, tf.mul(factors[r], tf.sum(tf.square(diff))));
    }
    return total;
  });
}
