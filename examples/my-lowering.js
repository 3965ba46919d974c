// my-lowering.js: the ONNX lowering of my-layers.js's SimpleAttention, so that `convert --to onnx` writes
// it and the onnxruntime backend runs it (`--layers ./my-layers.js,./my-lowering.js`).
import { registerLowering } from 'keras-interop';

// e = tanh(x·W + b) per step, a = softmax over the steps, output Σ a·x: the layer's call() in ONNX nodes.
registerLowering('SimpleAttention', (ctx, call) => {
  const g = ctx.graph;
  const x = call.inputs[0]; // { name, dtype, shape }: (batch, steps, features)
  const [w, b] = ctx.weights(call.layer); // att_weight (features, 1), att_bias (steps, 1), as build() made them
  const e = g.op('Tanh', [g.op('Add', [g.op('MatMul', [x.name, w.name]), b.name])]); // (batch, steps, 1)
  const a = g.op('Softmax', [e], { axis: 1 });
  const y = g.op('ReduceSum', [g.op('Mul', [x.name, a]), g.ints([1])], { keepdims: 0 });
  return { outputs: [{ name: y, dtype: 'float32', shape: call.outputShapes[0] }] };
});
