/** What `inspect` shows: the model's inputs and outputs, its layers with their classes, weights and parameter counts. */
import type { Blockers, BlockingLayer } from '../runtime/blockers.js';
import type { TensorSpec } from '../runtime/signature.js';
import type { JsonObject, KerasModel, Weight } from './types.js';
import { countParams, isJsonObject } from './types.js';
import { formatShape } from './shape.js';
import { layerEntries, layerName } from './config.js';

export interface WeightSummary {
  name: string;
  shape: number[];
  dtype: string;
}

export interface LayerSummary {
  name: string;
  className: string;
  /** When a class name means several layers (MultiHeadAttention), which implementation was chosen, and why. */
  resolvedAs?: string;
  /** For a class name several libraries use: the library it was resolved to (`kulc`, `keras`, ...). */
  origin?: string;
  outputShape?: (number | null)[] | (number | null)[][];
  params: number;
  weights: WeightSummary[];
  /** Sub-layers of wrappers and nested models, for display (their weights are counted in the parent). */
  children?: { name: string; className: string; origin?: string }[];
}

/** A Lambda layer's Python function as translated from its bytecode (src/runtime/lambda), or why not. */
export interface LambdaSummary {
  layer: string;
  /** The recovered Python: `x[:, -1, :]`. */
  expression?: string;
  /** Why there is no translation. */
  reason?: string;
  /** The Python version(s) the bytecode was read as. */
  python?: string[];
  /** `co_name(params)`. */
  function?: string;
  notes: string[];
  /** The bytecode, one instruction a line, as Python's `dis` lists it. */
  disassembly: string[];
}

export interface ModelSummary {
  file: string;
  format: string;
  kerasVersion?: string;
  backend?: string;
  modelClass?: string;
  modelName?: string;
  /** In the order predict takes them (`--inputs`), and gives them (`--expected`, `output_<j>.npy`). */
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  layers: LayerSummary[];
  totalParams: number;
  totalWeights: number;
  /** Every layer that stops the model from running on tfjs (none when it runs). */
  blocking: BlockingLayer[];
  /** What to do about them, once. */
  advice?: string;
  notes: string[];
  /** Every Lambda layer (runtime extras only). */
  lambdas?: LambdaSummary[];
}

export interface SummaryExtras {
  outputShapes?: Map<string, LayerSummary['outputShape']>;
  resolvedClasses?: Map<string, string>;
  /** By layer name, for class names several libraries use: the library chosen. */
  origins?: Map<string, string>;
  notes?: string[];
  lambdas?: LambdaSummary[];
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  blockers?: Blockers;
}

function summarizeWeights(ws: Weight[]): WeightSummary[] {
  return ws.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype }));
}

function subLayers(layer: JsonObject, origins?: Map<string, string>): LayerSummary['children'] {
  const cfg = isJsonObject(layer.config) ? layer.config : {};
  const items: JsonObject[] = [];
  for (const key of ['layer', 'backward_layer', 'layers']) {
    const v = cfg[key];
    if (Array.isArray(v)) items.push(...v.filter(isJsonObject));
    else if (isJsonObject(v)) items.push(v);
  }
  if (!items.length) return undefined;
  return items.map((l) => {
    const name = layerName(l) ?? '?';
    const origin = origins?.get(name);
    return { name, className: String(l.class_name ?? '?'), ...(origin ? { origin } : {}) };
  });
}

