/**
 * The keras-interop web app: open a Keras model (file or folder), see its inputs, outputs, layers and
 * graph, run it on uploaded or generated inputs with its attention tapped, verify it against golden
 * outputs or a case folder, and convert it. Everything runs in this page (keras-interop/browser on
 * tfjs's wasm backend); files are read from the user's disk and offered back as downloads.
 *
 * `window.kiApp` exposes the state and `idle()` (resolves when the running task is done) for the
 * browser test and for anyone curious in the console.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as ki from '../src/browser.js';
import type { AttentionMap, ConvertedFile, ConvertTarget, JsonObject, KerasModel, ModelSummary, NpyArray, VerifyResult } from '../src/browser.js';
import { forEachLayer } from '../src/runtime/config-walk.js';
import { drawGraph } from './graph.js';
import { drawHeatmap } from './heatmap-view.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

interface OutputArray {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

interface InputSpec {
  name: string;
  shape: (number | null)[];
  dtype: string;
}

interface AppState {
  /** A config for weights-only files, from the config picker. */
  config?: JsonObject;
  model?: KerasModel;
  summary?: ModelSummary;
  tfModel?: tf.LayersModel;
  inputSpecs: InputSpec[];
  inputs?: NpyArray[];
  outputs?: OutputArray[];
  maps: AttentionMap[];
  converted: Partial<Record<ConvertTarget, ConvertedFile[]>>;
  /** What the last conversion check found (tfjs: loaded with tf.loadLayersModel; h5/keras: read back). */
  checks: Partial<Record<ConvertTarget, { pass: boolean; maxAbsError: number; text: string }>>;
  verify?: VerifyResult;
  errors: string[];
}

const state: AppState = { inputSpecs: [], maps: [], converted: {}, checks: {}, errors: [] };
let queue: Promise<void> = Promise.resolve();
/** Tasks started so far (a test waits for it to move, then for `idle()`). */
let started = 0;
const BACKEND = 'wasm';

/** Runs tasks one after another, with progress and errors shown. */
function task(label: string, fn: () => Promise<void>): Promise<void> {
  started++;
  queue = queue.then(async () => {
    progress(label);
    $('error').hidden = true;
    try {
      await fn();
    } catch (e) {
      showError(e);
    } finally {
      progress(undefined);
    }
  });
  return queue;
}

function progress(label: string | undefined, fraction?: number): void {
  $('progress').hidden = label === undefined;
  $('progress-text').textContent = label ?? '';
  const bar = $<HTMLProgressElement>('progress-bar');
  if (fraction === undefined) bar.removeAttribute('value');
  else bar.value = fraction;
}

/** Lets the page repaint (progress) between steps of long synchronous work. */
const repaint = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
let lastPaint = 0;

function showError(e: unknown): void {
  const text = ki.isKerasInteropError(e) ? `[${e.code}] ${e.message}` : `unexpected failure: ${(e as Error)?.stack ?? String(e)}`;
  state.errors.push(text);
  const pre = $('error');
  pre.textContent = text;
  pre.hidden = false;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & Record<string, unknown> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

function fillTable(table: HTMLTableElement, header: string[], rows: (string | Node)[][], numeric: number[] = []): void {
  table.replaceChildren(
    el('thead', {}, el('tr', {}, ...header.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c, i) => el('td', { className: numeric.includes(i) ? 'num' : '' }, c))))),
  );
}

const shapeText = (s: readonly (number | null | undefined)[]) => `(${s.map((d) => d ?? 'None').join(', ')})`;

function download(name: string, bytes: Uint8Array, type = 'application/octet-stream'): HTMLAnchorElement {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  return el('a', { href: url, download: name, textContent: name });
}

function fileStem(name: string): string {
  const base = name.split('/').filter(Boolean).pop() ?? 'model';
  return base.replace(/\.[^.]*$/, '') || 'model';
}

// ------------------------------------------------------------------------------------------------
// Opening a model

function resetModel(): void {
  state.tfModel?.dispose();
  Object.assign(state, { model: undefined, summary: undefined, tfModel: undefined, inputSpecs: [], inputs: undefined, outputs: undefined, maps: [], converted: {}, checks: {} });
  for (const id of ['model', 'layers', 'graph', 'run', 'attention', 'convert']) $(id).hidden = true;
  $('downloads').replaceChildren();
  $('tfjs-check').textContent = '';
  $('run-outputs').replaceChildren();
  $('run-inputs').replaceChildren();
  $('run-status').textContent = '';
}

