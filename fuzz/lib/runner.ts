/**
 * Runs one fuzz case in this process through the CLI's `main()` and checks the contract: every
 * command ends in success or a KerasInteropError (never INTERNAL), each within the time limit,
 * nothing written outside the output folder, no temporary file left behind, and no checksummed
 * input read differently from the pristine one.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { main } from '../../src/cli.js';
import type { KerasModel } from '../../src/model/types.js';
import { readModel } from '../../src/readers/index.js';
import { CHECKSUMMED, type CaseContext, type CaseSpec, resolveArgs } from './cases.js';

export interface CommandResult {
  /** The command (`inspect`, ...), or the label of one run when the mutant reads (`convert-onnx`). */
  cmd: string;
  exit: number;
  /** `ok`, `mismatch` (verify exit 1) or the error code. */
  outcome: string;
  ms: number;
  error?: { code: string; message: string; file?: string; place?: string };
}

export interface Violation {
  kind: string;
  detail: string;
  cmd?: string;
}

export interface CaseResult {
  index: number;
  seed: number;
  target: string;
  fixture: string;
  mutation: string;
  commands: CommandResult[];
  violations: Violation[];
  ms: number;
  /** Peak resident memory of the process during the case's most demanding command, where the OS tells it. */
  peakRssBytes?: number;
  /** The most a command grew the process above its resident memory when it began. */
  growthBytes?: number;
  /** Error codes reported without a `place`. */
  noPlace: string[];
  /** Messages of wasm traps caught and reported as errors. */
  wasmTraps: string[];
  /** The process kept too much memory after the case: the pool replaces it. */
  retire?: boolean;
}

export interface RunnerOptions {
  /** The case's own folder: `in/` holds the inputs, `out/` receives outputs. Emptied first. */
  sandbox: string;
  /** Folders that must stay empty (the process's TMPDIR and working directory). */
  mustStayEmpty: string[];
  backend: string;
  timeLimitMs: number;
  /**
   * The most resident memory a command may take the process to (its peak, VmHWM reset before each
   * command). Workers run the CLI bundled by esbuild in plain Node, resting at 100-150 MiB, as
   * `keras-interop` itself does, so the peak is the CLI's own plus the worker's small bookkeeping.
   */
  memoryLimitBytes: number;
  /**
   * Subtracted from the peak before it is judged. Workers pass nothing; a replay, which runs in the
   * fuzzer's own process under tsx (whose loader alone holds ~600 MiB), passes its resting memory, so
   * it judges what the command adds to the process (a replay is a debugging aid: campaigns decide).
   */
  memoryFloorBytes?: number;
  /** Resident memory of this process at rest (after start-up and a collection). */
  baselineRssBytes: number;
  /** Called before each command (the pool's watchdog listens). */
  onCommand?: (cmd: string) => void;
}

/** Errors that escaped every handler while a case ran (set by the worker's process hooks). */
export const escaped: string[] = [];

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p, { throwIfNoEntry: false });
        out.set(p, st ? `${st.size}:${st.mtimeMs}` : 'gone');
      }
    }
  };
  walk(dir);
  return out;
}

function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function peakRss(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return process.memoryUsage().rss;
  }
}

function sameModel(a: KerasModel, b: KerasModel): string | undefined {
  if (JSON.stringify(a.config) !== JSON.stringify(b.config)) return 'config differs';
  if (a.weights.length !== b.weights.length) return 'layer count differs';
  for (let i = 0; i < a.weights.length; i++) {
    const la = a.weights[i];
    const lb = b.weights[i];
    if (la.layer !== lb.layer || la.weights.length !== lb.weights.length) return `layer ${i} differs`;
    for (let j = 0; j < la.weights.length; j++) {
      const wa = la.weights[j];
      const wb = lb.weights[j];
      if (wa.name !== wb.name || wa.dtype !== wb.dtype || wa.shape.join() !== wb.shape.join()) return `weight ${wa.name} differs in name, dtype or shape`;
      const ba = new Uint8Array(wa.data.buffer, wa.data.byteOffset, wa.data.byteLength);
      const bb = new Uint8Array(wb.data.buffer, wb.data.byteOffset, wb.data.byteLength);
      if (ba.length !== bb.length || ba.some((x, k) => x !== bb[k])) return `weight ${wa.name} of layer ${la.layer} holds different values`;
    }
  }
  return undefined;
}

