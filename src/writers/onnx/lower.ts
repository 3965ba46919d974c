/**
 * KerasModel → ONNX graph. The graph is read from the tfjs model the runtime would build (built here with
 * shared zero weights: layers, nodes, shapes, the NoMask layers that say where Keras ran without a mask),
 * walked in tfjs's execution order, and each layer call is handed to its class's lowering (registry.ts).
 * Keras masks travel beside the tensors as bool values; weights become initializers whose bytes are read
 * from the model only when they are serialized.
 */
import * as tf from '@tensorflow/tfjs';
import '../../layers/index.js';
import { KerasInteropError } from '../../errors.js';
import type { KerasModel, Weight } from '../../model/types.js';
import { pairWeights, toFloat32 } from '../../runtime/weight-values.js';
import { upgradeLegacyLayers } from '../../runtime/legacy-layers.js';
import { buildSkeleton } from '../../runtime/topology.js';
import { type Dim, type ElemType, Graph, type Value } from './graph.js';
import './lowerings/index.js';
import { OPSET } from './proto.js';
import {
  type LayerCall,
  type LayerLowered,
  type LowerOptions,
  type LoweringContext,
  OnnxLoweringError,
  type WeightOptions,
  findLowering,
  howToRegister,
} from './registry.js';

export interface LoweredModel {
  graph: Graph;
  /** Opsets to import: the default domain at `OPSET`, plus contrib domains when used. */
  opsets: { domain: string; version: number }[];
  /** The Keras output layer of each graph output, in order. */
  outputLayers: string[];
  /** The source model's name (its config's `name`). */
  modelName: string;
}

/** tfjs's symbolic tensors and nodes: the fields the walk reads (tfjs does not export the types). */
interface SymbolicTensorLike {
  id: number;
  shape: (number | null)[];
  dtype: string;
  sourceLayer?: tf.layers.Layer;
}
interface NodeLike {
  outboundLayer: tf.layers.Layer;
  inputTensors: SymbolicTensorLike[];
  outputTensors: SymbolicTensorLike[];
  callArgs?: Record<string, unknown> | null;
}
interface ContainerLike {
  inputs: SymbolicTensorLike[];
  outputs: SymbolicTensorLike[];
  nodesByDepth: Record<string, NodeLike[]>;
}

type Entry = { value: Value; mask: Value | null };

const INPUT_DTYPES: Readonly<Record<string, ElemType>> = { float32: 'float32', int32: 'int32', bool: 'bool' };

/** Lowers a model the runtime can build to an ONNX graph; throws naming the first layer without a lowering. */
export async function lowerModel(model: KerasModel, options: LowerOptions = {}): Promise<LoweredModel> {
  // CuDNN layers and Keras 1 configs run as the runtime runs them: upgraded to today's layers and weights.
  model = upgradeLegacyLayers(model);
  const { tfModel } = await buildSkeleton(model, options.lambdas);
  try {
    const weightOf = new Map<number, Weight>();
    for (const { pairs } of pairWeights(tfModel, model)) for (const { target, weight } of pairs) weightOf.set(target.id, weight);
    const modelName = tfModel.name || 'model';
    const graph = new Graph(modelName);
    const lowerer = new Lowerer(graph, { contribOps: options.contribOps ?? false, batchDim: options.batchDim ?? 'batch' }, weightOf, model.source.file);
    const inputs = (tfModel.inputs as unknown as SymbolicTensorLike[]).map((t, i) => {
      const name = graph.reserve(t.sourceLayer?.name ?? `input_${i}`);
      const dtype = INPUT_DTYPES[t.dtype];
      if (!dtype) throw new KerasInteropError('UNSUPPORTED_DTYPE', `input "${name}" has dtype ${t.dtype}, which the ONNX export does not take`, { file: model.source.file });
      const shape: Dim[] = t.shape.map((d, j) => (d != null ? d : j === 0 ? lowerer.options.batchDim : `${name}_dim${j}`));
      const value: Value = { name, dtype, shape };
      graph.inputs.push(value);
      return { value: { ...value, shape: t.shape }, mask: null };
    });
    // Output names (the output layers', numbered when one layer gives several) are claimed before any node.
    const outputLayers = (tfModel.outputs as unknown as SymbolicTensorLike[]).map((t, j) => t.sourceLayer?.name ?? `output_${j}`);
    const outputNames = outputLayers.map((base) => graph.unique(base));
    const results = lowerer.container(tfModel, inputs);
    results.forEach((r, j) => {
      const name = outputNames[j];
      graph.scope = '';
      graph.opN('Identity', [r.value.name], [name]);
      const batch = lowerer.options.batchDim;
      graph.outputs.push({ name, dtype: r.value.dtype, shape: r.value.shape.map((d, i) => (d != null ? d : i === 0 ? batch : `${name}_dim${i}`)) });
    });
    graph.pruneInitializers();
    const opsets = [{ domain: '', version: OPSET }, ...[...graph.domains].map((domain) => ({ domain, version: 1 }))];
    return { graph, opsets, outputLayers, modelName };
  } finally {
    tfModel.dispose();
  }
}

