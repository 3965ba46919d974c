/** Writes a KerasModel in another format: the `convert` command's engine. */
import { join } from 'node:path';
import type { KerasModel } from '../model/types.js';
import { type ConvertOptions, type ConvertTarget, modelStem, planConversion } from './convert.js';
import { isDirectory, writeFileAtomic, writeFilesAtomic } from './fs.js';
import { buildHdf5Tree, buildWeightsHdf5Tree, type WriteHdf5Options, type WriteWeightsOptions } from './hdf5.js';
import { serializeH5Parts } from './h5-builder.js';
import { type WriteKerasArchiveOptions, writeKerasArchiveParts } from './keras-archive.js';
import { partsSize } from './parts.js';

export type { WriteHdf5Options, WriteWeightsOptions } from './hdf5.js';
export { buildHdf5Tree, buildWeightsHdf5Tree, writeHdf5, writeWeightsHdf5 } from './hdf5.js';
export type { WriteKerasArchiveOptions } from './keras-archive.js';
export { writeKerasArchive } from './keras-archive.js';
export { CONVERT_TARGETS, convertToFiles, type ConvertOptions, type ConvertProgress, type ConvertTarget, type ConvertedFile } from './convert.js';
export type { TfjsQuantizeOptions, WriteTfjsOptions } from './tfjs.js';
export { writeTfjs } from './tfjs.js';

/**
 * Writes `model` as `to` at `out` and returns the paths written. For `h5` and `keras`, `out` is the
 * file (or an existing folder, which then receives `<model name>.h5` / `.keras`). Files are written
 * under a temporary name and renamed into place; nothing is written outside `out`'s folder.
 */
export async function convertModel(model: KerasModel, to: ConvertTarget, out: string, opts: ConvertOptions = {}): Promise<string[]> {
  let path = out;
  const plan = await planConversion(model, to, opts, async (extension) => {
    if (await isDirectory(out)) path = join(out, `${modelStem(model)}${extension}`);
  });
  const report = opts.progress;
  if (plan.kind === 'folder') {
    // `out` is the model folder. Shards first, model.json last: a folder whose model.json exists is complete.
    const total = plan.shards.reduce((a, [, p]) => a + partsSize(p), 0);
    const written = await writeFilesAtomic(out, plan.shards, report && ((done, p) => report({ path: p, done, total })));
    const json = plan.modelJson();
    await writeFileAtomic(join(out, 'model.json'), json);
    report?.({ path: join(out, 'model.json'), done: total, total });
    return [join(out, 'model.json'), ...written];
  }
  const total = partsSize(plan.parts);
  await writeFileAtomic(path, plan.parts, report && ((done) => report({ path, done, total })), plan.patches);
  return [path];
}

/** A full-model HDF5 file written to disk (to a temporary name first, then renamed). */
export async function writeHdf5File(model: KerasModel, path: string, opts: WriteHdf5Options = {}): Promise<void> {
  await writeFileAtomic(path, serializeH5Parts(buildHdf5Tree(model, opts)));
}

export async function writeWeightsHdf5File(model: KerasModel, path: string, opts: WriteWeightsOptions): Promise<void> {
  await writeFileAtomic(path, serializeH5Parts(buildWeightsHdf5Tree(model, opts)));
}

export async function writeKerasArchiveFile(model: KerasModel, path: string, opts: WriteKerasArchiveOptions = {}): Promise<void> {
  const { parts, patches } = await writeKerasArchiveParts(model, opts);
  await writeFileAtomic(path, parts, undefined, patches);
}
