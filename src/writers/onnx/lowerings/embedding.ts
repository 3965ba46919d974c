/**
 * Keras `Embedding`: rows of the embeddings matrix gathered by index; with `mask_zero` the mask is
 * `index != 0`. Float inputs holding indices are cast, as Keras casts them.
 */
import { cast } from '../ops.js';
import { registerLowering } from '../registry.js';

registerLowering('Embedding', (ctx, call) => {
  const g = ctx.graph;
  const x = call.inputs[0];
  const [embeddings] = ctx.weights(call.layer);
  const indices = x.dtype === 'int32' || x.dtype === 'int64' ? x.name : cast(g, x.name, 'int32');
  const out = { name: g.op('Gather', [embeddings.name, indices], { axis: 0 }), dtype: 'float32' as const, shape: call.outputShapes[0] };
  if (call.layer.getConfig().maskZero !== true) return { outputs: [out], masks: [null] };
  const zero = g.constant(x.dtype === 'int64' ? 'int64' : 'int32', [0], []);
  const mask = g.op('Not', [g.op('Equal', [indices, zero])]);
  return { outputs: [out], masks: [{ name: mask, dtype: 'bool', shape: x.shape }] };
});
