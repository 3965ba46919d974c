/**
 * Attention taps: the attention weights of every attention layer in a run, whether or not the model
 * returns them.
 *
 * Each attention layer reports the weights it applied to its values with one line in its `call`,
 * inside its tidy, passing the inputs it was called with:
 *
 *     tapAttention(this, inputs, attention);                 // (batch, Tq, Tk) or (batch, T)
 *     tapAttention(this, inputs, probs, [b, heads, tq, tk]); // any layout, read as (batch, heads, queries, keys)
 *
 * The inputs tell calls apart: tfjs runs a layer with several outputs once per output it needs, on the
 * same input tensors, and those repeats are one call (a shared layer on other inputs is another).
 * Outside `withAttentionTaps` the call returns at once and keeps nothing; a layer that would have to build
 * its weights first (a recurrent wrapper stacking its steps' weights) asks `attentionTapsOn()`. Inside, it keeps a copy that
 * shares the tensor's data (so the layer may dispose its own) and the session downloads them after the
 * run. A wrapper whose sub-layers are heads (`MultiHead`) runs each sub-layer in `attentionHead`, so their
 * maps become heads of the wrapper's.
 *
 * What a map holds is what the layer itself would return with `return_attention=True` (or Keras's
 * `return_attention_scores=True`), in that shape; layers with no such option give (batch, heads,
 * queries, keys). Either way `view` says how to read it as (batch, heads, queries, keys).
 */
import * as tf from '@tensorflow/tfjs';
import { KerasInteropError } from '../errors.js';

/** (batch, heads, queries, keys): how a map's values read as heatmaps, row-major. */
export type AttentionView = [number, number, number, number];

export interface AttentionMap {
  /** The layer's name. */
  layer: string;
  className: string;
  /** Which call of the layer in the run (0 first; a layer applied twice gives two maps). */
  call: number;
  /** The layer's own layout (what `return_attention` returns), or (batch, heads, queries, keys). */
  shape: number[];
  data: Float32Array;
  view: AttentionView;
}

interface Pending {
  layer: string;
  className: string;
  call: number;
  /** One tensor per head group, in head order (one, except under `attentionHead`). */
  parts: tf.Tensor[];
  views: AttentionView[];
}

interface Session {
  maps: Pending[];
  calls: Map<string, number>;
  /** Per layer, the input tensors of the calls recorded (tfjs repeats a call per output). */
  seen: Map<string, Set<string>>;
  /** The wrapper whose head is running, and the map its heads go to. */
  scope?: { map: Pending; head: number };
}

let active: Session | undefined;

function defaultView(t: tf.Tensor, layer: string): AttentionView {
  const s = t.shape as number[];
  if (t.rank === 2) return [s[0], 1, 1, s[1]];
  if (t.rank === 3) return [s[0], 1, s[1], s[2]];
  if (t.rank === 4) return [s[0], s[1], s[2], s[3]];
  throw new KerasInteropError('INTERNAL', `layer "${layer}" tapped attention of rank ${t.rank} without saying how to read it`);
}

function nextCall(session: Session, layer: string): number {
  const call = session.calls.get(layer) ?? 0;
  session.calls.set(layer, call + 1);
  return call;
}

/** Whether a tap session is running: a layer whose weights cost work to gather checks it first. */
export function attentionTapsOn(): boolean {
  return active !== undefined;
}

/**
 * Records `weights` as `layer`'s attention in the running tap session, if there is one. `view` reads
 * them as (batch, heads, queries, keys); by default (batch, T) has one query, (batch, Tq, Tk) one head.
 */
export function tapAttention(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], weights: tf.Tensor, view?: AttentionView): void {
  const session = active;
  if (!session) return;
  const key = (Array.isArray(inputs) ? inputs : [inputs]).map((t) => t?.id ?? '-').join(',');
  const seen = session.seen.get(layer.name) ?? new Set<string>();
  session.seen.set(layer.name, seen);
  if (!session.scope) {
    if (seen.has(key)) return;
    seen.add(key);
  }
  const v = view ?? defaultView(weights, layer.name);
  if (v.reduce((a, b) => a * b, 1) !== weights.size) {
    throw new KerasInteropError('INTERNAL', `layer "${layer.name}" tapped ${weights.size} attention weights as [${v.join(', ')}]`);
  }
  const kept = tf.keep(tf.clone(weights));
  if (session.scope) {
    session.scope.map.parts[session.scope.head] = kept;
    session.scope.map.views[session.scope.head] = v;
    return;
  }
  const className = (layer.constructor as { className?: string }).className ?? layer.getClassName();
  session.maps.push({ layer: layer.name, className, call: nextCall(session, layer.name), parts: [kept], views: [v] });
}

