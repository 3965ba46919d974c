/** Helpers shared by the bench entry points: child processes, statistics, table formatting. */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(BENCH_DIR, '..');

/**
 * Bundles TypeScript entry points with esbuild into ES modules that plain Node runs, as an installed
 * package runs: tsx's loader alone adds ~600 MB of resident memory, which would swamp any memory figure.
 * Packages stay external, so the output must lie inside the repository (where node_modules resolves).
 * With `outdir`, each entry point becomes `<name>.mjs` there; with `outfile`, the one entry point that file.
 */
export async function bundleForNode(opts: {
  entryPoints: string[];
  outdir?: string;
  outfile?: string;
  define?: Record<string, string>;
  sourcemap?: boolean;
  plugins?: import('esbuild').Plugin[];
}): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    logLevel: 'error',
    ...opts,
  });
}

/** Children print their result as one line starting with this marker (tfjs prints to stdout too). */
export const RESULT_MARKER = '@@bench-result ';

export function emitResult(value: unknown): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(value)}\n`);
}

export interface ChildRun<T> {
  result: T | null;
  /** Wall-clock ms from spawn to exit, as the parent saw it. */
  wallMs: number;
  code: number | null;
  stderr: string;
}

/** Runs a program and returns its marked result line, parsed; stderr is kept for failures. */
export function runProgram<T>(command: string, args: string[], timeoutMs = 600_000, env?: NodeJS.ProcessEnv): Promise<ChildRun<T>> {
  return new Promise((resolvePromise) => {
    const start = performance.now();
    let stdout = '';
    let stderr = '';
    let child;
    try {
      child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, env: env ?? process.env });
    } catch (e) {
      resolvePromise({ result: null, wallMs: 0, code: null, stderr: String(e) });
      return;
    }
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      stderr += String(e);
    });
    child.on('close', (code) => {
      const wallMs = performance.now() - start;
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      let result: T | null = null;
      if (line) {
        try {
          result = JSON.parse(line.slice(RESULT_MARKER.length)) as T;
        } catch {
          result = null;
        }
      }
      resolvePromise({ result, wallMs, code, stderr });
    });
  });
}

/** Runs one of the bench's TypeScript entry points in a fresh Node process (through tsx). */
export function runBenchChild<T>(script: string, args: string[], timeoutMs?: number): Promise<ChildRun<T>> {
  return runProgram<T>(process.execPath, ['--import', 'tsx', join(BENCH_DIR, script), ...args], timeoutMs);
}

export { median, rooflineGflops, timeRepeats } from './timing.js';

/** A plain-text table with a header rule; numbers should already be strings. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function fmt(x: number | null | undefined, digits = 1): string {
  if (x == null || !Number.isFinite(x)) return 'n/a';
  return x.toFixed(digits);
}
