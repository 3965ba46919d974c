/**
 * The layer graph as SVG: layers in rows by their distance from the inputs (the longest path, so a
 * residual Add sits below both its inputs), edges as curves from a layer's bottom to its consumer's top.
 */
import type { LayerGraph } from '../src/runtime/layer-graph.js';

const NS = 'http://www.w3.org/2000/svg';
const BOX_W = 170;
const BOX_H = 38;
const GAP_X = 24;
const GAP_Y = 34;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export function drawGraph(graph: LayerGraph): SVGSVGElement {
  const depth = new Map<string, number>(graph.nodes.map((n) => [n.name, 0]));
  // Longest path from a source; graphs are acyclic, so |nodes| rounds settle it.
  for (let round = 0; round < graph.nodes.length; round++) {
    let changed = false;
    for (const e of graph.edges) {
      const d = (depth.get(e.from) ?? 0) + 1;
      if (d > (depth.get(e.to) ?? 0)) depth.set(e.to, d), (changed = true);
    }
    if (!changed) break;
  }
  const rows: string[][] = [];
  for (const n of graph.nodes) (rows[depth.get(n.name)!] ??= []).push(n.name);
  const widest = Math.max(1, ...rows.map((r) => r?.length ?? 0));
  const width = widest * (BOX_W + GAP_X) + GAP_X;
  const height = rows.length * (BOX_H + GAP_Y) + GAP_Y;
  const at = new Map<string, { x: number; y: number }>();
  rows.forEach((row, r) => {
    const offset = (width - row.length * (BOX_W + GAP_X) + GAP_X) / 2;
    row.forEach((name, i) => at.set(name, { x: offset + i * (BOX_W + GAP_X), y: GAP_Y / 2 + r * (BOX_H + GAP_Y) }));
  });
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'layer graph' });
  const defs = svg('defs', {});
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto' });
  marker.append(svg('path', { d: 'M0,0 L8,4 L0,8 z', fill: '#8a93a8' }));
  defs.append(marker);
  root.append(defs);
  for (const e of graph.edges) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + BOX_W / 2;
    const y1 = a.y + BOX_H;
    const x2 = b.x + BOX_W / 2;
    const y2 = b.y;
    const my = (y1 + y2) / 2;
    root.append(svg('path', { d: `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`, fill: 'none', stroke: '#8a93a8', 'marker-end': 'url(#arrow)' }));
  }
  for (const n of graph.nodes) {
    const p = at.get(n.name)!;
    const g = svg('g', { transform: `translate(${p.x},${p.y})`, 'data-layer': n.name });
    const attention = /Attention|MultiHead/.test(n.className);
    g.append(svg('rect', { width: BOX_W, height: BOX_H, rx: 6, fill: attention ? '#eef0fa' : '#fff', stroke: attention ? '#3e4a89' : '#b9c0cf' }));
    g.append(svg('text', { x: BOX_W / 2, y: 15, 'text-anchor': 'middle', 'font-weight': 600 }, clip(n.className, 26)));
    g.append(svg('text', { x: BOX_W / 2, y: 30, 'text-anchor': 'middle', fill: '#667085' }, clip(n.name, 28)));
    g.append(svg('title', {}, `${n.name} (${n.className})`));
    root.append(g);
  }
  return root;
}
