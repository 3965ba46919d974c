/**
 * The op table's ONNX lowerings (src/writers/onnx/op-lowerings) against the tfjs table (src/runtime/ops): each case
 * binds one call with `bindOp`, runs it on tfjs tensors and, lowered into a one-op graph whose inputs have a
 * symbolic batch axis, on onnxruntime-node; both must agree in shape, dtype class and values. Every op of
 * the table has a case, so an op added there without a lowering (or without a case here) fails the list
 * check.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatParts } from '../../src/writers/parts.js';
import { Graph, type Value } from '../../src/writers/onnx/graph.js';
import { OnnxOpArgs, findOpLowering, loweredOps } from '../../src/writers/onnx/op-lowering.js';
import '../../src/writers/onnx/op-lowerings/all.js';
import { OPSET } from '../../src/writers/onnx/proto.js';
import { serializeOnnx } from '../../src/writers/onnx/serialize.js';
import { useBackend } from '../../src/runtime/backend.js';
import type { InputArray } from '../../src/runtime/build.js';
import { bindOp, listOps, runOp } from '../../src/runtime/ops/table.js';
import { ELLIPSIS, type OpValue, mapTensors, pySlice } from '../../src/runtime/ops/values.js';
import { runOrtNode, worstExcess } from './helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** The i-th input of a case, where an argument takes a tensor. */
class In {
  constructor(readonly i: number) {}
}
const isIn = (x: unknown): x is In => x instanceof In;
const X = new In(0);
const Y = new In(1);

type Arg = OpValue<In>;

interface Case {
  op: string;
  args: Arg[];
  kw?: Record<string, Arg>;
  inputs: InputArray[];
  /** Extra label when an op has several cases. */
  label?: string;
  /**
   * The tfjs table gives an int32 tensor where TensorFlow (and the lowering) give float32: tfjs's
   * floorDiv is int32 whatever its operands.
   */
  tfjsInt?: boolean;
}

function seq(shape: number[], f: (k: number) => number): InputArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, k) => f(k)) };
}
function ints(shape: number[], f: (k: number) => number): InputArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'int32', shape, data: Int32Array.from({ length: n }, (_, k) => f(k)) };
}
function bools(shape: number[], f: (k: number) => boolean): InputArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'bool', shape, data: Uint8Array.from({ length: n }, (_, k) => (f(k) ? 1 : 0)) } as unknown as InputArray;
}

const F = seq([2, 3, 4], (k) => 2 * Math.sin(k + 1));
const F2 = seq([2, 3, 4], (k) => Math.cos(3 * k));
const POS = seq([2, 3, 4], (k) => 0.2 + Math.abs(Math.sin(k)) * 3);
const UNIT = seq([2, 3, 4], (k) => 0.9 * Math.sin(k));
const BIG = seq([2, 3, 4], (k) => 1.1 + Math.abs(Math.sin(k)) * 3);
const I = ints([2, 3, 4], (k) => ((k * 7) % 11) - 5);
const INZ = ints([2, 3, 4], (k) => (((k * 5) % 7) - 3 || 2));
const B = bools([2, 3, 4], (k) => k % 3 === 0);
const B2 = bools([2, 3, 4], (k) => k % 2 === 0);
const M = seq([2, 4, 5], (k) => Math.sin(2 * k));
const C = (value: unknown): Arg => ({ kind: 'array', value }) as never;

