/**
 * keras-interop command line. The only module that prints and sets exit codes.
 * Exit codes: 0 success (verify: every output within tolerance), 1 verify mismatch, 2 any error.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KerasInteropError } from './errors.js';
import { formatSummary, summarize } from './model/summary.js';
import type { KerasModel } from './model/types.js';
import { readNpyFileSync, writeNpyFileSync } from './parity/npy-file.js';
import type { VerifyResult } from './parity/verify.js';
import type { ConvertProgress, ConvertTarget } from './writers/index.js';
import type { ReadOptions } from './readers/index.js';
import type { RunOptions } from './runtime/run.js';
import { VERSION } from './version.js';

// tfjs and h5wasm load after the arguments are read (`--help` and usage errors stay fast) and after the
// user's --layers modules (see main).
const loadReaders = () => import('./readers/index.js');
const loadRuntime = () => import('./runtime/run.js');
const loadVerify = () => import('./parity/verify.js');

const HELP = `keras-interop ${VERSION}: Keras models (with keras-self-attention / keras-multi-head layers) in TensorFlow.js

Usage:
  keras-interop inspect <model> [--json]
  keras-interop predict <model> --inputs a.npy[,b.npy] --out <dir>
  keras-interop verify <model> --inputs a.npy[,b.npy] --expected o.npy[,p.npy] [--json]
  keras-interop verify <case-dir> [--json]
  keras-interop convert <model> --to tfjs|h5|keras|onnx <out>
  keras-interop attention <model> --inputs a.npy[,b.npy] --out <dir> [--sample <i>]
  keras-interop serve [--port <n>]

<model> is a Keras HDF5 file (.h5: tf.keras 2, Keras 3 legacy, or weights-only), a .keras archive,
a SavedModel folder or a tfjs layers-model folder; inspect, predict and verify also take an .onnx file.
<out> (convert) is the file to write for --to h5 and --to keras, the folder to write model.json and its
weight shards into for --to tfjs (made when missing), the .onnx file for --to onnx (its weights go to
<out>.data beside it with --external-data or past 2 GiB).

Options:
  --inputs <a.npy,...>     predict, verify: the model's inputs as .npy files, in inspect's input order
  --expected <o.npy,...>   verify: the expected outputs, in inspect's output order
  --out <dir>              predict: folder for output_0.npy, output_1.npy, ...; attention: folder for the maps
  --sample <i>             attention: the sample drawn in the PNG heatmaps (default 0)
  --port <n>               serve: the port on 127.0.0.1 (default 8080; 0 picks a free one)
  --to <format>            convert: tfjs | h5 | keras | onnx
  --generation <g>         convert --to h5: write tf.keras 2 (keras2) or Keras 3 (keras3); default: the source's
  --quantize <spec>        convert --to tfjs: uint8 | uint16 | float16, optionally :glob,glob (weights to quantize)
  --shard-size <bytes>     convert --to tfjs: weight shard size (default 4194304, 4 MiB)
  --atol <x>               verify: absolute tolerance (default: the case's, else 1e-5)
  --rtol <x>               verify: relative tolerance (default: the case's, else 1e-4)
  --layers <file.js,...>   ES modules to import first, calling registerLayer(...) for the model's own layer
                           classes (any command; repeatable)
  --config <file>          config for a weights-only file: a model file or a JSON config
  --backend <name>         onnxruntime (onnxruntime-node, when installed) | wasm | cpu | tensorflow (tfjs-node);
                           default: onnxruntime when installed and every layer lowers to ONNX, else the fastest tfjs
  --threads <n>            onnxruntime: intra-op threads (default: every core)
  --contrib-ops            convert --to onnx: allow Microsoft contrib ops (com.microsoft; onnxruntime only)
  --external-data          convert --to onnx: weights in <out>.data beside the .onnx (default: only past 2 GiB)
  --json                   machine-readable output on stdout
  --max-tensor-bytes <n>   refuse any tensor larger than this (default 2 GiB)
  --max-total-bytes <n>    refuse models whose weights exceed this (default 8 GiB)
  --max-inflated-bytes <n> refuse zip archives that inflate to more than this (default 4 GiB)
  --max-config-depth <n>   refuse JSON configs nested deeper than this (default 200)
  --refuse-lambdas         do not run (or write to tfjs) Lambda layers translated from their Python bytecode;
                           inspect still shows what each one computes
  -h, --help               this text
  -v, --version            the version

attention writes <layer>.npy (every sample) and <layer>_head<h>.png per attention layer.
serve starts the web app (open a model, run, verify, convert, see attention) on 127.0.0.1; build it
first with npm run build:web. Nothing leaves the page.

verify exits 0 when every output is within tolerance, 1 when one is not, 2 on any error.`;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
};

function splitList(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function numberOption(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new KerasInteropError('USAGE', `${flag} expects a non-negative number, got "${v}"`);
  return n;
}

type Values = Record<string, string | string[] | boolean | undefined>;

async function readOptions(values: Values): Promise<ReadOptions> {
  const opts: ReadOptions = { limits: {} };
  const maxTensor = numberOption(values['max-tensor-bytes'] as string | undefined, '--max-tensor-bytes');
  const maxTotal = numberOption(values['max-total-bytes'] as string | undefined, '--max-total-bytes');
  const maxInflated = numberOption(values['max-inflated-bytes'] as string | undefined, '--max-inflated-bytes');
  const maxDepth = numberOption(values['max-config-depth'] as string | undefined, '--max-config-depth');
  if (maxInflated !== undefined) opts.limits!.maxInflatedBytes = maxInflated;
  if (maxDepth !== undefined) opts.maxConfigDepth = maxDepth;
  if (maxTensor !== undefined) opts.limits!.maxTensorBytes = maxTensor;
  if (maxTotal !== undefined) opts.limits!.maxTotalBytes = maxTotal;
  if (typeof values.config === 'string') opts.config = await (await loadReaders()).readConfigSource(values.config, opts);
  return opts;
}

function lambdaPolicy(values: Values): 'translate' | 'refuse' {
  return values['refuse-lambdas'] ? 'refuse' : 'translate';
}

function need(positionals: string[], index: number, what: string): string {
  const v = positionals[index];
  if (!v) throw new KerasInteropError('USAGE', `missing ${what} (see keras-interop --help)`);
  return v;
}

async function cmdInspect(positionals: string[], values: Values, io: Io): Promise<number> {
  const file = need(positionals, 1, '<model>');
  if (await isOnnxFile(file)) return inspectOnnx(file, values, io);
  const { readModel } = await loadReaders();
  const model = await readModel(file, await readOptions(values));
  const runtime = await (await loadRuntime()).describeRuntime(model, values.backend as string | undefined, lambdaPolicy(values));
  const summary = summarize(model, runtime);
  if (values.json) io.out(JSON.stringify({ ...summary, runtimeBackend: runtime.backend, runtimeBackendReason: runtime.backendReason }, null, 2));
  else io.out(formatSummary(summary, `${runtime.backend} (${runtime.backendReason})`));
  return 0;
}

async function isOnnxFile(file: string): Promise<boolean> {
  return existsSync(file) && statSync(file).isFile() && (await loadReaders()).detectFormat(file) === 'onnx';
}

async function inspectOnnx(file: string, values: Values, io: Io): Promise<number> {
  const { readOnnxSummary, formatOnnxSummary } = await import('./readers/onnx.js');
  const { loadOnnxRuntime } = await import('./runtime/onnxruntime.js');
  const summary = readOnnxSummary(file);
  const ort = await loadOnnxRuntime();
  const reason = ort.ort ? `onnxruntime-node ${ort.version}; an ONNX file runs on onnxruntime only` : `not available: ${(ort as { reason: string }).reason}`;
  if (values.json) io.out(JSON.stringify({ ...summary, runtimeBackend: ort.ort ? 'onnxruntime' : null, runtimeBackendReason: reason }, null, 2));
  else io.out(formatOnnxSummary(summary, `onnxruntime (${reason})`));
  return 0;
}

function runOptions(values: Values): RunOptions {
  const threads = numberOption(values.threads as string | undefined, '--threads');
  return { backend: values.backend as string | undefined, lambdas: lambdaPolicy(values), ...(threads !== undefined ? { threads } : {}) };
}

async function loadForRun(file: string, values: Values): Promise<KerasModel> {
  return (await loadReaders()).readModel(file, await readOptions(values));
}

/** `<model> --inputs a.npy[,b.npy] --out <dir>`, which predict and attention both need. */
function modelInputsOut(command: string, positionals: string[], values: Values): { file: string; inputs: string[]; outDir: string } {
  const file = need(positionals, 1, '<model>');
  const inputs = splitList(values.inputs as string | undefined);
  if (!inputs.length) throw new KerasInteropError('USAGE', `${command} needs --inputs a.npy[,b.npy]`);
  const outDir = values.out as string | undefined;
  if (!outDir) throw new KerasInteropError('USAGE', `${command} needs --out <dir>`);
  return { file, inputs, outDir };
}

