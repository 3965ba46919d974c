/**
 * Inputs the fuzzer (fuzz/, `npm run fuzz`) found breaking the contract, kept as small fixtures in
 * fixtures/fuzz/: each must end in a KerasInteropError with a stable code that names the file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { KerasInteropError } from '../../src/errors.js';
import { readModel } from '../../src/readers/index.js';
import { unzipEntries } from '../../src/readers/zip.js';
import { pythonString } from '../../src/writers/py-json.js';
import { GOLDEN, ROOT } from '../helpers/paths.js';

const FUZZ = join(ROOT, 'fixtures', 'fuzz');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

async function run(...args: string[]) {
  const out: string[] = [];
  const code = await main([...args, '--json', '--backend', 'cpu'], { out: (s) => out.push(s), err: () => {} });
  return { code, report: JSON.parse(out.join('\n')) as { error?: { code: string; file?: string; place?: string; message: string } } };
}

/** `inspect` in a process of its own: a hang fails the test instead of stalling it. */
function inspectInChild(file: string): { error: { code: string; file: string; message: string }; peakBytes: number } {
  const child = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'test', 'fuzz', 'cli-child.mts'), 'inspect', file, '--json', '--backend', 'cpu'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(child.signal, `the CLI hung on ${file}`).toBeNull();
  expect(child.status, child.stdout).toBe(2);
  const lines = child.stderr.trim().split('\n');
  return { error: (JSON.parse(child.stdout) as { error: { code: string; file: string; message: string } }).error, peakBytes: Number(lines[lines.length - 1]) };
}

async function expectError(args: string[], code: string, file: string) {
  const r = await run(...args);
  expect(r.code, JSON.stringify(r.report)).toBe(2);
  expect(r.report.error?.code, r.report.error?.message).toBe(code);
  expect(r.report.error?.file).toContain(file);
  return r.report.error!;
}

