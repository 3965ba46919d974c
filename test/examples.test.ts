/**
 * Every library example in the README is a file in examples/ that these tests run as written (the
 * README quotes the files whole; examples-layers.test.ts runs examples/my-layers.js).
 */
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { compareArrays } from '../src/parity/compare.js';
import { readNpyFileSync } from '../src/parity/npy-file.js';
import { readModel } from '../src/readers/index.js';
import { convertModel } from '../src/writers/index.js';
import { GOLDEN, ROOT } from './helpers/paths.js';
import { fileTempDir } from './helpers/tmp.js';

const EXAMPLES = join(ROOT, 'examples');
const tmp = fileTempDir('ki-examples-');

describe('README code', () => {
  it('every TypeScript and JavaScript block is a whole file of examples/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```(ts|js|typescript|javascript)\n([\s\S]*?)```/g)].map((m) => m[2]);
    const files = new Map(readdirSync(EXAMPLES).map((f) => [readFileSync(join(EXAMPLES, f), 'utf8'), f]));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const b of blocks) expect(files.get(b), `README block not in examples/:\n${b.slice(0, 300)}`).toBeDefined();
    const quoted = blocks.map((b) => files.get(b));
    expect(quoted).toEqual(expect.arrayContaining(['library.ts', 'load-converted.ts', 'my-layers.js', 'my-op.ts', 'sequence-attention-similarity.ts']));
  });
});

describe('examples', () => {
  it('library.ts reads, predicts, verifies and converts', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await import('../examples/library.js');
      const lines = log.mock.calls.map((c) => String(c[0]));
      expect(lines[0]).toBe('dense: shape [3,8,5]');
      expect(lines[1]).toBe('matches Python');
      expect(lines[2]).toMatch(/web_model[/\\]model\.json\n.*web_model[/\\]group1-shard1of1\.bin$/);
    } finally {
      log.mockRestore();
    }
  });

  it("sequence-attention-similarity.ts registers a similarity that kulc's SequenceAttention then computes", async () => {
    const { SequenceAttention } = await import('../src/layers/sequence-attention.js');
    expect(() => new SequenceAttention({ name: 'before', similarity: 'my_similarity' }).apply([tf.zeros([1, 2, 2]), tf.zeros([1, 2, 2])])).toThrow(/my_?similarity/i);
    await import('../examples/sequence-attention-similarity.js');
    const [B, T, D] = [2, 3, 2];
    const source = Float32Array.from({ length: B * T * D }, (_, k) => Math.sin(k + 1));
    const query = Float32Array.from({ length: B * T * D }, (_, k) => Math.cos(2 * k));
    const layer = new SequenceAttention({ name: 'after', similarity: 'my_similarity' });
    const out = layer.apply([tf.tensor3d(source, [B, T, D]), tf.tensor3d(query, [B, T, D])]) as tf.Tensor;
    // kulc: score[b, i] = softmax_j(source_i · query_j); output[b, i] = Σ_t score[b, t, i] source_t
    const expected: number[] = [];
    for (let b = 0; b < B; b++) {
      const at = (a: Float32Array, t: number, c: number) => a[(b * T + t) * D + c];
      const score = Array.from({ length: T }, (_, i) => {
        const sims = Array.from({ length: T }, (_, j) => Array.from({ length: D }, (_, c) => at(source, i, c) * at(query, j, c)).reduce((x, y) => x + y));
        const z = sims.reduce((x, y) => x + Math.exp(y), 0);
        return sims.map((v) => Math.exp(v) / z);
      });
      for (let i = 0; i < T; i++) for (let c = 0; c < D; c++) expected.push(score.reduce((acc, row, t) => acc + row[i] * at(source, t, c), 0));
    }
    Array.from(out.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
    tf.dispose(out);
  });

  it('my-op.ts plugs an op into the table under both front-ends\' spellings', async () => {
    const { TF_FUNCTIONS, KERAS3_OPS, bindCall, runOp } = await import('../src/index.js');
    const x = tf.tensor1d([1, -2, 0.5]);
    const tfAlias = TF_FUNCTIONS.get('math.cube');
    expect(tfAlias).toBeUndefined();
    await import('../examples/my-op.js');
    for (const [table, name] of [[TF_FUNCTIONS, 'math.cube'], [KERAS3_OPS, 'Cube']] as const) {
      const alias = table.get(name);
      expect(alias, name).toBeDefined();
      const y = runOp(bindCall(alias!, [x], {}, name)) as tf.Tensor;
      expect(Array.from(y.dataSync())).toEqual([1, -8, 0.125]);
      y.dispose();
    }
    x.dispose();
  });

  it('load-converted.ts loads a converted folder over http and reproduces Python', async () => {
    const dir = join(GOLDEN, 'sa_additive_basic');
    const folder = join(tmp, 'web_model');
    await convertModel(await readModel(join(dir, 'model.h5')), 'tfjs', folder);
    const server = createServer((req, res) => {
      const file = normalize(join(folder, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      if (!file.startsWith(folder)) return void res.writeHead(403).end();
      try {
        res.writeHead(200).end(readFileSync(file));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { loadConverted } = await import('../examples/load-converted.js');
      const model = await loadConverted(`http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`);
      const x = readNpyFileSync(join(dir, 'input_0.npy'));
      const y = model.predict(tf.tensor(x.data as Int32Array, x.shape, 'int32')) as tf.Tensor;
      const report = compareArrays({ shape: y.shape, data: y.dataSync() as Float32Array }, readNpyFileSync(join(dir, 'output_0.npy')), { atol: 1e-5, rtol: 1e-4 }, 'dense');
      expect(report.pass, `max abs ${report.maxAbsError}`).toBe(true);
      tf.dispose(y);
      model.dispose();
    } finally {
      server.close();
    }
  });
});
