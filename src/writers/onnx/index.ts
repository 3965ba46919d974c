/**
 * ONNX export: a KerasModel lowered to an ONNX graph (lower.ts, one lowering per layer class in
 * lowerings/) and serialized with our own .proto (serialize.ts). The lowering registry is public so
 * that plug-ins can lower their own layers.
 */
import type { KerasModel } from '../../model/types.js';
import { VERSION } from '../../version.js';
import { type LoweredModel, lowerModel } from './lower.js';
import type { LowerOptions } from './registry.js';
import { type SerializedOnnx, serializeOnnx } from './serialize.js';
import { concatParts } from '../parts.js';

export { registerLowering, findLowering, loweredClasses, OnnxLoweringError } from './registry.js';
export type { LayerCall, LayerLowered, Lowering, LoweringContext, LowerOptions, WeightOptions } from './registry.js';
export type { Value, Dim, ElemType } from './graph.js';
export { Graph, float, floats } from './graph.js';
export { lowerModel, type LoweredModel } from './lower.js';
export { OPSET, IR_VERSION } from './proto.js';
export { registerOpLowering, findOpLowering, loweredOps, OnnxOpArgs, type OpLowering, type OnnxOpValue } from './op-lowering.js';

export interface ExportOnnxOptions extends LowerOptions {
  /** Initializers in a separate data file: `auto` (only past protobuf's 2 GiB), `external`, `inline`. */
  externalData?: 'auto' | 'external' | 'inline';
  /** Smallest initializer moved to the data file (bytes; default 1024). */
  externalThreshold?: number;
  /** The data file's name (relative to the .onnx file). Default `<model>.onnx.data`. */
  dataFileName?: string;
}

/**
 * The model's ONNX file as parts (deferred weights), plus the data file's when initializers go there.
 * `lowered`, when given, is this model's graph from `lowerModel` (it is not lowered again).
 */
export async function exportOnnx(model: KerasModel, opts: ExportOnnxOptions = {}, given?: LoweredModel): Promise<{ lowered: LoweredModel; file: SerializedOnnx }> {
  const lowered = given ?? (await lowerModel(model, opts));
  const file = serializeOnnx(lowered.graph, {
    producerVersion: VERSION,
    opsets: lowered.opsets,
    metadata: {
      'keras_interop.source_format': model.source.format,
      ...(model.source.kerasVersion ? { 'keras_interop.keras_version': model.source.kerasVersion } : {}),
      'keras_interop.model_name': lowered.modelName,
      'keras_interop.output_layers': JSON.stringify(lowered.outputLayers),
    },
    externalData: opts.externalData,
    externalThreshold: opts.externalThreshold,
    dataFileName: opts.dataFileName,
  });
  return { lowered, file };
}

/** The model as one in-memory ONNX file (initializers inline: under protobuf's 2 GiB). */
export async function onnxModelBytes(model: KerasModel, opts: LowerOptions = {}): Promise<Uint8Array> {
  const { file } = await exportOnnx(model, { ...opts, externalData: 'inline' });
  return concatParts(file.model);
}

export type { SerializedOnnx };
