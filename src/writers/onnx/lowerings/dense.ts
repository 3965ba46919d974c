/** Keras `Dense`: `act(x · kernel + bias)` over the last axis (MatMul broadcasts over the leading ones). */
import { project } from '../ops.js';
import { registerLowering } from '../registry.js';
import { lowerActivation } from './activations.js';

registerLowering('Dense', (ctx, call) => {
  const config = call.layer.getConfig();
  const [kernel, bias] = ctx.weights(call.layer);
  const y = project(ctx.graph, call.inputs[0].name, kernel.name, config.useBias === false ? null : bias?.name);
  const out = lowerActivation(ctx.graph, config.activation, y, 'tfjs');
  if (out == null) return ctx.unsupported(call.layer, `activation ${JSON.stringify(config.activation)} has no ONNX lowering`);
  return { outputs: [{ name: out, dtype: 'float32', shape: call.outputShapes[0] }] };
});
