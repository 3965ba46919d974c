/**
 * Runs a seeded fuzz campaign across worker processes: builds the corpus, hands out case indices,
 * kills and replaces a worker whose command outlives the hang limit or that dies, and sums up the
 * results (cases per target, outcomes per error code, slowest case, peak memory, violations).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleForNode } from '../../bench/util.js';
import { type Corpus, ROOT, type Target, buildCorpus, narrowTargets } from './corpus.js';
import type { CaseResult, Violation } from './runner.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** First case index (a long run split across processes: `--start`). */
  start?: number;
  workers?: number;
  backend?: string;
  /** The contract's per-command time limit. */
  timeLimitMs?: number;
  /** A command still running after this long is a hang: its worker is killed. */
  hangMs?: number;
  memoryLimitBytes?: number;
  /** Replace each worker after this many cases (keeps leaks in one worker from piling up). */
  recycleEvery?: number;
  /**
   * A worker that dies (or is still not ready after `startTimeoutMs`) before it signals ready is started
   * again, up to this many times in a row; then the campaign fails with the worker's last words (default 3).
   */
  startTries?: number;
  /** Default 120 s: loading tfjs, h5wasm and onnxruntime and the warm-up take seconds on a busy machine. */
  startTimeoutMs?: number;
  /** Extra environment variables for the workers (NODE_OPTIONS, ...). */
  workerEnv?: Record<string, string>;
  /** Only these golden fixtures. */
  fixtures?: string[];
  /** Only these targets (`onnx`, `keras`, ...; see corpus.ts). */
  targets?: string[];
  /** Keep the work folder (corpus, sandboxes) after the run. */
  keep?: boolean;
  progress?: (done: number, total: number, violations: number) => void;
  /** Called with each violation as it is found (a long run shows them before its summary). */
  onViolation?: (v: FuzzSummary['violations'][number]) => void;
}

export interface TargetSummary {
  cases: number;
  /** Time inside this target's cases, summed over workers. */
  seconds: number;
  /** Per command (`inspect`, `predict`, ...): outcome (`ok`, an error code) → count. */
  outcomes: Record<string, Record<string, number>>;
}

