/**
 * `KerasInterop>Op` (TFOpLambda, SlicingOpLambda and Keras 3 operation nodes, src/layers/op.ts): the op
 * call its config records, lowered by the op's ONNX lowering (src/writers/onnx/op-lowerings), its input slots
 * filled with the layer's inputs. Ops pass no mask on.
 */
import type { JsonObject } from '../../../model/types.js';
import { isInputSlot, readOpLayerConfig } from '../../../runtime/ops/op-layer-config.js';
import { mapTensors } from '../../../runtime/ops/values.js';
import type { Value } from '../graph.js';
import { OnnxOpArgs, type OnnxOpValue, findOpLowering } from '../op-lowering.js';
import '../op-lowerings/all.js';
import { registerLowering } from '../registry.js';

/** Runs an op's lowering on bound arguments; the error for an op without one names it. */
export function lowerOp(ctx: Parameters<Parameters<typeof registerLowering>[1]>[0], layer: Parameters<Parameters<typeof registerLowering>[1]>[1]['layer'], op: string, what: string, args: Map<string, OnnxOpValue>): Value[] {
  const lowering = findOpLowering(op);
  if (!lowering) return ctx.unsupported(layer, `the op ${op} (${what}) has no ONNX lowering (registerOpLowering('${op}', ...) adds one)`);
  const out = lowering(new OnnxOpArgs(ctx.graph, what, args));
  return Array.isArray(out) ? out : [out];
}

registerLowering('KerasInterop>Op', (ctx, call) => {
  const parsed = readOpLayerConfig(call.layer.getConfig() as unknown as JsonObject);
  const args = new Map<string, OnnxOpValue>();
  for (const [k, v] of parsed.args) {
    args.set(k, mapTensors(v, isInputSlot, (s) => {
      const t = call.inputs[s.index];
      if (!t) return ctx.unsupported(call.layer, `its op reads input ${s.index} but the layer has ${call.inputs.length}`);
      return t as unknown as never;
    }) as OnnxOpValue);
  }
  const outputs = lowerOp(ctx, call.layer, parsed.op.name, `${parsed.op.name} (layer "${call.layer.name}")`, args);
  if (outputs.length !== call.outputShapes.length) return ctx.unsupported(call.layer, `its op gives ${outputs.length} outputs, the layer ${call.outputShapes.length}`);
  return { outputs: outputs.map((o, i) => ({ ...o, shape: call.outputShapes[i] })), masks: outputs.map(() => null) };
});
