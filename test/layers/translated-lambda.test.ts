/**
 * The `KerasInterop>Lambda` layer: its program survives tfjs's save (snake-casing every config string) and
 * load (camel-casing them) unchanged, its output shapes come from running it, and a program in a config
 * is checked before anything runs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import { TranslatedLambda, decodeProgram, encodeProgram } from '../../src/layers/translated-lambda.js';
import type { LambdaProgram } from '../../src/runtime/lambda/ir.js';
import { KerasInteropError } from '../../src/errors.js';
import { savedInMemory } from '../helpers/tfjs-memory.js';

// attention, lstm_output = inputs; return tf.reduce_sum(attention * lstm_output, axis=1)
const PROGRAM: LambdaProgram = {
  input: 'inputs',
  bound: [],
  body: [{ targets: ['attention', 'lstm_output'], unpack: true, value: { k: 'name', id: 'inputs' } }],
  result: {
    k: 'call',
    fn: 'tf.reduce_sum',
    args: [{ k: 'binop', op: '*', left: { k: 'name', id: 'attention' }, right: { k: 'name', id: 'lstm_output' } }],
    kwargs: [{ name: 'axis', value: { k: 'int', v: 1 } }],
  },
};

describe('KerasInterop>Lambda', () => {
  it('stores its program where tfjs case conversions cannot reach it', () => {
    const text = encodeProgram(PROGRAM);
    expect(text).not.toMatch(/[_A-Z]/);
    expect(decodeProgram(text, 'l')).toEqual(PROGRAM);
  });

  it('saves and loads through tfjs with the same program and outputs', async () => {
    await tf.setBackend('cpu');
    const a = tf.input({ shape: [10, 1] });
    const b = tf.input({ shape: [10, 4] });
    const out = new TranslatedLambda({ name: 'attention_sum', program: PROGRAM, python: '3.11' }).apply([a, b]) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 4]);
    const model = tf.model({ inputs: [a, b], outputs: out });
    const saved = await savedInMemory(model);
    const topology = JSON.stringify(saved.modelTopology);
    expect(topology).toContain('"class_name":"KerasInterop>Lambda"');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    const layer = loaded.getLayer('attention_sum') as TranslatedLambda;
    expect(layer).toBeInstanceOf(TranslatedLambda);
    expect(layer.program).toEqual(PROGRAM);
    expect(layer.expression).toBe('attention, lstm_output = inputs; return tf.reduce_sum(attention * lstm_output, axis=1)');
    const x = [tf.randomUniform([2, 10, 1], 0, 1, 'float32', 1), tf.randomUniform([2, 10, 4], -1, 1, 'float32', 2)];
    const want = tf.sum(tf.mul(x[0], x[1]), 1);
    const got = loaded.predict(x) as tf.Tensor;
    expect(Array.from(got.dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    const g = got.dataSync();
    want.dataSync().forEach((v, i) => expect(Math.abs(g[i] - v)).toBeLessThanOrEqual(1e-6));
  });

  it('finds unknown output dimensions by running twice, and keeps known ones', () => {
    const flatten: LambdaProgram = {
      input: 'x',
      bound: [],
      body: [],
      result: { k: 'call', fn: 'K.reshape', args: [{ k: 'name', id: 'x' }, { k: 'tuple', items: [{ k: 'int', v: -1 }, { k: 'int', v: 12 }] }], kwargs: [] },
    };
    const layer = new TranslatedLambda({ name: 'flat', program: flatten });
    expect(layer.computeOutputShape([null, 3, 4])).toEqual([null, 12]);
  });

  it('refuses a stored program that is not one, or calls what is not whitelisted', () => {
    const bad = (program: string) => () => new TranslatedLambda({ name: 'l', program });
    expect(bad('not json')).toThrow(KerasInteropError);
    expect(bad('{"input":"x","bound":[],"body":[],"result":{"k":"exec"}}')).toThrow(/unknown expression kind/);
    const call = encodeProgram({ input: 'x', bound: [], body: [], result: { k: 'call', fn: 'os.system', args: [], kwargs: [] } });
    expect(bad(call)).toThrow(/os\.system\(\) is not a whitelisted function/);
    const deep = '{"input":"x","bound":[],"body":[],"result":' + '{"k":"unary","op":"-","operand":'.repeat(300) + '{"k":"name","id":"x"}' + '}'.repeat(301);
    expect(bad(deep)).toThrow(/nested deeper/);
  });
});
