/**
 * Convolutions: Conv1D/2D/3D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D as ONNX Conv /
 * ConvTranspose on channels-first data (channels_last inputs transposed in and out), kernels rearranged
 * into ONNX's (out, in, spatial...) layout when written. `same` padding is TensorFlow's (the extra cell at
 * the end: SAME_UPPER; spelled out as pads with dilations, which onnxruntime needs).
 */
import type * as tf from '@tensorflow/tfjs';
import { transpose } from '../ops.js';
import { type LayerCall, type LoweringContext, registerLowering } from '../registry.js';
import { lowerActivation } from './activations.js';
import { isChannelsFirst, perAxis } from './config.js';

/** Values of a row-major tensor of `shape`, transposed by `perm`. */
export function transposeValues(values: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= shape[i], i--) inStrides[i] = s;
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += index[i] * strides[i];
    out[o] = values[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < outShape[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

interface ConvSetup {
  spatial: number;
  first: boolean;
  input: string;
  attrs: Record<string, number[] | string | number>;
  kernelSize: number[];
}

function setup(ctx: LoweringContext, call: LayerCall, spatial: number): ConvSetup {
  const g = ctx.graph;
  const c = call.layer.getConfig();
  const x = call.inputs[0];
  const rank = spatial + 2;
  const first = isChannelsFirst(c.dataFormat);
  const kernelSize = perAxis(c.kernelSize, spatial);
  const dilations = perAxis(c.dilationRate, spatial);
  const attrs: Record<string, number[] | string | number> = { kernel_shape: kernelSize, strides: perAxis(c.strides, spatial), dilations };
  const strides = attrs.strides as number[];
  if (c.padding === 'valid') attrs.auto_pad = 'VALID';
  else if (c.padding === 'same' && dilations.every((d) => d === 1)) attrs.auto_pad = 'SAME_UPPER';
  else if (c.padding === 'same') {
    // onnxruntime takes no SAME auto-padding with dilations: TensorFlow's padding, spelled out.
    const sizes = first ? x.shape.slice(2) : x.shape.slice(1, -1);
    if (!sizes.every((d) => typeof d === 'number')) return ctx.unsupported(call.layer, "'same' padding with dilations on inputs of unknown size");
    const totals = (sizes as number[]).map((n, i) => Math.max((Math.ceil(n / strides[i]) - 1) * strides[i] + (kernelSize[i] - 1) * dilations[i] + 1 - n, 0));
    attrs.pads = [...totals.map((t) => Math.floor(t / 2)), ...totals.map((t) => t - Math.floor(t / 2))];
  } else return ctx.unsupported(call.layer, `padding ${JSON.stringify(c.padding)}`);
  const input = first ? x.name : transpose(g, x.name, [0, rank - 1, ...Array.from({ length: spatial }, (_, i) => i + 1)]);
  return { spatial, first, input, attrs, kernelSize };
}

function finish(ctx: LoweringContext, call: LayerCall, s: ConvSetup, y: string) {
  const g = ctx.graph;
  const back = s.first ? y : transpose(g, y, [0, ...Array.from({ length: s.spatial }, (_, i) => i + 2), 1]);
  const activation = call.layer.getConfig().activation;
  const out = lowerActivation(g, activation, back, 'tfjs');
  if (out == null) return ctx.unsupported(call.layer, `activation ${JSON.stringify(activation)} has no ONNX lowering`);
  return { outputs: [{ name: out, dtype: 'float32' as const, shape: call.outputShapes[0] }] };
}

/** The kernel (spatial..., in, out) as ONNX's (out, in, spatial...). */
function convKernel(ctx: LoweringContext, layer: tf.layers.Layer, index: number, shape: number[]) {
  const spatial = shape.length - 2;
  const perm = [spatial + 1, spatial, ...Array.from({ length: spatial }, (_, i) => i)];
  return ctx.weight(layer, index, { dims: perm.map((p) => shape[p]), transform: (v) => transposeValues(v, shape, perm), suffix: 'onnx' });
}

function conv(spatial: number) {
  return (ctx: LoweringContext, call: LayerCall) => {
    const s = setup(ctx, call, spatial);
    const c = call.layer.getConfig();
    const weights = call.layer.weights;
    const kernel = convKernel(ctx, call.layer, 0, weights[0].shape as number[]);
    const inputs = [s.input, kernel.name];
    if (c.useBias !== false && weights.length > 1) inputs.push(ctx.weight(call.layer, 1).name);
    return finish(ctx, call, s, ctx.graph.op('Conv', inputs, s.attrs));
  };
}

registerLowering('Conv1D', conv(1));
registerLowering('Conv2D', conv(2));
registerLowering('Conv3D', conv(3));

registerLowering('Conv2DTranspose', (ctx, call) => {
  const s = setup(ctx, call, 2);
  const c = call.layer.getConfig();
  const shape = call.layer.weights[0].shape as number[];
  // Keras (kh, kw, out, in) → ONNX ConvTranspose (in, out, kh, kw).
  const perm = [3, 2, 0, 1];
  const kernel = ctx.weight(call.layer, 0, { dims: perm.map((p) => shape[p]), transform: (v) => transposeValues(v, shape, perm), suffix: 'onnx' });
  if (c.outputPadding != null) return ctx.unsupported(call.layer, 'output_padding');
  const inputs = [s.input, kernel.name];
  if (c.useBias !== false && call.layer.weights.length > 1) inputs.push(ctx.weight(call.layer, 1).name);
  return finish(ctx, call, s, ctx.graph.op('ConvTranspose', inputs, s.attrs));
});

/** Depthwise kernel (kh, kw, in, m) → grouped-conv weight (in·m, 1, kh, kw), output channel c·m + j. */
function depthwiseKernel(ctx: LoweringContext, layer: tf.layers.Layer, index: number) {
  const [kh, kw, cin, m] = layer.weights[index].shape as number[];
  return ctx.weight(layer, index, { dims: [cin * m, 1, kh, kw], transform: (v) => transposeValues(v, [kh, kw, cin, m], [2, 3, 0, 1]), suffix: 'onnx' });
}

registerLowering('DepthwiseConv2D', (ctx, call) => {
  const s = setup(ctx, call, 2);
  const c = call.layer.getConfig();
  const cin = call.layer.weights[0].shape[2] as number;
  const inputs = [s.input, depthwiseKernel(ctx, call.layer, 0).name];
  if (c.useBias !== false && call.layer.weights.length > 1) inputs.push(ctx.weight(call.layer, 1).name);
  return finish(ctx, call, s, ctx.graph.op('Conv', inputs, { ...s.attrs, group: cin }));
});

registerLowering('SeparableConv2D', (ctx, call) => {
  const s = setup(ctx, call, 2);
  const c = call.layer.getConfig();
  const cin = call.layer.weights[0].shape[2] as number;
  const depthwise = ctx.graph.op('Conv', [s.input, depthwiseKernel(ctx, call.layer, 0).name], { ...s.attrs, group: cin });
  const pointwise = convKernel(ctx, call.layer, 1, call.layer.weights[1].shape as number[]);
  const inputs = [depthwise, pointwise.name];
  if (c.useBias !== false && call.layer.weights.length > 2) inputs.push(ctx.weight(call.layer, 2).name);
  return finish(ctx, call, s, ctx.graph.op('Conv', inputs, { kernel_shape: [1, 1] }));
});
