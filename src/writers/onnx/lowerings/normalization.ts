/**
 * BatchNormalization (inference: the moving statistics) and LayerNormalization. LayerNormalization over
 * the trailing axes is ONNX's own LayerNormalization op (opset 17, one fused kernel in onnxruntime); over
 * other axes it is spelled out with the runtime's arithmetic: (x - mean) / sqrt(var + eps) * gamma + beta.
 */
import type { Dim, Graph, Value } from '../graph.js';
import { float } from '../graph.js';
import { reshape } from '../ops.js';
import { registerLowering } from '../registry.js';

function axesOf(axis: unknown, rank: number): number[] | null {
  const list = Array.isArray(axis) ? axis : [axis];
  if (!list.every((a) => typeof a === 'number')) return null;
  return (list as number[]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** A per-channel parameter reshaped to broadcast against an input of `rank` along `axes`. */
function broadcastable(g: Graph, param: Value, inputShape: Dim[], axes: number[]): string {
  if (axes.length === 1 && axes[0] === inputShape.length - 1 && param.shape.length === 1) return param.name;
  return reshape(g, param.name, inputShape.map((d, i) => (axes.includes(i) ? (d as number) : 1)));
}

registerLowering('BatchNormalization', (ctx, call) => {
  const g = ctx.graph;
  const config = call.layer.getConfig();
  const x = call.inputs[0];
  const axes = axesOf(config.axis ?? -1, x.shape.length);
  if (axes == null || axes.some((a) => typeof x.shape[a] !== 'number')) return ctx.unsupported(call.layer, `axis ${JSON.stringify(config.axis)}`);
  const weights = ctx.weights(call.layer);
  let i = 0;
  const gamma = config.scale !== false ? weights[i++] : null;
  const beta = config.center !== false ? weights[i++] : null;
  const [mean, variance] = [weights[i], weights[i + 1]];
  const at = (p: Value) => broadcastable(g, p, x.shape, axes);
  // tfjs's batchNorm: (x - mean) * gamma / sqrt(var + eps) + beta.
  const inv = g.op('Div', [gamma ? at(gamma) : g.scalar(1), g.op('Sqrt', [g.op('Add', [at(variance), g.scalar(Number(config.epsilon ?? 1e-3))])])]);
  let y = g.op('Mul', [g.op('Sub', [x.name, at(mean)]), inv]);
  if (beta) y = g.op('Add', [y, at(beta)]);
  return { outputs: [{ ...x, name: y, shape: call.outputShapes[0] }] };
});

registerLowering('LayerNormalization', (ctx, call) => {
  const g = ctx.graph;
  const config = call.layer.getConfig();
  const x = call.inputs[0];
  const rank = x.shape.length;
  const axes = axesOf(config.axis ?? -1, rank);
  if (axes == null || axes.some((a) => typeof x.shape[a] !== 'number')) return ctx.unsupported(call.layer, `axis ${JSON.stringify(config.axis)}`);
  const weights = ctx.weights(call.layer);
  let i = 0;
  const gamma = config.scale !== false ? weights[i++] : null;
  const beta = config.center !== false ? weights[i++] : null;
  const epsilon = Number(config.epsilon ?? 1e-3);
  const normShape = axes.map((a) => x.shape[a] as number);
  const trailing = axes.every((a, k) => a === rank - axes.length + k);
  if (trailing) {
    const scale = gamma ? (gamma.shape.length === axes.length ? gamma.name : reshape(g, gamma.name, normShape)) : g.constant('float32', new Array(normShape.reduce((a, b) => a * b, 1)).fill(1), normShape);
    const inputs = [x.name, scale];
    if (beta) inputs.push(beta.shape.length === axes.length ? beta.name : reshape(g, beta.name, normShape));
    const y = g.op('LayerNormalization', inputs, { axis: axes[0], epsilon: float(epsilon) });
    return { outputs: [{ ...x, name: y, shape: call.outputShapes[0] }] };
  }
  const mean = g.op('ReduceMean', [x.name], { axes, keepdims: 1 });
  const centered = g.op('Sub', [x.name, mean]);
  const variance = g.op('ReduceMean', [g.op('Mul', [centered, centered])], { axes, keepdims: 1 });
  let y = g.op('Mul', [centered, g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.scalar(epsilon)])])])]);
  if (gamma) y = g.op('Mul', [y, broadcastable(g, gamma, x.shape, axes)]);
  if (beta) y = g.op('Add', [y, broadcastable(g, beta, x.shape, axes)]);
  return { outputs: [{ ...x, name: y, shape: call.outputShapes[0] }] };
});
