/**
 * Activations as ONNX ops, and the activation layers (Activation, ReLU, LeakyReLU, ELU, ThresholdedReLU,
 * Softmax, PReLU). Same table as the runtime's: normalized configs name every hard_sigmoid by its meaning,
 * `hard_sigmoid_keras2` (clip(0.2 x + 0.5, 0, 1)) or `hard_sigmoid_keras3` (relu6(x + 3) / 6), the same in
 * every layer (src/runtime/versioned-activations.ts). A bare name (a layer built outside a config) means
 * what the layer computes: Keras 3's in our layers (keras-objects.ts), tfjs's (Keras 2's) in tfjs's
 * built-in layers (Dense, Conv, Activation, ...); each caller says which it lowers.
 */
import type * as tf from '@tensorflow/tfjs';
import { type Graph, float } from '../graph.js';
import { registerLowering } from '../registry.js';

export type ActivationFlavor = 'keras3' | 'tfjs';

function normName(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** The activation's name from a config value: a string, `{className}` or Keras's `{className: 'function', config: name}`. */
export function activationName(value: unknown): string | null {
  if (value == null) return 'linear';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    const className = v.className ?? v.class_name;
    if (className === 'function' && typeof v.config === 'string') return v.config;
    if (typeof className === 'string') return className;
  }
  return null;
}

/**
 * ONNX HardSigmoid's max(0, min(1, alpha x + beta)) for a hard_sigmoid name: Keras 2's clip(0.2 x + 0.5),
 * Keras 3's relu6(x + 3) / 6 = clip(x / 6 + 0.5); a bare name as the flavor's.
 */
function hardSigmoidAttrs(name: string, flavor: ActivationFlavor): { alpha: number; beta: number } {
  const n = normName(name);
  const keras3 = n === 'hardsigmoidkeras3' || (n === 'hardsigmoid' && flavor === 'keras3');
  return { alpha: keras3 ? 1 / 6 : 0.2, beta: 0.5 };
}

/**
 * `act(x)` as nodes, or null when the activation has no lowering here (the caller reports the layer).
 * `linear` returns `x` itself.
 */
export function lowerActivation(g: Graph, value: unknown, x: string, flavor: ActivationFlavor): string | null {
  const name = activationName(value);
  if (name == null) return null;
  switch (normName(name)) {
    case 'linear':
      return x;
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'relu':
      return g.op('Relu', [x]);
    case 'relu6':
      return g.op('Clip', [x, g.scalar(0), g.scalar(6)]);
    case 'elu':
      return g.op('Elu', [x], { alpha: float(1) });
    case 'selu':
      return g.op('Selu', [x]);
    case 'softplus':
      return g.op('Softplus', [x]);
    case 'softsign':
      return g.op('Softsign', [x]);
    case 'softmax':
      return g.op('Softmax', [x], { axis: -1 });
    case 'logsoftmax':
      return g.op('LogSoftmax', [x], { axis: -1 });
    case 'exponential':
      return g.op('Exp', [x]);
    case 'hardsigmoid':
    case 'hardsigmoidkeras2':
    case 'hardsigmoidkeras3': {
      const { alpha, beta } = hardSigmoidAttrs(name, flavor);
      return g.op('HardSigmoid', [x], { alpha: float(alpha), beta: float(beta) });
    }
    case 'swish':
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    case 'gelu':
      // The exact form: Keras 3's default (approximate=False) and tfjs's 'gelu'.
      return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [g.scalar(1), g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])])])]);
    case 'gelunew': {
      // tfjs's 'gelu_new': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
      const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [g.scalar(Math.sqrt(2 / Math.PI)), g.op('Add', [x, g.op('Mul', [g.scalar(0.044715), cube])])]);
      return g.op('Mul', [g.op('Mul', [g.scalar(0.5), x]), g.op('Add', [g.scalar(1), g.op('Tanh', [inner])])]);
    }
    case 'mish':
      return g.op('Mul', [x, g.op('Tanh', [g.op('Softplus', [x])])]);
    case 'leakyrelu':
      return g.op('LeakyRelu', [x], { alpha: float(0.2) });
    default:
      return null;
  }
}