export interface FuzzSummary {
  seed: number;
  start: number;
  cases: number;
  workers: number;
  backend: string;
  seconds: number;
  /** Time spent inside cases, summed over workers. */
  caseSeconds: number;
  targets: Partial<Record<Target, TargetSummary>>;
  /** Outcome (error code or ok/mismatch) → count, over all commands. */
  outcomes: Record<string, number>;
  /** Command (or label: `convert-onnx`) → seconds spent in it, summed over workers. */
  commandSeconds: Record<string, number>;
  /** Mutation family (the part before the first `:` or `-`) → count. */
  mutations: Record<string, number>;
  slowest: { index: number; target: string; fixture: string; mutation: string; ms: number; cmd: string } | undefined;
  peakRssBytes: number;
  /** The case whose command grew its worker the most (the memory check's measure). */
  mostGrowth?: { bytes: number; index: number; target: string; fixture: string; mutation: string };
  /** Resident memory of a worker at rest after loading h5wasm, tfjs and the writers (largest seen). */
  baselineRssBytes: number;
  /** Error codes reported without a place, with counts (not a violation; reported for follow-up). */
  noPlace: Record<string, number>;
  /** Wasm traps inside h5wasm that the readers caught and reported (within the contract). */
  wasmTraps: number;
  corpusNotes: string[];
  violations: (Violation & { index: number; target: string; fixture: string; mutation: string })[];
  workerRestarts: number;
  /** Workers replaced because they kept too much memory after a case (or h5wasm aborted). */
  workerRetirements: number;
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.ts');

/**
 * Where campaigns keep their corpus and sandboxes: a memory file system (/dev/shm) when it has room, else
 * the temporary folder. The CLI syncs every file it writes (an atomic write ends in fsync), and on a
 * disk each sync waits for the device: most of a case's time once cases convert twice and write heatmaps.
 */
export function scratchRoot(): string {
  try {
    const fs = statfsSync('/dev/shm');
    if (fs.bavail * fs.bsize >= 2 * 2 ** 30) return '/dev/shm';
  } catch {
    // No /dev/shm here.
  }
  return tmpdir();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Bundles the worker (and the CLI it runs) with esbuild into one ES module that plain Node runs, as
 * the built `keras-interop` runs: under tsx's loader a process rests at ~730 MiB instead of ~140, which
 * would leave the memory contract nothing to judge. The bundle lives under node_modules/.cache (packages
 * stay external and resolve from there); `import.meta.url` keeps meaning the worker's source file.
 */
async function bundleWorker(): Promise<{ file: string; remove: () => void }> {
  const dir = join(ROOT, 'node_modules', '.cache', 'keras-interop-fuzz');
  mkdirSync(dir, { recursive: true });
  // Bundles of campaigns that were killed (named by their process id) go; live campaigns' stay.
  for (const name of readdirSync(dir)) {
    const pid = Number(/^worker-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) rmSync(join(dir, name), { force: true });
  }
  const file = join(dir, `worker-${process.pid}-${Date.now()}.mjs`);
  await bundleForNode({
    entryPoints: [WORKER], outfile: file, sourcemap: true, define: { 'import.meta.url': JSON.stringify(pathToFileURL(WORKER).href) },
    plugins: [inlineOnnxRuntimeModule],
  });
  return { file, remove: () => { rmSync(file, { force: true }); rmSync(`${file}.map`, { force: true }); } };
}

/**
 * src/runtime/run.ts imports the onnxruntime backend through a specifier held in a constant, so that a
 * page's bundler leaves it out; a bundle for Node then has no module at that path beside it. The worker's
 * bundle names it literally, so that esbuild inlines it like every other module (one copy of each, so
 * errors thrown there are the CLI's own KerasInteropError).
 */
const inlineOnnxRuntimeModule: import('esbuild').Plugin = {
  name: 'inline-onnxruntime-module',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]runtime[\\/]run\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const dynamic = 'import(/* @vite-ignore */ ONNXRUNTIME_MODULE)';
      if (!source.includes(dynamic)) throw new Error(`fuzz worker bundle: ${args.path} no longer imports the onnxruntime module as \`${dynamic}\``);
      return { contents: source.replace(dynamic, "import('./onnxruntime.js')"), loader: 'ts' };
    });
  },
};

interface Slot {
  id: number;
  child?: ChildProcess;
  dir: string;
  current?: number;
  currentCmd?: string;
  currentCase?: { target: string; fixture: string; mutation: string };
  timer?: NodeJS.Timeout;
  done: number;
  stderr: string;
  /** The current worker has signalled ready. */
  ready: boolean;
  /** Workers of this slot that died (or timed out) before ready, in a row. */
  failedStarts: number;
}