async function openModel(input: ki.ModelInput, label: string): Promise<void> {
  resetModel();
  progress(`reading ${label}`);
  await repaint();
  const source = await ki.sourceOf(input);
  const model = await ki.readModelFrom(source, { config: state.config });
  state.model = model;
  progress('building the model on tfjs');
  await repaint();
  const runtime = await ki.describeRuntime(model, BACKEND);
  state.summary = ki.summarize(model, runtime);
  if (runtime.runnable) {
    state.tfModel = await ki.buildModel(model, { backend: BACKEND });
    state.inputSpecs = state.tfModel.inputs.map((t, i) => ({ name: state.tfModel!.inputNames[i] ?? t.name, shape: t.shape, dtype: t.dtype }));
  }
  renderModel(model, state.summary, runtime.backend);
  showEnv();
}

function renderModel(model: KerasModel, summary: ModelSummary, backend: string): void {
  $('model').hidden = false;
  $('model-name').textContent = model.source.file;
  $('model-facts').replaceChildren(
    el(
      'p',
      {},
      `${summary.format}${summary.kerasVersion ? `, saved by Keras ${summary.kerasVersion}` : ''}${summary.backend ? ` (${summary.backend})` : ''}` +
        ` · ${summary.modelClass ?? 'model'} ${summary.modelName ?? ''} · ${summary.layers.length} layers · ${summary.totalParams.toLocaleString('en')} parameters in ${summary.totalWeights} weights · runs on tfjs ${backend}`,
    ),
  );
  const tf = state.tfModel;
  if (tf) {
    fillTable($<HTMLTableElement>('inputs-table'), ['name', 'shape', 'dtype'], state.inputSpecs.map((s) => [s.name, shapeText(s.shape), s.dtype]));
    fillTable($<HTMLTableElement>('outputs-table'), ['name', 'shape'], tf.outputs.map((t, i) => [tf.outputNames[i] ?? t.name, shapeText(t.shape)]));
  } else {
    $('inputs-table').replaceChildren();
    $('outputs-table').replaceChildren();
  }
  $('notes').replaceChildren(...summary.notes.map((n) => el('li', {}, n)));

  $('layers').hidden = false;
  fillTable(
    $<HTMLTableElement>('layer-table'),
    ['layer', 'class', 'output shape', 'params', 'weights'],
    summary.layers.map((l) => [
      l.name,
      l.resolvedAs && l.resolvedAs.split(':')[0] !== l.className ? `${l.className} (${l.resolvedAs.split(':')[0]})` : l.className,
      l.outputShape === undefined ? '' : Array.isArray(l.outputShape[0]) ? (l.outputShape as (number | null)[][]).map(shapeText).join(' ') : shapeText(l.outputShape as (number | null)[]),
      l.params.toLocaleString('en'),
      el('span', {}, ...l.weights.flatMap((w, i) => [...(i ? [el('br')] : []), `${w.name} ${shapeText(w.shape)} ${w.dtype}`])),
    ]),
    [3],
  );
  for (const td of $('layer-table').querySelectorAll('tbody td:last-child')) td.classList.add('weights');

  if (model.config) {
    $('graph').hidden = false;
    $('graph-view').replaceChildren(drawGraph(ki.layerGraph(model.config)));
  }
  $('run').hidden = !state.tfModel;
  $<HTMLButtonElement>('run-button').disabled = !state.tfModel;
  $('convert').hidden = false;
  renderConvertButtons();
}

// ------------------------------------------------------------------------------------------------
// Inputs and running

/** The smallest Embedding vocabulary in the model (generated token ids stay below it). */
function vocabulary(config: JsonObject | null): number {
  let smallest = Infinity;
  if (config) {
    forEachLayer(config, ({ layer }) => {
      const inner = layer.config as { input_dim?: unknown } | undefined;
      if (layer.class_name === 'Embedding' && typeof inner?.input_dim === 'number') smallest = Math.min(smallest, inner.input_dim);
    });
  }
  return Number.isFinite(smallest) ? smallest : 10;
}

/** Seeded inputs of the model's shapes: N(0, 1)-like floats, token ids for integer inputs. */
function generateInputs(batch: number, steps: number): NpyArray[] {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const vocab = vocabulary(state.model?.config ?? null);
  return state.inputSpecs.map((spec) => {
    const shape = spec.shape.map((d, i) => (d != null ? d : i === 0 ? batch : steps));
    const n = shape.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'int32') return { dtype: 'int32', shape, data: Int32Array.from({ length: n }, () => 1 + Math.floor(next() * (vocab - 1))) };
    return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, () => next() + next() + next() - 1.5) };
  });
}

