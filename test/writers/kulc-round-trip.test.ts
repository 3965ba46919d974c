/**
 * What a converted kulc model carries. The numbers of every kulc case after each conversion are checked
 * by the suites that run every golden case: hdf5.test.ts (model.h5 → .h5: config verbatim, weights bit
 * for bit, the Keras 2.2.4 structure h5dump sees) and tfjs.test.ts (→ tfjs → plain tfjs with
 * `keras-interop/layers` in a fresh process → goldens, and read back). Here: that the tfjs folder names
 * kulc's classes and Keras 2's hard_sigmoid itself, so nothing but the folder is needed to load it right,
 * and that the .h5 round trip keeps standalone Keras 2.2.4's attributes.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import type { JsonObject, JsonValue } from '../../src/model/types.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { compareArrays } from '../../src/parity/compare.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { readModel } from '../../src/readers/index.js';
import { useBackend } from '../../src/runtime/backend.js';
import { writeHdf5 } from '../../src/writers/hdf5.js';
import { writeTfjs } from '../../src/writers/tfjs.js';
import { GOLDEN, goldenCases } from '../helpers/paths.js';
import { type H5GroupNode, h5Header } from './h5-inspect.js';
import { writeTemp } from './helpers.js';
import { loadTfjsFiles } from './tfjs-helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');
const kulcCases = goldenCases().filter((c) => c.startsWith('kulc_'));

beforeAll(async () => {
  await useBackend('cpu');
});

/** Every `class_name` and activation-like value in a JSON tree. */
function walk(v: JsonValue, found: { classes: Set<string>; activations: Set<string> }): typeof found {
  if (Array.isArray(v)) v.forEach((x) => walk(x, found));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'class_name' && typeof x === 'string') found.classes.add(x);
      if ((k === 'activation' || k.endsWith('_activation')) && typeof x === 'string') found.activations.add(x);
      walk(x, found);
    }
  }
  return found;
}

describe('kulc cases converted to tfjs', () => {
  it('the 8 kulc golden cases are all here', () => {
    expect(kulcCases.length).toBe(8);
  });

  for (const name of kulcCases) {
    it(`${name}: model.json names kulc's classes and Keras 2's hard_sigmoid; tf.loadLayersModel of it gives the goldens`, async () => {
      const kase = readGoldenCase(join(GOLDEN, name));
      const m = await readModel(join(GOLDEN, name, 'model.h5'));
      const files = await writeTfjs(m);
      const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as JsonObject;
      const topology = json.modelTopology as JsonObject;
      const { classes, activations } = walk(topology.model_config, { classes: new Set(), activations: new Set() });
      const ours = [...classes].filter((c) => ['LayerNormalization', 'ScaledDotProductAttention', 'SequenceAttention', 'AttentionRNNWrapper'].some((k) => c.endsWith(k)));
      expect(ours.length, name).toBeGreaterThan(0);
      for (const c of ours) expect(['Kulc>LayerNormalization', 'Kulc>ScaledDotProductAttention', 'SequenceAttention', 'AttentionRNNWrapper']).toContain(c);
      expect(activations.has('hard_sigmoid')).toBe(false);
      if (name === 'kulc_attention_rnn_wrapper_lstm') expect(activations.has('hard_sigmoid_keras2')).toBe(true);

      const loaded = await loadTfjsFiles(files);
      try {
        const inputs = kase.inputs.map((t) => {
          const a = readNpyFileSync(t.path);
          return tf.tensor(a.data as Float32Array, a.shape);
        });
        const result = loaded.predict(inputs.length === 1 ? inputs[0] : inputs);
        const outs = Array.isArray(result) ? result : [result];
        kase.outputs.forEach((t, i) => {
          const r = compareArrays({ shape: outs[i].shape, data: outs[i].dataSync() as Float32Array, dtype: 'float32' }, readNpyFileSync(t.path), kase.tolerance, t.name ?? t.file);
          expect(r.pass, `${name} output ${i}: max abs ${r.maxAbsError}`).toBe(true);
        });
        tf.dispose([...inputs, ...outs]);
      } finally {
        loaded.dispose();
      }
    });
  }
});

describe('kulc cases written back to .h5', () => {
  it("keep standalone Keras 2.2.4's attributes: keras_version 2.2.4, bytes strings, fixed-length name lists", async () => {
    const src = join(GOLDEN, 'kulc_transformer_encoder', 'model.h5');
    const m = await readModel(src);
    const file = writeTemp(tmp, 'kulc.h5', await writeHdf5(m));
    const back = await readModel(file);
    expect(back.source).toMatchObject({ format: 'keras2-h5', kerasVersion: '2.2.4', backend: 'tensorflow' });
    expect(back.config).toEqual(m.config);
    const header = await h5Header(file);
    expect(header).toEqual(await h5Header(src));
    expect(header.attrs.keras_version.type).toMatchObject({ class: 'string', vlen: true, cset: 'ascii' });
    const weights = header.members.model_weights as H5GroupNode;
    expect(weights.attrs.layer_names.type).toMatchObject({ class: 'string', vlen: false });
  });
});
