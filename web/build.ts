/**
 * `npm run build:web`: bundles the web app (web/app.ts) and the benchmark page (web/bench.ts) for
 * browsers into web/dist, with their HTML, CSS and tfjs's wasm binaries. web/dist is generated (git
 * ignores it); `keras-interop serve` serves it.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(WEB_DIR, 'dist');
const ROOT = join(WEB_DIR, '..');

export async function buildWeb(out = WEB_DIST): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(WEB_DIR, 'app.ts'), join(WEB_DIR, 'bench.ts')],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // h5wasm (5 MB) and the SavedModel reader load when a file needs them.
    splitting: true,
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outdir: out,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'bench.html', 'style.css']) copyFileSync(join(WEB_DIR, f), join(out, f));
  const wasmDir = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(out, f));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWeb();
  process.stdout.write(`web app built in ${WEB_DIST}\n`);
}
