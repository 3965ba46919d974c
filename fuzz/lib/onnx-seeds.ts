/**
 * The `onnx` target's seeds: each golden model exported by the project's ONNX writer (as
 * `convert --to onnx` does) twice, `inline/model.onnx` with every initializer in the file and
 * `external/model.onnx` + `model.onnx.data` with initializers of 256 bytes or more in the data file
 * (the writer's own threshold is 1 KiB; lower here so that the small golden models have several).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KerasModel } from '../../src/model/types.js';
import { readOnnxSummary } from '../../src/readers/onnx.js';
import { exportOnnx } from '../../src/writers/onnx/index.js';
import { concatParts } from '../../src/writers/parts.js';
import { ONNX_DATA_FILE, ONNX_FILE } from './mutate-onnx.js';

export const ONNX_VARIANTS = ['inline', 'external'] as const;

/** Writes both variants under `dir`; returns why not when the model does not export. */
export async function writeOnnxSeeds(model: KerasModel, dir: string): Promise<string | undefined> {
  try {
    for (const variant of ONNX_VARIANTS) {
      const out = join(dir, variant);
      mkdirSync(out, { recursive: true });
      const { file } = await exportOnnx(model, { externalData: variant, externalThreshold: 256, dataFileName: ONNX_DATA_FILE });
      writeFileSync(join(out, ONNX_FILE), concatParts(file.model));
      if (file.data) writeFileSync(join(out, ONNX_DATA_FILE), concatParts(file.data.parts));
      readOnnxSummary(join(out, ONNX_FILE));
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
