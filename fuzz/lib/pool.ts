/**
 * Runs a seeded fuzz campaign across worker processes: builds the corpus, hands out case indices,
 * kills and replaces a worker whose command outlives the hang limit or that dies, and sums up the
 * results (cases per target, outcomes per error code, slowest case, peak memory, violations).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleForNode } from '../../bench/util.js';
import { type Corpus, ROOT, type Target, buildCorpus } from './corpus.js';
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
  /** Only these golden fixtures. */
  fixtures?: string[];
  /** Keep the work folder (corpus, sandboxes) after the run. */
  keep?: boolean;
  progress?: (done: number, total: number, violations: number) => void;
  /** Called with each violation as it is found (a long run shows them before its summary). */
  onViolation?: (v: FuzzSummary['violations'][number]) => void;
}

export interface TargetSummary {
  cases: number;
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
  await bundleForNode({ entryPoints: [WORKER], outfile: file, sourcemap: true, define: { 'import.meta.url': JSON.stringify(pathToFileURL(WORKER).href) } });
  return { file, remove: () => { rmSync(file, { force: true }); rmSync(`${file}.map`, { force: true }); } };
}

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
}

function family(mutation: string): string {
  const parts = mutation.split(':');
  const head = parts[0];
  const second = (parts[1] ?? '').replace(/[-+].*$/, '');
  return second && ['json', 'h5', 'tree', 'zip', 'npy', 'tfjs', 'keras', 'case.json'].includes(head) ? `${head}:${second}` : head.replace(/-.*$/, '');
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
  const work = mkdtempSync(join(tmpdir(), 'keras-interop-fuzz-'));
  const summary: FuzzSummary = {
    seed: opts.seed, start, cases: opts.cases, workers, backend, seconds: 0, caseSeconds: 0, targets: {}, outcomes: {}, mutations: {},
    slowest: undefined, peakRssBytes: 0, baselineRssBytes: 0, noPlace: {}, wasmTraps: 0, corpusNotes: [], violations: [], workerRestarts: 0, workerRetirements: 0,
  };
  let corpus: Corpus;
  try {
    corpus = await buildCorpus(work, opts.fixtures);
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
    const t = (summary.targets[r.target as Target] ??= { cases: 0, outcomes: {} });
    t.cases++;
    for (const c of r.commands) {
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
      const slots: Slot[] = Array.from({ length: Math.min(workers, opts.cases) }, (_, id) => ({ id, dir: join(work, `w${id}`), done: 0, stderr: '' }));
      let live = slots.length;
      if (live === 0) resolveAll();

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
        const child = fork(bundle.file, [], {
          execArgv: ['--expose-gc', '--enable-source-maps'],
          cwd: join(s.dir, 'cwd'),
          env: { ...process.env, TMPDIR: join(s.dir, 'tmp'), TEMP: join(s.dir, 'tmp'), TMP: join(s.dir, 'tmp') },
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
          if (child !== s.child) return;
          clearTimeout(s.timer);
          if (s.current !== undefined) {
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
        child.on('error', (e) => rejectAll(e));
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
  }

  summary.seconds = Math.round((performance.now() - t0) / 100) / 10;
  if (!opts.keep) rmSync(work, { recursive: true, force: true });
  return summary;
}

export function describeViolation(v: FuzzSummary['violations'][number]): string {
  return `#${v.index} ${v.target}/${v.fixture} ${v.mutation}: ${v.kind}${v.cmd ? ` in ${v.cmd}` : ''}: ${v.detail.slice(0, 600)}`;
}

export function formatSummary(s: FuzzSummary): string {
  const lines: string[] = [];
  lines.push(`seed ${s.seed}, cases ${s.start}..${s.start + s.cases - 1} (${s.cases}), ${s.workers} workers, backend ${s.backend}, ${s.seconds} s (${Math.round(s.caseSeconds)} s inside cases)`);
  lines.push('');
  lines.push('cases per target, outcomes per command:');
  for (const [t, ts] of Object.entries(s.targets)) {
    const per = Object.entries(ts!.outcomes)
      .map(([cmd, o]) => `${cmd} ${Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`)
      .join('; ');
    lines.push(`  ${t.padEnd(11)} ${String(ts!.cases).padStart(7)}  ${per}`);
  }
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
