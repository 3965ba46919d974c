/**
 * PNG files of RGBA pixels (attention heatmaps): the signature, IHDR (8-bit RGBA), one IDAT holding the
 * zlib stream of the scanlines (filter 0) and IEND, each chunk with its CRC-32. No Node built-ins.
 */
import { zlibSync } from 'fflate';
import { KerasInteropError } from '../errors.js';
import { crc32Update } from '../readers/zip.js';
import { concatParts } from './parts.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  // The CRC covers the type and the data.
  view.setUint32(8 + data.length, crc32Update(0, out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG of `width` x `height` pixels, `rgba` holding 4 bytes per pixel, row by row from the top. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new KerasInteropError('USAGE', `a PNG needs a positive whole size, got ${width} x ${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new KerasInteropError('USAGE', `${width} x ${height} RGBA pixels are ${width * height * 4} bytes, got ${rgba.length}`);
  }
  const header = new Uint8Array(13);
  const h = new DataView(header.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  header[8] = 8; // bits per sample
  header[9] = 6; // colour type: RGBA
  // compression 0 (deflate), filter method 0, no interlace: bytes 10-12 stay 0
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1); // filter byte 0: none
  return concatParts([Uint8Array.from(SIGNATURE), chunk('IHDR', header), chunk('IDAT', zlibSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))]);
}
