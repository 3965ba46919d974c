/**
 * Child process: forward passes of the bench models on onnxruntime-node (each model lowered to ONNX in
 * memory, as `--backend onnxruntime` runs it), and the roofline probe on the same runtime in the same
 * process: a 1024 x 1024 x 1024 ONNX MatMul.
 *   tsx bench/forward-onnx.ts --threads 1|2 [--budget-ms 2500] [--quick] [--profile <dir>]
 * With --profile, onnxruntime's profiler runs over a few extra calls of each model and the slowest
 * operators (by total time, with the layer that made them) are reported.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../src/writers/onnx/graph.js';
import { OPSET } from '../src/writers/onnx/proto.js';
import { serializeOnnx } from '../src/writers/onnx/serialize.js';
import { OnnxSession, loadOnnxRuntime, sessionForModel } from '../src/runtime/onnxruntime.js';
import { concatParts } from '../src/writers/parts.js';
import type { ForwardResult, ForwardRow } from './forward.js';
import * as M from './models.js';
import { ROOFLINE_N } from './timing.js';
import { emitResult, median, rooflineGflops, timeRepeats } from './util.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const threads = Number(arg('--threads') ?? 1);
const quick = process.argv.includes('--quick');
const budgetMs = Number(arg('--budget-ms') ?? 2500);
const profileDir = arg('--profile');

/** One MatMul node: (n, n) input times an (n, n) initializer. */
function matmulModel(n: number): Uint8Array {
  const g = new Graph('roofline');
  const w = g.initializer('w', 'float32', [n, n], new Uint8Array(M.randomArray(n * n, 1, 8).buffer));
  g.inputs.push({ name: 'a', dtype: 'float32', shape: [n, n] });
  g.opN('MatMul', ['a', w], ['c']);
  g.outputs.push({ name: 'c', dtype: 'float32', shape: [n, n] });
  return concatParts(serializeOnnx(g, { producerVersion: 'bench', opsets: [{ domain: '', version: OPSET }] }).model);
}

export interface ProfileRow {
  op: string;
  node: string;
  ms_per_call: number;
  share: number;
}

const CONTAINER_OPS = new Set(['Scan', 'Loop', 'If']);

/** The heaviest nodes of an onnxruntime profile (kernel time per call, over `calls` runs). */
function topNodes(file: string, calls: number): ProfileRow[] {
  const events = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byNode = new Map<string, { op: string; us: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    // A Scan's time is its body's nodes' time, which the profile lists too.
    if (CONTAINER_OPS.has(e.args?.op_name ?? '')) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const entry = byNode.get(node) ?? { op: e.args?.op_name ?? '?', us: 0 };
    entry.us += e.dur;
    total += e.dur;
    byNode.set(node, entry);
  }
  return [...byNode.entries()]
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, 6)
    .map(([node, { op, us }]) => ({ op, node, ms_per_call: us / 1000 / calls, share: us / total }));
}

export interface OnnxForwardResult extends ForwardResult {
  /** Per model, the heaviest nodes (with --profile). */
  profiles?: Record<string, ProfileRow[]>;
}

async function main(): Promise<OnnxForwardResult> {
  const backend = `onnxruntime ${threads}t`;
  const ort = await loadOnnxRuntime();
  if (ort.ort == null) return { backend, available: false, error: (ort as { reason: string }).reason, rows: [] };
  const details: Record<string, string | number | boolean> = { 'onnxruntime-node': ort.version, threads };
  const repeatOpts = { warmup: 1, minRepeats: quick ? 1 : 3, maxRepeats: quick ? 2 : 15, budgetMs: quick ? budgetMs / 4 : budgetMs };

  const n = ROOFLINE_N;
  const mm = await OnnxSession.create(matmulModel(n), { threads });
  const a = [{ dtype: 'float32', shape: [n, n], data: M.randomArray(n * n, 1, 7) }];
  const rooflineTimes = await timeRepeats(async () => {
    await mm.run(a);
  }, { ...repeatOpts, minRepeats: 5, maxRepeats: 21 });
  await mm.release();
  const rooflineMs = median(rooflineTimes);
  const roofline = { ms_median: rooflineMs, gflops: rooflineGflops(rooflineMs), repeats: rooflineTimes.length };

  const rows: ForwardRow[] = [];
  const profiles: Record<string, ProfileRow[]> = {};
  for (const make of M.FORWARD_MODELS) {
    const bm = await make();
    const size = bm.inputShape.reduce((p, d) => p * d, 1);
    const x = [{ dtype: 'float32', shape: bm.inputShape, data: M.randomArray(size, 1, 42) }];
    const session = await sessionForModel(bm.model, { threads });
    const times = await timeRepeats(async () => {
      await session.run(x);
    }, repeatOpts);
    await session.release();
    const ms = median(times);
    rows.push({ model: bm.name, batch: bm.inputShape[0]!, ms_median: ms, ms_min: Math.min(...times), repeats: times.length, flops: bm.flops, gflops: bm.flops / ms / 1e6, reference: bm.reference ?? null });
    if (profileDir) {
      const prefix = join(profileDir, `profile-${rows.length}`);
      const profiled = await sessionForModel(bm.model, { threads, profilePrefix: prefix });
      const calls = 5;
      for (let i = 0; i < calls; i++) await profiled.run(x);
      profiled.session.endProfiling?.();
      await profiled.release();
      // onnxruntime-node names the file <prefix>_<timestamp>.json.
      const base = `profile-${rows.length}_`;
      const file = readdirSync(profileDir).find((f) => f.startsWith(base) && f.endsWith('.json'));
      if (file) {
        profiles[bm.name] = topNodes(join(profileDir, file), calls);
        rmSync(join(profileDir, file), { force: true });
      }
    }
  }
  return { backend, available: true, details, roofline, rows, ...(profileDir ? { profiles } : {}) };
}

emitResult(await main());
process.exit(0);