function evaluate(cmd: string, exit: number, stdout: string, tmpDirs: string[]): { outcome: string; error?: CommandResult['error']; violations: Violation[] } {
  const violations: Violation[] = [];
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  if (exit === 0) return { outcome: 'ok', violations };
  if (exit === 1) {
    if (cmd !== 'verify') violations.push({ kind: 'EXIT_CODE', detail: `${cmd} exited 1`, cmd });
    return { outcome: 'mismatch', violations };
  }
  if (exit !== 2) {
    violations.push({ kind: 'EXIT_CODE', detail: `exit code ${exit}`, cmd });
    return { outcome: `exit-${exit}`, violations };
  }
  const top = parsed?.error as CommandResult['error'] | undefined;
  if (top) {
    if (top.code === 'INTERNAL') violations.push({ kind: 'INTERNAL', detail: top.message, cmd });
    // A JavaScript error inside a layer's call(): the fuzzer registers no layers of its own, so one of ours.
    if (top.code === 'LAYER_FAILED') violations.push({ kind: 'LAYER_FAILED', detail: top.message, cmd });
    if (!top.file && top.code !== 'USAGE') violations.push({ kind: 'NO_FILE', detail: `[${top.code}] ${top.message}`, cmd });
    if (top.file && tmpDirs.some((t) => top.file!.startsWith(t))) {
      violations.push({ kind: 'TEMP_FILE_NAMED', detail: `the error names a temporary file: [${top.code}] ${top.message}`, cmd });
    }
    return { outcome: top.code, error: top, violations };
  }
  const files = parsed?.files as { error?: { code: string; message: string } }[] | undefined;
  if (cmd === 'verify' && Array.isArray(files)) {
    const errors = files.filter((f) => f.error).map((f) => f.error!);
    for (const e of errors) if (e.code === 'INTERNAL') violations.push({ kind: 'INTERNAL', detail: e.message, cmd });
    return { outcome: errors.length ? errors[0].code : 'exit-2', error: errors[0], violations };
  }
  violations.push({ kind: 'NO_ERROR_REPORT', detail: `exit 2 without a JSON error: ${stdout.slice(0, 300)}`, cmd });
  return { outcome: 'unreported', violations };
}

const gc = (globalThis as { gc?: () => void }).gc;

/** This process's resident memory at rest: after a collection, before any case. */
export function restingRss(): number {
  gc?.();
  return process.memoryUsage().rss;
}

