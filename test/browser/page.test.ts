/**
 * The web app in a real browser: Debian's Chromium, headless, driven over the DevTools protocol, on the
 * page `keras-interop serve` serves. Files reach the page the way a user's do (its file and folder
 * pickers); results are read from the page. What the page computes is held to what Node computes on the
 * same files (the same verify results, the same converted bytes), and to the goldens.
 */
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../web/build.js';
import { type RunningServer, startServer } from '../../src/commands/serve.js';
import { summarize } from '../../src/model/summary.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { verifyCase } from '../../src/parity/verify.js';
import { readModel } from '../../src/readers/index.js';
import { describeRuntime } from '../../src/runtime/run.js';
import { layerGraph } from '../../src/runtime/layer-graph.js';
import { withAttentionTaps } from '../../src/runtime/attention-taps.js';
import { buildModel, predict } from '../../src/runtime/build.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { convertModel } from '../../src/writers/index.js';
import { convertToFiles } from '../../src/writers/convert.js';
import { readModelSource } from '../../src/readers/sources.js';
import { bytesSource } from '../../src/readers/io/source.js';
import { runModel } from '../../src/runtime/run.js';
import { compareArrays } from '../../src/parity/compare.js';
import type { NpyArray } from '../../src/parity/npy.js';
import type { KerasModel } from '../../src/model/types.js';
import { writeTfjs } from '../../src/writers/tfjs.js';
import { writeHdf5 } from '../../src/writers/hdf5.js';
import { viridis } from '../../src/writers/heatmap.js';
import { type Browser, type Page, launchChromium } from '../helpers/chromium.js';
import { GOLDEN, ROOT, goldenCases, requireWild } from '../helpers/paths.js';
import { itWild } from '../helpers/wild.js';

let out: string;
let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'keras-interop-web-'));
  await buildWeb(out);
  // The README's browser example, on a page of its own with a golden model served beside it.
  await build({ entryPoints: [join(ROOT, 'examples', 'browser.ts')], absWorkingDir: ROOT, bundle: true, platform: 'browser', format: 'esm', outfile: join(out, 'example', 'example.js'), logLevel: 'silent' });
  writeFileSync(join(out, 'example', 'index.html'), '<!doctype html><title>example</title>');
  for (const f of ['model.h5', 'input_0.npy']) copyFileSync(join(GOLDEN, 'transformer_block', f), join(out, 'example', f));
  for (const f of readdirSync(out).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(out, f), join(out, 'example', f));
  server = await startServer(0, out);
  browser = await launchChromium();
  page = await browser.newPage(server.url);
  await page.evaluate('kiApp.ready');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

/** Runs `action` (which starts a task in the page) and waits until the page is idle again. */
async function act(action: () => Promise<unknown>): Promise<void> {
  const before = await page.evaluate<number>('kiApp.started');
  await action();
  await page.evaluate(`(async () => {
    const t0 = Date.now();
    while (kiApp.started === ${before}) {
      if (Date.now() - t0 > 10000) throw new Error('the page started no task');
      await new Promise((r) => setTimeout(r, 5));
    }
    await kiApp.idle();
  })()`);
}

const click = (id: string) => act(() => page.evaluate(`document.getElementById(${JSON.stringify(id)}).click()`));
const choose = (id: string, paths: string[]) => act(() => page.setFiles(`#${id}`, paths));
const text = (id: string) => page.evaluate<string>(`document.getElementById(${JSON.stringify(id)}).textContent`);
const errors = () => page.evaluate<string[]>('kiApp.state.errors.splice(0)');

