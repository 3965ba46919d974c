/**
 * Attention heatmaps as pixels, for PNG files (the `attention` command) and a page's canvas alike: each
 * weight a square cell, coloured on the viridis scale from 0 (dark purple) to the map's largest weight
 * (yellow). Rows are queries (timesteps of the output), columns keys (timesteps attended to).
 */

/** Viridis at ten evenly spaced points from 0 to 1 (matplotlib's colour map). */
const VIRIDIS = [
  [0x44, 0x01, 0x54],
  [0x48, 0x28, 0x78],
  [0x3e, 0x4a, 0x89],
  [0x31, 0x68, 0x8e],
  [0x26, 0x82, 0x8e],
  [0x1f, 0x9e, 0x89],
  [0x35, 0xb7, 0x79],
  [0x6d, 0xcd, 0x59],
  [0xb4, 0xde, 0x2c],
  [0xfd, 0xe7, 0x25],
];

/** The colour of `t` in [0, 1] (clamped; NaN is black). */
export function viridis(t: number): [number, number, number] {
  if (Number.isNaN(t)) return [0, 0, 0];
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as [number, number, number];
}

export interface Heatmap {
  width: number;
  height: number;
  /** 4 bytes per pixel, row by row from the top. */
  rgba: Uint8Array;
  /** Pixels per cell side. */
  cell: number;
  /** The weight the brightest colour stands for. */
  max: number;
}

/** The cell size that makes the longer side about `target` pixels (at least 1, at most 32 per cell). */
export function cellSize(rows: number, cols: number, target = 512): number {
  return Math.max(1, Math.min(32, Math.floor(target / Math.max(rows, cols, 1))));
}

/** `values` (rows x cols, row-major) as pixels; `max` defaults to the largest value (1 when all are 0). */
export function heatmapPixels(values: ArrayLike<number>, rows: number, cols: number, cell = cellSize(rows, cols), max?: number): Heatmap {
  let top = max ?? 0;
  if (max === undefined) for (let i = 0; i < rows * cols; i++) if (values[i] > top) top = values[i];
  if (!(top > 0)) top = 1;
  const width = cols * cell;
  const height = rows * cell;
  const rgba = new Uint8Array(width * height * 4);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [R, G, B] = viridis(values[r * cols + c] / top);
      for (let y = r * cell; y < (r + 1) * cell; y++) {
        for (let x = c * cell; x < (c + 1) * cell; x++) {
          const p = (y * width + x) * 4;
          rgba[p] = R;
          rgba[p + 1] = G;
          rgba[p + 2] = B;
          rgba[p + 3] = 255;
        }
      }
    }
  }
  return { width, height, rgba, cell, max: top };
}