/** The names the ONNX RNN ops take for an activation (`HardSigmoid` with its alpha and beta), or null. */
export function rnnActivation(value: unknown, flavor: ActivationFlavor): { name: string; alpha?: number; beta?: number } | null {
  const name = activationName(value);
  if (name == null) return null;
  switch (normName(name)) {
    case 'sigmoid':
      return { name: 'Sigmoid' };
    case 'tanh':
      return { name: 'Tanh' };
    case 'relu':
      return { name: 'Relu' };
    case 'softsign':
      return { name: 'Softsign' };
    case 'softplus':
      return { name: 'Softplus' };
    case 'elu':
      return { name: 'Elu', alpha: 1 };
    case 'linear':
      return { name: 'Affine', alpha: 1, beta: 0 };
    case 'hardsigmoid':
    case 'hardsigmoidkeras2':
    case 'hardsigmoidkeras3':
      return { name: 'HardSigmoid', ...hardSigmoidAttrs(name, flavor) };
    default:
      return null;
  }
}

function config(layer: tf.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

registerLowering('Activation', (ctx, call) => {
  const y = lowerActivation(ctx.graph, config(call.layer).activation, call.inputs[0].name, 'tfjs');
  if (y == null) return ctx.unsupported(call.layer, `activation ${JSON.stringify(config(call.layer).activation)} has no ONNX lowering`);
  return { outputs: [{ ...call.inputs[0], name: y }] };
});

registerLowering('ReLU', (ctx, call) => {
  const c = config(call.layer);
  const g = ctx.graph;
  const x = call.inputs[0].name;
  // tfjs's ReLU layer takes only maxValue; Keras's negative_slope and threshold would not have built.
  const maxValue = typeof c.maxValue === 'number' ? c.maxValue : null;
  const y = maxValue == null ? g.op('Relu', [x]) : g.op('Clip', [x, g.scalar(0), g.scalar(maxValue)]);
  return { outputs: [{ ...call.inputs[0], name: y }] };
});

registerLowering('LeakyReLU', (ctx, call) => {
  const alpha = Number(config(call.layer).alpha ?? 0.3);
  return { outputs: [{ ...call.inputs[0], name: ctx.graph.op('LeakyRelu', [call.inputs[0].name], { alpha: float(alpha) }) }] };
});

registerLowering('ELU', (ctx, call) => {
  const alpha = Number(config(call.layer).alpha ?? 1);
  return { outputs: [{ ...call.inputs[0], name: ctx.graph.op('Elu', [call.inputs[0].name], { alpha: float(alpha) }) }] };
});

registerLowering('ThresholdedReLU', (ctx, call) => {
  const theta = Number(config(call.layer).theta ?? 1);
  return { outputs: [{ ...call.inputs[0], name: ctx.graph.op('ThresholdedRelu', [call.inputs[0].name], { alpha: float(theta) }) }] };
});

registerLowering('Softmax', (ctx, call) => {
  const axis = config(call.layer).axis;
  const axes = Array.isArray(axis) ? axis : [axis ?? -1];
  if (axes.length !== 1 || typeof axes[0] !== 'number') return ctx.unsupported(call.layer, `softmax over axes ${JSON.stringify(axis)}`);
  return { outputs: [{ ...call.inputs[0], name: ctx.graph.op('Softmax', [call.inputs[0].name], { axis: axes[0] as number }) }] };
});

registerLowering('PReLU', (ctx, call) => {
  // alpha has the input's shape without the batch (shared axes as 1): it broadcasts as it is.
  const [alpha] = ctx.weights(call.layer);
  return { outputs: [{ ...call.inputs[0], name: ctx.graph.op('PRelu', [call.inputs[0].name, alpha.name]) }] };
});
