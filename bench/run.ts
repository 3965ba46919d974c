/**
 * `npm run bench [-- --json <file>] [--quick] [--mb <n>] [--skip forward,conversion,first] [--profile]`
 *
 * Prints one table: forward passes of the bench models on every available backend (onnxruntime-node at
 * 1 and 2 threads, tfjs-node, wasm, cpu; with GFLOP/s from
 * the analytic counts in bench/models.ts, against a 1024^3 matMul roofline measured on the same
 * backend in the same process, and against NumPy's matmul), conversions of a generated model with
 * ~200 MB of weights (MB/s against a plain copy of the same bytes, peak RSS against the weights' size),
 * and the time to a first prediction in a fresh process. Every measurement runs in its own child
 * process so that one's memory and JIT state cannot colour another's.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ConvertChildResult } from './convert.js';
import type { ForwardResult } from './forward.js';
import type { OnnxForwardResult } from './forward-onnx.js';
import { BENCH_DIR, REPO_ROOT, type ChildRun, bundleForNode, fmt, formatTable, runBenchChild, runProgram } from './util.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const jsonPath = option('--json');
const megabytes = Number(option('--mb') ?? 200);
const skip = new Set((option('--skip') ?? '').split(',').filter(Boolean));
/** Also run onnxruntime's profiler over each model and list the heaviest operators. */
const profile = flag('--profile');

/** The maintainers' reference figures (ms per batch) printed beside our rows. */
const KERAS_TRANSFORMER_MS = 258;
const PLAIN_TFJS_WASM_TRANSFORMER_MS = 217;
const KERAS_MULTIPLICATIVE_MS = 38;

/** Issue 15's goals for the onnxruntime backend on this machine (medians of one run). */
const ONNX_GOALS = { transformerMs: 15, rooflineRatio: 0.5, multiplicativeVsKeras: 0.25, conversionVsCopy: 1, conversionRss: 1.2 };

const log = (s: string) => process.stderr.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------------
// Children run as esbuild bundles under plain Node, as an installed package runs; tsx (which the
// parent runs under) transpiles node_modules on the fly and adds ~600 MB of RSS of its own.

const BUILD_DIR = join(BENCH_DIR, 'results', 'build');
let bundled = false;

async function bundleChildren(): Promise<void> {
  try {
    await mkdir(BUILD_DIR, { recursive: true });
    await bundleForNode({ entryPoints: ['forward.ts', 'forward-onnx.ts', 'convert.ts', 'first-prediction.ts'].map((f) => join(BENCH_DIR, f)), outdir: BUILD_DIR });
    bundled = true;
  } catch (e) {
    log(`esbuild unavailable (${(e as Error).message}); children run through tsx, so RSS figures include tsx's own`);
  }
}

function child<T>(name: string, args: string[], timeoutMs?: number): Promise<ChildRun<T>> {
  if (bundled) return runProgram<T>(process.execPath, [join(BUILD_DIR, `${name}.mjs`), ...args], timeoutMs);
  return runBenchChild<T>(`${name}.ts`, args, timeoutMs);
}

// ---------------------------------------------------------------------------------------------------

interface NumpyProbe {
  python: string;
  numpy: string;
  blas: string;
  ms_median: number;
  gflops: number;
  /** The same with BLAS held to one thread, as the wasm backend runs here. */
  gflops_1thread?: number;
}

