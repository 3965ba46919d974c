/**
 * `npm run bench:browser`: the transformer block (batch 32, seq 128, d_model 128, 4 heads) on tfjs's wasm
 * backend in headless Chromium, with tfjs's default thread pool and with one thread per core (the page
 * is cross-origin isolated by `keras-interop serve`, so the threaded SIMD build runs), and in Node in the
 * same run for comparison. tfjs sizes its pool at half of `navigator.hardwareConcurrency` (at most 8):
 * for one thread per core the page is told twice the core count. Prints a table; `--json <file>` writes
 * the numbers. Needs Chromium (scripts/install-chromium.sh).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { startServer } from '../src/commands/serve.js';
import { useBackend } from '../src/runtime/backend.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { buildWeb } from '../web/build.js';
import { type TransformerTiming, timeTransformerBlock } from './transformer-timing.js';
import { fmt, formatTable } from './util.js';

interface Row extends Partial<TransformerTiming> {
  where: string;
  threads: number;
  simd: boolean;
}

async function inChromium(url: string, threads?: number): Promise<Row> {
  const browser = await launchChromium();
  try {
    const { product } = (await browser.send('Browser.getVersion')) as { product: string };
    const page = await browser.newPage(`${url}bench.html?threads=${threads ?? 0}`, threads ? { hardwareConcurrency: 2 * threads } : {});
    const r = await page.evaluate<TransformerTiming & { simd: boolean; threads: number; error?: string }>('window.benchResult');
    if (r.error) throw new Error(r.error);
    return { ...r, where: `Chromium ${product.replace(/^.*\//, '')}${threads ? '' : ' (default pool)'}` };
  } finally {
    await browser.close();
  }
}

async function inNode(): Promise<Row> {
  await useBackend('wasm');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const r = await timeTransformerBlock();
  return { ...r, where: `Node ${process.versions.node}`, threads: wasm.getThreadsCount(), simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean };
}

const out = mkdtempSync(join(tmpdir(), 'keras-interop-bench-web-'));
try {
  await buildWeb(out);
  const server = await startServer(0, out);
  const rows: Row[] = [];
  try {
    rows.push(await inChromium(server.url));
    rows.push(await inChromium(server.url, cpus().length));
  } finally {
    await server.close();
  }
  rows.push(await inNode());
  process.stdout.write(
    formatTable(
      ['where', 'wasm', 'threads', 'median ms', 'min ms', 'GFLOP/s', 'matmul roofline GFLOP/s', 'vs roofline'],
      rows.map((r) => [r.where, r.simd ? 'SIMD' : 'no SIMD', String(r.threads), fmt(r.ms_median), fmt(r.ms_min), fmt(r.gflops), fmt(r.roofline_gflops), fmt(r.vs_roofline, 2)]),
    ) + '\n',
  );
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0) writeFileSync(process.argv[jsonAt + 1], JSON.stringify(rows, null, 2));
} finally {
  rmSync(out, { recursive: true, force: true });
}