export async function runCase(spec: CaseSpec, ctx: CaseContext, opts: RunnerOptions): Promise<CaseResult> {
  const t0 = performance.now();
  const dirs = { in: join(opts.sandbox, 'in'), out: join(opts.sandbox, 'out') };
  rmSync(opts.sandbox, { recursive: true, force: true });
  mkdirSync(dirs.in, { recursive: true });
  mkdirSync(join(dirs.out, 'convert'), { recursive: true });
  for (const f of spec.files) {
    const p = join(dirs.in, f.rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.bytes);
  }
  const before = snapshot(dirs.in);
  const result: CaseResult = {
    index: spec.index, seed: spec.seed, target: spec.target, fixture: spec.fixture, mutation: spec.mutation,
    commands: [], violations: [], ms: 0, noPlace: [], wasmTraps: [],
  };
  escaped.length = 0;
  const runs = spec.commands.map((args) => ({ label: args[0], args }));
  for (let i = 0; i < runs.length; i++) {
    const args = resolveArgs(runs[i].args, dirs);
    const cmd = args[0];
    // Summaries and violations name a command by its label (`convert-onnx` beside the case's `convert`).
    const label = runs[i].label;
    // The case's own backend where it names one (onnxruntime), else the campaign's.
    const backend = args.includes('--backend') ? [] : ['--backend', opts.backend];
    opts.onCommand?.(label);
    // Each command is measured as the CLI runs it, in a process of its own: garbage of the commands
    // before it is collected first (workers run with --expose-gc; a plain replay measures more).
    if (gc && process.memoryUsage().rss > opts.baselineRssBytes + 96 * 2 ** 20) gc();
    const start = process.memoryUsage().rss;
    const measured = resetPeakRss();
    const out: string[] = [];
    const c0 = performance.now();
    let exit: number;
    try {
      exit = await main([...args, '--json', ...backend], { out: (s) => out.push(s), err: () => {} });
    } catch (e) {
      result.violations.push({ kind: 'THROWN', detail: `main() threw: ${(e as Error)?.stack ?? String(e)}`, cmd: label });
      exit = -1;
    }
    const ms = performance.now() - c0;
    const peak = measured ? peakRss() : undefined;
    if (peak !== undefined) {
      result.peakRssBytes = Math.max(result.peakRssBytes ?? 0, peak);
      const growth = Math.max(0, peak - start);
      result.growthBytes = Math.max(result.growthBytes ?? 0, growth);
      const judged = peak - (opts.memoryFloorBytes ?? 0);
      if (judged > opts.memoryLimitBytes) {
        result.violations.push({
          kind: 'MEMORY',
          detail: `${label} took the process to ${Math.round(peak / 2 ** 20)} MiB resident${opts.memoryFloorBytes ? ` (${Math.round(judged / 2 ** 20)} MiB above the replay's rest)` : ''}, grown by ${Math.round(growth / 2 ** 20)} MiB; the limit is ${Math.round(opts.memoryLimitBytes / 2 ** 20)} MiB`,
          cmd: label,
        });
      }
    }
    const ev = evaluate(cmd, exit, out.join('\n'), opts.mustStayEmpty);
    result.commands.push({ cmd: label, exit, outcome: ev.outcome, ms: Math.round(ms), error: ev.error });
    result.violations.push(...ev.violations.map((v) => ({ ...v, cmd: label })));
    if (ev.error && !ev.error.place && ev.error.code) result.noPlace.push(ev.error.code);
    if (ms > opts.timeLimitMs) result.violations.push({ kind: 'SLOW', detail: `${label} took ${Math.round(ms)} ms`, cmd: label });
    for (const e of escaped.splice(0)) result.violations.push({ kind: 'ESCAPED', detail: e, cmd: label });
    // A wasm trap inside h5wasm, caught and reported as a KerasInteropError: within the contract,
    // counted so a run shows how often HDF5 reads past its buffers. An emscripten abort() leaves the
    // module unusable: the pool then replaces the worker. (onnxruntime's messages say `[ONNXRuntimeError]`.)
    if (ev.error?.message && /RuntimeError|Aborted\(|memory access out of bounds|unreachable/.test(ev.error.message) && !/onnxruntime/i.test(ev.error.message)) {
      result.wasmTraps.push(ev.error.message);
    }
    // A mutant that reads goes on through the commands kept for those.
    if (i === spec.commands.length - 1 && result.commands.some((c) => c.exit === 0)) runs.push(...(spec.ifReads ?? []));
  }

  // Writes: the inputs unchanged, nothing new beside them, nothing left in TMPDIR or the cwd.
  const after = snapshot(dirs.in);
  for (const [p, sig] of before) if (after.get(p) !== sig) result.violations.push({ kind: 'INPUT_CHANGED', detail: relative(opts.sandbox, p) });
  for (const p of after.keys()) if (!before.has(p)) result.violations.push({ kind: 'STRAY_WRITE', detail: relative(opts.sandbox, p) });
  for (const e of readdirSync(opts.sandbox)) {
    if (e !== 'in' && e !== 'out') result.violations.push({ kind: 'STRAY_WRITE', detail: e });
  }
  for (const d of opts.mustStayEmpty) {
    for (const e of existsSync(d) ? readdirSync(d) : []) {
      result.violations.push({ kind: 'STRAY_WRITE', detail: `${d}${sep}${e}` });
      rmSync(join(d, e), { recursive: true, force: true });
    }
  }

  // Checksummed containers: a raw change must be caught, never read as a (different) model.
  const inspect = result.commands.find((c) => c.cmd === 'inspect');
  if (CHECKSUMMED.has(spec.target) && spec.raw && spec.model && inspect?.exit === 0) {
    try {
      const [mutated, pristine] = await Promise.all([
        readModel(resolveArgs([spec.model], dirs)[0]),
        ctx.pristine.model(ctx.corpus.fixtures.find((f) => f.name === spec.fixture)!.paths[spec.target]!),
      ]);
      const diff = sameModel(mutated, pristine);
      if (diff) result.violations.push({ kind: 'SILENT_CHANGE', detail: `a corrupted ${spec.target} read without error: ${diff}` });
    } catch (e) {
      result.violations.push({ kind: 'INCONSISTENT', detail: `inspect succeeded but a second read failed: ${(e as Error).message}` });
    }
  }

  // Memory this process keeps (h5wasm's heap never shrinks) would be charged to every later case:
  // past 128 MiB above rest, or within 96 MiB of the limit, the worker is replaced.
  const keep = Math.min(opts.baselineRssBytes + 128 * 2 ** 20, opts.memoryLimitBytes - 96 * 2 ** 20);
  if (gc && process.memoryUsage().rss > keep) {
    gc();
    result.retire = process.memoryUsage().rss > keep;
  }
  result.ms = Math.round(performance.now() - t0);
  return result;
}
