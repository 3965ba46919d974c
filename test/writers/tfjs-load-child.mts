/**
 * Loads a tfjs layers-model folder the way a tfjs user does, in a process of its own: plain
 * `@tensorflow/tfjs`, our layers entry point, `tf.loadLayersModel` over tfjs's own HTTP loader (a fetch
 * that reads the folder), then predict. Nothing else of this package is imported.
 *
 * argv: <model folder> <inputs.json> <outputs.json>; inputs/outputs: [{shape, dtype, data: base64}].
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '../../src/layers/index.js';

interface Encoded {
  shape: number[];
  dtype: string;
  data: string;
}

const [folder, inputsPath, outputsPath] = process.argv.slice(2);
await tf.setBackend('cpu');

const fetchFunc = async (input: RequestInfo | URL): Promise<Response> => {
  const url = input instanceof Request ? input.url : String(input);
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  try {
    return new Response(await readFile(join(folder, name)), { status: 200 });
  } catch {
    return new Response('not found', { status: 404 });
  }
};

const model = await tf.loadLayersModel('http://model.invalid/model.json', { fetchFunc, strict: true });
const inputs = (JSON.parse(await readFile(inputsPath, 'utf8')) as Encoded[]).map((e, i) => {
  const bytes = Buffer.from(e.data, 'base64');
  const values = e.dtype === 'int32' ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const dtype = model.inputs[i].dtype === 'int32' ? 'int32' : 'float32';
  return tf.tensor(Array.from(values), e.shape, dtype);
});
const result = model.predict(inputs.length === 1 ? inputs[0] : inputs);
const outs = Array.isArray(result) ? result : [result];
const encoded: Encoded[] = outs.map((t) => {
  const data = Float32Array.from(t.dataSync() as ArrayLike<number>);
  return { shape: t.shape, dtype: 'float32', data: Buffer.from(data.buffer).toString('base64') };
});
await writeFile(outputsPath, JSON.stringify({ outputs: encoded, layers: model.layers.map((l) => l.getClassName()) }));
