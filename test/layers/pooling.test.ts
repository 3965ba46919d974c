import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/runtime/backend.js';
import { GlobalAveragePooling1D, GlobalMaxPooling1D } from '../../src/layers/pooling.js';

beforeAll(async () => {
  await useBackend('cpu');
});

// x[b][t][c] = b*100 + t*10 + c
const x = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.floor(i / 12) * 100 + (Math.floor(i / 4) % 3) * 10 + (i % 4)), [2, 3, 4]);

describe('GlobalAveragePooling1D', () => {
  it('averages over steps (channels_last)', () => {
    const y = new GlobalAveragePooling1D({}).apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 4]);
    expect(Array.from(y.dataSync())).toEqual([10, 11, 12, 13, 110, 111, 112, 113]);
  });

  it('averages over the last axis with channels_first', () => {
    const layer = new GlobalAveragePooling1D({ dataFormat: 'channelsFirst' });
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.dataSync())).toEqual([1.5, 11.5, 21.5, 101.5, 111.5, 121.5]);
    expect(layer.computeOutputShape([null, 3, 4])).toEqual([null, 3]);
  });

  it('averages only unmasked steps, as Keras does', () => {
    const mask = tf.tensor2d([[1, 1, 0], [1, 0, 0]], [2, 3], 'bool');
    const y = new GlobalAveragePooling1D({}).call(x, { mask }) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual([5, 6, 7, 8, 100, 101, 102, 103]);
  });

  it('keepdims keeps the pooled axis', () => {
    const y = new GlobalAveragePooling1D({ keepdims: true }).apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 1, 4]);
  });

  it('round-trips its config and refuses an unknown data_format', () => {
    const layer = new GlobalAveragePooling1D({ dataFormat: 'channelsFirst', keepdims: true });
    expect(layer.getConfig()).toMatchObject({ dataFormat: 'channelsFirst', keepdims: true });
    expect(() => new GlobalAveragePooling1D({ dataFormat: 'nchw' as never })).toThrow(/data_format/);
  });
});

describe('GlobalMaxPooling1D', () => {
  it('takes the max over steps in either data format', () => {
    expect(Array.from((new GlobalMaxPooling1D({}).apply(x) as tf.Tensor).dataSync())).toEqual([20, 21, 22, 23, 120, 121, 122, 123]);
    expect(Array.from((new GlobalMaxPooling1D({ dataFormat: 'channels_first' }).apply(x) as tf.Tensor).dataSync())).toEqual([3, 13, 23, 103, 113, 123]);
  });
});