class Lowerer implements LoweringContext {
  private readonly made = new Map<string, Value>();

  constructor(
    readonly graph: Graph,
    readonly options: Readonly<Required<Omit<LowerOptions, 'lambdas'>>>,
    private readonly weightOf: Map<number, Weight>,
    private readonly file: string,
  ) {}

  /** Runs a model's (or nested model's) graph on the given inputs, in tfjs's execution order. */
  container(model: tf.LayersModel, inputs: Entry[]): Entry[] {
    // A Sequential keeps its graph in an inner functional model, made on its first build.
    let inner = model as unknown as ContainerLike;
    if (model instanceof tf.Sequential) {
      const seq = model as unknown as { model?: tf.LayersModel; build(): void };
      if (seq.model == null) seq.build();
      inner = seq.model as unknown as ContainerLike;
    }
    const known = new Map<number, Entry>();
    inner.inputs.forEach((t, i) => known.set(t.id, inputs[i]));
    const depths = Object.keys(inner.nodesByDepth).map(Number).sort((a, b) => b - a);
    for (const depth of depths) {
      for (const node of inner.nodesByDepth[String(depth)]) {
        const layer = node.outboundLayer;
        if (layer.getClassName() === 'InputLayer') continue;
        const args = node.inputTensors.map((t) => known.get(t.id));
        if (args.some((a) => a === undefined)) continue;
        const entries = args as Entry[];
        const kwargs = { ...(node.callArgs ?? {}) };
        delete kwargs.mask;
        const outputShapes = node.outputTensors.map((t) => t.shape.slice());
        const result = this.call({
          layer,
          className: layer.getClassName(),
          inputs: entries.map((e) => e.value),
          masks: entries.map((e) => e.mask),
          kwargs,
          outputShapes,
        });
        node.outputTensors.forEach((t, i) => known.set(t.id, { value: result.outputs[i], mask: result.masks?.[i] ?? null }));
      }
    }
    return inner.outputs.map((t) => {
      const e = known.get(t.id);
      if (!e) throw new KerasInteropError('INTERNAL', `the ONNX lowering did not reach output tensor ${t.id} of model "${(model as tf.LayersModel).name}"`);
      return e;
    });
  }

