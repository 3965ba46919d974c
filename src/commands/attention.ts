/**
 * `keras-interop attention <model> --inputs ... --out <dir>`: runs the model with attention taps on and
 * writes, for every attention layer, `<layer>.npy` (its weights for every sample, in the layer's own
 * layout: see runtime/attention-taps.ts) and `<layer>_head<h>.png` (one sample's heatmap per head).
 */
import { join } from 'node:path';
import { KerasInteropError } from '../errors.js';
import { readNpyFileSync, writeNpyFileSync } from '../parity/npy-file.js';
import { type ReadOptions, readModel } from '../readers/index.js';
import { type AttentionMap, attentionHeatmap, withAttentionTaps } from '../runtime/attention-taps.js';
import { buildModel, predict } from '../runtime/build.js';
import type { RunOptions } from '../runtime/run.js';
import { makeFolder, writeFileAtomic } from '../writers/fs.js';
import { heatmapPixels } from '../writers/heatmap.js';
import { encodePng } from '../writers/png.js';

export interface AttentionOptions {
  backend?: string;
  /** Lambda layers: run their translated bytecode (default) or refuse them. */
  lambdas?: RunOptions['lambdas'];
  read?: ReadOptions;
  /** The sample drawn in the PNGs (default 0). */
  sample?: number;
}

export interface AttentionFiles {
  layer: string;
  className: string;
  call: number;
  /** The layer's layout of the `.npy`, and how it reads as (batch, heads, queries, keys). */
  shape: number[];
  view: number[];
  npy: string;
  png: string[];
}

/** A file name for each map: the layer's name made safe, `_call<n>` for a layer's later calls, unique. */
export function mapFileStems(maps: readonly AttentionMap[]): string[] {
  const used = new Set<string>();
  return maps.map((m) => {
    const base = m.layer.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') + (m.call > 0 ? `_call${m.call}` : '');
    let stem = base;
    for (let i = 2; used.has(stem); i++) stem = `${base}_${i}`;
    used.add(stem);
    return stem;
  });
}

export async function writeAttentionMaps(modelPath: string, inputPaths: string[], outDir: string, opts: AttentionOptions = {}): Promise<AttentionFiles[]> {
  if (opts.backend === 'onnxruntime') {
    // the taps are inside our tfjs layers; a lowered ONNX graph has no place to report from
    throw new KerasInteropError('USAGE', 'attention maps are tapped from the tfjs layers: use --backend wasm, cpu or tensorflow (or none)');
  }
  const model = await readModel(modelPath, opts.read);
  const inputs = inputPaths.map((f) => readNpyFileSync(f));
  const tfModel = await buildModel(model, { backend: opts.backend, lambdas: opts.lambdas });
  let maps: AttentionMap[];
  try {
    ({ maps } = await withAttentionTaps(() => predict(tfModel, inputs)));
  } finally {
    tfModel.dispose();
  }
  if (maps.length === 0) {
    throw new KerasInteropError('USAGE', 'the model has no attention layer to tap (see the layer table in the README)', { file: modelPath });
  }
  const sample = opts.sample ?? 0;
  const batch = maps[0].view[0];
  if (!Number.isInteger(sample) || sample < 0 || sample >= batch) {
    throw new KerasInteropError('USAGE', `--sample ${sample} is not one of the ${batch} input samples`);
  }
  await makeFolder(outDir).catch((e: unknown) => {
    throw new KerasInteropError('WRITE_FAILED', `cannot create the output folder (${(e as Error).message})`, { file: outDir }, { cause: e });
  });
  const stems = mapFileStems(maps);
  const written: AttentionFiles[] = [];
  for (const [i, m] of maps.entries()) {
    const npy = join(outDir, `${stems[i]}.npy`);
    writeNpyFileSync(npy, { dtype: 'float32', shape: m.shape, data: m.data });
    const png: string[] = [];
    for (let h = 0; h < m.view[1]; h++) {
      const { rows, cols, values } = attentionHeatmap(m, sample, h);
      const image = heatmapPixels(values, rows, cols);
      const path = join(outDir, `${stems[i]}_head${h}.png`);
      await writeFileAtomic(path, encodePng(image.width, image.height, image.rgba));
      png.push(path);
    }
    written.push({ layer: m.layer, className: m.className, call: m.call, shape: m.shape, view: m.view, npy, png });
  }
  return written;
}
