/**
 * Keras `Masking`: a step is masked when every feature equals `mask_value`; masked steps are zeroed
 * (`x * any(x != mask_value)`), and the mask is passed on.
 */
import { cast, unsqueeze } from '../ops.js';
import { registerLowering } from '../registry.js';

registerLowering('Masking', (ctx, call) => {
  const g = ctx.graph;
  const x = call.inputs[0];
  const maskValue = Number(call.layer.getConfig().maskValue ?? 0);
  const differs = cast(g, g.op('Not', [g.op('Equal', [x.name, g.scalar(maskValue)])]), 'float32');
  const keep = g.op('ReduceMax', [differs], { axes: [-1], keepdims: 0 });
  const out = g.op('Mul', [x.name, unsqueeze(g, keep, [-1])]);
  const mask = cast(g, keep, 'bool');
  return { outputs: [{ ...x, name: out, shape: call.outputShapes[0] }], masks: [{ name: mask, dtype: 'bool', shape: x.shape.slice(0, -1) }] };
});
