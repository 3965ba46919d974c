/**
 * What cannot be lowered: a user's own TypeScript layer is an error naming the layer, its class and the
 * hook; by default such a model runs on tfjs instead; a lowering registered for it makes it export and run.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../helpers/cli.js';
import { lowerModel, loweredClasses, onnxModelBytes, OnnxLoweringError, registerLowering } from '../../src/writers/onnx/index.js';
import { writeNpyFileSync } from '../../src/parity/npy-file.js';
import { registerLayer } from '../../src/runtime/registry.js';
import { convertModel } from '../../src/writers/index.js';
import { floats, functional, input, runOrtNode, runTfjs, sequential, worstExcess } from './helpers.js';

/** A user's layer: multiplies the last axis by a learned vector. */
class TestScale extends tf.layers.Layer {
  static className = 'TestScale';
  private w: tf.LayerVariable | null = null;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.w = this.addWeight('w', [shape[shape.length - 1]!], 'float32', tf.initializers.ones());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.w!.read());
  }
}
registerLayer('TestScale', TestScale as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);

/** A user's layer with two outputs (its input twice). */
class TestTwice extends tf.layers.Layer {
  static className = 'TestTwice';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    return [inputShape as tf.Shape, inputShape as tf.Shape];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return [tf.mul(x, 1), tf.mul(x, 2)];
  }
}
registerLayer('TestTwice', TestTwice as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);

async function model() {
  return sequential([
    { class_name: 'Dense', config: { name: 'dense', units: 4, batch_input_shape: [null, 3] } },
    { class_name: 'TestScale', config: { name: 'my_scale' } },
  ]);
}

describe('layers without a lowering', () => {
  it('are an error naming the layer, its class and registerLowering; the default backend falls back to tfjs', async () => {
    const m = await model();
    const e = await lowerModel(m).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OnnxLoweringError);
    expect((e as OnnxLoweringError).code).toBe('UNSUPPORTED_LAYER');
    expect((e as OnnxLoweringError).layerName).toBe('my_scale');
    expect((e as Error).message).toContain('layer "my_scale" (class TestScale) cannot be lowered to ONNX');
    expect((e as Error).message).toContain("registerLowering('TestScale'");

    const dir = mkdtempSync(join(tmpdir(), 'ki-onnx-'));
    const file = join(dir, 'scale.h5');
    await convertModel(m, 'h5', file);
    writeNpyFileSync(join(dir, 'x.npy'), { dtype: 'float32', shape: [2, 3], data: new Float32Array(6).fill(0.5) });
    const asked = await cli('predict', file, '--inputs', join(dir, 'x.npy'), '--out', dir, '--backend', 'onnxruntime');
    expect(asked.code).toBe(2);
    expect(asked.err).toContain('[UNSUPPORTED_LAYER]');
    expect(asked.err).toContain('"my_scale" (class TestScale) cannot be lowered to ONNX');
    const fallback = await cli('inspect', file, '--json');
    const s = JSON.parse(fallback.out);
    expect(s.runtimeBackend).not.toBe('onnxruntime');
    expect(s.runtimeBackendReason).toContain('not onnxruntime: ');
    expect(s.runtimeBackendReason).toContain('TestScale');
    const byDefault = await cli('predict', file, '--inputs', join(dir, 'x.npy'), '--out', dir);
    expect(byDefault.code, byDefault.err).toBe(0);
  });

  it('export and run once a plug-in registers a lowering', async () => {
    expect(loweredClasses()).not.toContain('TestScale');
    registerLowering('TestScale', (ctx, call) => {
      const [w] = ctx.weights(call.layer);
      return { outputs: [{ ...call.inputs[0], name: ctx.graph.op('Mul', [call.inputs[0].name, w.name]) }] };
    });
    expect(loweredClasses()).toContain('TestScale');
    const m = await model();
    const x = floats([2, 3], 1);
    const [want] = await runTfjs(m, [x]);
    const [got] = await runOrtNode(await onnxModelBytes(m), [x]);
    expect(worstExcess(got, want)).toBeLessThanOrEqual(0);
  });

  it('a lowering that gives fewer outputs than the layer has is an error naming the layer (not INTERNAL)', async () => {
    registerLowering('TestTwice', (_ctx, call) => ({ outputs: [call.inputs[0]] }));
    const m = await functional(
      [input('x', [null, 3]), { class_name: 'TestTwice', config: { name: 'twice' }, inbound: ['x'] }],
      ['x'],
      [['twice', 0], ['twice', 1]],
    );
    const e = await lowerModel(m).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OnnxLoweringError);
    expect((e as OnnxLoweringError).code).toBe('UNSUPPORTED_LAYER');
    expect((e as Error).message).toContain('layer "twice" (class TestTwice) cannot be lowered to ONNX: called on one tensor, it has 2 outputs, and its lowering gives 1');
  });
});
