/** Writes a KerasModel in another format: the `convert` command's engine. */
import { basename, extname, join } from 'node:path';
import { KerasInteropError } from '../errors.js';
import type { KerasModel } from '../model/types.js';
import type { KerasGeneration } from '../model/weight-names.js';
import type { LambdaPolicy } from '../runtime/lambda/replace.js';
import { isDirectory, writeFileAtomic, writeFilesAtomic } from './fs.js';
import { buildHdf5Tree } from './hdf5.js';
import { serializeH5Parts } from './h5-builder.js';
import { writeKerasArchiveParts } from './keras-archive.js';
import { partsSize } from './parts.js';
import { parseQuantizeOption, writeTfjsParts } from './tfjs.js';
import { writeOnnxFile } from './onnx.js';

export type { WriteHdf5Options, WriteWeightsOptions } from './hdf5.js';
export { buildHdf5Tree, buildWeightsHdf5Tree, writeHdf5, writeHdf5File, writeWeightsHdf5, writeWeightsHdf5File } from './hdf5.js';
export type { WriteKerasArchiveOptions } from './keras-archive.js';
export { writeKerasArchive, writeKerasArchiveFile } from './keras-archive.js';
export type { TfjsQuantizeOptions, WriteTfjsOptions } from './tfjs.js';
export { writeTfjs } from './tfjs.js';
export type { WriteOnnxOptions } from './onnx.js';
export { writeOnnxFile } from './onnx.js';

export type ConvertTarget = 'tfjs' | 'h5' | 'keras' | 'onnx';

export interface ConvertProgress {
  /** The file being written. */
  path: string;
  /** Bytes written so far, over all files of this conversion. */
  done: number;
  total: number;
}

export interface ConvertOptions {
  /** tfjs only: quantize weights (`uint8`, `uint16`, `float16`). */
  quantize?: string;
  /** tfjs only: bytes per weights shard. */
  shardSize?: number;
  /** Called as bytes reach the disk (for a progress bar). */
  progress?: (p: ConvertProgress) => void;
  /**
   * h5 only: the Keras generation to write (`keras2`: tf.keras 2's layout and config dialect, `keras3`:
   * Keras 3's legacy layout); default: the source's. `.keras` archives are always Keras 3.
   */
  generation?: KerasGeneration;
  /** onnx only: allow Microsoft contrib ops (onnxruntime only). */
  contribOps?: boolean;
  /** onnx only: initializers in `<file>.data` (default: only when the file would pass protobuf's 2 GiB). */
  externalData?: boolean;
  /** tfjs and onnx: Lambda layers are written as their translation (default) or refused (`refuse`). */
  lambdas?: LambdaPolicy;
}

const EXT: Record<Exclude<ConvertTarget, 'tfjs'>, string> = { h5: '.h5', keras: '.keras', onnx: '.onnx' };

/**
 * Writes `model` as `to` at `out` and returns the paths written. For `h5`, `keras` and `onnx`, `out` is the
 * file (or an existing folder, which then receives `<model name>.h5` / `.keras` / `.onnx`). Files are written
 * under a temporary name and renamed into place; nothing is written outside `out`'s folder.
 */
export async function convertModel(model: KerasModel, to: ConvertTarget, out: string, opts: ConvertOptions = {}): Promise<string[]> {
  if (to === 'tfjs' && opts.generation !== undefined) throw new KerasInteropError('USAGE', '--generation applies to h5 output, not tfjs');
  if (to !== 'onnx' && (opts.contribOps !== undefined || opts.externalData !== undefined)) {
    throw new KerasInteropError('USAGE', `--contrib-ops and --external-data apply to onnx output, not ${to}`);
  }
  if (to === 'tfjs') {
    // `out` is the model folder. Shards first, model.json last: a folder whose model.json exists is complete.
    // Each weight's bytes are made as its shard is written (views of the model's arrays where unchanged).
    const folder = await writeTfjsParts(model, { shardSize: opts.shardSize, quantize: parseQuantizeOption(opts.quantize), lambdas: opts.lambdas });
    const total = folder.shards.reduce((a, [, p]) => a + partsSize(p), 0);
    const report = opts.progress;
    const written = await writeFilesAtomic(out, folder.shards, report && ((done, path) => report({ path, done, total })));
    const json = folder.modelJson();
    await writeFileAtomic(join(out, 'model.json'), json);
    report?.({ path: join(out, 'model.json'), done: total, total });
    return [join(out, 'model.json'), ...written];
  }
  if (to !== 'h5' && to !== 'keras' && to !== 'onnx') throw new KerasInteropError('USAGE', `unknown target format "${String(to)}" (tfjs, h5, keras, onnx)`);
  if (opts.quantize !== undefined) throw new KerasInteropError('USAGE', `--quantize applies to tfjs output, not ${to}`);
  if (opts.shardSize !== undefined) throw new KerasInteropError('USAGE', `--shard-size applies to tfjs output, not ${to}`);
  if (opts.generation !== undefined && opts.generation !== 'keras2' && opts.generation !== 'keras3') {
    throw new KerasInteropError('USAGE', `unknown generation "${String(opts.generation)}" (keras2, keras3)`);
  }
  if (to === 'keras' && opts.generation === 'keras2') throw new KerasInteropError('USAGE', '.keras archives are Keras 3; --generation keras2 applies to h5 output');
  if (to === 'onnx' && opts.generation !== undefined) throw new KerasInteropError('USAGE', '--generation applies to h5 output, not onnx');
  let path = out;
  if (await isDirectory(out)) {
    const stem = basename(model.source.file, extname(model.source.file)) || 'model';
    path = join(out, `${stem}${EXT[to]}`);
  }
  if (to === 'onnx') {
    const report = opts.progress;
    return writeOnnxFile(model, path, {
      contribOps: opts.contribOps,
      lambdas: opts.lambdas,
      externalData: opts.externalData ? 'external' : 'auto',
      onBytes: report && ((done, file, total) => report({ path: file, done, total })),
    });
  }
  const { parts, patches } = to === 'h5' ? { parts: serializeH5Parts(buildHdf5Tree(model, { generation: opts.generation })), patches: undefined } : await writeKerasArchiveParts(model);
  const total = partsSize(parts);
  const report = opts.progress;
  await writeFileAtomic(path, parts, report && ((done) => report({ path, done, total })), patches);
  return [path];
}
