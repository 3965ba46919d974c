/**
 * The ONNX lowerings, one per layer class, keyed by the class name tfjs builds (the resolved class name:
 * `MultiHeadAttention` for Keras's, `KerasMultiHead>MultiHeadAttention` for keras-multi-head's). A lowering
 * gets the tfjs layer object (its config and sub-layers), the ONNX values of the call's inputs and their
 * Keras masks, and adds nodes through the context; it returns the outputs and, where it differs from the
 * default, their masks. Plug-ins register lowerings for their own layers with `registerLowering`.
 */
import type * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../../errors.js';
import type { LambdaPolicy } from '../../runtime/lambda/replace.js';
import type { Dim, Graph, Value } from './graph.js';

/** One call of a layer (a node of the Keras graph, or a wrapper calling its sub-layer). */
export interface LayerCall {
  /** The tfjs layer object: `getConfig()` (camelCase keys), sub-layers, `supportsMasking`. */
  layer: tf.layers.Layer;
  /** The registry key the lowering was found under. */
  className: string;
  inputs: Value[];
  /** Each input's Keras mask (a bool tensor, usually (batch, steps)), or null. */
  masks: (Value | null)[];
  /** The node's non-tensor call arguments, camelCased by tfjs (`inputRoles`, `returnAttentionScores`, `training`, ...). */
  kwargs: Record<string, unknown>;
  /** The output shapes tfjs computed (null for unknown sizes, the batch included). */
  outputShapes: Dim[][];
}

export interface LayerLowered {
  outputs: Value[];
  /**
   * The outputs' masks. Left out: each output carries the first input's mask when the layer supports
   * masking (tfjs's `supportsMasking`, as Keras's `supports_masking`), else none.
   */
  masks?: (Value | null)[];
}

export interface LowerOptions {
  /** Allow Microsoft contrib ops (domain com.microsoft; onnxruntime only). Default false. */
  contribOps?: boolean;
  /** Name of the symbolic batch dimension. Default `batch`. */
  batchDim?: string;
  /** Lambda layers: lower their translation (`translate`, default) or refuse them (`refuse`). */
  lambdas?: LambdaPolicy;
}

export interface WeightOptions {
  /** Dims for the same values (a reshape of the weight; same element count). */
  dims?: number[];
  /** A float32 rewrite of the values (a transposed or reordered kernel), with the dims of its result. */
  transform?: (values: Float32Array) => Float32Array;
  /** Name suffix for a transformed weight. */
  suffix?: string;
}

export interface LoweringContext {
  readonly graph: Graph;
  readonly options: Readonly<Required<Omit<LowerOptions, 'lambdas'>>>;
  /** The layer's own weights (tfjs `layer.weights`, which is Keras's order) as initializers, float32. */
  weights(layer: tf.layers.Layer): Value[];
  /** Weight `index` of the layer, reshaped or rewritten; each distinct request makes one initializer. */
  weight(layer: tf.layers.Layer, index: number, opts?: WeightOptions): Value;
  /** Lowers a call of another layer (a wrapper's sub-layer) with that layer's own lowering. */
  lowerLayer(layer: tf.layers.Layer, inputs: Value[], masks: (Value | null)[], kwargs?: Record<string, unknown>): LayerLowered;
  /** Throws the error for a config this lowering does not cover, naming the layer and what did not fit. */
  unsupported(layer: tf.layers.Layer, detail: string): never;
}

export type Lowering = (ctx: LoweringContext, call: LayerCall) => LayerLowered;

const LOWERINGS = new Map<string, Lowering>();

/**
 * Registers the ONNX lowering of a layer class (replacing any earlier one). `className` is the class
 * name tfjs deserializes: the Python class name, or the name given to `registerLayer`.
 */
export function registerLowering(className: string, lowering: Lowering): void {
  if (typeof className !== 'string' || className === '') throw new TypeError('registerLowering: className must be a non-empty string');
  if (typeof lowering !== 'function') throw new TypeError(`registerLowering('${className}', ...): expected a function`);
  LOWERINGS.set(className, lowering);
}

/** The lowering registered for a class, if any. */
export function findLowering(className: string): Lowering | undefined {
  return LOWERINGS.get(className);
}

/** Every class with a lowering, sorted (for the README and inspect). */
export function loweredClasses(): string[] {
  return [...LOWERINGS.keys()].sort();
}

/** A layer (or a config of it) that no lowering covers. Code UNSUPPORTED_LAYER. */
export class OnnxLoweringError extends KerasInteropError {
  readonly layerName: string;
  readonly className: string;

  constructor(layerName: string, className: string, detail: string, file?: string) {
    super('UNSUPPORTED_LAYER', `layer "${layerName}" (class ${className}) cannot be lowered to ONNX: ${detail}`, file ? { file } : {});
    this.name = 'OnnxLoweringError';
    this.layerName = layerName;
    this.className = className;
  }
}

/** The message part telling a plug-in author what to do. */
export function howToRegister(className: string): string {
  return (
    `register a lowering with registerLowering('${className}', (ctx, call) => ({ outputs: [...] })) ` +
    `that adds ONNX nodes for it (see "ONNX" in the README), or run it with --backend wasm`
  );
}
