/**
 * The fuzz pool's handling of workers that never become ready: each is started again a bounded number
 * of times, then the campaign fails naming why (it used to start them again forever, and hang).
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../fuzz/lib/pool.js';

// One small fixture keeps the corpus quick to build; the workers never get as far as reading it.
const base = { cases: 4, seed: 1, workers: 2, fixtures: ['mha_self'] };

describe('fuzz pool: workers that are never ready', () => {
  it('a worker that dies before it signals ready fails the campaign after three tries', { timeout: 120_000 }, async () => {
    const started = performance.now();
    // Node runs the --import module before the worker's own code: the process exits with status 3.
    const run = runFuzz({ ...base, workerEnv: { NODE_OPTIONS: '--import=data:text/javascript,process.exit(3)' } });
    await expect(run).rejects.toThrow(/fuzz worker \d died before it was ready \(exit 3, signal null\), 3 times in a row; 0 of 4 cases done/);
    expect(performance.now() - started).toBeLessThan(100_000);
  });

  it('a worker still not ready after the start timeout is killed, and counts as a failed start', { timeout: 120_000 }, async () => {
    const run = runFuzz({ ...base, startTries: 2, startTimeoutMs: 3000, workerEnv: { NODE_OPTIONS: '--import=data:text/javascript,for(;;){}' } });
    await expect(run).rejects.toThrow(/fuzz worker \d was not ready after 3000 ms \(killed\), 2 times in a row/);
  });
});
