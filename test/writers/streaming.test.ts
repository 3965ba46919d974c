/**
 * Streaming conversion: a model read with `streamWeights` keeps its HDF5 source open and reads each
 * weight when a writer writes it, so converting holds one tensor at a time. The files must be the same
 * as from a model read whole, each weight read exactly once, and nothing left behind.
 */
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { KerasInteropError } from '../../src/errors.js';
import { type KerasModel, lazyWeight } from '../../src/model/types.js';
import { readModel } from '../../src/readers/index.js';
import { crc32, readZipDirectory, unzipEntries } from '../../src/readers/zip.js';
import { convertModel } from '../../src/writers/index.js';
import { serializeH5Parts } from '../../src/writers/h5-builder.js';
import { buildHdf5Tree } from '../../src/writers/hdf5.js';
import { writeKerasArchive } from '../../src/writers/keras-archive.js';
import { partsSize } from '../../src/writers/parts.js';
import { GOLDEN } from '../helpers/paths.js';
import { expectSameWeights } from './helpers.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n))]));
}

/** The archive's members, with metadata.json's date_saved (the time of writing) removed. */
function archiveMembers(path: string): Map<string, string | Buffer> {
  const entries = unzipEntries(readFileSync(path), path);
  const out = new Map<string, string | Buffer>();
  for (const [name, bytes] of entries) {
    if (name === 'metadata.json') {
      const meta = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
      delete meta.date_saved;
      out.set(name, JSON.stringify(meta));
    } else out.set(name, Buffer.from(bytes));
  }
  return out;
}

const SOURCES = [
  ['transformer_block', 'model.h5'],
  ['transformer_block', 'model.keras'],
  ['sa_additive_masking', 'model.tfkeras2.h5'],
  ['mh_regularized_bilstm', 'model.h5'],
  ['kmha_cross_masked', 'model.keras'],
] as const;