function family(mutation: string): string {
  const parts = mutation.split(':');
  const head = parts[0];
  const second = (parts[1] ?? '').replace(/[-+].*$/, '');
  return second && ['json', 'h5', 'tree', 'zip', 'npy', 'tfjs', 'keras', 'case.json', 'onnx'].includes(head) ? `${head}:${second}` : head.replace(/-.*$/, '');
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const t0 = performance.now();
  const workers = Math.max(1, opts.workers ?? 2);
  const start = opts.start ?? 0;
  const backend = opts.backend ?? 'cpu';
  const timeLimitMs = opts.timeLimitMs ?? 5000;
  const hangMs = opts.hangMs ?? Math.max(15_000, timeLimitMs * 3);
  const memoryLimitBytes = opts.memoryLimitBytes ?? 2 ** 30;
  const recycleEvery = opts.recycleEvery ?? 400;
  const startTries = Math.max(1, opts.startTries ?? 3);
  const startTimeoutMs = opts.startTimeoutMs ?? 120_000;
  const work = mkdtempSync(join(scratchRoot(), 'keras-interop-fuzz-'));
  const summary: FuzzSummary = {
    seed: opts.seed, start, cases: opts.cases, workers, backend, seconds: 0, caseSeconds: 0, targets: {}, outcomes: {}, commandSeconds: {}, mutations: {},
    slowest: undefined, peakRssBytes: 0, baselineRssBytes: 0, noPlace: {}, wasmTraps: 0, corpusNotes: [], violations: [], workerRestarts: 0, workerRetirements: 0,
  };
  let corpus: Corpus;
  try {
    corpus = narrowTargets(await buildCorpus(work, opts.fixtures), opts.targets);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  summary.corpusNotes = corpus.notes;
  let bundle: Awaited<ReturnType<typeof bundleWorker>>;
  try {
    bundle = await bundleWorker();
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }

  let next = start;
  const end = start + opts.cases;
  let finished = 0;

  const record = (r: CaseResult): void => {
    finished++;
    const t = (summary.targets[r.target as Target] ??= { cases: 0, seconds: 0, outcomes: {} });
    t.cases++;
    t.seconds += r.ms / 1000;
    for (const c of r.commands) {
      summary.commandSeconds[c.cmd] = (summary.commandSeconds[c.cmd] ?? 0) + c.ms / 1000;
      const per = (t.outcomes[c.cmd] ??= {});
      per[c.outcome] = (per[c.outcome] ?? 0) + 1;
      summary.outcomes[c.outcome] = (summary.outcomes[c.outcome] ?? 0) + 1;
      if (!summary.slowest || c.ms > summary.slowest.ms) {
        summary.slowest = { index: r.index, target: r.target, fixture: r.fixture, mutation: r.mutation, ms: c.ms, cmd: c.cmd };
      }
    }
    summary.caseSeconds += r.ms / 1000;
    const fam = family(r.mutation);
    summary.mutations[fam] = (summary.mutations[fam] ?? 0) + 1;
    summary.wasmTraps += r.wasmTraps.length ? 1 : 0;
    for (const code of r.noPlace) summary.noPlace[code] = (summary.noPlace[code] ?? 0) + 1;
    if (r.peakRssBytes && r.peakRssBytes > summary.peakRssBytes) summary.peakRssBytes = r.peakRssBytes;
    if (r.growthBytes && r.growthBytes > (summary.mostGrowth?.bytes ?? 0)) {
      summary.mostGrowth = { bytes: r.growthBytes, index: r.index, target: r.target, fixture: r.fixture, mutation: r.mutation };
    }
    for (const v of r.violations) {
      const found = { ...v, index: r.index, target: r.target, fixture: r.fixture, mutation: r.mutation };
      summary.violations.push(found);
      opts.onViolation?.(found);
    }
    opts.progress?.(finished, opts.cases, summary.violations.length);
  };

  try {
    await new Promise<void>((resolveAll, rejectAll) => {
      const slots: Slot[] = Array.from({ length: Math.min(workers, opts.cases) }, (_, id) => ({ id, dir: join(work, `w${id}`), done: 0, stderr: '', ready: false, failedStarts: 0 }));
      let live = slots.length;
      if (live === 0) resolveAll();

      // The campaign cannot go on: every worker is killed and the run fails with why.
      let failed = false;
      const fail = (e: Error): void => {
        failed = true;
        for (const x of slots) {
          clearTimeout(x.timer);
          x.child?.removeAllListeners();
          x.child?.kill('SIGKILL');
          x.child = undefined;
        }
        rejectAll(e);
      };

      /** A worker that never became ready: start another, or give up after `startTries` in a row. */
      const failedStart = (s: Slot, how: string): void => {
        s.failedStarts++;
        if (s.failedStarts < startTries) {
          spawnWorker(s);
          return;
        }
        fail(new Error(`fuzz worker ${s.id} ${how}, ${s.failedStarts} times in a row; ${finished} of ${opts.cases} cases done. Its stderr: ${s.stderr.slice(-1500) || '(empty)'}`));
      };

      const lost = (s: Slot) => s.currentCase ?? { target: '?', fixture: '?', mutation: '?' };

      const arm = (s: Slot): void => {
        clearTimeout(s.timer);
        s.timer = setTimeout(() => {
          const index = s.current;
          if (index === undefined) return;
          record({
            index, seed: 0, ...lost(s), commands: [], ms: hangMs, noPlace: [], wasmTraps: [],
            violations: [{ kind: 'HANG', detail: `${s.currentCmd ?? 'case'} still running after ${hangMs} ms; worker killed`, cmd: s.currentCmd }],
          });
          s.current = undefined;
          restart(s, true);
        }, hangMs);
      };

      const dispatch = (s: Slot): void => {
        if (next >= end) {
          s.child?.send({ type: 'stop' } satisfies ToWorker);
          s.child = undefined;
          if (--live === 0) resolveAll();
          return;
        }
        if (s.done >= recycleEvery) {
          s.done = 0;
          restart(s, false);
          return;
        }
        s.current = next++;
        s.currentCmd = undefined;
        s.currentCase = undefined;
        arm(s);
        s.child!.send({ type: 'case', index: s.current } satisfies ToWorker);
      };

      const spawnWorker = (s: Slot): void => {
        rmSync(s.dir, { recursive: true, force: true });
        for (const d of ['case', 'tmp', 'cwd']) mkdirSync(join(s.dir, d), { recursive: true });
        s.stderr = '';
        s.ready = false;
        const child = fork(bundle.file, [], {
          execArgv: ['--expose-gc', '--enable-source-maps'],
          cwd: join(s.dir, 'cwd'),
          env: { ...process.env, ...opts.workerEnv, TMPDIR: join(s.dir, 'tmp'), TEMP: join(s.dir, 'tmp'), TMP: join(s.dir, 'tmp') },
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          serialization: 'advanced',
        });
        s.child = child;
        child.stderr!.on('data', (d: Buffer) => {
          s.stderr = (s.stderr + d.toString()).slice(-4000);
        });
        child.on('message', (m: FromWorker) => {
          if (child !== s.child) return;
          if (m.type === 'ready') {
            clearTimeout(s.timer);
            s.ready = true;
            s.failedStarts = 0;
            summary.baselineRssBytes = Math.max(summary.baselineRssBytes, m.baselineRssBytes);
            dispatch(s);
          }
          else if (m.type === 'cmd') {
            s.currentCmd = m.cmd;
            s.currentCase = { target: m.target, fixture: m.fixture, mutation: m.mutation };
            arm(s);
          } else if (m.type === 'result') {
            clearTimeout(s.timer);
            s.current = undefined;
            s.done++;
            record(m.result);
            const poisoned = m.result.retire || m.result.wasmTraps.some((t) => /Aborted\(/.test(t));
            if (poisoned) {
              summary.workerRetirements++;
              restart(s, false);
            }
            else dispatch(s);
          }
        });
        child.on('exit', (code, signal) => {
          if (child !== s.child || failed) return;
          clearTimeout(s.timer);
          if (!s.ready) {
            failedStart(s, `died before it was ready (exit ${code}, signal ${signal})`);
          } else if (s.current !== undefined) {
            const index = s.current;
            s.current = undefined;
            record({
              index, seed: 0, ...lost(s), commands: [], ms: 0, noPlace: [], wasmTraps: [],
              violations: [{ kind: 'CRASH', detail: `worker died (exit ${code}, signal ${signal}) during ${s.currentCmd ?? 'the case'}: ${s.stderr.slice(-1500)}`, cmd: s.currentCmd }],
            });
            summary.workerRestarts++;
            spawnWorker(s);
          } else if (next < end) {
            spawnWorker(s);
          }
        });
        child.on('error', (e) => fail(e));
        // Still not ready after startTimeoutMs (a warm-up stuck in a loop): killed, and counted as a failed start.
        s.timer = setTimeout(() => {
          if (child !== s.child || s.ready) return;
          child.removeAllListeners('exit');
          child.kill('SIGKILL');
          failedStart(s, `was not ready after ${startTimeoutMs} ms (killed)`);
        }, startTimeoutMs);
        const init: WorkerInit = { type: 'init', corpus, seed: opts.seed, backend, dir: s.dir, timeLimitMs, memoryLimitBytes };
        child.send(init satisfies ToWorker);
      };

      const restart = (s: Slot, kill: boolean): void => {
        const old = s.child;
        s.child = undefined;
        summary.workerRestarts += kill ? 1 : 0;
        if (old) {
          old.removeAllListeners('exit');
          old.removeAllListeners('message');
          if (kill) old.kill('SIGKILL');
          else old.send({ type: 'stop' } satisfies ToWorker);
        }
        spawnWorker(s);
      };

      for (const s of slots) spawnWorker(s);
    });
  } finally {
    bundle.remove();
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
  }

  summary.seconds = Math.round((performance.now() - t0) / 100) / 10;
  return summary;
}

export function describeViolation(v: FuzzSummary['violations'][number]): string {
  return `#${v.index} ${v.target}/${v.fixture} ${v.mutation}: ${v.kind}${v.cmd ? ` in ${v.cmd}` : ''}: ${v.detail.slice(0, 600)}`;
}

export function formatSummary(s: FuzzSummary): string {
  const lines: string[] = [];
  lines.push(`seed ${s.seed}, cases ${s.start}..${s.start + s.cases - 1} (${s.cases}), ${s.workers} workers, backend ${s.backend}, ${s.seconds} s (${Math.round(s.caseSeconds)} s inside cases)`);
  lines.push('');
  lines.push('cases per target, seconds inside them (summed over workers), outcomes per command:');
  for (const [t, ts] of Object.entries(s.targets)) {
    const per = Object.entries(ts!.outcomes)
      .map(([cmd, o]) => `${cmd} ${Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`)
      .join('; ');
    lines.push(`  ${t.padEnd(11)} ${String(ts!.cases).padStart(7)} ${String(Math.round(ts!.seconds)).padStart(5)} s  ${per}`);
  }
  lines.push('seconds per command (summed over workers): ' + Object.entries(s.commandSeconds).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${Math.round(n)}`).join(', '));
  lines.push('');
  lines.push('outcomes over all commands: ' + Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '));
  lines.push('mutation families: ' + Object.entries(s.mutations).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '));
  if (s.slowest) lines.push(`slowest command: ${s.slowest.cmd} of case #${s.slowest.index} (${s.slowest.target}/${s.slowest.fixture}, ${s.slowest.mutation}) ${s.slowest.ms} ms`);
  lines.push(`peak resident memory of a command: ${Math.round(s.peakRssBytes / 2 ** 20)} MiB (a worker at rest: ${Math.round(s.baselineRssBytes / 2 ** 20)} MiB); worker restarts: ${s.workerRestarts} after a crash or hang, ${s.workerRetirements} to shed memory`);
  if (s.mostGrowth) {
    const g = s.mostGrowth;
    lines.push(`most a command grew its worker: ${Math.round(g.bytes / 2 ** 20)} MiB, case #${g.index} (${g.target}/${g.fixture}, ${g.mutation})`);
  }
  lines.push(`cases where h5wasm trapped (caught, reported as HDF5_INVALID): ${s.wasmTraps}`);
  if (Object.keys(s.noPlace).length) {
    lines.push('errors without a place (code: count): ' + Object.entries(s.noPlace).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '));
  }
  for (const n of s.corpusNotes) lines.push(`note: ${n}`);
  lines.push('');
  lines.push(`contract violations: ${s.violations.length}`);
  for (const v of s.violations.slice(0, 50)) lines.push(`  ${describeViolation(v)}`);
  if (s.violations.length > 50) lines.push(`  ... and ${s.violations.length - 50} more`);
  return lines.join('\n');
}
