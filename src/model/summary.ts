/** What `inspect` shows: the model's layers with their classes, weights and parameter counts. */
import type { JsonObject, KerasModel, Weight } from './types.js';
import { countParams, isJsonObject } from './types.js';
import { isMaskPseudoLayer, layerEntries, layerName } from './config.js';

export interface WeightSummary {
  name: string;
  shape: number[];
  dtype: string;
}

export interface LayerSummary {
  name: string;
  className: string;
  /** When a class name means several layers (MultiHeadAttention), which implementation was chosen. */
  resolvedAs?: string;
  outputShape?: (number | null)[] | (number | null)[][];
  params: number;
  weights: WeightSummary[];
  /** Sub-layers of wrappers and nested models, for display (their weights are counted in the parent). */
  children?: { name: string; className: string }[];
}

export interface ModelSummary {
  file: string;
  format: string;
  kerasVersion?: string;
  backend?: string;
  modelClass?: string;
  modelName?: string;
  layers: LayerSummary[];
  totalParams: number;
  totalWeights: number;
  notes: string[];
}

export interface SummaryExtras {
  outputShapes?: Map<string, LayerSummary['outputShape']>;
  resolvedClasses?: Map<string, string>;
  notes?: string[];
}

function summarizeWeights(ws: Weight[]): WeightSummary[] {
  return ws.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype }));
}

function subLayers(layer: JsonObject): { name: string; className: string }[] | undefined {
  const cfg = isJsonObject(layer.config) ? layer.config : {};
  const items: JsonObject[] = [];
  for (const key of ['layer', 'backward_layer', 'layers']) {
    const v = cfg[key];
    if (Array.isArray(v)) items.push(...v.filter(isJsonObject));
    else if (isJsonObject(v)) items.push(v);
  }
  if (!items.length) return undefined;
  return items.map((l) => ({ name: layerName(l) ?? '?', className: String(l.class_name ?? '?') }));
}

export function summarize(model: KerasModel, extras: SummaryExtras = {}): ModelSummary {
  const byName = new Map(model.weights.map((l) => [l.layer, l.weights]));
  const layers: LayerSummary[] = [];
  const seen = new Set<string>();
  if (model.config) {
    for (const l of layerEntries(model.config)) {
      if (isMaskPseudoLayer(l)) continue;
      const name = layerName(l) ?? '?';
      seen.add(name);
      const ws = byName.get(name) ?? [];
      layers.push({
        name,
        className: String(l.class_name ?? '?'),
        resolvedAs: extras.resolvedClasses?.get(name),
        outputShape: extras.outputShapes?.get(name),
        params: ws.reduce((a, w) => a + countParams(w), 0),
        weights: summarizeWeights(ws),
        children: subLayers(l),
      });
    }
  }
  // Weights whose layer the config does not name (or weights-only files without a config).
  for (const l of model.weights) {
    if (seen.has(l.layer)) continue;
    layers.push({
      name: l.layer,
      className: model.config ? '(not in config)' : '?',
      params: l.weights.reduce((a, w) => a + countParams(w), 0),
      weights: summarizeWeights(l.weights),
    });
  }
  const inner = model.config && isJsonObject(model.config.config) ? model.config.config : undefined;
  return {
    file: model.source.file,
    format: model.source.format,
    kerasVersion: model.source.kerasVersion,
    backend: model.source.backend,
    modelClass: model.config ? String(model.config.class_name) : undefined,
    modelName: inner && typeof inner.name === 'string' ? inner.name : undefined,
    layers,
    totalParams: layers.reduce((a, l) => a + l.params, 0),
    totalWeights: layers.reduce((a, l) => a + l.weights.length, 0),
    notes: extras.notes ?? [],
  };
}

function shapeText(s: LayerSummary['outputShape']): string {
  if (!s) return '-';
  const one = (x: (number | null)[]) => `(${x.map((d) => (d == null ? 'None' : d)).join(', ')})`;
  return Array.isArray(s[0]) ? (s as (number | null)[][]).map(one).join(' ') : one(s as (number | null)[]);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

export function formatSummary(s: ModelSummary, runtimeBackend?: string): string {
  const head = [
    `file:          ${s.file}`,
    `format:        ${s.format}`,
    `keras version: ${s.kerasVersion ?? 'unknown'}`,
    `saved backend: ${s.backend ?? 'unknown'}`,
  ];
  if (runtimeBackend) head.push(`run backend:   ${runtimeBackend}`);
  if (s.modelClass) head.push(`model:         ${s.modelClass}${s.modelName ? ` "${s.modelName}"` : ''}`);
  const rows: string[][] = [['layer', 'class', 'output shape', 'params', 'weights']];
  for (const l of s.layers) {
    const cls = l.resolvedAs && l.resolvedAs !== l.className ? `${l.className} [${l.resolvedAs}]` : l.className;
    const weights = l.weights.map((w) => `${w.name} ${JSON.stringify(w.shape)}${w.dtype === 'float32' ? '' : ` ${w.dtype}`}`);
    rows.push([l.name, cls, shapeText(l.outputShape), String(l.params), weights[0] ?? '']);
    for (const w of weights.slice(1)) rows.push(['', '', '', '', w]);
    for (const c of l.children ?? []) rows.push([`  └ ${c.name}`, c.className, '', '', '']);
  }
  const lines = [...head, '', table(rows), '', `total: ${s.totalParams} parameters in ${s.totalWeights} weights`];
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