describe('converting a model read with streamWeights', () => {
  for (const [fixture, file] of SOURCES) {
    it(`${fixture}/${file}: writes the same h5, .keras and tfjs files as from the model read whole`, async () => {
      const path = join(GOLDEN, fixture, file);
      const whole = await readModel(path);
      const streamed = await readModel(path, { streamWeights: true });
      expect(whole.close).toBeUndefined();
      expect(typeof streamed.close).toBe('function');
      const dir = join(tmp, `${fixture}-${file}`);
      try {
        for (const variant of ['whole', 'streamed'] as const) {
          const m = variant === 'whole' ? whole : streamed;
          const out = join(dir, variant);
          mkdirSync(out, { recursive: true });
          await convertModel(m, 'h5', join(out, 'm.h5'));
          await convertModel(m, 'keras', join(out, 'm.keras'));
          await convertModel(m, 'tfjs', join(out, 'tfjs'));
          // A small shard size cuts weights across shards; uint8 quantization is computed as they are written.
          await convertModel(m, 'tfjs', join(out, 'tfjs-q'), { quantize: 'uint8', shardSize: 64 });
        }
        const a = join(dir, 'whole');
        const b = join(dir, 'streamed');
        expect(readFileSync(join(b, 'm.h5')).equals(readFileSync(join(a, 'm.h5')))).toBe(true);
        expect(archiveMembers(join(b, 'm.keras'))).toEqual(archiveMembers(join(a, 'm.keras')));
        for (const t of ['tfjs', 'tfjs-q']) {
          const fa = filesOf(join(a, t));
          const fb = filesOf(join(b, t));
          expect([...fb.keys()]).toEqual([...fa.keys()]);
          for (const [n, bytes] of fa) expect(fb.get(n)!.equals(bytes), `${t}/${n}`).toBe(true);
        }
        expect(filesOf(join(a, 'tfjs-q')).size).toBeGreaterThan(2);
        // And the written files hold the source's weights.
        expectSameWeights(await readModel(join(b, 'm.h5')), whole);
        expectSameWeights(await readModel(join(b, 'm.keras')), whole);
      } finally {
        streamed.close!();
      }
    });
  }

  it('after close(), a streamed weight is refused with a clear error, not read from a stale file', async () => {
    for (const file of ['model.h5', 'model.keras']) {
      const m = await readModel(join(GOLDEN, 'transformer_block', file), { streamWeights: true });
      const w = m.weights.find((l) => l.weights.length)!.weights[0];
      expect(w.data.length).toBeGreaterThan(0);
      m.close!();
      m.close!();
      let err: unknown;
      try {
        void w.data;
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KerasInteropError);
      expect((err as KerasInteropError).code).toBe('USAGE');
      expect((err as Error).message).toMatch(/closed/);
    }
  });

  it('reads each weight exactly once, when its bytes are written, and none while the file is laid out', async () => {
    const source = await readModel(join(GOLDEN, 'transformer_block', 'model.h5'));
    const reads = new Map<string, number>();
    const counted: KerasModel = {
      ...source,
      weights: source.weights.map((l) => ({
        layer: l.layer,
        weights: l.weights.map((w) => {
          const { data, ...meta } = w;
          return lazyWeight(meta, () => {
            reads.set(`${l.layer}/${w.name}`, (reads.get(`${l.layer}/${w.name}`) ?? 0) + 1);
            return data;
          });
        }),
      })),
    };
    const total = source.weights.reduce((a, l) => a + l.weights.length, 0);
    const parts = serializeH5Parts(buildHdf5Tree(counted));
    expect(reads.size).toBe(0);
    expect(partsSize(parts)).toBeGreaterThan(0);
    const out = join(tmp, 'once');
    await convertModel(counted, 'h5', join(out, 'm.h5'));
    expect(reads.size).toBe(total);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
    reads.clear();
    await convertModel(counted, 'tfjs', join(out, 'tfjs'), { shardSize: 777 });
    expect(reads.size).toBe(total);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
    reads.clear();
    await convertModel(counted, 'keras', join(out, 'm.keras'));
    expect(reads.size).toBe(total);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
    expectSameWeights(await readModel(join(out, 'm.h5')), source);
  });

  it('a .keras archive written as parts has each CRC-32 right in the local header and the central directory', async () => {
    const m = await readModel(join(GOLDEN, 'sa_additive_basic', 'model.keras'), { streamWeights: true });
    let bytes: Uint8Array;
    try {
      bytes = await writeKerasArchive(m);
    } finally {
      m.close!();
    }
    const dir = readZipDirectory(bytes.length, (at, n) => bytes.subarray(at, at + n))!;
    expect(dir.map((e) => e.name)).toEqual(['metadata.json', 'config.json', 'model.weights.h5']);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const e of dir) {
      const local = e.localHeaderOffset;
      expect(view.getUint32(local, true)).toBe(0x04034b50);
      const nameLength = view.getUint16(local + 26, true);
      const data = bytes.subarray(local + 30 + nameLength, local + 30 + nameLength + e.compressedSize);
      expect(view.getUint32(local + 14, true)).toBe(crc32(data));
      expect(e.crc).toBe(crc32(data));
    }
  });

  it('`keras-interop convert` streams from a .keras archive and leaves no temporary file, also when writing fails', async () => {
    const before = process.env.TMPDIR;
    const t = join(tmp, 'tmpdir');
    mkdirSync(t);
    process.env.TMPDIR = t;
    try {
      const io = { out: () => {}, err: () => {} };
      const src = join(GOLDEN, 'transformer_block', 'model.keras');
      expect(await main(['convert', src, '--to', 'h5', join(tmp, 'cli', 'out.h5')], io)).toBe(0);
      expect(readdirSync(t)).toEqual([]);
      // The output's folder cannot be created (a file is in the way): WRITE_FAILED after the archive was opened.
      const blocker = join(tmp, 'cli', 'out.h5');
      const lines: string[] = [];
      const code = await main(['convert', src, '--to', 'h5', join(blocker, 'sub', 'out.h5'), '--json'], { out: (s) => lines.push(s), err: () => {} });
      expect(code).toBe(2);
      expect(JSON.parse(lines.join('\n')).error.code).toBe('WRITE_FAILED');
      expect(readdirSync(t)).toEqual([]);
      expectSameWeights(await readModel(join(tmp, 'cli', 'out.h5')), await readModel(src));
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  });
});
