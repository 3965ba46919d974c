/**
 * The ONNX writer (`convert --to onnx`): the model lowered (src/onnx) and written as parts, each weight
 * read from the source when its turn comes. With external data the data file is written first, so that an
 * .onnx file that exists always has its data beside it.
 */
import { basename, dirname, join } from 'node:path';
import type { KerasModel } from '../model/types.js';
import { type ExportOnnxOptions, exportOnnx } from '../onnx/index.js';
import { writeFileAtomic } from './fs.js';
import { partsSize } from './parts.js';

export interface WriteOnnxOptions extends Omit<ExportOnnxOptions, 'dataFileName'> {
  /** Called as bytes reach the disk, over both files. */
  onBytes?: (written: number, path: string, total: number) => void;
}

/** Writes `<path>` (and `<path>.data` with external data); returns the paths written. */
export async function writeOnnxFile(model: KerasModel, path: string, opts: WriteOnnxOptions = {}): Promise<string[]> {
  const { file } = await exportOnnx(model, { ...opts, dataFileName: `${basename(path)}.data` });
  const total = partsSize(file.model) + (file.data ? partsSize(file.data.parts) : 0);
  const written: string[] = [];
  let before = 0;
  if (file.data) {
    const dataPath = join(dirname(path), file.data.fileName);
    await writeFileAtomic(dataPath, file.data.parts, opts.onBytes && ((n) => opts.onBytes!(n, dataPath, total)));
    before = partsSize(file.data.parts);
    written.push(dataPath);
  }
  await writeFileAtomic(path, file.model, opts.onBytes && ((n) => opts.onBytes!(before + n, path, total)));
  return [path, ...written];
}