/** SHA-256 of each converted file in the page, by name. */
function convertedHashes(target: string): Promise<Record<string, string>> {
  return page.evaluate(`(async () => {
    const out = {};
    for (const f of kiApp.state.converted[${JSON.stringify(target)}] ?? []) {
      const d = new Uint8Array(await crypto.subtle.digest('SHA-256', f.bytes));
      out[f.name] = Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
    }
    return out;
  })()`);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const npyFiles = (dir: string, prefix: string) =>
  readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.npy'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((f) => join(dir, f));

/** The page's current inputs, as arrays Node can run. */
async function pageInputs(): Promise<NpyArray[]> {
  const raw = await page.evaluate<{ dtype: 'float32' | 'int32'; shape: number[]; data: number[] }[]>(
    'kiApp.state.inputs.map((a) => ({ dtype: a.dtype, shape: a.shape, data: Array.from(a.data) }))',
  );
  return raw.map((a) => ({ dtype: a.dtype, shape: a.shape, data: a.dtype === 'int32' ? Int32Array.from(a.data) : Float32Array.from(a.data) }));
}

/**
 * Whether Node finds the same as the page's check of a converted file: the model written as `target`,
 * read back and run on `inputs`, gives the original's outputs (the page's tolerance). tfjs is held to
 * pass outright (the page loads it with tf.loadLayersModel).
 */
async function nodeRoundTrip(model: KerasModel, target: 'tfjs' | 'h5' | 'keras', inputs: NpyArray[]): Promise<boolean> {
  if (target === 'tfjs') return true;
  const [file] = await convertToFiles(model, target);
  const back = await readModelSource(bytesSource(file.name, file.bytes));
  const [a, b] = [await runModel(model, inputs, { backend: 'wasm' }), await runModel(back, inputs, { backend: 'wasm' })];
  return a.every((o, j) => compareArrays(b[j], o, { atol: 1e-5, rtol: 1e-4 }, o.name).pass);
}

interface PageVerify {
  pass: boolean;
  files: { file: string; pass: boolean; error?: { code: string } }[];
}

describe('the web app in headless Chromium', () => {
  it('is served cross-origin isolated from 127.0.0.1: tfjs wasm with SIMD, threads available, nothing to reach but itself', async () => {
    const res = await fetch(server.url);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    expect(await page.evaluate('crossOriginIsolated && typeof SharedArrayBuffer === "function"')).toBe(true);
    expect(await text('env')).toMatch(/^tfjs wasm · SIMD on · \d+ thread\(s\) · cross-origin isolated/);
    // The page cannot send a model anywhere else: its policy refuses other origins.
    await expect(page.evaluate('fetch("http://127.0.0.2:9/x", { method: "POST", body: "model" }).then(() => "sent")')).rejects.toThrow(/Failed to fetch/);
  });

  const caseDir = join(GOLDEN, 'transformer_block');
  for (const file of ['model.h5', 'model.keras']) {
    it(`transformer_block/${file}: opens, runs, verifies PASS, converts to tfjs that tf.loadLayersModel loads, draws attention`, async () => {
      const model = await readModel(join(caseDir, file));
      await choose('pick-file', [join(caseDir, file)]);
      expect(await errors()).toEqual([]);
      expect(await text('model-facts')).toContain('12 layers · 375 parameters in 18 weights · runs on tfjs wasm');
      expect(await page.evaluate('Array.from(document.querySelectorAll("#inputs-table tbody td"), (td) => td.textContent)')).toEqual(['input_layer', '(None, 8, 6)', 'float32']);
      const nodeSummary = summarize(model, await describeRuntime(model, 'wasm'));
      expect(await page.evaluate('kiApp.state.summary.layers.map((l) => [l.name, l.params])')).toEqual(nodeSummary.layers.map((l) => [l.name, l.params]));
      expect(await page.evaluate('document.querySelectorAll("#layer-table tbody tr").length')).toBe(nodeSummary.layers.length);
      expect(await page.evaluate('document.querySelectorAll("#graph-view g[data-layer]").length')).toBe(layerGraph(model.config!).nodes.length);

      await choose('pick-inputs', [join(caseDir, 'input_0.npy')]);
      await click('run-button');
      await choose('pick-expected', [join(caseDir, 'output_0.npy')]);
      expect(await errors()).toEqual([]);
      expect(await text('verify-badge')).toBe('PASS');
      expect(await text('verify-report')).toMatch(/output_0 +\(3, 3\) .* PASS\n[\s\S]*1\/1 model files pass \(atol 0\.00001, rtol 0\.0001, backend wasm\)$/);

      await click('convert-tfjs');
      expect(await errors()).toEqual([]);
      expect(await text('tfjs-check')).toMatch(/^tf\.loadLayersModel: PASS/);
      // The very files Node writes.
      const nodeFiles = await writeTfjs(model);
      expect(await convertedHashes('tfjs')).toEqual(Object.fromEntries([...nodeFiles].map(([n, b]) => [n, sha256(b)])));

      // Attention: one map per attention layer, the numbers Node taps, drawn cell by cell in viridis.
      const tfModel = await buildModel(model, { backend: 'wasm' });
      const { maps } = await withAttentionTaps(() => predict(tfModel, [readNpyFileSync(join(caseDir, 'input_0.npy'))]));
      tfModel.dispose();
      const pageMaps = await page.evaluate<{ layer: string; view: number[]; data: number[] }[]>('kiApp.state.maps.map((m) => ({ layer: m.layer, view: m.view, data: Array.from(m.data) }))');
      expect(pageMaps.map((m) => [m.layer, m.view])).toEqual(maps.map((m) => [m.layer, m.view]));
      pageMaps[0].data.forEach((v, i) => expect(Math.abs(v - maps[0].data[i])).toBeLessThan(1e-6));
      const [, heads, rows, cols] = pageMaps[0].view;
      const canvases = await page.evaluate<{ width: number; height: number; x: number; y: number; cell: number; max: number; cells: number[]; colours: number }[]>(`
        Array.from(document.querySelectorAll('#att-heads canvas'), (c) => {
          const { x, y, cell, rows, cols, max } = c.dataset;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          const cells = [];
          for (let r = 0; r < +rows; r++) for (let k = 0; k < +cols; k++) {
            const p = ((+y + r * +cell + (+cell >> 1)) * c.width + (+x + k * +cell + (+cell >> 1))) * 4;
            cells.push(d[p], d[p + 1], d[p + 2]);
          }
          const colours = new Set();
          for (let p = 0; p < d.length; p += 4) colours.add((d[p] << 16) | (d[p + 1] << 8) | d[p + 2]);
          return { width: c.width, height: c.height, x: +x, y: +y, cell: +cell, max: +max, cells, colours: colours.size };
        })`);
      expect(canvases).toHaveLength(heads);
      canvases.forEach((c, h) => {
        expect(c.width).toBe(c.x + cols * c.cell + 12 + 14 + 44);
        expect(c.height).toBe(Math.max(c.y + rows * c.cell + 8, c.y + 60));
        expect(c.colours).toBeGreaterThan(20); // not blank: cells, colour bar and labels
        const values = pageMaps[0].data.slice(h * rows * cols, (h + 1) * rows * cols); // sample 0
        expect(c.max).toBe(Math.max(...values));
        values.forEach((v, i) => expect(c.cells.slice(3 * i, 3 * i + 3), `head ${h} cell ${i}`).toEqual(viridis(v / c.max)));
      });
    });
  }

  it('examples/browser.ts (the README\'s): opens a picked .h5, runs it with attention tapped, zips its tfjs folder', async () => {
    const tab = await browser.newPage(`${server.url}example/`);
    try {
      const r = await tab.evaluate<{ outputs: string[]; attention: string[]; zip: number; magic: number[] }>(`(async () => {
        const { openRunConvert } = await import('./example.js');
        const file = async (name) => new File([await (await fetch(name)).arrayBuffer()], name);
        const r = await openRunConvert(await file('model.h5'), [await file('input_0.npy')]);
        return { outputs: r.outputs, attention: r.attention, zip: r.zip.size, magic: Array.from(new Uint8Array(await r.zip.slice(0, 4).arrayBuffer())) };
      })()`);
      expect(r.outputs).toEqual(['dense_2 [3,3]']);
      expect(r.attention).toEqual(['multi_head_attention [3,2,8,8]']);
      expect(r.magic).toEqual([0x50, 0x4b, 0x03, 0x04]);
      expect(r.zip).toBeGreaterThan(1000);
      expect(tab.log.filter((l) => l.startsWith('log: group1-shard1of1.bin: 100%'))).toHaveLength(1);
    } finally {
      await tab.close();
    }
  });

  it('a weights-only file runs with the config picked beside it, and verifies PASS', async () => {
    await choose('pick-config', [join(caseDir, 'model.keras')]);
    expect(await text('config-name')).toBe('config: model.keras');
    await choose('pick-file', [join(caseDir, 'model.weights.h5')]);
    expect(await errors()).toEqual([]);
    expect(await text('model-facts')).toMatch(/^weights-h5\b.* runs on tfjs wasm$/);
    await choose('pick-inputs', [join(caseDir, 'input_0.npy')]);
    await click('run-button');
    await choose('pick-expected', [join(caseDir, 'output_0.npy')]);
    expect(await text('verify-badge')).toBe('PASS');
    // A config stays picked until the page reloads; the next tests start clean.
    await page.goto(server.url);
    await page.evaluate('kiApp.ready');
  });

  it('every golden case verifies from its case folder as the CLI does, and its model.h5 converts to tfjs, .h5 and .keras, each checked in the page', async () => {
    for (const name of goldenCases()) {
      const dir = join(GOLDEN, name);
      await choose('pick-case', [dir]);
      expect(await errors(), name).toEqual([]);
      const inPage = await page.evaluate<PageVerify>('kiApp.state.verify');
      const inNode = await verifyCase(dir, { backend: 'wasm' });
      expect(inPage.files.map((f) => [f.file.split('/').pop(), f.pass]), name).toEqual(inNode.files.map((f) => [f.file.split('/').pop(), f.pass]));
      expect(inPage.pass, name).toBe(true);
      expect(await text('verify-badge')).toBe('PASS');

      const kase = readGoldenCase(dir);
      await choose('pick-file', [join(dir, 'model.h5')]);
      await choose('pick-inputs', kase.inputs.map((t) => t.path));
      await click('run-button');
      const model = await readModel(join(dir, 'model.h5'));
      const inputs = await pageInputs();
      for (const target of ['tfjs', 'h5', 'keras'] as const) {
        await click(`convert-${target}`);
        expect(await errors(), `${name} ${target}`).toEqual([]);
        expect(await page.evaluate(`kiApp.state.checks[${JSON.stringify(target)}]?.pass`), `${name} ${target}`).toBe(await nodeRoundTrip(model, target, inputs));
      }
      // tfjs and .h5 files are Node's byte for byte (.keras records the time it was saved).
      expect(await convertedHashes('h5'), name).toEqual({ 'model.h5': sha256(await writeHdf5(model)) });
      expect(await convertedHashes('tfjs'), name).toEqual(Object.fromEntries([...(await writeTfjs(model))].map(([n, b]) => [n, sha256(b)])));
    }
  }, 600_000);

  itWild('every real file reads; runnable ones run, verify against their goldens as the CLI does, and convert where the CLI converts', async () => {
    const wild = requireWild();
    const manifest = JSON.parse(readFileSync(join(wild, 'manifest.json'), 'utf8')) as { id: string; local_file: string }[];
    expect(manifest.length).toBeGreaterThan(20);
    const scratch = mkdtempSync(join(tmpdir(), 'keras-interop-wild-'));
    const done = { ran: 0, verified: 0, converted: 0 };
    try {
      for (const entry of manifest) {
        const path = join(wild, entry.local_file);
        const folder = statSync(path).isDirectory();
        const model = await readModel(path);
        const runtime = await describeRuntime(model, 'wasm');
        await choose(folder ? 'pick-folder' : 'pick-file', [path]);
        expect(await errors(), entry.id).toEqual([]);
        expect(await page.evaluate('kiApp.state.summary.layers.map((l) => l.name)'), entry.id).toEqual(summarize(model, runtime).layers.map((l) => l.name));
        expect(await page.evaluate('!!kiApp.state.tfModel'), entry.id).toBe(runtime.runnable);
        const notes = await page.evaluate<string[]>('kiApp.state.summary.notes');
        for (const n of runtime.notes ?? []) expect(notes.join('\n'), entry.id).toContain(n.replace(/^.*?\] /, '').split(': ').pop()!);

        const goldenDir = join(wild, entry.id, 'golden');
        if (existsSync(join(goldenDir, 'case.json'))) {
          // The entry's folder: its case.json is in golden/, the model it names is beside it.
          await choose('pick-case', [join(wild, entry.id)]);
          const inPage = await page.evaluate<PageVerify>('kiApp.state.verify');
          const inNode = await verifyCase(goldenDir, { backend: 'wasm' });
          expect(inPage.files.map((f) => [f.pass, f.error?.code]), entry.id).toEqual(inNode.files.map((f) => [f.pass, f.error?.code]));
          expect(inPage.pass, entry.id).toBe(runtime.runnable);
          if (inPage.pass) done.verified++;
          await errors();
        }
        if (!runtime.runnable) continue;
        const inputs = existsSync(goldenDir) ? npyFiles(goldenDir, 'input_') : [];
        if (inputs.length) await choose('pick-inputs', inputs);
        await click('run-button');
        expect(await errors(), entry.id).toEqual([]);
        expect(await page.evaluate('kiApp.state.outputs.every((o) => o.data.every(Number.isFinite))'), entry.id).toBe(true);
        done.ran++;
        for (const target of ['tfjs', 'h5', 'keras'] as const) {
          const converts = await convertModel(model, target, join(scratch, `${entry.id}-${target}`)).then(
            () => true,
            () => false,
          );
          await click(`convert-${target}`);
          const failed = await errors();
          expect(failed.length === 0, `${entry.id} ${target}: ${failed.join('; ')}`).toBe(converts);
          if (converts) {
            const expected = await nodeRoundTrip(model, target, await pageInputs());
            expect(await page.evaluate(`kiApp.state.checks[${JSON.stringify(target)}]?.pass`), `${entry.id} ${target}`).toBe(expected);
          }
          if (converts) done.converted++;
        }
      }
      // Today: 10 runnable files, 5 with goldens, 30 conversions; more as more layers run.
      expect(done.ran).toBeGreaterThanOrEqual(10);
      expect(done.verified).toBeGreaterThanOrEqual(5);
      expect(done.converted).toBeGreaterThanOrEqual(25);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 600_000);
});