async function cmdPredict(positionals: string[], values: Values, io: Io): Promise<number> {
  const { file, inputs, outDir } = modelInputsOut('predict', positionals, values);
  const arrays = inputs.map((f) => readNpyFileSync(f));
  const runtime = await loadRuntime();
  const { outputs } = (await isOnnxFile(file))
    ? await runtime.runOnnxFile(file, arrays, runOptions(values))
    : await runtime.runModelDetailed(await loadForRun(file, values), arrays, runOptions(values));
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
    throw new KerasInteropError('USAGE', '--out must be a folder', { file: outDir });
  }
  const { makeFolder } = await import('./writers/fs.js');
  await makeFolder(outDir).catch((e: unknown) => {
    throw new KerasInteropError('WRITE_FAILED', `cannot create the output folder (${(e as Error).message})`, { file: outDir }, { cause: e });
  });
  const written = outputs.map((o, i) => {
    const path = join(outDir, `output_${i}.npy`);
    writeNpyFileSync(path, { dtype: o.dtype, shape: o.shape, data: o.data });
    return { name: o.name, file: path, shape: o.shape, dtype: o.dtype };
  });
  if (values.json) io.out(JSON.stringify({ outputs: written }, null, 2));
  else for (const w of written) io.out(`${w.file}  ${w.name}  (${w.shape.join(', ')}) ${w.dtype}`);
  return 0;
}