/** NumPy's 1024^3 float32 matmul with each python3 that has NumPy; the fastest counts (the others are listed). */
async function numpyProbe(): Promise<{ best: NumpyProbe | null; tried: string[] }> {
  const tried: string[] = [];
  let best: NumpyProbe | null = null;
  // BENCH_PYTHON picks the interpreter; otherwise the first python3 on PATH and Debian's.
  const candidates = process.env.BENCH_PYTHON ? [process.env.BENCH_PYTHON] : [...new Set(['python3', '/usr/bin/python3'])];
  for (const python of candidates) {
    const run = await runProgram<Omit<NumpyProbe, 'python'> & { error?: string }>(python, [join(BENCH_DIR, 'numpy_matmul.py')], 60_000);
    if (!run.result || run.result.error) {
      tried.push(`${python}: ${run.result?.error ?? 'not runnable'}`);
      continue;
    }
    const r = { python, ...run.result };
    tried.push(`${python}: NumPy ${r.numpy}${r.blas ? ` (${r.blas})` : ''} ${r.gflops.toFixed(1)} GFLOP/s`);
    if (!best || r.gflops > best.gflops) best = r;
  }
  if (best) {
    const one = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const run = await runProgram<{ gflops: number }>(best.python, [join(BENCH_DIR, 'numpy_matmul.py')], 60_000, one);
    if (run.result?.gflops) best.gflops_1thread = run.result.gflops;
  }
  return { best, tried };
}

async function forwardRuns(): Promise<OnnxForwardResult[]> {
  const out: OnnxForwardResult[] = [];
  const failed = (backend: string, run: ChildRun<unknown>) => ({ backend, available: false, error: `child failed (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`, rows: [] });
  for (const threads of [1, 2]) {
    log(`forward passes on onnxruntime, ${threads} thread(s) ...`);
    const dir = profile ? await mkdtemp(join(tmpdir(), 'keras-interop-profile-')) : null;
    const run = await child<OnnxForwardResult>('forward-onnx', ['--threads', String(threads), ...(quick ? ['--quick'] : []), ...(dir ? ['--profile', dir] : [])], 400_000);
    if (dir) await rm(dir, { recursive: true, force: true });
    out.push(run.result ?? failed(`onnxruntime ${threads}t`, run));
  }
  for (const backend of ['tensorflow', 'wasm', 'cpu']) {
    log(`forward passes on ${backend} ...`);
    const run = await child<ForwardResult>('forward', ['--backend', backend, ...(quick ? ['--quick'] : [])], 400_000);
    out.push(run.result ?? failed(backend, run));
  }
  return out;
}

/** What the onnxruntime rows add to the goals column. */
function onnxGoal(model: string, ms: number, ratioRoof: number, refMs: number | undefined): string {
  const goals: string[] = [];
  const roof = ratioRoof >= ONNX_GOALS.rooflineRatio ? 'met' : `missed by ${fmt(ONNX_GOALS.rooflineRatio - ratioRoof, 2)}`;
  goals.push(`roofline ≥ ${ONNX_GOALS.rooflineRatio}: ${roof}`);
  if (model.startsWith('transformer')) goals.push(`≤ ${ONNX_GOALS.transformerMs} ms: ${ms <= ONNX_GOALS.transformerMs ? 'met' : `missed by ${fmt(ms - ONNX_GOALS.transformerMs)} ms`}`);
  if (model.startsWith('SeqSelfAttention multiplicative')) {
    const limit = KERAS_MULTIPLICATIVE_MS * ONNX_GOALS.multiplicativeVsKeras;
    goals.push(`< ${ONNX_GOALS.multiplicativeVsKeras}x Keras (${fmt(limit)} ms): ${ms < limit ? 'met' : `missed by ${fmt(ms - limit)} ms`}`);
  }
  if (refMs) goals.unshift(`Keras ${refMs} ms: ${fmt(refMs / ms, 1)}x`);
  return goals.join('; ');
}

interface ConversionRow {
  name: string;
  ms: number;
  mb_per_s: number;
  ratio_to_copy: number | null;
  peak_rss_bytes: number;
  peak_rss_ratio: number;
  peak_rss_above_baseline_ratio: number;
  error?: string;
}

