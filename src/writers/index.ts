/** Writes a KerasModel in another format: the `convert` command's engine. */
import { basename, dirname, join } from 'node:path';
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
 * Writes `model` as `to` at `out` and returns the paths written. For `h5`, `keras` and `onnx`, `out` is the
 * file (or an existing folder, which then receives `<model name>.h5` / `.keras` / `.onnx`); onnx's external
 * data goes to `<file>.data` beside it, written first (an .onnx file that exists has its data). Files are
 * written under a temporary name and renamed into place; nothing is written outside `out`'s folder.
 */
export async function convertModel(model: KerasModel, to: ConvertTarget, out: string, opts: ConvertOptions = {}): Promise<string[]> {
  let path = out;
  const plan = await planConversion(model, to, opts, async (extension) => {
    if (await isDirectory(out)) path = join(out, `${modelStem(model)}${extension}`);
    return basename(path);
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
  const beside = plan.beside && { path: join(dirname(path), plan.beside.name), parts: plan.beside.parts };
  const before = beside ? partsSize(beside.parts) : 0;
  const total = before + partsSize(plan.parts);
  if (beside) await writeFileAtomic(beside.path, beside.parts, report && ((done) => report({ path: beside.path, done, total })));
  await writeFileAtomic(path, plan.parts, report && ((done) => report({ path, done: before + done, total })), plan.patches);
  return beside ? [path, beside.path] : [path];
}

/** A full-model HDF5 file written to disk (to a temporary name first, then renamed). */
export async function writeHdf5File(model: KerasModel, path: string, opts: WriteHdf5Options = {}): Promise<void> {
  await writeFileAtomic(path, serializeH5Parts(buildHdf5Tree(model, opts)));
}

export async function writeWeightsHdf5File(model: KerasModel, path: string, opts: WriteWeightsOptions): Promise<void> {
  await writeFileAtomic(path, serializeH5Parts(buildWeightsHdf5Tree(model, opts)));
}

/** An .onnx file (and `<path>.data` beside it with external data), as `convert --to onnx` writes it; returns the paths written. */
export function writeOnnxFile(model: KerasModel, path: string, opts: WriteOnnxOptions = {}): Promise<string[]> {
  return convertModel(model, 'onnx', path, opts);
}

export type WriteOnnxOptions = Pick<ConvertOptions, 'contribOps' | 'externalData' | 'lambdas' | 'progress'>;

export async function writeKerasArchiveFile(model: KerasModel, path: string, opts: WriteKerasArchiveOptions = {}): Promise<void> {
  const { parts, patches } = await writeKerasArchiveParts(model, opts);
  await writeFileAtomic(path, parts, undefined, patches);
}
