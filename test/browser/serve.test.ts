/**
 * `keras-interop serve`: 127.0.0.1 only, the app's own files and nothing else (no path out of its
 * folder, no method but GET and HEAD), isolation and content-policy headers on every response.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, type RunningServer, startServer } from '../../src/commands/serve.js';
import { main } from '../../src/cli.js';

let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ki-serve-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'app', 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(dir, 'secret.txt'), 'not served');
  server = await startServer(0, join(dir, 'app'));
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request (fetch would normalize `..` away before it is sent). */
function get(path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('keras-interop serve', () => {
  it('listens on 127.0.0.1 and serves the app with isolation and content-policy headers', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.server.address()).toMatchObject({ address: '127.0.0.1' });
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>app</title>');
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(index.headers[k.toLowerCase()]).toBe(v);
    expect((await get('/x.wasm')).headers['content-type']).toBe('application/wasm');
  });

  it('serves nothing outside its folder and accepts no uploads', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/nope.js']) expect((await get(path)).status, path).toBe(404);
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await get('/', method)).status, method).toBe(405);
  });

  it('refuses to start without a built app, and refuses a port that is no port', async () => {
    await expect(startServer(0, join(dir, 'missing'))).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('npm run build:web') });
    const err: string[] = [];
    expect(await main(['serve', '--port', '70000'], { out: () => undefined, err: (s) => err.push(s) })).toBe(2);
    expect(err.join('')).toContain('--port expects a port number');
  });
});
