/**
 * Makes the README's screenshots (docs/*.png): the web app in headless Chromium with the golden
 * transformer block opened, run on its golden inputs, verified and converted. `npx tsx scripts/screenshots.ts`
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/commands/serve.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { buildWeb } from '../web/build.js';

const ROOT = join(import.meta.dirname, '..');
const CASE = join(ROOT, 'fixtures', 'golden', 'transformer_block');
const DOCS = join(ROOT, 'docs');

const out = mkdtempSync(join(tmpdir(), 'keras-interop-shots-'));
await buildWeb(out);
const server = await startServer(0, out);
const browser = await launchChromium();
try {
  const page = await browser.newPage(server.url, { width: 1100, height: 900 });
  await page.evaluate('kiApp.ready');
  const step = async (action: () => Promise<unknown>) => {
    const before = await page.evaluate<number>('kiApp.started');
    await action();
    await page.evaluate(`(async () => { while (kiApp.started === ${before}) await new Promise((r) => setTimeout(r, 5)); await kiApp.idle(); })()`);
  };
  await step(() => page.setFiles('#pick-file', [join(CASE, 'model.h5')]));
  await step(() => page.setFiles('#pick-inputs', [join(CASE, 'input_0.npy')]));
  await step(() => page.evaluate('document.getElementById("run-button").click()'));
  await step(() => page.setFiles('#pick-expected', [join(CASE, 'output_0.npy')]));
  await step(() => page.evaluate('document.getElementById("convert-tfjs").click()'));
  /** A PNG of the page from the top of `first` to the bottom of `last`. */
  const shot = async (first: string, last: string) => {
    const box = await page.evaluate<{ y: number; bottom: number }>(
      `({ y: document.querySelector(${JSON.stringify(first)}).getBoundingClientRect().top + scrollY - 8, bottom: document.querySelector(${JSON.stringify(last)}).getBoundingClientRect().bottom + scrollY + 8 })`,
    );
    const { data } = (await page.send('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      clip: { x: 0, y: Math.max(0, box.y), width: 1100, height: box.bottom - Math.max(0, box.y), scale: 0.8 },
    })) as { data: string };
    return Buffer.from(data, 'base64');
  };
  mkdirSync(DOCS, { recursive: true });
  writeFileSync(join(DOCS, 'web-app.png'), await shot('header', '#layers'));
  writeFileSync(join(DOCS, 'web-attention.png'), await shot('#verify', '#convert'));
  process.stdout.write(`screenshots written to ${DOCS}\n`);
} finally {
  await browser.close();
  await server.close();
  rmSync(out, { recursive: true, force: true });
}
