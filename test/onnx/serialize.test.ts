/**
 * The ONNX file as the serializer writes it: decoded with our own .proto, the initializers hold the
 * weights' bytes; weights are read only when their part is written, once; past protobuf's 2 GiB the
 * initializers go to a data file.
 */
import { describe, expect, it } from 'vitest';
import { lazyWeight, type KerasModel } from '../../src/model/types.js';
import { exportOnnx } from '../../src/writers/onnx/index.js';
import { Graph } from '../../src/writers/onnx/graph.js';
import { decodeOnnx } from '../../src/writers/onnx/proto.js';
import { MAX_INLINE_BYTES, serializeOnnx } from '../../src/writers/onnx/serialize.js';
import { concatParts, partsSize } from '../../src/writers/parts.js';
import { sequential } from './helpers.js';

type Tensor = { name: string; dims: number[]; data_type: number; raw_data?: Uint8Array };

describe('serializeOnnx', () => {
  it('writes each weight once, when its part is written, as raw little-endian float32', async () => {
    const base = await sequential([{ class_name: 'Dense', config: { name: 'dense', units: 3, batch_input_shape: [null, 2] } }]);
    let reads = 0;
    const model: KerasModel = {
      ...base,
      weights: base.weights.map((l) => ({
        ...l,
        weights: l.weights.map((w) => lazyWeight({ name: w.name, path: w.path, shape: w.shape, dtype: w.dtype }, () => (reads++, w.data))),
      })),
    };
    const { file } = await exportOnnx(model);
    expect(reads).toBe(0);
    const bytes = concatParts(file.model);
    expect(reads).toBe(2);
    expect(bytes.length).toBe(partsSize(file.model));
    const decoded = decodeOnnx('ModelProto', bytes) as { graph: { initializer: Tensor[] } };
    const kernel = decoded.graph.initializer.find((t) => t.name === 'dense/kernel')!;
    expect(kernel.dims).toEqual([2, 3]);
    expect(kernel.data_type).toBe(1);
    const want = base.weights[0].weights[0].data as Float32Array;
    expect(Array.from(new Float32Array(kernel.raw_data!.slice().buffer))).toEqual(Array.from(want));
  });

  it('moves initializers to the data file when the model would pass 2 GiB (without reading them)', () => {
    const g = new Graph('big');
    const huge = MAX_INLINE_BYTES + 4096;
    g.initializer('huge', 'float32', [huge / 4], () => {
      throw new Error('read while serializing');
    });
    g.initializer('small', 'float32', [2], new Uint8Array(8));
    g.inputs.push({ name: 'x', dtype: 'float32', shape: ['batch', 2] });
    g.opN('Identity', ['x'], ['y']);
    g.outputs.push({ name: 'y', dtype: 'float32', shape: ['batch', 2] });
    const out = serializeOnnx(g, { producerVersion: 'test', opsets: [{ domain: '', version: 17 }], dataFileName: 'big.onnx.data' });
    expect(out.data?.fileName).toBe('big.onnx.data');
    expect(partsSize(out.data!.parts)).toBe(huge);
    const decoded = decodeOnnx('ModelProto', concatParts(out.model)) as { graph: { initializer: (Tensor & { data_location?: number; external_data?: { key: string; value: string }[] })[] } };
    const [bigT, smallT] = decoded.graph.initializer;
    expect(bigT.data_location).toBe(1);
    expect(bigT.external_data).toEqual([
      { key: 'location', value: 'big.onnx.data' },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(huge) },
    ]);
    // Below the threshold (1 KiB) a tensor stays in the .onnx file.
    expect(smallT.data_location ?? 0).toBe(0);
    expect(smallT.raw_data?.length).toBe(8);
    expect(serializeOnnx(g, { producerVersion: 'test', opsets: [], externalData: 'inline' }).data).toBeUndefined();
  });
});