export function summarize(model: KerasModel, extras: SummaryExtras = {}): ModelSummary {
  const byName = new Map(model.weights.map((l) => [l.layer, l.weights]));
  const layers: LayerSummary[] = [];
  const seen = new Set<string>();
  if (model.config) {
    for (const l of layerEntries(model.config)) {
      const name = layerName(l) ?? '?';
      seen.add(name);
      const ws = byName.get(name) ?? [];
      layers.push({
        name,
        className: String(l.class_name ?? '?'),
        resolvedAs: extras.resolvedClasses?.get(name),
        origin: extras.origins?.get(name),
        outputShape: extras.outputShapes?.get(name),
        params: ws.reduce((a, w) => a + countParams(w), 0),
        weights: summarizeWeights(ws),
        children: subLayers(l, extras.origins),
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
    inputs: extras.inputs ?? [],
    outputs: extras.outputs ?? [],
    layers,
    totalParams: layers.reduce((a, l) => a + l.params, 0),
    totalWeights: layers.reduce((a, l) => a + l.weights.length, 0),
    blocking: extras.blockers?.layers ?? [],
    ...(extras.blockers ? { advice: extras.blockers.advice } : {}),
    notes: extras.notes ?? [],
    ...(extras.lambdas && extras.lambdas.length > 0 ? { lambdas: extras.lambdas } : {}),
  };
}

function shapesAsTuples(s: LayerSummary['outputShape']): string {
  if (!s) return '-';
  return Array.isArray(s[0]) ? (s as (number | null)[][]).map(formatShape).join(' ') : formatShape(s as (number | null)[]);
}

function tensorRows(title: string, specs: TensorSpec[]): string[] {
  if (specs.length === 0) return [];
  const rows = specs.map((t, i) => [`  ${i}`, t.name, t.shape ? formatShape(t.shape) : '?', t.dtype ?? '']);
  return [title, table(rows)];
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
  for (const [label, specs] of [['inputs:       ', s.inputs], ['outputs:      ', s.outputs]] as const) {
    // Shape and dtype are unknown ('?', none) when the model could not be built.
    if (specs) head.push(`${label} ${specs.map((t) => `${t.name} ${t.shape ? shapesAsTuples(t.shape) : '?'}${t.dtype ? ` ${t.dtype}` : ''}`).join(', ')}`);
  }
  const rows: string[][] = [['layer', 'class', 'output shape', 'params', 'weights']];
  for (const l of s.layers) {
    const cls = l.origin ? `${l.className} (${l.origin})` : l.className;
    const weights = l.weights.map((w) => `${w.name} ${JSON.stringify(w.shape)}${w.dtype === 'float32' ? '' : ` ${w.dtype}`}`);
    rows.push([l.name, cls, shapesAsTuples(l.outputShape), String(l.params), weights[0] ?? '']);
    for (const w of weights.slice(1)) rows.push(['', '', '', '', w]);
    for (const c of l.children ?? []) rows.push([`  └ ${c.name}`, c.origin ? `${c.className} (${c.origin})` : c.className, '', '', '']);
  }
  const signature = [
    ...tensorRows('inputs (predict --inputs takes them in this order):', s.inputs),
    ...tensorRows('outputs (output_<j>.npy, verify --expected):', s.outputs),
  ];
  const lines = [...head, '', ...(signature.length ? [...signature, ''] : []), table(rows), '', `total: ${s.totalParams} parameters in ${s.totalWeights} weights`];
  if (s.blocking.length > 0) {
    lines.push(`cannot run on tfjs: ${s.blocking.length === 1 ? 'this layer stops it' : `these ${s.blocking.length} layers stop it`}:`);
    for (const b of s.blocking) lines.push(`  "${b.layer}" (${b.className})${b.topLevel !== b.layer ? ` in "${b.topLevel}"` : ''}: ${b.why}`);
    if (s.advice) lines.push(s.advice.charAt(0).toUpperCase() + s.advice.slice(1) + '.');
  }
  if (s.lambdas) {
    lines.push('', 'Lambda layers (their Python bytecode, translated; never executed):');
    for (const l of s.lambdas) {
      const python = l.python ? `  [Python ${l.python.join('/')}]` : '';
      lines.push(l.expression !== undefined ? `  ${l.layer}: ${l.expression}${python}` : `  ${l.layer}: not translated: ${l.reason}${python}`);
      for (const n of l.notes) lines.push(`    note: ${n}`);
    }
  }
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
