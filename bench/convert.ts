/**
 * Child process for the conversion rows; each mode reports its time and the process's peak RSS
 * (`process.resourceUsage().maxRSS`, what /usr/bin/time reports as "maximum resident set size").
 *   tsx bench/convert.ts prepare <dir> <megabytes>   writes <dir>/model.h5 and <dir>/model.keras
 *   tsx bench/convert.ts convert <in> <h5|keras|tfjs> <out>   as `keras-interop convert` runs it
 *   tsx bench/convert.ts copy <in> <out>             plain streamed copy with fsync, as the writers do
 *   tsx bench/convert.ts baseline                    the same imports, no work: the RSS floor
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { main as cli } from '../src/cli.js';
import { convertModel } from '../src/writers/index.js';
import { largeDenseModel, weightBytes } from './models.js';
import { emitResult } from './util.js';

export interface ConvertChildResult {
  ms: number;
  max_rss_bytes: number;
  bytes_in?: number;
  bytes_out?: number;
  weight_bytes?: number;
  files?: Record<string, number>;
  error?: string;
}

const maxRss = () => process.resourceUsage().maxRSS * 1024;

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const name of await readdir(path)) total += await sizeOf(join(path, name));
  return total;
}

async function copy(from: string, to: string): Promise<number> {
  const src = await open(from, 'r');
  const dst = await open(to, 'w');
  const buf = Buffer.allocUnsafe(8 << 20);
  let total = 0;
  try {
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      let at = 0;
      while (at < bytesRead) at += (await dst.write(buf, at, bytesRead - at)).bytesWritten;
      total += bytesRead;
    }
    await dst.sync();
  } finally {
    await src.close();
    await dst.close();
  }
  return total;
}

async function main(): Promise<ConvertChildResult> {
  const [mode, a, b, c] = process.argv.slice(2);
  const t0 = performance.now();
  switch (mode) {
    case 'prepare': {
      const model = largeDenseModel(Number(b ?? 200));
      const h5 = join(a!, 'model.h5');
      const keras = join(a!, 'model.keras');
      await convertModel(model, 'h5', h5);
      await convertModel(model, 'keras', keras);
      return { ms: performance.now() - t0, max_rss_bytes: maxRss(), weight_bytes: weightBytes(model), files: { h5: await sizeOf(h5), keras: await sizeOf(keras) } };
    }
    case 'convert': {
      // What `keras-interop convert` does (weights streamed from the source), through the CLI's main().
      const out: string[] = [];
      const code = await cli(['convert', a!, '--to', b!, c!, '--json'], { out: (t) => out.push(t), err: (t) => out.push(t) });
      const ms = performance.now() - t0;
      if (code !== 0) throw new Error(`convert exited ${code}: ${out.join('\n').slice(0, 500)}`);
      return { ms, max_rss_bytes: maxRss(), bytes_in: await sizeOf(a!), bytes_out: await sizeOf(c!) };
    }
    case 'copy': {
      const bytes = await copy(a!, b!);
      return { ms: performance.now() - t0, max_rss_bytes: maxRss(), bytes_in: bytes, bytes_out: bytes };
    }
    case 'baseline':
      return { ms: 0, max_rss_bytes: maxRss() };
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

try {
  emitResult(await main());
} catch (e) {
  emitResult({ ms: 0, max_rss_bytes: maxRss(), error: (e as Error).message } satisfies ConvertChildResult);
}
process.exit(0);