function renderInputs(): void {
  const inputs = state.inputs ?? [];
  fillTable(
    $<HTMLTableElement>('run-inputs'),
    ['input', 'shape', 'dtype', ''],
    inputs.map((a, i) => [state.inputSpecs[i]?.name ?? `input ${i}`, shapeText(a.shape), a.dtype, download(`input_${i}.npy`, ki.encodeNpy(a))]),
  );
}

async function npyFiles(files: FileList | File[]): Promise<{ name: string; array: NpyArray }[]> {
  const sorted = Array.from(files).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const out: { name: string; array: NpyArray }[] = [];
  for (const f of sorted) out.push({ name: f.name.replace(/\.npy$/, ''), array: ki.parseNpy(new Uint8Array(await f.arrayBuffer()), f.name) });
  return out;
}

function stats(data: ArrayLike<number>): string {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    min = Math.min(min, data[i]);
    max = Math.max(max, data[i]);
    sum += data[i];
  }
  const f = (x: number) => (Number.isFinite(x) ? x.toPrecision(4) : String(x));
  return `min ${f(min)} · max ${f(max)} · mean ${f(sum / Math.max(1, data.length))}`;
}

async function run(): Promise<void> {
  if (!state.tfModel) return;
  state.inputs ??= generateInputs(Number($<HTMLInputElement>('batch').value) || 2, Number($<HTMLInputElement>('steps').value) || 8);
  renderInputs();
  progress('running');
  await repaint();
  const started = performance.now();
  const tfModel = state.tfModel;
  const inputs = state.inputs;
  const { result, maps } = await ki.withAttentionTaps(() => ki.predict(tfModel, inputs));
  state.outputs = result;
  state.maps = maps;
  $('run-status').textContent = `ran in ${(performance.now() - started).toFixed(0)} ms on ${ki.currentBackend()}`;
  fillTable(
    $<HTMLTableElement>('run-outputs'),
    ['output', 'shape', 'values', ''],
    result.map((o, j) => [o.name, shapeText(o.shape), stats(o.data), download(`output_${j}.npy`, ki.encodeNpy({ dtype: o.data instanceof Int32Array ? 'int32' : 'float32', shape: o.shape, data: o.data }))]),
  );
  renderAttention();
}

// ------------------------------------------------------------------------------------------------
// Attention

function renderAttention(): void {
  $('attention').hidden = state.maps.length === 0;
  if (!state.maps.length) return;
  const layerSelect = $<HTMLSelectElement>('att-layer');
  layerSelect.replaceChildren(...state.maps.map((m, i) => el('option', { value: String(i), textContent: `${m.layer}${m.call ? ` (call ${m.call + 1})` : ''} · ${m.className} · ${m.view[1]} head(s)` })));
  renderSamples();
}

function renderSamples(): void {
  const map = state.maps[Number($<HTMLSelectElement>('att-layer').value) || 0];
  const sampleSelect = $<HTMLSelectElement>('att-sample');
  sampleSelect.replaceChildren(...Array.from({ length: map.view[0] }, (_, b) => el('option', { value: String(b), textContent: String(b) })));
  renderHeads();
}

function renderHeads(): void {
  const map = state.maps[Number($<HTMLSelectElement>('att-layer').value) || 0];
  const sample = Number($<HTMLSelectElement>('att-sample').value) || 0;
  const figures = Array.from({ length: map.view[1] }, (_, h) => {
    const { rows, cols, values } = ki.attentionHeatmap(map, sample, h);
    const canvas = drawHeatmap(values, rows, cols, map.view[1] > 4 ? 220 : 300);
    Object.assign(canvas.dataset, { layer: map.layer, sample: String(sample), head: String(h) });
    return el('figure', {}, canvas, el('figcaption', {}, `${map.layer} · sample ${sample} · head ${h} · ${rows} × ${cols}`));
  });
  $('att-heads').replaceChildren(...figures);
}

// ------------------------------------------------------------------------------------------------
// Verify

function tolerance(): { atol?: number; rtol?: number } {
  const t: { atol?: number; rtol?: number } = {};
  for (const k of ['atol', 'rtol'] as const) {
    const v = $<HTMLInputElement>(k).value.trim();
    if (v !== '') t[k] = Number(v);
  }
  return t;
}

