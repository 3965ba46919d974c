/**
 * A fuzz worker process: receives case indices from the pool, generates and runs each case in
 * process, and reports results. The pool kills and replaces it when a case hangs or it dies (an
 * h5wasm abort, a native crash, memory exhaustion), which is why cases do not run in the pool itself.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Corpus } from './corpus.js';
import { Pristine, generateCase } from './cases.js';
import { main } from '../../src/cli.js';
import { escaped, restingRss, runCase } from './runner.js';

export interface WorkerInit {
  type: 'init';
  corpus: Corpus;
  seed: number;
  backend: string;
  /** This worker's folder: `case/` (sandbox), `tmp/` (TMPDIR) and `cwd/`. */
  dir: string;
  timeLimitMs: number;
  memoryLimitBytes: number;
}

export type ToWorker = WorkerInit | { type: 'case'; index: number } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; baselineRssBytes: number }
  | { type: 'cmd'; index: number; cmd: string; target: string; fixture: string; mutation: string }
  | { type: 'result'; result: import('./runner.js').CaseResult };

process.on('unhandledRejection', (e) => escaped.push(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
process.on('uncaughtException', (e) => escaped.push(`uncaught exception: ${(e as Error)?.stack ?? String(e)}`));

let init: WorkerInit | undefined;
let baseline = 0;

/**
 * Loads everything a case may touch (h5wasm, tfjs, onnxruntime, the writers) on pristine files, so that start-up
 * cost is not charged to the first case, and returns the resident memory at rest afterwards.
 */
async function warmUp(w: WorkerInit): Promise<number> {
  // A golden fixture when the corpus has one; a corpus narrowed by --fixtures may hold only seeds.
  const fx = w.corpus.fixtures.find((f) => f.paths.keras && f.paths['keras3-h5']) ?? w.corpus.fixtures[0];
  const model = fx.paths.keras ?? fx.paths.lambda ?? fx.paths.savedmodel ?? fx.paths['keras3-h5']!;
  const out = join(w.dir, 'case', 'warm-up');
  const io = { out: () => {}, err: () => {} };
  await main(['inspect', fx.paths['keras3-h5'] ?? model, '--backend', w.backend], io);
  await main(['predict', model, '--inputs', fx.inputs.join(','), '--out', out, '--backend', w.backend], io);
  mkdirSync(join(out, 'convert'), { recursive: true });
  await main(['convert', model, '--to', 'h5', join(out, 'convert')], io);
  // onnxruntime-node (its native library), the ONNX lowerings and the attention maps' writers.
  await main(['predict', model, '--inputs', fx.inputs.join(','), '--out', out, '--backend', 'onnxruntime', '--threads', '1'], io);
  if (fx.paths.onnx) await main(['inspect', join(fx.paths.onnx, 'inline', 'model.onnx')], io);
  await main(['attention', model, '--inputs', fx.inputs.join(','), '--out', join(out, 'attention'), '--backend', w.backend], io);
  rmSync(out, { recursive: true, force: true });
  return restingRss();
}
const pristine = new Pristine();
const send = (m: FromWorker) => process.send!(m);

process.on('message', (msg: ToWorker) => {
  void (async () => {
    if (msg.type === 'init') {
      init = msg;
      baseline = await warmUp(msg);
      send({ type: 'ready', baselineRssBytes: baseline });
      return;
    }
    if (msg.type === 'stop') {
      process.exit(0);
    }
    if (!init) throw new Error('case before init');
    const { index } = msg;
    const ctx = { corpus: init.corpus, pristine };
    let result;
    try {
      const spec = await generateCase(ctx, init.seed, index);
      result = await runCase(spec, ctx, {
        sandbox: join(init.dir, 'case'),
        mustStayEmpty: [join(init.dir, 'tmp'), join(init.dir, 'cwd')],
        backend: init.backend,
        timeLimitMs: init.timeLimitMs,
        memoryLimitBytes: init.memoryLimitBytes,
        baselineRssBytes: baseline,
        onCommand: (cmd) => send({ type: 'cmd', index, cmd, target: spec.target, fixture: spec.fixture, mutation: spec.mutation }),
      });
    } catch (e) {
      result = {
        index, seed: 0, target: '?', fixture: '?', mutation: '?', commands: [], ms: 0, noPlace: [], wasmTraps: [],
        violations: [{ kind: 'FUZZER_ERROR', detail: (e as Error)?.stack ?? String(e) }],
      };
    }
    send({ type: 'result', result });
  })();
});