describe('fuzz regressions', () => {
  it('a dataset header h5wasm cannot decode is HDF5_INVALID, not INTERNAL (h5wasm throws bare Errors from metadata)', async () => {
    const f = join(FUZZ, 'h5-dataset-header.h5');
    for (const cmd of [['inspect', f], ['convert', f, '--to', 'keras', mkdtempSync(join(tmpdir(), 'ki-fuzz-'))]]) {
      const e = await expectError(cmd, 'HDF5_INVALID', f);
      expect(e.place).toMatch(/^\/model_weights\//);
    }
  });

  it('bytes HDF5 cannot open are refused at open: h5wasm hands back id -1, whose calls answer from the previous file', async () => {
    // Read a good archive first: with the bad id, the zeroed weights file "had" that archive's groups.
    await readModel(join(GOLDEN, 'mha_qkv', 'model.keras'));
    const f = join(FUZZ, 'keras-zero-weights.keras');
    const e = await expectError(['inspect', f], 'HDF5_INVALID', f);
    expect(e.message).toContain('cannot open as HDF5');
  });

  it('a weights file whose group lists a member that does not open is HDF5_INVALID when inspected without a config', async () => {
    // A symbol node's name offset moved by one: "dense" became "ense", which nothing opens under.
    const f = join(FUZZ, 'h5-member-unopenable.weights.h5');
    const e = await expectError(['inspect', f], 'HDF5_INVALID', f);
    expect(e.place).toBe('/layers/ense');
  });

  it('a .keras entry that does not match its CRC-32 is CHECKSUM_MISMATCH, never a silently different model', async () => {
    const f = join(FUZZ, 'keras-config-crc.keras');
    const e = await expectError(['inspect', f], 'CHECKSUM_MISMATCH', f);
    expect(e.place).toBe('config.json');
    expect(() => unzipEntries(readFileSync(f), f)).toThrow(KerasInteropError);
  });

  it('an Embedding index past the vocabulary is INPUT_MISMATCH naming the model, not a tfjs GatherV2 failure', async () => {
    const model = join(GOLDEN, 'sa_return_attention', 'model.keras');
    const input = join(FUZZ, 'embedding-index-input.npy');
    const e = await expectError(['predict', model, '--inputs', input, '--out', mkdtempSync(join(tmpdir(), 'ki-fuzz-'))], 'INPUT_MISMATCH', model);
    expect(e.message).toContain('GatherV2');
  });

  it('a batch_input_shape that is not a list is CONFIG_INVALID at predict time', async () => {
    const f = join(FUZZ, 'input-shape-not-list.h5');
    const c = join(GOLDEN, 'sdpa_qkv');
    const inputs = ['input_0.npy', 'input_1.npy', 'input_2.npy'].map((i) => join(c, i)).join(',');
    const e = await expectError(['predict', f, '--inputs', inputs, '--out', mkdtempSync(join(tmpdir(), 'ki-fuzz-'))], 'CONFIG_INVALID', f);
    expect(e.message).toContain('batch_input_shape');
  });

  it('a layer whose config names it differently is CONFIG_INVALID, not an endless tfjs graph rebuild', () => {
    // The NoMask layer's config name was changed: the NoMask inserted for "dense" took its listed name,
    // and tfjs's functional reconstruction looped forever on the two "dense_no_mask" layers.
    const f = join(FUZZ, 'tfjs-name-mismatch');
    const e = inspectInChild(f).error;
    expect(e).toMatchObject({ code: 'CONFIG_INVALID', file: f });
    expect(e.message).toContain('in its own config');
  });

  it('HDF5 metadata the HDF5 library loops on or allocates its whole heap for is refused before h5wasm opens it', () => {
    for (const [fixture, detail] of [
      // A global heap object header zeroed: HDF5 (h5dump too) steps by its size, 0, forever.
      ['h5-heap-free-object-size-0.h5', 'global heap collection'],
      ['h5-symbol-node-zeroed.h5', 'symbol node'],
      // A string attribute's length (512 MiB), its base type's size (512 MiB), its datatype's size:
      // HDF5 allocated by them (1.3 to 2.6 GiB), then h5wasm aborted and stayed unusable.
      ['h5-vlen-length.h5', 'global heap object holds'],
      ['h5-vlen-base-size.h5', 'base type of'],
      ['h5-attribute-type-size.h5', 'expected 16'],
    ]) {
      const f = join(FUZZ, fixture);
      const r = inspectInChild(f);
      expect(r.error, fixture).toMatchObject({ code: 'HDF5_INVALID', file: f });
      expect(r.error.message, fixture).toContain(detail);
      expect(r.peakBytes, fixture).toBeLessThan(2 ** 30);
    }
  });

  it('class names such as "constructor" and "__proto__" are data, not Object members', async () => {
    const c = join(GOLDEN, 'swa_weighted');
    const weights = join(c, 'model.weights.h5');
    const config = join(FUZZ, 'class-constructor-config.json');
    const out = mkdtempSync(join(tmpdir(), 'ki-fuzz-'));
    const e = await expectError(['predict', weights, '--config', config, '--inputs', join(c, 'input_0.npy'), '--out', out], 'UNSUPPORTED_LAYER', weights);
    expect(e.message).toContain('class constructor');
    // "__proto__" as a layer class once reached the RNN table of the .keras writer.
    const k = join(GOLDEN, 'kmha_cross_masked', 'model.weights.h5');
    const r = await run('convert', k, '--config', join(FUZZ, 'class-proto-convert-config.json'), '--to', 'keras', mkdtempSync(join(tmpdir(), 'ki-fuzz-')));
    expect(r.code, JSON.stringify(r.report)).toBe(0);
  });

  it('a config string of 4 Mi code units is written as Python JSON without hundreds of MiB of temporaries', () => {
    const s = '\u00e9\ud83d\udca5'.repeat(4 << 18) + '"\\\n\u0001\u007f\ud800';
    const peak = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
    writeFileSync('/proc/self/clear_refs', '5');
    const before = peak();
    const text = pythonString(s);
    const grew = peak() - before;
    expect(text.length).toBe(2 + 18 * (4 << 18) + 24);
    expect(text.startsWith('"\\u00e9\\ud83d\\udca5')).toBe(true);
    expect(text.endsWith('\\"\\\\\\n\\u0001\\u007f\\ud800"')).toBe(true);
    // Built a character at a time, the text cost about 200 MiB here (a 10 MiB config.json then took convert past 1 GiB).
    expect(grew).toBeLessThan(120 * 2 ** 20);
  });

  it('errors raised while building the model name the model file (here: a config turning use_gate on)', async () => {
    const weights = join(GOLDEN, 'kmha_basic', 'model.weights.h5');
    const config = join(FUZZ, 'use-gate-config.json');
    const c = join(GOLDEN, 'kmha_basic');
    const out = mkdtempSync(join(tmpdir(), 'ki-fuzz-'));
    await expectError(['predict', weights, '--config', config, '--inputs', join(c, 'input_0.npy'), '--out', out], 'UNSUPPORTED_LAYER', weights);
  });

  it('a scalar float32 dataset reads as one float32 value (it came back as float64, and convert then wrote 8 bytes into a 4-byte dataset)', async () => {
    // mh_list_conv1d's model.h5 with the (3,) bias of sub_2/conv_k7 made a scalar dataset (shape []).
    const f = join(FUZZ, 'h5-scalar-float32.h5');
    const place = '/model_weights/multi_conv/multi_conv/sub_2/conv_k7/bias';
    const flat = (m: Awaited<ReturnType<typeof readModel>>) => m.weights.flatMap((l) => l.weights);
    const at = flat(await readModel(f)).findIndex((w) => w.path === place);
    const source = flat(await readModel(f))[at];
    expect(source.shape).toEqual([]);
    expect(source.dtype).toBe('float32');
    expect(source.data).toBeInstanceOf(Float32Array);
    expect(source.data.length).toBe(1);
    const out = mkdtempSync(join(tmpdir(), 'ki-fuzz-'));
    for (const to of ['h5', 'keras'] as const) {
      const r = await run('convert', f, '--to', to, join(out, `m.${to}`));
      expect(r.code, JSON.stringify(r.report)).toBe(0);
      const back = flat(await readModel(join(out, `m.${to}`)))[at];
      expect(back.shape).toEqual([]);
      expect(back.data).toBeInstanceOf(Float32Array);
      expect(Array.from(back.data as Float32Array)).toEqual(Array.from(source.data as Float32Array));
    }
  });
});