/**
 * Runs head `head` of `wrapper` (one of its sub-layers): attention the sub-layer taps becomes that head
 * of the wrapper's map. Call it for every head of one call, in order, from 0.
 */
export function attentionHead<T>(wrapper: tf.layers.Layer, head: number, run: () => T): T {
  const session = active;
  if (!session) return run();
  const outer = session.scope;
  let map = head === 0 ? undefined : session.maps[session.maps.length - 1];
  if (!map || map.layer !== wrapper.name) {
    const className = (wrapper.constructor as { className?: string }).className ?? wrapper.getClassName();
    map = { layer: wrapper.name, className, call: nextCall(session, wrapper.name), parts: [], views: [] };
    session.maps.push(map);
  }
  session.scope = { map, head };
  try {
    return run();
  } finally {
    session.scope = outer;
  }
}

/** Heads tapped under `attentionHead`, stacked: (batch, heads × sub-heads, queries, keys). */
async function download(p: Pending): Promise<AttentionMap | undefined> {
  const parts = p.parts.filter((t) => t != null);
  if (parts.length === 0) return undefined;
  if (parts.length === 1 && p.parts.length === 1) {
    return { layer: p.layer, className: p.className, call: p.call, shape: parts[0].shape.slice(), data: Float32Array.from(await parts[0].data()), view: p.views[0] };
  }
  const [b, , q, k] = p.views[0];
  if (parts.length !== p.parts.length || p.views.some((v) => v[0] !== b || v[2] !== q || v[3] !== k)) {
    throw new KerasInteropError('INTERNAL', `the heads of layer "${p.layer}" tapped attention of different shapes`);
  }
  const stacked = tf.tidy(() => tf.concat(parts.map((t, i) => tf.reshape(t, p.views[i])), 1));
  try {
    const view: AttentionView = [b, stacked.shape[1]!, q, k];
    return { layer: p.layer, className: p.className, call: p.call, shape: view.slice(), data: Float32Array.from(await stacked.data()), view };
  } finally {
    stacked.dispose();
  }
}

/**
 * Runs `fn` (a prediction) with taps on: returns its result and the attention maps of every attention
 * layer it ran, in the order the layers ran. Sessions do not nest.
 */
export async function withAttentionTaps<T>(fn: () => T | Promise<T>): Promise<{ result: T; maps: AttentionMap[] }> {
  if (active) throw new KerasInteropError('USAGE', 'attention taps are already on (withAttentionTaps does not nest)');
  const session: Session = { maps: [], calls: new Map(), seen: new Map() };
  active = session;
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    for (const m of session.maps) for (const t of m.parts) t?.dispose();
    throw e;
  } finally {
    active = undefined;
  }
  const maps: AttentionMap[] = [];
  try {
    for (const m of session.maps) {
      const map = await download(m);
      if (map) maps.push(map);
    }
  } finally {
    for (const m of session.maps) for (const t of m.parts) t?.dispose();
  }
  return { result, maps };
}

/** One heatmap of a map: sample `sample`, head `head`, as a (queries, keys) row-major array. */
export function attentionHeatmap(map: AttentionMap, sample: number, head: number): { rows: number; cols: number; values: Float32Array } {
  const [b, h, q, k] = map.view;
  if (sample < 0 || sample >= b || head < 0 || head >= h) {
    throw new KerasInteropError('USAGE', `layer "${map.layer}" has ${b} sample(s) and ${h} head(s); asked for sample ${sample}, head ${head}`);
  }
  const start = (sample * h + head) * q * k;
  return { rows: q, cols: k, values: map.data.subarray(start, start + q * k) };
}