async function conversions(): Promise<{ rows: ConversionRow[]; copy: ConversionRow | null; weightBytes: number; baselineRss: number; prepareMs: number; tfjs: boolean } | null> {
  const dir = await mkdtemp(join(tmpdir(), 'keras-interop-bench-'));
  try {
    log(`generating a model with ${megabytes} MB of weights ...`);
    const prep = await child<ConvertChildResult>('convert', ['prepare', dir, String(megabytes)], 300_000);
    if (!prep.result || prep.result.error) {
      log(`could not generate the conversion model: ${prep.result?.error ?? prep.stderr.slice(-500)}`);
      return null;
    }
    const weightBytes = prep.result.weight_bytes!;
    const baseline = (await child<ConvertChildResult>('convert', ['baseline'])).result?.max_rss_bytes ?? 0;
    const h5 = join(dir, 'model.h5');
    const keras = join(dir, 'model.keras');
    const row = (name: string, r: ConvertChildResult | null): ConversionRow => {
      const ms = r?.ms ?? NaN;
      const rss = r?.max_rss_bytes ?? NaN;
      return {
        name,
        ms,
        mb_per_s: (r?.bytes_in ?? NaN) / 1e6 / (ms / 1000),
        ratio_to_copy: null,
        peak_rss_bytes: rss,
        peak_rss_ratio: rss / weightBytes,
        peak_rss_above_baseline_ratio: (rss - baseline) / weightBytes,
        ...(r?.error ? { error: r.error } : {}),
      };
    };
    log('plain copy ...');
    const copy = row('plain file copy (same bytes, fsync)', (await child<ConvertChildResult>('convert', ['copy', h5, join(dir, 'copy.h5')])).result);
    const tfjs = existsSync(join(REPO_ROOT, 'src', 'writers', 'tfjs.ts'));
    const jobs: [string, string, string, string][] = [
      ['h5 → h5', h5, 'h5', join(dir, 'out.h5')],
      ['.keras → h5', keras, 'h5', join(dir, 'out-from-keras.h5')],
      ...(tfjs ? [['h5 → tfjs', h5, 'tfjs', join(dir, 'tfjs')] as [string, string, string, string]] : []),
      ['h5 → onnx', h5, 'onnx', join(dir, 'out.onnx')],
    ];
    const rows: ConversionRow[] = [];
    for (const [name, from, to, out] of jobs) {
      log(`convert ${name} ...`);
      const r = row(name, (await child<ConvertChildResult>('convert', ['convert', from, to, out], 300_000)).result);
      r.ratio_to_copy = r.mb_per_s / copy.mb_per_s;
      rows.push(r);
      await rm(out, { recursive: true, force: true });
    }
    return { rows, copy, weightBytes, baselineRss: baseline, prepareMs: prep.result.ms, tfjs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface FirstPrediction {
  backend: string;
  total_ms: number;
  phases_ms: Record<string, number>;
  output_shape: number[];
}

async function firstPrediction(backend: string): Promise<{ median: FirstPrediction; runs: number[]; wallMs: number[] } | null> {
  const dir = join(REPO_ROOT, 'fixtures', 'golden', 'transformer_block');
  const runs: FirstPrediction[] = [];
  const walls: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const r = await child<FirstPrediction>('first-prediction', [join(dir, 'model.h5'), join(dir, 'input_0.npy'), backend]);
    if (r.result) {
      runs.push(r.result);
      walls.push(r.wallMs);
    } else log(`first prediction failed: ${r.stderr.slice(-500)}`);
  }
  if (runs.length === 0) return null;
  const sorted = [...runs].sort((a, b) => a.total_ms - b.total_ms);
  return { median: sorted[(sorted.length - 1) >> 1]!, runs: runs.map((r) => r.total_ms), wallMs: walls };
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${process.platform} ${release()}`,
    node: process.version,
    load_average_start: loadavg().map((x) => Math.round(x * 100) / 100),
    load_average_end: [] as number[],
  };
  await bundleChildren();
  log('NumPy probe ...');
  const numpy = await numpyProbe();
  const forward = skip.has('forward') ? [] : await forwardRuns();
  const conv = skip.has('conversion') ? null : await conversions();
  log('first prediction ...');
  const firsts = skip.has('first') ? [] : [await firstPrediction('onnxruntime'), await firstPrediction('wasm')];
  const first = firsts.find((f) => f != null) ?? null;
  machine.load_average_end = loadavg().map((x) => Math.round(x * 100) / 100);

  const header = ['benchmark', 'backend', 'batch', 'median ms', 'rate', 'vs roofline / copy', 'vs NumPy mm', 'peak RSS / weights', 'reference'];
  const rows: string[][] = [];
  const np = numpy.best;
  const jsonForward: { model: string; backend: string; batch: number; ms_median: number; ms_min: number; gflops: number; ratio_to_roofline: number | null; ratio_to_numpy: number | null; reference_ms: number | null }[] = [];
  for (const f of forward) {
    const name = f.backend === 'tensorflow' ? 'tfjs-node' : f.backend;
    if (!f.available) {
      rows.push([`forward passes`, name, '', 'n/a', '', '', '', '', `not available: ${(f.error ?? '').split('\n')[0]!.slice(0, 90)}`]);
      continue;
    }
    const roof = f.roofline!;
    rows.push([`roofline: matMul 1024³`, name, '', fmt(roof.ms_median), `${fmt(roof.gflops, 2)} GFLOP/s`, '1.00', np ? fmt(roof.gflops / np.gflops, 2) : 'n/a', '', f.details ? Object.entries(f.details).map(([k, v]) => `${k} ${v}`).join(', ') : '']);
    for (const r of f.rows) {
      const ratioRoof = r.gflops / roof.gflops;
      const ratioNp = np ? r.gflops / np.gflops : null;
      let ref = '';
      if (name.startsWith('onnxruntime')) ref = onnxGoal(r.model, r.ms_median, ratioRoof, r.reference?.ms);
      else if (r.reference) {
        ref = `${r.reference.what} ${r.reference.ms} ms: ${fmt(r.reference.ms / r.ms_median, 2)}x`;
        if (r.model.startsWith('transformer')) ref += `; plain tfjs-wasm ~${PLAIN_TFJS_WASM_TRANSFORMER_MS} ms; target ≤ ${fmt(KERAS_TRANSFORMER_MS / 4)} ms`;
      }
      rows.push([r.model, name, String(r.batch), `${fmt(r.ms_median)} (n=${r.repeats}, min ${fmt(r.ms_min)})`, `${fmt(r.gflops, 2)} GFLOP/s`, fmt(ratioRoof, 2), ratioNp == null ? 'n/a' : fmt(ratioNp, 2), '', ref]);
      jsonForward.push({ model: r.model, backend: name, batch: r.batch, ms_median: r.ms_median, ms_min: r.ms_min, gflops: r.gflops, ratio_to_roofline: ratioRoof, ratio_to_numpy: ratioNp, reference_ms: r.reference?.ms ?? null });
    }
  }
  rows.push(['NumPy matmul 1024³ (float32)', np ? `NumPy ${np.numpy}` : 'n/a', '', np ? fmt(np.ms_median) : 'n/a', np ? `${fmt(np.gflops, 2)} GFLOP/s` : 'n/a', '', np ? '1.00' : 'n/a', '', np ? `${np.python}${np.blas ? `, ${np.blas}` : ''}, default threads; 1 thread: ${fmt(np.gflops_1thread, 2)} GFLOP/s` : numpy.tried.join('; ')]);
  const rssText = (c: ConversionRow, baseline: number) => `${fmt(c.peak_rss_ratio, 2)}x (${fmt(c.peak_rss_bytes / 1e6, 0)} MB; ${fmt(c.peak_rss_above_baseline_ratio, 2)}x over the ${fmt(baseline / 1e6, 0)} MB baseline)`;
  if (conv) {
    const mb = fmt(conv.weightBytes / 1e6, 0);
    if (conv.copy) rows.push([`${conv.copy.name}, ${mb} MB`, '', '', fmt(conv.copy.ms, 0), `${fmt(conv.copy.mb_per_s, 0)} MB/s`, '1.00', '', rssText(conv.copy, conv.baselineRss), '']);
    for (const c of conv.rows) {
      const goal = c.name.endsWith('onnx')
        ? `goals: ≥ copy's MB/s ${(c.ratio_to_copy ?? 0) >= ONNX_GOALS.conversionVsCopy ? 'met' : 'missed'}, peak RSS ≤ ${ONNX_GOALS.conversionRss}x ${c.peak_rss_ratio <= ONNX_GOALS.conversionRss ? 'met' : 'missed'}`
        : '';
      rows.push([`convert ${c.name}, ${mb} MB of weights`, '', '', c.error ? 'failed' : fmt(c.ms, 0), c.error ? c.error.slice(0, 60) : `${fmt(c.mb_per_s, 0)} MB/s`, fmt(c.ratio_to_copy, 2), '', rssText(c, conv.baselineRss), goal]);
    }
    if (!conv.tfjs) rows.push(['convert h5 → tfjs', '', '', 'n/a', '', '', '', '', 'no tfjs writer (src/writers/tfjs.ts) yet']);
  }
  for (const fp of firsts) {
    if (!fp) continue;
    const p = fp.median.phases_ms;
    rows.push([
      'first prediction: golden transformer_block/model.h5, fresh process',
      fp.median.backend,
      String(fp.median.output_shape[0] ?? ''),
      fmt(fp.median.total_ms, 0),
      '',
      '',
      '',
      '',
      `node start + load ${fmt(p.start_and_load, 0)}, read ${fmt(p.read, 0)}, ${fp.median.backend === 'onnxruntime' ? 'lower + session' : 'backend + build'} ${fmt(p.backend_and_build, 0)}, predict ${fmt(p.predict, 0)} ms (median of ${fp.runs.length})`,
    ]);
  }

  const profileRows: string[][] = [];
  for (const f of forward) {
    for (const [model, top] of Object.entries(f.profiles ?? {})) {
      profileRows.push([model, f.backend, top.slice(0, 4).map((p) => `${p.op} ${p.node} ${fmt(p.ms_per_call, 2)} ms (${fmt(100 * p.share, 0)}%)`).join('; ')]);
    }
  }

  const totalS = (performance.now() - started) / 1000;
  console.log(`keras-interop bench — ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.os}, Node ${machine.node}; load average ${machine.load_average_start.join(' ')} → ${machine.load_average_end.join(' ')}`);
  console.log(formatTable(header, rows));
  console.log(`ratios: model GFLOP/s over the roofline's (same backend, same process) and over NumPy's matmul; "Nx" in reference = reference ms / our ms (above 1: faster). ${fmt(totalS, 0)} s in all.`);
  if (profileRows.length) console.log('\n' + formatTable(['model', 'backend', "heaviest operators (onnxruntime's profiler, kernel time per call)"], profileRows));

  if (jsonPath) {
    const json = {
      machine,
      forward: jsonForward,
      roofline: forward.filter((f) => f.available).map((f) => ({ backend: f.backend === 'tensorflow' ? 'tfjs-node' : f.backend, ...f.roofline, details: f.details })),
      onnx_profiles: Object.fromEntries(forward.filter((f) => f.profiles).map((f) => [f.backend, f.profiles])),
      numpy: np,
      conversion: (conv?.rows ?? []).map((c) => ({ name: c.name, mb_per_s: c.mb_per_s, ratio_to_copy: c.ratio_to_copy, peak_rss_ratio: c.peak_rss_ratio, peak_rss_above_baseline_ratio: c.peak_rss_above_baseline_ratio, ms: c.ms, ...(c.error ? { error: c.error } : {}) })),
      conversion_copy: conv?.copy ?? null,
      conversion_weight_bytes: conv?.weightBytes ?? null,
      conversion_baseline_rss_bytes: conv?.baselineRss ?? null,
      first_prediction_ms: first?.median.total_ms ?? null,
      first_prediction: firsts,
      total_s: totalS,
    };
    await writeFile(jsonPath, JSON.stringify(json, null, 2) + '\n');
    log(`wrote ${jsonPath}`);
  }
}

await main();
