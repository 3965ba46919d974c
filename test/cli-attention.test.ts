/**
 * `keras-interop attention`: for a golden model of every attention layer class, `<layer>.npy` holds the
 * tapped weights (Python's numbers where the model returns them) and each head's PNG, decoded here
 * independently (chunk CRCs, zlib, scanline filters), shows every weight's viridis colour in its cell.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli, runCliOnCpu as cli } from './helpers/cli.js';
import { compareArrays } from '../src/parity/compare.js';
import { readGoldenCase } from '../src/parity/case.js';
import { readNpyFileSync } from '../src/parity/npy-file.js';
import { cellSize, viridis } from '../src/writers/heatmap.js';
import { GOLDEN } from './helpers/paths.js';
import { fileTempDir } from './helpers/tmp.js';

const scratch = fileTempDir('ki-attention-');

/** A PNG's size and RGBA pixels, every chunk's CRC checked. */
function decodePng(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    expect(view.getUint32(at + 8 + length), `${type} CRC`).toBe(zlib.crc32(bytes.subarray(at + 4, at + 8 + length)));
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      expect(Array.from(data.subarray(8))).toEqual([8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, no interlace
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
    if (type === 'IEND') expect(at).toBe(bytes.length);
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  expect(raw.length).toBe((stride + 1) * height);
  const rgba = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (stride + 1)]).toBe(0); // filter: none
    rgba.set(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride);
  }
  return { width, height, rgba };
}

interface Written {
  layer: string;
  className: string;
  shape: number[];
  view: [number, number, number, number];
  npy: string;
  png: string[];
}

describe('keras-interop attention', () => {
  // case, its attention layers' classes
  const cases: [string, string[]][] = [
    ['sa_return_attention', ['SeqSelfAttention']],
    ['swa_weighted', ['SeqWeightedAttention']],
    ['sdpa_qkv', ['ScaledDotProductAttention']],
    ['rsdpa_realformer', ['ResidualScaledDotProductAttention']],
    ['mha_self', ['KerasMultiHead>MultiHeadAttention']],
    ['kmha_cross_masked', ['MultiHeadAttention']],
    // The layers other helpers added, each with its one tapAttention line.
    ['keras_additive_attention', ['AdditiveAttention']],
    ['keras_attention_dot', ['Attention']],
    ['kulc_sdpa', ['Kulc>ScaledDotProductAttention']],
    ['kulc_sequence_attention_additive', ['SequenceAttention']],
    ['kulc_attention_rnn_wrapper_lstm', ['AttentionRNNWrapper']],
  ];
  for (const [name, classes] of cases) {
    it(`${name}: writes <layer>.npy and one PNG heatmap per head`, async () => {
      const kase = readGoldenCase(join(GOLDEN, name));
      const out = join(scratch, name);
      const r = await cli('attention', join(kase.dir, 'model.h5'), '--inputs', kase.inputs.map((t) => t.path).join(','), '--out', out, '--json', '--sample', '1');
      expect(r.code, r.err).toBe(0);
      const maps = (JSON.parse(r.out) as { maps: Written[] }).maps;
      expect(maps.map((m) => m.className)).toEqual(classes);
      for (const m of maps) {
        const npy = readNpyFileSync(m.npy);
        expect(npy.shape).toEqual(m.shape);
        expect(npy.dtype).toBe('float32');
        const [batch, heads, rows, cols] = m.view;
        expect(batch).toBe(kase.inputs[0].shape[0]);
        expect(m.png.map((p) => p.slice(out.length + 1))).toEqual(Array.from({ length: heads }, (_, h) => `${m.layer}_head${h}.png`));
        const values = npy.data as Float32Array;
        for (let h = 0; h < heads; h++) {
          const png = decodePng(readFileSync(m.png[h]));
          const cell = cellSize(rows, cols);
          expect([png.width, png.height]).toEqual([cols * cell, rows * cell]);
          const map = values.subarray((1 * heads + h) * rows * cols, (1 * heads + h + 1) * rows * cols); // --sample 1
          const max = Math.max(...map);
          for (let q = 0; q < rows; q++) {
            for (let k = 0; k < cols; k++) {
              const p = ((q * cell + (cell >> 1)) * png.width + k * cell + (cell >> 1)) * 4;
              expect(Array.from(png.rgba.subarray(p, p + 4)), `${m.layer} head ${h} (${q}, ${k})`).toEqual([...viridis(map[q * cols + k] / max), 255]);
            }
          }
        }
      }
      expect(readdirSync(out).sort()).toEqual(maps.flatMap((m) => [m.npy, ...m.png]).map((p) => p.slice(out.length + 1)).sort());
    });
  }

  it("sa_return_attention: the .npy is the golden attention the model returns (Python's numbers)", async () => {
    const kase = readGoldenCase(join(GOLDEN, 'sa_return_attention'));
    const npy = readNpyFileSync(join(scratch, 'sa_return_attention', 'seq_self_attention.npy'));
    const golden = readNpyFileSync(kase.outputs[1].path);
    const report = compareArrays(npy, golden, kase.tolerance, 'seq_self_attention');
    expect(report.pass, JSON.stringify(report)).toBe(true);
  });

  it('a model without attention layers, a sample out of range, and missing options are usage errors (exit 2)', async () => {
    const lstm = readGoldenCase(join(GOLDEN, 'mh_duplicate_lstm'));
    const none = await cli('attention', join(lstm.dir, 'model.h5'), '--inputs', lstm.inputs[0].path, '--out', join(scratch, 'none'));
    expect([none.code, none.err]).toEqual([2, expect.stringContaining('[USAGE]')]);
    expect(none.err).toContain('no attention layer');
    const sa = readGoldenCase(join(GOLDEN, 'sa_additive_basic'));
    const far = await cli('attention', join(sa.dir, 'model.h5'), '--inputs', sa.inputs[0].path, '--out', join(scratch, 'far'), '--sample', '99');
    expect([far.code, far.err]).toEqual([2, expect.stringContaining('--sample 99 is not one of the 3 input samples')]);
    expect((await cli('attention', join(sa.dir, 'model.h5'), '--out', scratch)).err).toContain('attention needs --inputs');
    const ort = await runCli('attention', join(sa.dir, 'model.h5'), '--inputs', sa.inputs[0].path, '--out', join(scratch, 'ort'), '--backend', 'onnxruntime');
    expect(ort.code).toBe(2);
    expect(ort.err).toContain('[USAGE]: attention maps are tapped from the tfjs layers');
  });
});
