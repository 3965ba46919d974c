/**
 * `KerasInterop>Op`: one call of a canonical op (src/runtime/ops) as a tfjs layer. The runtime makes one
 * of these for every TFOpLambda / SlicingOpLambda layer and every Keras 3 operation node, and the tfjs
 * writer keeps them, so a converted model runs the same ops after `tf.loadLayersModel` once
 * `keras-interop/layers` is imported. Its config: see src/runtime/ops/op-layer-config.ts.
 *
 * Output shapes come from running the op on zeros at two sizes for every unknown dimension: the
 * dimensions that change are unknown, the others are what the op makes (its own code decides, so shape
 * inference never disagrees with the computation).
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';
import type { JsonObject, JsonValue } from '../model/types.js';
import { type InputSlot, OP_LAYER_CLASS, isInputSlot, opLayerConfig, readOpLayerConfig } from '../runtime/ops/op-layer-config.js';
import type { OpSpec } from '../runtime/ops/spec.js';
import { runOp } from '../runtime/ops/table.js';
import { type OpValue, mapTensors } from '../runtime/ops/values.js';
import type { ConfigDict, Kwargs, LayerArgs, Shape } from './types.js';

export interface OpLayerArgs extends LayerArgs {
  /** The canonical op (tfjs hands it over camel-cased; both spellings are found). */
  op?: string;
  /** Bound arguments, encoded as in op-layer-config.ts. */
  arguments?: JsonObject;
}

/** Sizes an unknown dimension takes while probing; a second set if an op refuses the first. */
const PROBES: readonly (readonly [number, number])[] = [
  [2, 3],
  [12, 18],
];

export class OpLayer extends tf.layers.Layer {
  static className = OP_LAYER_CLASS;
  private readonly op: OpSpec;
  private readonly template: Map<string, OpValue<InputSlot>>;
  private readonly inputCount: number;
  /** dtypes of the symbolic inputs, seen by `apply` before tfjs asks for output shapes. */
  private inputDtypes?: tf.DataType[];
  private outputDtypes?: tf.DataType[];
  /** The number of outputs when the op returns a list (split, unstack), learnt when shapes are inferred. */
  private listOutputs?: number;

  constructor(args: OpLayerArgs) {
    super({ ...args, trainable: false });
    const parsed = readOpLayerConfig({ name: args.name ?? null, op: args.op ?? null, arguments: (args.arguments ?? {}) as JsonValue });
    this.op = parsed.op;
    this.template = parsed.args;
    this.inputCount = parsed.inputs;
    // An op passes no mask on (TFOpLambda and Keras 3 operations drop them); saying so explicitly keeps
    // tfjs from refusing masked inputs.
    this.supportsMasking = true;
  }

  private run(inputs: tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const isSlot = (x: unknown): x is InputSlot => isInputSlot(x);
    const args = new Map<string, OpValue<tf.Tensor>>();
    for (const [k, v] of this.template) {
      args.set(k, mapTensors(v, isSlot, (s) => {
        const t = inputs[s.index];
        if (!t) throw new KerasInteropError('CONFIG_INVALID', `op layer "${this.name}" reads input ${s.index} but was given ${inputs.length}`);
        return t;
      }));
    }
    return runOp({ op: this.op, args, what: `${this.op.name} (layer "${this.name}")` });
  }

  override apply(inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[], kwargs?: Kwargs): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const symbolic = list.length > 0 && list.every((t) => t instanceof tf.SymbolicTensor);
    if (symbolic) this.inputDtypes = list.map((t) => t.dtype);
    const out = super.apply(inputs, kwargs);
    if (symbolic && this.outputDtypes) {
      // tfjs gives a layer's outputs its first input's dtype; the op knows better (cast, argmax, comparisons).
      const outs = Array.isArray(out) ? out : [out];
      outs.forEach((t, i) => Object.defineProperty(t, 'dtype', { value: this.outputDtypes![i] ?? t.dtype, configurable: true, writable: true }));
    }
    return out;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shapes = (this.inputCount === 1 || !Array.isArray(inputShape[0]) ? [inputShape] : inputShape) as Shape[];
    let last: unknown;
    for (const sizes of PROBES) {
      try {
        const runs = sizes.map((size) =>
          tf.tidy(() => {
            const inputs = shapes.map((s, i) => tf.zeros(s.map((d) => d ?? size), this.inputDtypes?.[i] ?? 'float32'));
            const r = this.run(inputs);
            return { list: Array.isArray(r), outs: (Array.isArray(r) ? r : [r]).map((t) => ({ shape: t.shape, dtype: t.dtype })) };
          }),
        );
        const [{ list, outs: a }, { outs: b }] = runs;
        this.outputDtypes = a.map((o) => o.dtype);
        this.listOutputs = list ? a.length : undefined;
        const merged = a.map((o, i) => {
          const other = b[i].shape;
          if (other.length !== o.shape.length) throw new KerasInteropError('CONFIG_INVALID', `op layer "${this.name}" (${this.op.name}): its output rank depends on the input sizes`);
          return o.shape.map((d, j) => (this.op.valueDependentShape || d !== other[j] ? null : d));
        });
        return list ? merged : merged[0];
      } catch (e) {
        last = e;
      }
    }
    const message = last instanceof Error ? last.message : String(last);
    throw new KerasInteropError(
      'CONFIG_INVALID',
      `op layer "${this.name}" (${this.op.name}) cannot run on inputs of shapes ${JSON.stringify(shapes)}: ${message}`,
      {},
      { cause: last },
    );
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => this.run(Array.isArray(inputs) ? inputs : [inputs]));
  }

  // tfjs types computeMask as never returning null, but null is how its graph code spells "no mask".
  override computeMask(inputs: tf.Tensor | tf.Tensor[], _mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const none = this.listOutputs === undefined ? null : Array.from({ length: this.listOutputs }, () => null);
    return none as unknown as tf.Tensor;
  }

  override getConfig(): ConfigDict {
    const own = opLayerConfig(this.name, { op: this.op, args: this.template, what: this.op.name });
    return { ...super.getConfig(), op: own.op, arguments: own.arguments } as ConfigDict;
  }
}

tf.serialization.registerClass(OpLayer);
