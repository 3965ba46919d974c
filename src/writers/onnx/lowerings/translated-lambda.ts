/**
 * `KerasInterop>Lambda`, a Lambda layer translated from its Python bytecode (src/runtime/lambda): its
 * program evaluated by the runtime's evaluator (src/runtime/lambda/execute.ts), with ONNX values for
 * tensors. Python values keep Python's meaning (numbers, tuples and lists, slices); calls bind through the
 * same alias table and tensor work goes through the op table's ONNX lowerings. A tensor's `.shape` gives
 * its known sizes as numbers and its unknown ones as scalar tensors read at run time.
 */
import type * as tf from '@tensorflow/tfjs';
import { type TensorHost, evaluateProgram } from '../../../runtime/lambda/execute.js';
import type { LambdaProgram } from '../../../runtime/lambda/ir.js';
import { PySeq, type PyValue } from '../../../runtime/lambda/values.js';
import type { Value } from '../graph.js';
import { type OnnxOpValue, isOnnxTensor } from '../op-lowering.js';
import { type LoweringContext, registerLowering } from '../registry.js';
import { lowerOp } from './op-layer.js';

/** Ops whose result is a list even when it holds one tensor. */
const LIST_OPS = ['split', 'unstack', 'split_sections'];

function onnxHost(ctx: LoweringContext, layer: tf.layers.Layer): TensorHost<Value> {
  const fail = (message: string): never => ctx.unsupported(layer, `its translated function: ${message}`);
  return {
    isTensor: isOnnxTensor,
    run: (call) => {
      const out = lowerOp(ctx, layer, call.op.name, `${call.what} (layer "${layer.name}")`, call.args as Map<string, OnnxOpValue>);
      return out.length !== 1 || LIST_OPS.includes(call.op.name) ? out : out[0];
    },
    int: (v, what) => {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      return fail(`${what} must be an integer known when the model is written`);
    },
    // Known sizes as numbers, unknown ones read at run time.
    shape: (v) => {
      const g = ctx.graph;
      return new PySeq(
        'tuple',
        v.shape.map((d, i) =>
          typeof d === 'number'
            ? d
            : ({ name: g.op('Cast', [g.op('Gather', [g.op('Shape', [v.name]), g.constant('int64', [i], [])], { axis: 0 })], { to: 6 }), dtype: 'int32', shape: [] } as Value),
        ),
      );
    },
    unpack: (_v, n) => fail(`cannot unpack into ${n} names`),
    fail,
  };
}

registerLowering('KerasInterop>Lambda', (ctx, call) => {
  const program = (call.layer as unknown as { program: LambdaProgram }).program;
  const host = onnxHost(ctx, call.layer);
  const inputs: PyValue<Value> = call.inputs.length === 1 ? call.inputs[0] : new PySeq('list', call.inputs);
  const out = evaluateProgram(program, host, inputs, null);
  const outputs: Value[] = isOnnxTensor(out) ? [out] : out instanceof PySeq && out.items.every(isOnnxTensor) ? (out.items as Value[]) : host.fail('the function does not return tensors');
  if (outputs.length !== call.outputShapes.length) return host.fail(`it returns ${outputs.length} tensors, the layer has ${call.outputShapes.length} outputs`);
  return { outputs: outputs.map((o, i) => ({ ...o, shape: call.outputShapes[i] })), masks: outputs.map(() => null) };
});
