// keras-interop as a library: read a model, run it, check it against Python, convert it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InputArray, type OutputArray, type VerifyResult, buildModel, convertModel, predict, readModel, readNpyFile, verifyCase } from 'keras-interop';

const dir = 'fixtures/golden/sa_additive_basic';
const model = await readModel(join(dir, 'model.h5')); // KerasModel: config verbatim + weights in Keras order
const tfModel = await buildModel(model); // a tf.LayersModel with the file's weights
const tokens: InputArray = await readNpyFile(join(dir, 'input_0.npy')); // inputs in inspect's order
const [scores]: OutputArray[] = predict(tfModel, [tokens]);
console.log(`${scores.name}: shape ${JSON.stringify(scores.shape)}`);
tfModel.dispose();

// Every model file of a golden case (case.json, input_*.npy, output_*.npy) against Python's outputs.
const report: VerifyResult = await verifyCase(dir);
console.log(report.pass ? 'matches Python' : 'differs from Python');

// Converting a large model: weights stay in the file until the writer reaches them, then are dropped.
const big = await readModel(join(dir, 'model.h5'), { streamWeights: true });
const out = join(mkdtempSync(join(tmpdir(), 'keras-interop-')), 'web_model');
try {
  console.log((await convertModel(big, 'tfjs', out)).join('\n'));
} finally {
  big.close?.();
}