/** The report (the same text the web app shows) or its JSON; returns the exit code. */
async function printVerify(r: VerifyResult, values: Values, io: Io): Promise<number> {
  const { formatVerifyResult, verifyExitCode } = await loadVerify();
  if (values.json) io.out(JSON.stringify({ ...r, exitCode: verifyExitCode(r) }, null, 2));
  else io.out(formatVerifyResult(r));
  return verifyExitCode(r);
}

async function cmdVerify(positionals: string[], values: Values, io: Io): Promise<number> {
  const target = need(positionals, 1, '<model> or <case-dir>');
  const tolerance = {
    ...(values.atol !== undefined ? { atol: numberOption(values.atol as string, '--atol') } : {}),
    ...(values.rtol !== undefined ? { rtol: numberOption(values.rtol as string, '--rtol') } : {}),
  } as { atol?: number; rtol?: number };
  const read = await readOptions({ ...values, config: undefined });
  const common = { ...runOptions(values), tolerance, read, configPath: values.config as string | undefined };
  let result: VerifyResult;
  if (existsSync(target) && statSync(target).isDirectory() && existsSync(join(target, 'case.json'))) {
    result = await (await loadVerify()).verifyCase(target, common);
  } else {
    const inputs = splitList(values.inputs as string | undefined);
    const expected = splitList(values.expected as string | undefined);
    if (!inputs.length || !expected.length) {
      throw new KerasInteropError('USAGE', 'verify <model> needs --inputs and --expected (or give a case folder with case.json)');
    }
    result = await (await loadVerify()).verifyModelFile(target, inputs, expected, common);
  }
  return printVerify(result, values, io);
}

async function cmdConvert(positionals: string[], values: Values, io: Io): Promise<number> {
  const file = need(positionals, 1, '<model>');
  const to = values.to as string | undefined;
  const out = need(positionals, 2, '<out>');
  if (!to || !['tfjs', 'h5', 'keras', 'onnx'].includes(to)) throw new KerasInteropError('USAGE', '--to must be one of tfjs, h5, keras, onnx');
  // Weights stream from an HDF5 source into the output, one tensor at a time.
  const model = await (await loadReaders()).readModel(file, { ...(await readOptions(values)), streamWeights: true });
  const { convertModel } = await import('./writers/index.js');
  let written: string[];
  try {
    written = await convertModel(model, to as ConvertTarget, out, {
      quantize: values.quantize as string | undefined,
      shardSize: numberOption(values['shard-size'] as string | undefined, '--shard-size'),
      generation: values.generation as 'keras2' | 'keras3' | undefined,
      lambdas: to === 'tfjs' || to === 'onnx' ? lambdaPolicy(values) : undefined,
      ...(values['contrib-ops'] ? { contribOps: true } : {}),
      ...(values['external-data'] ? { externalData: true } : {}),
      progress: !values.json && process.stderr.isTTY ? progressBar() : undefined,
    });
  } finally {
    model.close?.();
  }
  if (values.json) io.out(JSON.stringify({ written }, null, 2));
  else for (const w of written) io.out(w);
  return 0;
}