const unaryOps: [string, InputArray][] = [
  ['abs', F], ['acos', UNIT], ['acosh', BIG], ['asin', UNIT], ['asinh', F], ['atan', F], ['atanh', UNIT], ['ceil', F], ['cos', F],
  ['cosh', F], ['elu', F], ['erf', F], ['exp', F], ['expm1', F], ['floor', F], ['gelu', F], ['hard_sigmoid', seq([2, 3, 4], (k) => 4 * Math.sin(k))], ['hard_sigmoid_keras2', seq([2, 3, 4], (k) => 4 * Math.sin(k))], ['identity', F],
  ['is_finite', F], ['is_inf', F], ['is_nan', F], ['leaky_relu', F], ['log', POS], ['log1p', POS], ['log_sigmoid', F], ['log_softmax', F],
  ['logical_not', B], ['negative', I], ['reciprocal', POS], ['relu', F], ['relu6', seq([2, 3, 4], (k) => 4 * Math.sin(k))], ['round', seq([2, 3, 4], (k) => k / 4 - 2.9)],
  ['rsqrt', POS], ['selu', F], ['sigmoid', F], ['sign', F], ['silu', F], ['sin', F], ['sinh', F], ['softmax', F], ['softplus', F],
  ['softsign', F], ['sqrt', POS], ['square', I], ['tan', UNIT], ['tanh', F], ['zeros_like', F], ['ones_like', I],
];
const binaryOps: [string, InputArray, InputArray][] = [
  ['add', F, F2], ['subtract', I, INZ], ['multiply', F, F2], ['divide', F, POS], ['divide_no_nan', F, seq([2, 3, 4], (k) => (k % 4 === 0 ? 0 : k))],
  ['equal', I, INZ], ['not_equal', I, INZ], ['greater', F, F2], ['greater_equal', I, INZ], ['less', F, F2], ['less_equal', I, INZ],
  ['maximum', F, F2], ['minimum', I, INZ], ['pow', POS, F2], ['squared_difference', F, F2], ['floor_divide', I, INZ], ['floor_mod', I, INZ],
  ['logical_and', B, B2], ['logical_or', B, B2], ['logical_xor', B, B2],
];

