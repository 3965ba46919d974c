/**
 * The Windows layout of Keras's object-tree weights (tf.keras 2.15 on Windows joined tree paths with `\`):
 * golden `.keras` weights rewritten into that layout read back the same, nested objects and list
 * containers included; and the real file saved that way (wild 37) gets every weight.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { JsonObject, LayerWeights } from '../../src/model/types.js';
import { DEFAULT_LIMITS, type H5Group as ReadGroup, getGroup, getMember, isDataset, memberNames, openH5, readWeight } from '../../src/readers/h5.js';
import { readKeras3WeightsTree } from '../../src/readers/keras3-weights.js';
import { readModel } from '../../src/readers/index.js';
import { H5Group, serializeH5 } from '../../src/writers/h5-builder.js';
import { GOLDEN, requireWild } from '../helpers/paths.js';
import { itWild } from '../helpers/wild.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('ki-tree-');

/** Copies every group below `src` into `dst`, each group at the root under its `\`-joined path. */
function flatten(src: ReadGroup, file: string, dst: H5Group, key: string): void {
  for (const name of memberNames(src, file)) {
    const child = getMember(src, name, file);
    if (isDataset(child)) {
      const w = readWeight(child, name, file, DEFAULT_LIMITS, { used: 0 });
      // `vars` stays a real subgroup of its object's group, as tf.keras wrote it
      dst.group(key).dataset(name, w.dtype, w.shape, w.data);
    } else if (name === 'vars') {
      flatten(getGroup(src, name, file)!, file, dst.group(key), 'vars');
    } else {
      flatten(getGroup(src, name, file)!, file, dst, key === '' ? name : `${key}\\${name}`);
    }
  }
}

async function weightsOf(h5Path: string, config: JsonObject): Promise<LayerWeights[]> {
  const f = await openH5(h5Path);
  try {
    return readKeras3WeightsTree(f as unknown as ReadGroup, config, h5Path, DEFAULT_LIMITS);
  } finally {
    f.close();
  }
}

describe('Keras object-tree weights saved on Windows', () => {
  for (const name of ['mha_self', 'mh_list_conv1d', 'ops_slice_last_step']) {
    it(`${name}: the weights read the same from the backslash-joined layout`, async () => {
      const zip = unzipSync(readFileSync(join(GOLDEN, name, 'model.keras')));
      const config = JSON.parse(new TextDecoder().decode(zip['config.json'])) as JsonObject;
      const normal = join(tmp, `${name}.weights.h5`);
      writeFileSync(normal, zip['model.weights.h5']);
      const src = await openH5(normal);
      const root = new H5Group();
      try {
        for (const top of memberNames(src as unknown as ReadGroup, normal)) {
          const g = getGroup(src as unknown as ReadGroup, top, normal);
          if (g) flatten(g, normal, root, top);
        }
      } finally {
        src.close();
      }
      const flat = join(tmp, `${name}.windows.h5`);
      writeFileSync(flat, serializeH5(root));
      const written = await openH5(flat);
      try {
        const windowsNames = memberNames(written as unknown as ReadGroup, flat);
        expect(windowsNames.some((n) => n.startsWith('layers\\'))).toBe(true);
        expect(windowsNames).not.toContain('layers');
      } finally {
        written.close();
      }

      const expected = await weightsOf(normal, config);
      const got = await weightsOf(flat, config);
      expect(got.map((l) => [l.layer, l.weights.map((w) => w.shape)])).toEqual(expected.map((l) => [l.layer, l.weights.map((w) => w.shape)]));
      expect(expected.flatMap((l) => l.weights).length).toBeGreaterThan(0);
      got.forEach((l, i) => l.weights.forEach((w, j) => expect(Buffer.from(w.data.buffer).equals(Buffer.from(expected[i].weights[j].data.buffer))).toBe(true)));
    });
  }

  itWild('wild 37 (tf.keras 2.15 on Windows): every layer gets its weights, attribute-named groups (conv1d) for config names (conv1d_31)', async () => {
    const model = await readModel(join(requireWild(), '37_ecg_tfkeras215_archive_mha_tfoplambda', 'transformer_model.keras'));
    const counts = Object.fromEntries(model.weights.map((l) => [l.layer, l.weights.length]));
    expect(counts).toMatchObject({ multi_head_attention_14: 8, layer_normalization_27: 2, conv1d_31: 2, conv1d_32: 2, dense_71: 2, dense_75: 2, 'tf.__operators__.add_27': 0 });
    const conv = model.weights.find((l) => l.layer === 'conv1d_31')!.weights;
    expect(conv.map((w) => [w.path, w.shape])).toEqual([
      ['/layers\\conv1d/vars/0', [1, 1, 4]],
      ['/layers\\conv1d/vars/1', [4]],
    ]);
  });
});