async function cmdAttention(positionals: string[], values: Values, io: Io): Promise<number> {
  const { file, inputs, outDir } = modelInputsOut('attention', positionals, values);
  const { writeAttentionMaps } = await import('./commands/attention.js');
  const sample = numberOption(values.sample as string | undefined, '--sample');
  const maps = await writeAttentionMaps(file, inputs, outDir, { backend: values.backend as string | undefined, lambdas: lambdaPolicy(values), read: await readOptions(values), sample });
  if (values.json) io.out(JSON.stringify({ maps }, null, 2));
  else for (const m of maps) io.out(`${m.npy}  ${m.layer} (${m.className})  [${m.shape.join(', ')}]  ${m.png.length} PNG(s)`);
  return 0;
}

/** A one-line progress bar on stderr, redrawn at most every 100 ms and at the end. */
function progressBar(): (p: ConvertProgress) => void {
  let last = 0;
  return ({ path, done, total }) => {
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const frac = total > 0 ? done / total : 1;
    const filled = Math.round(frac * width);
    const mb = (n: number) => (n / 1e6).toFixed(1);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(done)}/${mb(total)} MB ${basename(path)}`);
    if (done >= total) process.stderr.write('\n');
  };
}

/** Every option of every command (`--help` and the README list each one; test/cli-help.test.ts checks). */
export const CLI_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  layers: { type: 'string', multiple: true },
  version: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  backend: { type: 'string' },
  inputs: { type: 'string' },
  expected: { type: 'string' },
  out: { type: 'string' },
  to: { type: 'string' },
  quantize: { type: 'string' },
  'shard-size': { type: 'string' },
  generation: { type: 'string' },
  atol: { type: 'string' },
  rtol: { type: 'string' },
  'max-tensor-bytes': { type: 'string' },
  'max-total-bytes': { type: 'string' },
  'max-inflated-bytes': { type: 'string' },
  'max-config-depth': { type: 'string' },
  'refuse-lambdas': { type: 'boolean' },
  threads: { type: 'string' },
  'contrib-ops': { type: 'boolean' },
  'external-data': { type: 'boolean' },
  sample: { type: 'string' },
  port: { type: 'string' },
} as const;

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let values: Values = {};
  let positionals: string[] = [];
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: CLI_OPTIONS,
    });
    values = parsed.values as Values;
    positionals = parsed.positionals;
    if (values.version) {
      io.out(VERSION);
      return 0;
    }
    if (values.help || positionals.length === 0) {
      io.out(HELP);
      return positionals.length === 0 && !values.help ? 2 : 0;
    }
    // The user's layer classes are registered before any command reads a model.
    const layerModules = ((values.layers as string[] | undefined) ?? []).flatMap((v) => splitList(v));
    if (layerModules.length > 0) await (await import('./runtime/user-layers.js')).importLayerModules(layerModules, io.err);
    switch (positionals[0]) {
      case 'inspect':
        return await cmdInspect(positionals, values, io);
      case 'predict':
        return await cmdPredict(positionals, values, io);
      case 'verify':
        return await cmdVerify(positionals, values, io);
      case 'convert':
        return await cmdConvert(positionals, values, io);
      case 'attention':
        return await cmdAttention(positionals, values, io);
      case 'serve':
        return await (await import('./commands/serve.js')).serveCommand(numberOption(values.port as string | undefined, '--port'), io);
      default:
        throw new KerasInteropError('USAGE', `unknown command "${positionals[0]}" (inspect, predict, verify, convert, attention, serve)`);
    }
  } catch (e) {
    let err =
      e instanceof KerasInteropError
        ? e
        : (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
          ? new KerasInteropError('USAGE', (e as Error).message)
          : new KerasInteropError('INTERNAL', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, {}, { cause: e });
    // Errors raised past the readers (building, running, writing) name the model the user gave.
    if (!err.file && err.code !== 'USAGE' && positionals[1]) err = err.withFile(positionals[1]);
    if (values.json) io.out(JSON.stringify({ error: err.toJSON(), exitCode: 2 }, null, 2));
    io.err(`error [${err.code}]: ${err.message}`);
    if (err.code === 'INTERNAL' && process.env.KERAS_INTEROP_DEBUG) io.err(String((e as Error)?.stack));
    return 2;
  }
}