const CASES: Case[] = [
  ...unaryOps.map(([op, x]): Case => ({ op, args: [X], inputs: [x] })),
  ...binaryOps.map(([op, x, y]): Case => ({ op, args: [X, Y], inputs: [x, y] })),
  { op: 'atan2', args: [X, Y], inputs: [F, seq([2, 3, 4], (k) => (k % 5) - 2)] },
  { op: 'floor_mod', label: 'floats', args: [X, Y], inputs: [F, seq([2, 3, 4], (k) => (k % 2 ? 0.7 : -1.3))] },
  { op: 'floor_divide', label: 'floats', args: [X, 0.6], inputs: [F], tfjsInt: true },
  { op: 'add', label: 'a Python float', args: [X, 0.5], inputs: [F] },
  { op: 'add', label: 'int tensor + float tensor', args: [X, Y], inputs: [I, F] },
  { op: 'add_n', args: [[X, Y, X]], inputs: [F, F2] },
  { op: 'bias_add', args: [X, C([1, -2, 3, 0.5])], inputs: [F] },
  { op: 'bias_add', label: 'NCW', args: [X, C([1, -2, 3])], kw: { data_format: 'NCW' }, inputs: [F] },
  { op: 'where', args: [X, Y, 0], inputs: [B, F] },
  { op: 'clip', args: [X, -0.5, 1], inputs: [F] },
  { op: 'cast', args: [X, 'int32'], inputs: [F] },
  { op: 'cast', label: 'to bool', args: [X, 'bool'], inputs: [I] },
  { op: 'silu', label: 'beta', args: [X, 1.7], inputs: [F] },
  { op: 'gelu', label: 'approximate', args: [X, true], inputs: [F] },
  { op: 'elu', label: 'alpha', args: [X, 0.3], inputs: [F] },
  { op: 'softmax', label: 'axis 1', args: [X, 1], inputs: [F] },
  { op: 'log_softmax', label: 'axis 0', args: [X, 0], inputs: [F] },
  { op: 'l2_normalize', args: [X, -1], inputs: [F] },
  { op: 'l2_normalize', label: 'all axes', args: [X], inputs: [F] },
  ...['reduce_sum', 'reduce_mean', 'reduce_max', 'reduce_min', 'reduce_prod', 'reduce_std', 'reduce_variance', 'reduce_logsumexp'].flatMap((op): Case[] => [
    { op, args: [X, 1], inputs: [F] },
    { op, label: 'keepdims, two axes', args: [X, [0, -1], true], inputs: [F] },
    { op, label: 'all axes', args: [X], inputs: [F] },
  ]),
  { op: 'reduce_all', args: [X, -1], inputs: [B] },
  { op: 'reduce_any', args: [X, 1, true], inputs: [B] },
  { op: 'argmax', args: [X, -1], inputs: [F] },
  { op: 'argmin', args: [X, 1], inputs: [F] },
  { op: 'cumsum', args: [X, 1], inputs: [F] },
  { op: 'cumsum', label: 'exclusive reverse', args: [X, -1, true, true], inputs: [F] },
  { op: 'cumprod', args: [X, 2], inputs: [F] },
  { op: 'cumprod', label: 'exclusive reverse', args: [X, 1, true, true], inputs: [F] },
  { op: 'concat', args: [[X, Y], -1], inputs: [F, F2] },
  { op: 'stack', args: [[X, Y], 1], inputs: [F, F2] },
  { op: 'unstack', args: [X], kw: { axis: 1 }, inputs: [F] },
  { op: 'split', args: [X, 2, -1], inputs: [F] },
  { op: 'split', label: 'sizes', args: [X, [1, 3], 2], inputs: [F] },
  { op: 'split_sections', args: [X, [1], 1], inputs: [F] },
  { op: 'reshape', args: [X, [-1, 12]], inputs: [F] },
  { op: 'transpose', args: [X, [0, 2, 1]], inputs: [F] },
  { op: 'transpose', label: 'reversed', args: [X], inputs: [F] },
  { op: 'swapaxes', args: [X, 1, 2], inputs: [F] },
  { op: 'moveaxis', args: [X, 0, -1], inputs: [F] },
  { op: 'expand_dims', args: [X, -1], inputs: [F] },
  { op: 'squeeze', args: [X, 1], inputs: [seq([2, 1, 4], (k) => k)] },
  { op: 'broadcast_to', args: [X, [2, 3, 4]], inputs: [seq([2, 1, 4], (k) => k)] },
  { op: 'tile', args: [X, [1, 2, 1]], inputs: [F] },
  { op: 'repeat', args: [X, 2, 1], inputs: [F] },
  { op: 'repeat_vector', args: [X, 3], inputs: [seq([2, 4], (k) => k)] },
  { op: 'reverse', args: [X, [1]], inputs: [F] },
  { op: 'pad', args: [X, [[0, 0], [1, 2], [0, 1]]], inputs: [F] },
  { op: 'pad', label: 'reflect', args: [X, [[0, 0], [1, 1], [2, 0]], 'REFLECT'], inputs: [F] },
  { op: 'shape', args: [X], inputs: [F] },
  { op: 'range', args: [1, 7, 2], inputs: [] },
  { op: 'range', label: 'floats', args: [0, 1, 0.25], inputs: [] },
  { op: 'one_hot', args: [X, 5], inputs: [ints([2, 3], (k) => k % 6)] },
  { op: 'gather', args: [X, Y], kw: { axis: 1 }, inputs: [F, ints([2], (k) => 2 - k)] },
  { op: 'take', args: [X, C([3, 0])], kw: { axis: -1 }, inputs: [F] },
  { op: 'getitem', args: [X, [pySlice(null, null, null), -1]], inputs: [F] },
  { op: 'getitem', label: 'steps, Ellipsis, None', args: [X, [ELLIPSIS, null, pySlice(null, null, -2)]], inputs: [F] },
  { op: 'getitem', label: 'clamped bounds', args: [X, [pySlice(null, null, null), pySlice(-10, 2, null), pySlice(3, 0, -2)]], inputs: [F] },
  { op: 'matmul', args: [X, Y], inputs: [F, M] },
  { op: 'matmul', label: 'transpose_b', args: [X, Y], kw: { transpose_b: true }, inputs: [F, F2] },
  { op: 'dot', args: [X, Y], inputs: [F, M] },
  { op: 'batch_dot', args: [X, Y, [2, 1]], inputs: [F, M] },
  { op: 'einsum', args: ['bij,bjk->bik', X, Y], inputs: [F, M] },
];

function feed(i: number, a: InputArray): Value {
  const dtype = (a.dtype as string) === 'bool' ? 'bool' : a.dtype === 'int32' ? 'int32' : 'float32';
  return { name: `in_${i}`, dtype, shape: ['batch', ...a.shape.slice(1)] };
}

