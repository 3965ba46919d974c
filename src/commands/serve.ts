/**
 * `keras-interop serve [--port N]`: serves the web app (web/, built into web/dist by `npm run build:web`)
 * on 127.0.0.1 only. Cross-origin isolated (COOP/COEP), so the page gets SharedArrayBuffer and the wasm
 * backend's threads; its Content-Security-Policy lets it connect nowhere but this server, which serves
 * the app's own files and accepts nothing (GET and HEAD only): models stay in the page.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KerasInteropError } from '../errors.js';

/** Where `npm run build:web` puts the app: web/dist at the package root (this file is two levels down). */
export const WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * Every response: isolation for wasm threads, and a page that can reach nothing but its own files
 * (`connect-src`, `img-src`, `form-action`). Scripts may be evaluated ('unsafe-eval': protobufjs compiles
 * its SavedModel decoders with `new Function`), which sends nothing anywhere.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval' blob:; worker-src 'self' blob:; connect-src 'self' blob: data:; " +
    "img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Starts serving `root` on 127.0.0.1:`port` (0: a free port). */
export async function startServer(port = 8080, root = WEB_ROOT): Promise<RunningServer> {
  if (!existsSync(join(root, 'index.html'))) {
    throw new KerasInteropError('USAGE', 'the web app is not built: run npm run build:web first', { file: root });
  }
  const base = normalize(root.endsWith(sep) ? root : root + sep);
  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = normalize(join(base, path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new KerasInteropError('USAGE', `cannot listen on 127.0.0.1:${port} (${e.message})`, {}, { cause: e })));
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The command: serves until interrupted. */
export async function serveCommand(port: number | undefined, io: { out: (s: string) => void }): Promise<number> {
  if (port !== undefined && (!Number.isInteger(port) || port > 65535)) throw new KerasInteropError('USAGE', `--port expects a port number (0 to 65535), got ${port}`);
  const running = await startServer(port ?? 8080);
  io.out(`keras-interop web app: ${running.url}  (127.0.0.1 only; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    const stop = () => void running.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