function showVerify(r: VerifyResult): void {
  state.verify = r;
  const badge = $('verify-badge');
  badge.hidden = false;
  const errored = r.files.some((f) => f.error);
  badge.textContent = r.pass ? 'PASS' : errored ? 'ERROR' : 'FAIL';
  badge.className = `badge ${r.pass ? 'pass' : 'fail'}`;
  const pre = $('verify-report');
  pre.hidden = false;
  pre.textContent = ki.formatVerifyResult(r);
}

async function verifyExpected(files: File[]): Promise<void> {
  if (!state.model) throw new ki.KerasInteropError('USAGE', 'open a model first (or choose a case folder)');
  const expected = await npyFiles(files);
  if (!state.inputs) {
    if (!state.tfModel) throw new ki.KerasInteropError('USAGE', 'this model cannot run here, so it cannot be verified');
    throw new ki.KerasInteropError('USAGE', 'upload the inputs the expected outputs were computed from (Run: Upload .npy files)');
  }
  progress('verifying');
  await repaint();
  showVerify(await ki.verifyModel(state.model, state.inputs, expected, { backend: BACKEND, tolerance: tolerance(), read: {} }));
}

async function verifyFolder(list: File[]): Promise<void> {
  let done = 0;
  progress('verifying the case');
  await repaint();
  const r = await ki.verifyCase(list, {
    backend: BACKEND,
    tolerance: tolerance(),
    onFile: (f) => progress(`verified ${++done} model file(s): ${f.file} ${f.pass ? 'PASS' : 'FAIL'}`),
  });
  showVerify(r);
}

// ------------------------------------------------------------------------------------------------
// Convert

function renderConvertButtons(): void {
  $('convert-buttons').replaceChildren(
    ...ki.CONVERT_TARGETS.map((t) =>
      el('button', { id: `convert-${t}`, textContent: t === 'tfjs' ? 'tfjs (zip)' : `.${t}`, onclick: () => void task(`converting to ${t}`, () => convert(t)) }),
    ),
  );
}

/** Outputs of a model run on the page's inputs (generated when there are none yet). */
async function outputsOf(model: tf.LayersModel): Promise<OutputArray[]> {
  state.inputs ??= generateInputs(2, 8);
  return ki.predict(model, state.inputs);
}

function compareOutputs(actual: OutputArray[], expected: OutputArray[]): { pass: boolean; maxAbsError: number } {
  let maxAbsError = 0;
  let pass = actual.length === expected.length;
  actual.forEach((a, j) => {
    const r = ki.compareArrays(a, expected[j], { atol: 1e-5, rtol: 1e-4 }, a.name);
    pass &&= r.pass;
    maxAbsError = Math.max(maxAbsError, r.maxAbsError);
  });
  return { pass, maxAbsError };
}

async function convert(target: ConvertTarget): Promise<void> {
  const model = state.model;
  if (!model) return;
  const quantize = $<HTMLSelectElement>('quantize').value || undefined;
  const generation = ($<HTMLSelectElement>('generation').value || undefined) as 'keras2' | 'keras3' | undefined;
  const files = await ki.convertToFiles(model, target, {
    quantize: target === 'tfjs' ? quantize : undefined,
    generation: target === 'h5' ? generation : undefined,
    progress: async (p) => {
      progress(`converting to ${target}: ${p.path}`, p.total ? p.done / p.total : 1);
      // Repaint now and then, not after every weight.
      if (performance.now() - lastPaint > 50) {
        lastPaint = performance.now();
        await repaint();
      }
    },
  });
  state.converted[target] = files;
  const stem = fileStem(model.source.file);
  const link = target === 'tfjs' ? download(`${stem}_tfjs.zip`, ki.zipFiles(files, `${stem}_tfjs`), 'application/zip') : download(files[0].name, files[0].bytes);
  link.id = `download-${target}`;
  const item = el('li', {}, link, ` ${files.reduce((a, f) => a + f.bytes.length, 0).toLocaleString('en')} bytes`);
  $('downloads').append(item);
  // An .onnx file runs on onnxruntime, which this page does not load (Node's tests run every exported
  // file in onnxruntime-web's wasm backend); the other targets are read back and run here.
  if (!state.tfModel || target === 'onnx') return;
  // Check the result where it will be used: tfjs through tf.loadLayersModel, h5/keras read back here.
  progress(`checking the ${target} output`);
  await repaint();
  const expected = state.outputs ?? (await outputsOf(state.tfModel));
  let loaded: tf.LayersModel;
  if (target === 'tfjs') {
    loaded = await tf.loadLayersModel(tf.io.browserFiles(files.map((f) => new File([f.bytes as Uint8Array<ArrayBuffer>], f.name))));
  } else {
    loaded = await ki.buildModel(await ki.readModelFrom(ki.bytesSource(files[0].name, files[0].bytes)), { backend: BACKEND });
  }
  try {
    const { pass, maxAbsError } = compareOutputs(await outputsOf(loaded), expected);
    const how = target === 'tfjs' ? 'tf.loadLayersModel' : `read back from ${files[0].name}`;
    const text = `${how}: ${pass ? 'PASS' : 'FAIL'} (largest difference from the original ${maxAbsError.toExponential(2)})`;
    state.checks[target] = { pass, maxAbsError, text };
    item.append(el('span', { className: pass ? 'muted' : 'notes', textContent: ` · ${text}` }));
    if (target === 'tfjs') $('tfjs-check').textContent = text;
  } finally {
    loaded.dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// Wiring

async function showEnv(): Promise<void> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = ki.currentBackend() === 'wasm' ? getThreadsCount() : 1;
  $('env').textContent = `tfjs ${ki.currentBackend()} · SIMD ${simd ? 'on' : 'off'} · ${threads} thread(s) · ${crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'} · keras-interop ${ki.VERSION}`;
}

/** A dropped folder, walked into its files (`webkitGetAsEntry`). */
async function droppedFolder(entry: FileSystemDirectoryEntry): Promise<ki.FolderInput> {
  const files = new Map<string, File>();
  const walk = async (dir: FileSystemDirectoryEntry, prefix: string): Promise<void> => {
    const reader = dir.createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const e of batch) {
        if (e.isDirectory) await walk(e as FileSystemDirectoryEntry, `${prefix}${e.name}/`);
        else files.set(`${prefix}${e.name}`, await new Promise<File>((resolve, reject) => (e as FileSystemFileEntry).file(resolve, reject)));
      }
    }
  };
  await walk(entry, '');
  return { name: entry.name, files };
}

