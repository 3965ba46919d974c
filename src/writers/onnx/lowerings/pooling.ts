/**
 * Pooling: Max/AveragePooling 1D-3D as ONNX MaxPool/AveragePool on channels-first data (Keras's
 * channels_last inputs are transposed in and out), `same` padding as TensorFlow pads (the extra cell at
 * the end: SAME_UPPER; averages leave padding out), and global pooling as reductions. Keras's global 1-D
 * average with a mask averages the kept steps only.
 */
import type { Value } from '../graph.js';
import { maskAsFloat, transpose, unsqueeze } from '../ops.js';
import { type LayerCall, type LoweringContext, registerLowering } from '../registry.js';
import { isChannelsFirst, perAxis } from './config.js';

function pool(op: 'MaxPool' | 'AveragePool', spatial: number) {
  return (ctx: LoweringContext, call: LayerCall) => {
    const g = ctx.graph;
    const config = call.layer.getConfig();
    const x = call.inputs[0];
    const rank = spatial + 2;
    // tfjs's 1-D pooling reads channels_last only (it has no data_format).
    const first = spatial > 1 && isChannelsFirst(config.dataFormat);
    const toFirst = [0, rank - 1, ...Array.from({ length: spatial }, (_, i) => i + 1)];
    const toLast = [0, ...Array.from({ length: spatial }, (_, i) => i + 2), 1];
    const padding = config.padding === 'same' ? 'SAME_UPPER' : config.padding === 'valid' ? 'VALID' : null;
    if (padding == null) return ctx.unsupported(call.layer, `padding ${JSON.stringify(config.padding)}`);
    const input = first ? x.name : transpose(g, x.name, toFirst);
    const pooled = g.op(op, [input], { kernel_shape: perAxis(config.poolSize, spatial), strides: perAxis(config.strides ?? config.poolSize, spatial), auto_pad: padding });
    const out = first ? pooled : transpose(g, pooled, toLast);
    return { outputs: [{ ...x, name: out, shape: call.outputShapes[0] }] };
  };
}

registerLowering('MaxPooling1D', pool('MaxPool', 1));
registerLowering('MaxPooling2D', pool('MaxPool', 2));
registerLowering('MaxPooling3D', pool('MaxPool', 3));
registerLowering('AveragePooling1D', pool('AveragePool', 1));
registerLowering('AveragePooling2D', pool('AveragePool', 2));
registerLowering('AveragePooling3D', pool('AveragePool', 3));

function globalPool(op: 'ReduceMean' | 'ReduceMax', spatial: number) {
  return (ctx: LoweringContext, call: LayerCall) => {
    const g = ctx.graph;
    const config = call.layer.getConfig();
    const x = call.inputs[0];
    const first = isChannelsFirst(config.dataFormat);
    const axes = Array.from({ length: spatial }, (_, i) => (first ? i + 2 : i + 1));
    const keepdims = config.keepdims === true ? 1 : 0;
    const mask = spatial === 1 && op === 'ReduceMean' ? call.masks[0] : null;
    let y: string;
    if (mask != null) {
      // Keras: sum(x * mask) / sum(mask) over the steps.
      const m = unsqueeze(g, maskAsFloat(g, mask), [first ? 1 : 2]);
      const num = g.op('ReduceSum', [g.op('Mul', [x.name, m]), g.ints(axes)], { keepdims });
      const den = g.op('ReduceSum', [m, g.ints(axes)], { keepdims });
      y = g.op('Div', [num, den]);
    } else {
      y = g.op(op, [x.name], { axes, keepdims });
    }
    const out: Value = { ...x, name: y, shape: call.outputShapes[0] };
    return { outputs: [out], masks: [null] };
  };
}

registerLowering('GlobalAveragePooling1D', globalPool('ReduceMean', 1));
registerLowering('GlobalMaxPooling1D', globalPool('ReduceMax', 1));
registerLowering('GlobalAveragePooling2D', globalPool('ReduceMean', 2));
registerLowering('GlobalMaxPooling2D', globalPool('ReduceMax', 2));
