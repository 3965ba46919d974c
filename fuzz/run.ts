/**
 * The fuzzer's command line.
 *
 *   npm run fuzz -- --cases 2000 --seed 1 [--workers 2] [--start 0] [--targets onnx,keras] [--json summary.json]
 *   npm run fuzz -- --seed 1 --case 1234 [--save dir]   (replay one case in this process)
 *
 * Exits 0 when no case broke the contract, 1 otherwise.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCorpus, narrowTargets } from './lib/corpus.js';
import { Pristine, generateCase } from './lib/cases.js';
import { describeViolation, formatSummary, runFuzz, scratchRoot } from './lib/pool.js';
import { restingRss, runCase } from './lib/runner.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    cases: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string', default: '0' },
    workers: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'cpu' },
    fixtures: { type: 'string' },
    targets: { type: 'string' },
    'time-limit-ms': { type: 'string', default: '5000' },
    json: { type: 'string' },
    case: { type: 'string' },
    save: { type: 'string' },
    keep: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
});

const seed = Number(values.seed);
const fixtures = values.fixtures?.split(',');
const targets = values.targets?.split(',');

async function replay(index: number): Promise<number> {
  const work = mkdtempSync(join(scratchRoot(), 'keras-interop-fuzz-replay-'));
  try {
    const corpus = narrowTargets(await buildCorpus(work, fixtures), targets);
    const ctx = { corpus, pristine: new Pristine() };
    const spec = await generateCase(ctx, seed, index);
    console.log(`case #${index} (seed ${seed}): ${spec.target}/${spec.fixture} ${spec.mutation}${spec.raw ? ' [raw]' : ''}`);
    if (values.save) {
      for (const f of spec.files) {
        const p = join(values.save, f.rel);
        mkdirSync(join(p, '..'), { recursive: true });
        writeFileSync(p, f.bytes);
      }
      console.log(`inputs written to ${values.save}`);
    }
    for (const d of ['tmp', 'cwd']) mkdirSync(join(work, d), { recursive: true });
    const rest = restingRss();
    const r = await runCase(spec, ctx, {
      sandbox: join(work, 'case'), mustStayEmpty: [], backend: values.backend!, timeLimitMs: Number(values['time-limit-ms']), memoryLimitBytes: 2 ** 30,
      memoryFloorBytes: rest, baselineRssBytes: rest,
    });
    const mib = (n: number | undefined) => (n === undefined ? '?' : String(Math.round(n / 2 ** 20)));
    console.log(`  ${r.ms} ms, peak resident memory ${mib(r.peakRssBytes)} MiB, grown by ${mib(r.growthBytes)} MiB`);
    for (const c of r.commands) console.log(`  ${c.cmd}: exit ${c.exit} ${c.outcome} ${c.ms} ms${c.error ? `: ${c.error.message.slice(0, 400)}` : ''}`);
    for (const v of r.violations) console.log(`  VIOLATION ${v.kind}: ${v.detail.slice(0, 2000)}`);
    return r.violations.length ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function campaign(): Promise<number> {
  const cases = Number(values.cases);
  let last = 0;
  const summary = await runFuzz({
    cases, seed, start: Number(values.start), workers: Number(values.workers), backend: values.backend, fixtures, targets,
    timeLimitMs: Number(values['time-limit-ms']), keep: values.keep,
    onViolation: (v) => process.stderr.write(`VIOLATION ${describeViolation(v)}\n`),
    progress: values.quiet
      ? undefined
      : (done, total, violations) => {
          if (done === total || performance.now() - last > 10_000) {
            last = performance.now();
            process.stderr.write(`${done}/${total} cases, ${violations} violations\n`);
          }
        },
  });
  if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2));
  console.log(formatSummary(summary));
  return summary.violations.length ? 1 : 0;
}

process.exitCode = values.case !== undefined ? await replay(Number(values.case)) : await campaign();