function wire(): void {
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const item = e.dataTransfer?.items[0];
    const entry = item?.webkitGetAsEntry();
    const file = e.dataTransfer?.files[0];
    if (entry?.isDirectory) void task(`reading ${entry.name}`, async () => openModel(await droppedFolder(entry as FileSystemDirectoryEntry), entry.name));
    else if (file) void task(`reading ${file.name}`, () => openModel(file, file.name));
  });
  $<HTMLInputElement>('pick-file').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) void task(`reading ${file.name}`, () => openModel(file, file.name));
    input.value = '';
  });
  $<HTMLInputElement>('pick-folder').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    if (files.length) void task('reading the folder', () => openModel(files, files[0].webkitRelativePath.split('/')[0] || 'folder'));
    input.value = '';
  });
  $<HTMLInputElement>('pick-config').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) {
      void task(`reading the config in ${file.name}`, async () => {
        state.config = await ki.readConfigOf(file);
        $('config-name').textContent = `config: ${file.name}`;
      });
    }
    input.value = '';
  });
  $<HTMLInputElement>('pick-inputs').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    void task('reading inputs', async () => {
      state.inputs = (await npyFiles(files)).map((f) => f.array);
      renderInputs();
    });
    input.value = '';
  });
  $('generate').addEventListener('click', () => {
    state.inputs = generateInputs(Number($<HTMLInputElement>('batch').value) || 2, Number($<HTMLInputElement>('steps').value) || 8);
    renderInputs();
  });
  $('run-button').addEventListener('click', () => void task('running', run));
  $<HTMLInputElement>('pick-expected').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    if (files.length) void task('verifying', () => verifyExpected(files));
    input.value = '';
  });
  $<HTMLInputElement>('pick-case').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    if (files.length) void task('verifying the case folder', () => verifyFolder(files));
    input.value = '';
  });
  $('att-layer').addEventListener('change', renderSamples);
  $('att-sample').addEventListener('change', renderHeads);
  $('att-download').addEventListener('click', () => {
    const map = state.maps[Number($<HTMLSelectElement>('att-layer').value) || 0];
    download(`${map.layer}.npy`, ki.encodeNpy({ dtype: 'float32', shape: map.shape, data: map.data })).click();
  });
}

async function start(): Promise<void> {
  ki.setWasmLocation(new URL('./', location.href).href);
  await ki.useBackend(BACKEND);
  await showEnv();
  wire();
}

const ready = task('starting tfjs', start);
(window as unknown as { kiApp: unknown }).kiApp = {
  state,
  ready,
  get started() {
    return started;
  },
  /** Resolves when every task started so far is done. */
  idle: () => queue,
};