function tfInput(a: InputArray): tf.Tensor {
  if ((a.dtype as string) === 'bool') return tf.tensor(Array.from(a.data as Uint8Array), a.shape, 'bool');
  return tf.tensor(a.data as Float32Array, a.shape, a.dtype as 'float32');
}

async function compare(c: Case): Promise<void> {
  // tfjs
  const tensors = c.inputs.map(tfInput);
  const mapT = (v: Arg) => mapTensors(v, isIn, (t) => tensors[t.i] as never) as OpValue<tf.Tensor>;
  const call = bindOp<tf.Tensor>(c.op, c.args.map(mapT), Object.fromEntries(Object.entries(c.kw ?? {}).map(([k, v]) => [k, mapT(v)])));
  const got = runOp(call);
  const want = (Array.isArray(got) ? got : [got]).map((t) => ({ shape: t.shape, dtype: t.dtype, data: Array.from(t.dataSync() as ArrayLike<number>) }));
  // ONNX
  const g = new Graph('op');
  const values = c.inputs.map((a, i) => feed(i, a));
  g.inputs.push(...values);
  const mapV = (v: Arg) => mapTensors(v, isIn, (t) => values[t.i] as never) as OpValue<Value>;
  const bound = bindOp<Value>(c.op, c.args.map(mapV), Object.fromEntries(Object.entries(c.kw ?? {}).map(([k, v]) => [k, mapV(v)])));
  const lowering = findOpLowering(bound.op.name);
  expect(lowering, `${c.op} has an ONNX lowering`).toBeDefined();
  const out = lowering!(new OnnxOpArgs(g, c.op, bound.args));
  const outs = Array.isArray(out) ? out : [out];
  outs.forEach((o, j) => {
    const name = g.op('Identity', [o.name]);
    g.outputs.push({ ...o, name, shape: o.shape.map((_, k) => `out${j}_${k}`) });
  });
  const bytes = concatParts(serializeOnnx(g, { producerVersion: 'test', opsets: [{ domain: '', version: OPSET }], externalData: 'inline' }).model);
  const ort = await runOrtNode(bytes, c.inputs);
  expect(ort.length).toBe(want.length);
  ort.forEach((o, j) => {
    expect(o.shape, `output ${j} shape`).toEqual(want[j].shape);
    expect(outs[j].dtype === 'float32', `output ${j} float or not`).toBe(want[j].dtype === 'float32' || c.tfjsInt === true);
    expect(worstExcess(o, { shape: want[j].shape, data: want[j].data }, 1e-5, 1e-4), `output ${j} values`).toBeLessThanOrEqual(0);
  });
  tf.dispose([...tensors, ...(Array.isArray(got) ? got : [got])]);
}

describe('op lowerings agree with the tfjs op table', () => {
  it('every op of the table has a lowering and a case here', () => {
    const table = listOps().map((o) => o.name);
    expect(loweredOps()).toEqual(table);
    const tested = new Set(CASES.map((c) => c.op));
    expect(table.filter((op) => !tested.has(op))).toEqual([]);
  });

  for (const c of CASES) {
    it(`${c.op}${c.label ? ` (${c.label})` : ''}`, () => compare(c));
  }
});

describe('constants in the ONNX export', () => {
  it('a rectangular list becomes an initializer of its shape; a ragged one is refused (UNSUPPORTED_OP)', () => {
    const g = new Graph('op');
    const x: Value = { name: 'x', dtype: 'float32', shape: ['batch', 2] };
    g.inputs.push(x);
    const args = (y: OpValue<Value>) => new OnnxOpArgs(g, 'add', bindOp<Value>('add', [x, y]).args);
    expect(args({ kind: 'array', value: [[1, 2], [3, 4]] }).tensor('y').shape).toEqual([2, 2]);
    for (const ragged of [{ kind: 'array', value: [[1, 2], true] } as const, [[1, 2], [3]]]) {
      let code: string | undefined;
      try {
        args(ragged as OpValue<Value>).tensor('y');
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code).toBe('UNSUPPORTED_OP');
    }
  });
});