  /** One layer call through its lowering; nested models are walked. */
  call(call: LayerCall): Required<LayerLowered> {
    const { layer } = call;
    if (layer instanceof tf.LayersModel) {
      const outs = this.container(layer, call.inputs.map((value, i) => ({ value, mask: call.masks[i] ?? null })));
      return { outputs: outs.map((o) => o.value), masks: outs.map((o) => o.mask) };
    }
    const lowering = findLowering(call.className);
    if (!lowering) {
      throw new OnnxLoweringError(layer.name, call.className, `no ONNX lowering is registered for class "${call.className}"; ${howToRegister(call.className)}`, this.file);
    }
    const saved = this.graph.scope;
    this.graph.scope = layer.name;
    let result: LayerLowered;
    try {
      result = lowering(this, call);
    } finally {
      this.graph.scope = saved;
    }
    const want = call.outputShapes.length;
    if (result.outputs.length !== want) {
      // A call the lowering does not cover (a one-tensor layer such as Masking called on a list, which tfjs
      // builds with one output per input) or a plug-in's lowering that leaves outputs out.
      const inputs = call.inputs.length === 1 ? 'one tensor' : `${call.inputs.length} tensors`;
      throw new OnnxLoweringError(layer.name, call.className, `called on ${inputs}, it has ${want} outputs, and its lowering gives ${result.outputs.length}`, this.file);
    }
    const masks =
      result.masks ?? result.outputs.map(() => (layer.supportsMasking ? (call.masks[0] ?? null) : null));
    return { outputs: result.outputs, masks };
  }

  lowerLayer(layer: tf.layers.Layer, inputs: Value[], masks: (Value | null)[], kwargs: Record<string, unknown> = {}): LayerLowered {
    const shapes = inputs.map((v) => v.shape.map((d) => (typeof d === 'number' ? d : null)));
    let out: tf.Shape | tf.Shape[];
    try {
      out = layer.computeOutputShape(shapes.length === 1 ? shapes[0] : shapes);
    } catch (e) {
      throw new KerasInteropError('INTERNAL', `cannot compute the output shape of sub-layer "${layer.name}": ${(e as Error).message}`);
    }
    const outputShapes = (out.length > 0 && Array.isArray(out[0]) ? out : [out]) as Dim[][];
    return this.call({ layer, className: layer.getClassName(), inputs, masks, kwargs, outputShapes });
  }

  weights(layer: tf.layers.Layer): Value[] {
    return layer.weights.map((_, i) => this.weight(layer, i));
  }

  weight(layer: tf.layers.Layer, index: number, opts: WeightOptions = {}): Value {
    const variable = layer.weights[index];
    if (!variable) throw new KerasInteropError('INTERNAL', `layer "${layer.name}" has no weight ${index}`);
    const source = this.weightOf.get(variable.id);
    if (!source) throw new KerasInteropError('INTERNAL', `weight "${variable.originalName}" of layer "${layer.name}" has no values in the file`);
    if (opts.transform && !opts.suffix) throw new KerasInteropError('INTERNAL', 'a transformed weight needs a suffix');
    const dims = opts.dims ?? source.shape;
    const key = `${variable.id}|${dims.join(',')}|${opts.suffix ?? ''}`;
    const known = this.made.get(key);
    if (known) return known;
    const size = source.shape.reduce((a, b) => a * b, 1);
    if (!opts.transform && dims.reduce((a, b) => a * b, 1) !== size) {
      throw new KerasInteropError('INTERNAL', `weight "${source.name}" [${source.shape.join(', ')}] cannot be viewed as [${dims.join(', ')}]`);
    }
    const transform = opts.transform;
    const bytes = (): Uint8Array => {
      let values = toFloat32(source.data, source.dtype);
      if (transform) values = transform(values);
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    };
    const saved = this.graph.scope;
    this.graph.scope = '';
    const base = source.name.replace(/:\d+$/, '');
    const name = this.graph.initializer(opts.suffix ? `${base}_${opts.suffix}` : base, 'float32', dims, bytes);
    this.graph.scope = saved;
    const value: Value = { name, dtype: 'float32', shape: dims };
    this.made.set(key, value);
    return value;
  }

  unsupported(layer: tf.layers.Layer, detail: string): never {
    throw new OnnxLoweringError(layer.name, layer.getClassName(), `${detail}; ${howToRegister(layer.getClassName())}`, this.file);
  }
}
