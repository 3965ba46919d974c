/**
 * What `convert` writes, as files of parts, before anything touches a disk: the Node writer
 * (writers/index.ts) writes them atomically, a page concatenates them into downloads. The option checks
 * live here, so both refuse the same things with the same errors.
 */
import { KerasInteropError } from '../errors.js';
import type { KerasModel } from '../model/types.js';
import type { KerasGeneration } from '../model/weight-names.js';
import type { LambdaPolicy } from '../runtime/lambda/replace.js';
import { buildHdf5Tree } from './hdf5.js';
import { serializeH5Parts } from './h5-builder.js';
import { writeKerasArchiveParts } from './keras-archive.js';
import { type Part, type Patch, concatPartsReporting, partsSize } from './parts.js';
import { parseQuantizeOption, writeTfjsParts } from './tfjs.js';

export type ConvertTarget = 'tfjs' | 'h5' | 'keras' | 'onnx';

/** The targets `convert` knows, in the order tools list them. */
export const CONVERT_TARGETS: readonly ConvertTarget[] = ['tfjs', 'h5', 'keras', 'onnx'];

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
  /** Called as bytes are written (for a progress bar); `convertToFiles` awaits what it returns (a page repaints). */
  progress?: (p: ConvertProgress) => void;
  /**
   * h5 only: the Keras generation to write (`keras2`: tf.keras 2's layout and config dialect, `keras3`:
   * Keras 3's legacy layout); default: the source's. `.keras` archives are always Keras 3.
   */
  generation?: KerasGeneration;
  /** tfjs and onnx: Lambda layers are written as their translation (default) or refused (`refuse`). */
  lambdas?: LambdaPolicy;
  /** onnx only: allow Microsoft contrib ops (onnxruntime only). */
  contribOps?: boolean;
  /** onnx only: initializers in `<file>.data` (default: only when the file would pass protobuf's 2 GiB). */
  externalData?: boolean;
}

export const CONVERT_EXTENSIONS: Record<Exclude<ConvertTarget, 'tfjs'>, string> = { h5: '.h5', keras: '.keras', onnx: '.onnx' };

/**
 * A conversion's output: a tfjs folder (shards first; model.json once they are made) or one file, with
 * (onnx's external data) a file beside it that is written first.
 */
export type ConversionPlan =
  | { kind: 'folder'; shards: [string, Part[]][]; modelJson(): Uint8Array }
  | { kind: 'file'; extension: string; parts: Part[]; patches?: () => Patch[]; beside?: { name: string; parts: Part[] } };

/**
 * Checks the options against the target and lays out the output. `beforeFile` runs after the checks and
 * before a single file's parts are made (the Node writer looks at its output path there); it may give the
 * file's name (default `<model stem><extension>`), which the onnx file's data file is named after.
 */
export async function planConversion(
  model: KerasModel,
  to: ConvertTarget,
  opts: ConvertOptions = {},
  beforeFile?: (extension: string) => Promise<string | void>,
): Promise<ConversionPlan> {
  if (to === 'tfjs' && opts.generation !== undefined) throw new KerasInteropError('USAGE', '--generation applies to h5 output, not tfjs');
  if (to !== 'onnx' && (opts.contribOps !== undefined || opts.externalData !== undefined)) {
    throw new KerasInteropError('USAGE', `--contrib-ops and --external-data apply to onnx output, not ${to}`);
  }
  if (to === 'tfjs') {
    // Each weight's bytes are made as its shard is written (views of the model's arrays where unchanged).
    const folder = await writeTfjsParts(model, { shardSize: opts.shardSize, quantize: parseQuantizeOption(opts.quantize), lambdas: opts.lambdas });
    return { kind: 'folder', shards: folder.shards, modelJson: () => folder.modelJson() };
  }
  if (to !== 'h5' && to !== 'keras' && to !== 'onnx') throw new KerasInteropError('USAGE', `unknown target format "${String(to)}" (${CONVERT_TARGETS.join(', ')})`);
  if (opts.quantize !== undefined) throw new KerasInteropError('USAGE', `--quantize applies to tfjs output, not ${to}`);
  if (opts.shardSize !== undefined) throw new KerasInteropError('USAGE', `--shard-size applies to tfjs output, not ${to}`);
  if (opts.generation !== undefined && opts.generation !== 'keras2' && opts.generation !== 'keras3') {
    throw new KerasInteropError('USAGE', `unknown generation "${String(opts.generation)}" (keras2, keras3)`);
  }
  if (to === 'keras' && opts.generation === 'keras2') throw new KerasInteropError('USAGE', '.keras archives are Keras 3; --generation keras2 applies to h5 output');
  if (to === 'onnx' && opts.generation !== undefined) throw new KerasInteropError('USAGE', '--generation applies to h5 output, not onnx');
  const extension = CONVERT_EXTENSIONS[to];
  const fileName = (await beforeFile?.(extension)) || `${modelStem(model)}${extension}`;
  if (to === 'onnx') {
    // Loaded when needed: the lowerings are not needed by the other targets.
    const { exportOnnx } = await import('./onnx/index.js');
    const { file } = await exportOnnx(model, {
      contribOps: opts.contribOps,
      lambdas: opts.lambdas,
      externalData: opts.externalData ? 'external' : 'auto',
      dataFileName: `${fileName}.data`,
    });
    return { kind: 'file', extension, parts: file.model, ...(file.data ? { beside: { name: file.data.fileName, parts: file.data.parts } } : {}) };
  }
  if (to === 'h5') return { kind: 'file', extension, parts: serializeH5Parts(buildHdf5Tree(model, { generation: opts.generation })) };
  const { parts, patches } = await writeKerasArchiveParts(model);
  return { kind: 'file', extension, parts, patches };
}

/** A model's file name without folders and extension (`model` when it has none). */
export function modelStem(model: KerasModel): string {
  const base = model.source.file.split(/[\\/]/).filter(Boolean).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return (dot > 0 ? base.slice(0, dot) : base) || 'model';
}

export interface ConvertedFile {
  /**
   * The file's name: `<stem>.h5` / `.keras` / `.onnx` (and `<stem>.onnx.data` with external data), or a
   * path inside the tfjs folder (`model.json`, shards).
   */
  name: string;
  bytes: Uint8Array;
}

/**
 * The converted files in memory (a page's downloads): for tfjs, model.json first, then the shards.
 * Progress is reported after each weight.
 */
export async function convertToFiles(model: KerasModel, to: ConvertTarget, opts: ConvertOptions = {}): Promise<ConvertedFile[]> {
  const plan = await planConversion(model, to, opts);
  const files: [string, Part[], (() => Patch[]) | undefined][] =
    plan.kind === 'file'
      ? [[`${modelStem(model)}${plan.extension}`, plan.parts, plan.patches], ...(plan.beside ? [[plan.beside.name, plan.beside.parts, undefined] as [string, Part[], undefined]] : [])]
      : plan.shards.map(([name, parts]) => [name, parts, undefined]);
  const total = files.reduce((a, [, parts]) => a + partsSize(parts), 0);
  const out: ConvertedFile[] = [];
  let before = 0;
  for (const [name, parts, patches] of files) {
    const bytes = await concatPartsReporting(parts, (done) => opts.progress?.({ path: name, done: before + done, total }), patches);
    before += bytes.length;
    out.push({ name, bytes });
  }
  return plan.kind === 'file' ? out : [{ name: 'model.json', bytes: plan.modelJson() }, ...out];
}
