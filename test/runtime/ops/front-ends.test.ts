/**
 * The front-ends over the op table: how TFOpLambda / SlicingOpLambda nodes (tf.keras 2) and Keras 3
 * operation nodes bind onto canonical ops, how they are written back, the op-vs-layer rule, and the
 * errors for what the table lacks; then whole models in both dialects, run against hand-computed values.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { KerasInteropError } from '../../../src/errors.js';
import type { JsonObject, JsonValue, KerasModel } from '../../../src/model/types.js';
import { useBackend } from '../../../src/runtime/backend.js';
import { buildModel, predict } from '../../../src/runtime/build.js';
import { keras3TensorRef } from '../../../src/runtime/config-walk.js';
import { decodeKeras3Operation, encodeKeras3Operation } from '../../../src/runtime/ops/keras3-node.js';
import { KERAS3_OPS } from '../../../src/runtime/ops/keras3-ops.js';
import { type InputSlot, isInputSlot } from '../../../src/runtime/ops/op-layer-config.js';
import { isKeras3Operation } from '../../../src/runtime/ops/operation-node.js';
import { addAliases, bindCall, registerOp } from '../../../src/runtime/ops/table.js';
import { TF_FUNCTIONS } from '../../../src/runtime/ops/tf-functions.js';
import { decodeTfOpLayer, encodeTfOpLayer } from '../../../src/runtime/ops/tf-op-lambda.js';
import { ELLIPSIS, type OpValue, pySlice } from '../../../src/runtime/ops/values.js';

beforeAll(async () => {
  await useBackend('cpu');
});

function errorOf(fn: () => unknown): KerasInteropError {
  try {
    fn();
  } catch (e) {
    if (e instanceof KerasInteropError) return e;
    throw e;
  }
  throw new Error('expected a KerasInteropError');
}

function tfOp(fn: string, node: JsonValue, cls = 'TFOpLambda'): JsonObject {
  return { class_name: cls, config: { name: `tf.${fn}`, trainable: true, dtype: 'float32', function: fn }, name: `tf.${fn}`, inbound_nodes: [node] };
}

function kt(layer: string, shape: (number | null)[] = [null, 3]): JsonObject {
  return { class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] } };
}

const slot = (index: number): InputSlot => ({ kind: 'input', index });

describe('binding a call onto the table', () => {
  it('positional and keyword arguments by the front-end\'s Python names; TensorFlow\'s explicit None is its default', () => {
    const alias = TF_FUNCTIONS.get('math.reduce_mean')!;
    const a = bindCall<InputSlot>(alias, [slot(0), 1, true], {}, 'tf.math.reduce_mean');
    const b = bindCall<InputSlot>(alias, [slot(0)], { keepdims: true, axis: 1, name: 'm' }, 'tf.math.reduce_mean');
    expect([...a.args]).toEqual([['x', slot(0)], ['axis', 1], ['keepdims', true]]);
    expect([...b.args]).toEqual([...a.args]);
    const softmax = bindCall<InputSlot>(TF_FUNCTIONS.get('nn.softmax')!, [slot(0)], { axis: null }, 'tf.nn.softmax', {}, { noneMeansDefault: true });
    expect(softmax.args.get('axis')).toBe(-1);
  });

  it('refuses, naming the op and the argument, what Python or the op would not take', () => {
    const matmul = TF_FUNCTIONS.get('linalg.matmul')!;
    expect(errorOf(() => bindCall(matmul, [slot(0), slot(1)], { a_is_sparse: true }, 'tf.linalg.matmul')).message).toMatch(
      /tf\.linalg\.matmul: argument a_is_sparse=True is not supported \(only its default, False\)/,
    );
    const e = errorOf(() => bindCall(matmul, [slot(0)], { c: 1 }, 'tf.linalg.matmul'));
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toMatch(/unexpected keyword argument 'c'/);
    expect(errorOf(() => bindCall(matmul, [slot(0)], {}, 'tf.linalg.matmul')).message).toMatch(/missing required argument 'b'/);
    expect(errorOf(() => bindCall(TF_FUNCTIONS.get('math.abs')!, [slot(0), 1, 2], {}, 'tf.math.abs')).message).toMatch(/takes 2 positional arguments but 3 were given/);
    expect(errorOf(() => bindCall(KERAS3_OPS.get('Reshape')!, [slot(0)], { newshape: [2], new_shape: [2] }, 'Reshape')).message).toMatch(
      /newshape and new_shape mean the same/,
    );
  });
});

describe('tf.keras 2 TFOpLambda / SlicingOpLambda nodes', () => {
  it('a constant first argument (`2.0 - x` records tf.math.subtract(2.0, y=x)) and keyword tensors', () => {
    const [d] = decodeTfOpLayer(tfOp('math.subtract', ['_CONSTANT_VALUE', -1, 2.0, { y: ['x', 0, 0], name: null }]), '/config/layers/1');
    expect(d.inputs).toEqual([['x', 0, 0]]);
    expect([...d.call.args]).toEqual([['x', 2.0], ['y', slot(0)]]);
  });

  it('a list first argument (tf.concat) keeps its structure, constants included', () => {
    const node = [['a', 0, 0, { axis: -1 }], ['_CONSTANT_VALUE', -1, [[1, 2]], { axis: -1 }], ['b', 0, 1, { axis: -1 }]];
    const [d] = decodeTfOpLayer(tfOp('concat', node), '/p');
    expect(d.inputs).toEqual([['a', 0, 0], ['b', 0, 1]]);
    expect(d.call.args.get('values')).toEqual([slot(0), [[1, 2]], slot(1)]);
    expect(d.call.args.get('axis')).toBe(-1);
  });

  it('slice specs: {start, stop, step} dicts, Ellipsis, None, negative ints', () => {
    const spec: JsonValue[] = [{ class_name: '__ellipsis__' }, { start: -3, stop: null, step: 2 }, null, -1];
    const [d] = decodeTfOpLayer(tfOp('__operators__.getitem', ['x', 0, 0, { slice_spec: spec }], 'SlicingOpLambda'), '/p');
    expect(d.call.op.name).toBe('getitem');
    expect(d.call.args.get('key')).toEqual([ELLIPSIS, pySlice(-3, null, 2), null, -1]);
  });

  it('an op the table lacks is UNSUPPORTED_OP, naming the op, the layer and how to plug one in', () => {
    const e = errorOf(() => decodeTfOpLayer(tfOp('math.bessel_i0e', ['x', 0, 0, {}]), '/config/layers/3', 'model.h5'));
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect([e.file, e.place]).toEqual(['model.h5', '/config/layers/3']);
    expect(e.message).toContain('tf.math.bessel_i0e');
    expect(e.message).toContain('"tf.math.bessel_i0e"');
    expect(e.message).toContain('registerOp(');
    expect(e.message).toContain('addAliases(TF_FUNCTIONS');
  });

  it('written back as tf.keras 2 saves it: the first argument as entries, other arguments by name', () => {
    const [d] = decodeTfOpLayer(tfOp('math.subtract', ['_CONSTANT_VALUE', -1, 2.0, { y: ['x', 0, 0], name: null }]), '/p');
    const w = encodeTfOpLayer(d.call, 'sub', () => ['x', 0, 0]);
    expect(w).toEqual({
      class_name: 'TFOpLambda',
      config: { name: 'sub', trainable: true, dtype: 'float32', function: 'math.subtract' },
      node: ['_CONSTANT_VALUE', -1, 2.0, { y: ['x', 0, 0] }],
    });
    const [g] = decodeTfOpLayer(tfOp('__operators__.getitem', ['x', 0, 0, { slice_spec: [{ start: null, stop: null, step: -1 }, { class_name: '__ellipsis__' }] }], 'SlicingOpLambda'), '/p');
    expect(encodeTfOpLayer(g.call, 'g', () => ['x', 0, 0])).toMatchObject({
      class_name: 'SlicingOpLambda',
      node: ['x', 0, 0, { slice_spec: [{ start: null, stop: null, step: -1 }, { class_name: '__ellipsis__' }] }],
    });
  });
});

describe('Keras 3 operation nodes', () => {
  it('config arguments, call arguments and inline constants (__tensor__, __numpy__, __slice__, __tuple__)', () => {
    const entry = {
      module: 'keras.src.ops.numpy',
      class_name: 'Add',
      config: { name: 'add' },
      registered_name: 'Add',
      name: 'add',
      inbound_nodes: [{ args: [kt('x'), { class_name: '__tensor__', config: { value: [1, 2, 3], dtype: 'float32' } }], kwargs: {} }],
    };
    const [d] = decodeKeras3Operation(entry, '/p');
    expect(d.inputs).toEqual([['x', 0, 0]]);
    expect(d.call.args.get('y')).toEqual({ kind: 'array', value: [1, 2, 3], dtype: 'float32' });
    const mean = { class_name: 'Mean', config: { name: 'mean', axis: { class_name: '__tuple__', items: [1, 2] }, keepdims: true }, name: 'mean', inbound_nodes: [{ args: [kt('x')], kwargs: {} }] };
    expect([...decodeKeras3Operation(mean, '/p')[0].call.args]).toEqual([['x', slot(0)], ['axis', [1, 2]], ['keepdims', true]]);
    const getItem: JsonObject = { class_name: 'GetItem', config: { name: 'g' }, name: 'g', inbound_nodes: [{ args: [kt('x'), [{ class_name: '__slice__', config: { start: 1, stop: null, step: null } }, { class_name: '__ellipsis__', config: {} }]], kwargs: {} }] };
    expect(decodeKeras3Operation(getItem, '/p')[0].call.args.get('key')).toEqual([pySlice(1, null, null), ELLIPSIS]);
  });

  it('tells operations from layers of the same class name: module, else config and node form', () => {
    const node = [{ args: [kt('a'), kt('b')], kwargs: {} }];
    expect(isKeras3Operation({ module: 'keras.src.ops.numpy', class_name: 'Add', config: { name: 'add' }, inbound_nodes: node })).toBe(true);
    expect(isKeras3Operation({ module: 'keras.layers', class_name: 'Add', config: { name: 'add', trainable: true, dtype: 'float32' }, inbound_nodes: node })).toBe(false);
    // a Keras 3 legacy .h5 config: no module
    expect(isKeras3Operation({ class_name: 'Add', config: { name: 'add' }, name: 'add', inbound_nodes: node })).toBe(true);
    expect(isKeras3Operation({ class_name: 'Add', config: { name: 'add', trainable: true, dtype: 'float32' }, name: 'add', inbound_nodes: node })).toBe(false);
    expect(isKeras3Operation({ class_name: 'Softmax', config: { name: 's', axis: -1 }, name: 's', inbound_nodes: [{ args: [kt('a')], kwargs: {} }] })).toBe(true);
    // a tf.keras 2 user layer whose get_config forgot `trainable` is still a layer
    expect(isKeras3Operation({ class_name: 'MyLayer', config: { units: 3 }, name: 'm', inbound_nodes: [[['a', 0, 0, {}]]] })).toBe(false);
  });

  it('written back as Keras 3 saves it: call arguments in args, constructor arguments in the config', () => {
    const [d] = decodeTfOpLayer(tfOp('math.reduce_mean', ['x', 0, 0, { axis: 1 }]), '/p');
    const w = encodeKeras3Operation(d.call, 'mean', () => kt('x'));
    expect(w).toEqual({
      module: 'keras.src.ops.numpy',
      class_name: 'Mean',
      config: { name: 'mean', axis: 1, keepdims: false },
      registered_name: 'Mean',
      node: { args: [kt('x')], kwargs: {} },
    });
    const [s] = decodeTfOpLayer(tfOp('nn.softmax', ['x', 0, 0, { axis: 1 }]), '/p');
    expect(encodeKeras3Operation(s.call, 's', () => kt('x'))).toMatchObject({ module: 'keras.src.ops.nn', class_name: 'Softmax', config: { name: 's', axis: 1 } });
    // and the written node binds back to the same call
    const back = decodeKeras3Operation({ ...w, name: 'mean', inbound_nodes: [w.node] }, '/p')[0];
    expect([...back.call.args]).toEqual([...d.call.args]);
    expect(keras3TensorRef(w.node.args as JsonValue)).toBeUndefined();
  });

  it('refuses what one front-end cannot say in the other\'s words', () => {
    // NumPy's argmax over the flattened array: TensorFlow reads axis=None as 0
    const [d] = decodeKeras3Operation({ class_name: 'Argmax', config: { name: 'a', axis: null, keepdims: false }, name: 'a', inbound_nodes: [{ args: [kt('x')], kwargs: {} }] }, '/p');
    expect(errorOf(() => encodeTfOpLayer(d.call, 'a', () => ['x', 0, 0])).message).toMatch(/axis=None cannot be written/);
    const [m] = decodeTfOpLayer(tfOp('linalg.matmul', ['x', 0, 0, { b: ['y', 0, 0], transpose_b: true }]), '/p');
    expect(errorOf(() => encodeKeras3Operation(m.call, 'm', (i) => kt(i === 0 ? 'x' : 'y'))).message).toMatch(/transpose_b=True has no counterpart/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Whole models.

function keras2Model(layers: JsonObject[], inputs: [string, (number | null)[]][], outputs: string[]): KerasModel {
  const all = [
    ...inputs.map(([name, shape]) => ({ class_name: 'InputLayer', config: { batch_input_shape: shape, dtype: 'float32', name }, name, inbound_nodes: [] })),
    ...layers,
  ];
  return {
    source: { format: 'keras2-h5', file: 'synthetic.h5', extras: {} },
    config: { class_name: 'Functional', config: { name: 'm', layers: all, input_layers: inputs.map(([n]) => [n, 0, 0]), output_layers: outputs.map((n) => [n, 0, 0]) } },
    weights: [],
  };
}

async function run(model: KerasModel, inputs: { shape: number[]; data: number[] }[]): Promise<{ shape: number[]; data: number[] }[]> {
  const tfModel = await buildModel(model);
  try {
    return predict(tfModel, inputs.map((i) => ({ dtype: 'float32', shape: i.shape, data: i.data }))).map((o) => ({ shape: o.shape, data: Array.from(o.data) }));
  } finally {
    tfModel.dispose();
  }
}

describe('models with op calls run', () => {
  it('tf.keras 2: a constant first argument, a list with a constant, strided slicing, split and its two outputs, argmax', async () => {
    const model = keras2Model(
      [
        tfOp('math.subtract', ['_CONSTANT_VALUE', -1, 10, { y: ['x', 0, 0], name: null }]),
        { ...tfOp('concat', [['tf.math.subtract', 0, 0, { axis: -1 }], ['_CONSTANT_VALUE', -1, [[100], [200]], { axis: -1 }]]), name: 'cat', config: { name: 'cat', function: 'concat', trainable: true, dtype: 'float32' } },
        { ...tfOp('__operators__.getitem', ['cat', 0, 0, { slice_spec: [{ start: null, stop: null, step: -1 }, { start: 3, stop: 0, step: -2 }] }], 'SlicingOpLambda'), name: 'rev', config: { name: 'rev', function: '__operators__.getitem', trainable: true, dtype: 'float32' } },
        { ...tfOp('split', ['x', 0, 0, { num_or_size_splits: [1, 2], axis: 1 }]), name: 'parts', config: { name: 'parts', function: 'split', trainable: true, dtype: 'float32' } },
        { ...tfOp('math.reduce_sum', ['parts', 0, 1, { axis: -1, keepdims: true }]), name: 'tail', config: { name: 'tail', function: 'math.reduce_sum', trainable: true, dtype: 'float32' } },
        { ...tfOp('__operators__.add', ['parts', 0, 0, { y: ['tail', 0, 0], name: null }]), name: 'sum', config: { name: 'sum', function: '__operators__.add', trainable: true, dtype: 'float32' } },
        { ...tfOp('math.argmax', ['x', 0, 0, { axis: 1 }]), name: 'best', config: { name: 'best', function: 'math.argmax', trainable: true, dtype: 'float32' } },
      ],
      // a fixed batch: the concatenated constant has two rows
      [['x', [2, 3]]],
      ['rev', 'sum', 'best'],
    );
    const [rev, sum, best] = await run(model, [{ shape: [2, 3], data: [1, 2, 3, 7, 5, 6] }]);
    // 10 - x = [[9, 8, 7], [3, 5, 4]]; with the column: [[9, 8, 7, 100], [3, 5, 4, 200]]; rows reversed, columns 3 and 1
    expect(rev).toEqual({ shape: [2, 2], data: [200, 5, 100, 8] });
    expect(sum).toEqual({ shape: [2, 1], data: [6, 18] });
    expect(best).toEqual({ shape: [2], data: [2, 0] });
  });

  it('Keras 3: operations whose class names are layers\' (Add, Reshape, Softmax), in the legacy .h5 form without module', async () => {
    const layers: JsonObject[] = [
      { class_name: 'InputLayer', config: { batch_shape: [null, 4], dtype: 'float32', name: 'x' }, name: 'x', inbound_nodes: [] },
      { class_name: 'Reshape', config: { name: 'reshape', newshape: [-1, 2, 2] }, name: 'reshape', inbound_nodes: [{ args: [kt('x', [null, 4])], kwargs: {} }] },
      { class_name: 'Softmax', config: { name: 'softmax', axis: 1 }, name: 'softmax', inbound_nodes: [{ args: [kt('reshape', [null, 2, 2])], kwargs: {} }] },
      { class_name: 'Add', config: { name: 'add' }, name: 'add', inbound_nodes: [{ args: [kt('softmax', [null, 2, 2]), 1.5], kwargs: {} }] },
    ];
    const model: KerasModel = {
      source: { format: 'keras3-h5', file: 'synthetic.h5', extras: {} },
      config: { class_name: 'Functional', config: { name: 'f', layers, input_layers: [['x', 0, 0]], output_layers: [['add', 0, 0]] } },
      weights: [],
    };
    const [out] = await run(model, [{ shape: [1, 4], data: [0, 1, 2, 3] }]);
    // reshape to [[0, 1], [2, 3]]; softmax down the columns: e^0/(e^0+e^2), e^1/(e^1+e^3), ...
    const a = 1 / (1 + Math.exp(2));
    const expected = [a, a, 1 - a, 1 - a].map((v) => v + 1.5);
    expect(out.shape).toEqual([1, 2, 2]);
    out.data.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-6));
  });

  it('a call reading one tensor twice (x * x) reads it once, and the tensor\'s other readers still get it', async () => {
    const [d] = decodeTfOpLayer(tfOp('math.multiply', ['x', 0, 0, { y: ['x', 0, 0], name: null }]), '/p');
    expect(d.inputs).toEqual([['x', 0, 0]]);
    expect([...d.call.args]).toEqual([['x', slot(0)], ['y', slot(0)]]);
    const model = keras2Model(
      [
        { ...tfOp('math.multiply', ['x', 0, 0, { y: ['x', 0, 0], name: null }]), name: 'sq', config: { name: 'sq', function: 'math.multiply', trainable: true, dtype: 'float32' } },
        { ...tfOp('__operators__.add', ['sq', 0, 0, { y: ['x', 0, 0], name: null }]), name: 'sum', config: { name: 'sum', function: '__operators__.add', trainable: true, dtype: 'float32' } },
      ],
      [['x', [null, 2]]],
      ['sum'],
    );
    const [out] = await run(model, [{ shape: [1, 2], data: [3, -2] }]);
    expect(out.data).toEqual([12, 2]);
  });

  it('an op plugged in with registerOp and addAliases runs in a model', async () => {
    registerOp({ name: 'cube', signature: 'x', doc: 'x ** 3', run: (a) => tf.pow(a.tensor('x'), 3) });
    addAliases(TF_FUNCTIONS, { 'math.cube': ['cube', 'x, name=None'] });
    const model = keras2Model([tfOp('math.cube', ['x', 0, 0, {}])], [['x', [null, 2]]], ['tf.math.cube']);
    const [out] = await run(model, [{ shape: [1, 2], data: [2, -3] }]);
    expect(out.data).toEqual([8, -27]);
  });

  it('an op layer infers unknown dimensions and output dtypes from the op itself', async () => {
    const model = keras2Model(
      [
        { ...tfOp('reshape', ['x', 0, 0, { shape: [-1, 3, 2] }]), name: 'r', config: { name: 'r', function: 'reshape', trainable: true, dtype: 'float32' } },
        { ...tfOp('math.greater', ['r', 0, 0, { y: 0 }]), name: 'g', config: { name: 'g', function: 'math.greater', trainable: true, dtype: 'float32' } },
      ],
      [['x', [null, null, 3]]],
      ['r', 'g'],
    );
    const tfModel = await buildModel(model);
    try {
      expect(tfModel.outputs.map((t) => [t.shape, t.dtype])).toEqual([
        [[null, 3, 2], 'float32'],
        [[null, 3, 2], 'bool'],
      ]);
    } finally {
      tfModel.dispose();
    }
  });
});

describe('op arguments the layer config holds', () => {
  it('input slots stay distinguishable from constants after tfjs camel-cases the config', () => {
    const [d] = decodeTfOpLayer(tfOp('linalg.matmul', ['x', 0, 0, { b: ['y', 0, 0], transpose_b: true }]), '/p');
    const values: OpValue<InputSlot>[] = [...d.call.args.values()];
    expect(values.filter(isInputSlot)).toEqual([slot(0), slot(1)]);
  });
});
