/** Writes a KerasModel in another format: the `convert` command's engine. */
import { basename, extname, join } from 'node:path';
import { KerasInteropError } from '../errors.js';
import type { KerasModel } from '../model/types.js';
import type { KerasGeneration } from '../model/weight-names.js';
import { isDirectory, writeFileAtomic, writeFilesAtomic } from './fs.js';
import { buildHdf5Tree } from './hdf5.js';
import { serializeH5Parts } from './h5-builder.js';
import { writeKerasArchive } from './keras-archive.js';
import { parseQuantizeOption, writeTfjsParts } from './tfjs.js';

export type { WriteHdf5Options, WriteWeightsOptions } from './hdf5.js';
export { buildHdf5Tree, buildWeightsHdf5Tree, writeHdf5, writeHdf5File, writeWeightsHdf5, writeWeightsHdf5File } from './hdf5.js';
export type { WriteKerasArchiveOptions } from './keras-archive.js';
export { writeKerasArchive, writeKerasArchiveFile } from './keras-archive.js';
export type { TfjsQuantizeOptions, WriteTfjsOptions } from './tfjs.js';
export { writeTfjs } from './tfjs.js';

export type ConvertTarget = 'tfjs' | 'h5' | 'keras';

export interface ConvertProgress {
  /** The file being written. */
  path: string;
  /** Bytes written so far, over all files of this conversion. */
  done: number;
  total: number;
}

function sizeOf(parts: Uint8Array | Uint8Array[]): number {
  return (Array.isArray(parts) ? parts : [parts]).reduce((a, p) => a + p.length, 0);
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
}

const EXT: Record<Exclude<ConvertTarget, 'tfjs'>, string> = { h5: '.h5', keras: '.keras' };

/**
 * Writes `model` as `to` at `out` and returns the paths written. For `h5` and `keras`, `out` is the
 * file (or an existing folder, which then receives `<model name>.h5` / `.keras`). Files are written
 * under a temporary name and renamed into place; nothing is written outside `out`'s folder.
 */
export async function convertModel(model: KerasModel, to: ConvertTarget, out: string, opts: ConvertOptions = {}): Promise<string[]> {
  if (to === 'tfjs' && opts.generation !== undefined) throw new KerasInteropError('USAGE', '--generation applies to h5 output, not tfjs');
  if (to === 'tfjs') {
    // `out` is the model folder. Shards first, model.json last: a folder whose model.json exists is complete.
    // Shards as views of the model's weights where their bytes are unchanged: no second copy in memory.
    const files = await writeTfjsParts(model, { shardSize: opts.shardSize, quantize: parseQuantizeOption(opts.quantize) });
    const names = [...files.keys()].filter((n) => n !== 'model.json').concat('model.json');
    const entries = names.map((n): [string, Uint8Array[]] => [n, files.get(n) as Uint8Array[]]);
    const total = entries.reduce((a, [, p]) => a + sizeOf(p), 0);
    const report = opts.progress;
    const written = await writeFilesAtomic(out, entries, report && ((done, path) => report({ path, done, total })));
    return [written[written.length - 1], ...written.slice(0, -1)];
  }
  if (to !== 'h5' && to !== 'keras') throw new KerasInteropError('USAGE', `unknown target format "${String(to)}" (tfjs, h5, keras)`);
  if (opts.quantize !== undefined) throw new KerasInteropError('USAGE', `--quantize applies to tfjs output, not ${to}`);
  if (opts.shardSize !== undefined) throw new KerasInteropError('USAGE', `--shard-size applies to tfjs output, not ${to}`);
  if (opts.generation !== undefined && opts.generation !== 'keras2' && opts.generation !== 'keras3') {
    throw new KerasInteropError('USAGE', `unknown generation "${String(opts.generation)}" (keras2, keras3)`);
  }
  if (to === 'keras' && opts.generation === 'keras2') throw new KerasInteropError('USAGE', '.keras archives are Keras 3; --generation keras2 applies to h5 output');
  let path = out;
  if (await isDirectory(out)) {
    const stem = basename(model.source.file, extname(model.source.file)) || 'model';
    path = join(out, `${stem}${EXT[to]}`);
  }
  const parts = to === 'h5' ? serializeH5Parts(buildHdf5Tree(model, { generation: opts.generation })) : [await writeKerasArchive(model)];
  const total = sizeOf(parts);
  const report = opts.progress;
  await writeFileAtomic(path, parts, report && ((done) => report({ path, done, total })));
  return [path];
}
