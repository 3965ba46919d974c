/**
 * One attention heatmap on a canvas, with its axes: key timesteps along the top, query timesteps down
 * the left, ticks labelled every few steps, and a colour bar from 0 to the map's largest weight. The
 * cells are the pixels `heatmapPixels` makes (the same as the `attention` command's PNGs), drawn at
 * (`data-x`, `data-y`) with `data-cell` pixels per cell.
 */
import { cellSize, heatmapPixels, viridis } from '../src/writers/heatmap.js';

const LEFT = 34;
const TOP = 30;
const BAR = 14;

function tickStep(n: number, cell: number): number {
  for (const s of [1, 2, 5, 10, 20, 50, 100, 200, 500]) if (s * cell >= 18 || s >= n) return s;
  return 1000;
}

export function drawHeatmap(values: ArrayLike<number>, rows: number, cols: number, target = 300): HTMLCanvasElement {
  const cell = cellSize(rows, cols, target);
  const image = heatmapPixels(values, rows, cols, cell);
  const width = LEFT + image.width + 12 + BAR + 44;
  const height = TOP + image.height + 8;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = Math.max(height, TOP + 60);
  Object.assign(canvas.dataset, { x: String(LEFT), y: String(TOP), cell: String(cell), rows: String(rows), cols: String(cols), max: String(image.max) });
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.putImageData(new ImageData(new Uint8ClampedArray(image.rgba.buffer as ArrayBuffer, image.rgba.byteOffset, image.rgba.length), image.width, image.height), LEFT, TOP);
  ctx.fillStyle = '#444';
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.fillText('key timestep →', LEFT + image.width / 2, 9);
  const colStep = tickStep(cols, cell);
  for (let c = 0; c < cols; c += colStep) ctx.fillText(String(c), LEFT + (c + 0.5) * cell, TOP - 5);
  ctx.textAlign = 'right';
  const rowStep = tickStep(rows, cell);
  for (let r = 0; r < rows; r += rowStep) ctx.fillText(String(r), LEFT - 4, TOP + (r + 0.5) * cell + 3);
  ctx.save();
  ctx.translate(9, TOP + image.height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText('query timestep →', 0, 0);
  ctx.restore();
  // Colour bar: 0 at the bottom, the largest weight at the top.
  const barX = LEFT + image.width + 12;
  const barH = Math.max(40, image.height);
  for (let y = 0; y < barH; y++) {
    const [r, g, b] = viridis(1 - y / (barH - 1));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(barX, TOP + y, BAR, 1);
  }
  ctx.fillStyle = '#444';
  ctx.textAlign = 'left';
  ctx.fillText(image.max.toPrecision(3), barX + BAR + 3, TOP + 8);
  ctx.fillText('0', barX + BAR + 3, TOP + barH);
  return canvas;
}
