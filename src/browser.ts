/**
 * keras-interop in a page (`keras-interop/browser`): the same readers, runtime, verification and writers
 * as the Node package, on bytes: a dropped or picked File, a folder's files, an ArrayBuffer. Imports no
 * Node built-in; h5wasm's browser build holds HDF5 files in memory. Nothing leaves the page.
 */
import './browser/platform.js';
import type { ByteSource, ModelSource } from './readers/io/source.js';
import { isFileSet } from './readers/io/source.js';
import type { JsonObject, KerasModel } from './model/types.js';
import { type FolderInput, type ModelInput, folderFiles, folderOf, isFolderInput, sourceOf } from './browser/input.js';
import { verifyCaseFolder } from './browser/case-folder.js';
import type { FileVerification, VerifyOptions, VerifyResult } from './parity/verify-core.js';
import { KerasInteropError } from './errors.js';
import { type DetectedFormat, detectSourceFormat } from './readers/detect.js';
import { type ReadOptions, readConfigFrom, readModelSource } from './readers/sources.js';

export { KerasInteropError, UnsupportedLayerError, isKerasInteropError, type ErrorCode } from './errors.js';
export type { KerasModel, LayerWeights, Weight, WeightDType, JsonObject, JsonValue, SourceFormat } from './model/types.js';
export { weightValues } from './model/types.js';
export { summarize, formatSummary, type ModelSummary, type LayerSummary } from './model/summary.js';
export { bytesSource, memoryFiles, isFileSet, type ByteSource, type FileSet, type ModelSource } from './readers/io/source.js';
export { sourceOf, folderOf, type FolderInput, type ModelInput } from './browser/input.js';
export type { ReadOptions } from './readers/sources.js';
export type { DetectedFormat } from './readers/detect.js';
export { useBackend, currentBackend, setWasmLocation, type BackendName } from './runtime/backend.js';
export { buildModel, buildModelDetailed, predict } from './runtime/build.js';
export { normalizeConfig, resolveClassName } from './runtime/normalize.js';
export { registerLayer } from './runtime/registry.js';
export { runModel, describeRuntime, type RunOutput } from './runtime/run.js';
export { parseNpy, encodeNpy, type NpyArray } from './parity/npy.js';
export { compareArrays, formatReport, type CompareReport } from './parity/compare.js';
export { parseGoldenCase, parseGoldenCaseText, type GoldenCase } from './parity/golden-case.js';
export { verifyModel, verifyGoldenCase, formatVerifyResult, verifyExitCode, type FileVerification, type VerifyResult } from './parity/verify-core.js';
export { readCaseFolder, verifyCaseFolder } from './browser/case-folder.js';
export { CONVERT_TARGETS, convertToFiles, type ConvertOptions, type ConvertProgress, type ConvertTarget, type ConvertedFile } from './writers/convert.js';
export { writeHdf5, writeWeightsHdf5 } from './writers/hdf5.js';
export { writeKerasArchive } from './writers/keras-archive.js';
export { writeTfjs } from './writers/tfjs.js';
export { readTfjsFiles } from './readers/tfjs.js';
export { zipFiles } from './browser/zip-files.js';
export { withAttentionTaps, tapAttention, attentionHead, attentionTapsOn, attentionHeatmap, type AttentionMap, type AttentionView } from './runtime/attention-taps.js';
export { layerGraph, type LayerGraph } from './runtime/layer-graph.js';
export { heatmapPixels, cellSize, viridis } from './writers/heatmap.js';
export { encodePng } from './writers/png.js';
export * from './layers/index.js';
export { VERSION } from './version.js';

/** An input as a source the readers take (Blobs read into memory now). */
async function asSource(input: ModelInput | ModelSource): Promise<ModelSource> {
  if (isFileSet(input as ModelSource) || typeof (input as ByteSource).read === 'function') return input as ModelSource;
  return sourceOf(input as ModelInput);
}

/** Which format a file or folder holds. */
export async function detectFormatOf(input: ModelInput | ModelSource): Promise<DetectedFormat> {
  return detectSourceFormat(await asSource(input));
}

/** Reads a model: one file's bytes (`.h5`, `.keras`), or a folder's files (SavedModel, tfjs). */
export async function readModelFrom(input: ModelInput | ModelSource, opts: ReadOptions = {}): Promise<KerasModel> {
  return readModelSource(await asSource(input), opts);
}

/** The config to pair with a weights-only file: a model's, or a JSON config file's. */
export async function readConfigOf(input: ModelInput | ModelSource, opts: Pick<ReadOptions, 'limits' | 'maxConfigDepth'> = {}): Promise<JsonObject> {
  return readConfigFrom(await asSource(input), opts);
}

/** Where case.json is in a picked folder: the folder itself, else its shallowest sub-folder holding one. */
export function findCaseDir(paths: Iterable<string>): string {
  const found = [...paths].filter((p) => p === 'case.json' || p.endsWith('/case.json')).sort((a, b) => a.split('/').length - b.split('/').length);
  if (!found.length) throw new KerasInteropError('FILE_NOT_FOUND', 'the folder holds no case.json');
  return found[0] === 'case.json' ? '' : found[0].slice(0, -'/case.json'.length);
}

/**
 * `keras-interop verify <case-dir>` on a picked folder (a FileList or Files of a folder pick, or a
 * `{name, files}` map): its case.json, or the shallowest one in it, with the arrays and model files it
 * names. `onFile` hears each model file's result as it comes.
 */
export async function verifyCase(
  folder: FileList | readonly File[] | FolderInput,
  opts: Omit<VerifyOptions, 'configPath'> & { onFile?: (f: FileVerification) => void } = {},
): Promise<VerifyResult> {
  const input = isFolderInput(folder) ? folder : folderOf(Array.from(folder));
  return verifyCaseFolder(await folderFiles(input), { ...opts, caseDir: findCaseDir(input.files.keys()) });
}
