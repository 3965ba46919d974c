/**
 * tfjs layers-model folder mutations: manifests whose shapes, dtypes, quantization and shard lists
 * disagree with the shard files, traversal shard paths, missing / short / long shards, and
 * structural JSON mutations of the whole model.json.
 */
import { mutateBytes } from './mutate-bytes.js';
import { mutateJson } from './mutate-json.js';
import type { Rng } from './rng.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const enc = new TextEncoder();
const dec = new TextDecoder();

const SHARD_PATHS = [
  '../../../../etc/passwd', '/etc/passwd', 'C:\\Windows\\win.ini', 'sub/../../x.bin', '%2e%2e/x.bin', 'model.json', '', '.',
  'missing.bin', 'a'.repeat(5000), 'file:///etc/passwd', 'http://127.0.0.1:1/x.bin', '..', 'group1-shard1of1.bin/..', '/dev/zero',
];

export interface TfjsMutation {
  name: string;
  /** Every file of the mutated folder (relative name → bytes); a file left out is missing. */
  files: Map<string, Uint8Array>;
  /** Bytes of a weight shard changed in place (no checksum covers them). */
  raw: boolean;
}

function weightsOf(manifest: Json): { group: { [k: string]: Json }; weight: { [k: string]: Json } }[] {
  const out: { group: { [k: string]: Json }; weight: { [k: string]: Json } }[] = [];
  if (!Array.isArray(manifest)) return out;
  for (const g of manifest) {
    if (g && typeof g === 'object' && !Array.isArray(g) && Array.isArray(g.weights)) {
      for (const w of g.weights) if (w && typeof w === 'object' && !Array.isArray(w)) out.push({ group: g, weight: w });
    }
  }
  return out;
}

export function mutateTfjs(rng: Rng, pristine: Map<string, Uint8Array>): TfjsMutation {
  const files = new Map(pristine);
  const modelJson = JSON.parse(dec.decode(pristine.get('model.json'))) as { [k: string]: Json };
  const shards = [...files.keys()].filter((k) => k !== 'model.json');
  const setJson = (v: Json) => files.set('model.json', enc.encode(JSON.stringify(v)));
  const weights = weightsOf(modelJson.weightsManifest);
  const groups = Array.isArray(modelJson.weightsManifest) ? (modelJson.weightsManifest as { [k: string]: Json }[]) : [];
  let name: string;
  let raw = false;
  const op = rng.int(12);
  if (op === 0 && weights.length) {
    const { weight } = rng.pick(weights);
    const shape = Array.isArray(weight.shape) ? (weight.shape as number[]) : [];
    weight.shape = rng.pick<Json>([
      shape.map((d, i) => (i === 0 ? d + 1 : d)), shape.map((d) => d * 2), shape.slice(1), [2 ** 31, 2 ** 31], [-1], [1.5],
      ['a'], [], null, 'x', Array(1000).fill(1), [2 ** 53], [NaN] as unknown as Json, [0],
    ]);
    name = 'tfjs:shape';
  } else if (op === 1 && weights.length) {
    rng.pick(weights).weight.dtype = rng.pick<Json>(['float64', 'int64', 'string', 'complex64', 'bool', 'int32', 'uint8', '', null, 7]);
    name = 'tfjs:dtype';
  } else if (op === 2 && weights.length) {
    const { group, weight } = rng.pick(weights);
    const list = group.weights as Json[];
    const how = rng.int(4);
    if (how === 0) list.splice(list.indexOf(weight), 1);
    else if (how === 1) list.push({ ...weight });
    else if (how === 2) list.reverse();
    else weight.name = rng.pick(['', '__proto__', 'constructor', 'x/y', (list[0] as { name?: Json })?.name ?? 'a']);
    name = ['tfjs:drop-weight', 'tfjs:dup-weight', 'tfjs:reorder-weights', 'tfjs:rename-weight'][how];
  } else if (op === 3 && groups.length) {
    const g = rng.pick(groups);
    const paths = Array.isArray(g.paths) ? (g.paths as Json[]) : (g.paths = []);
    if (rng.chance(0.7) && paths.length) paths[rng.int(paths.length)] = rng.pick(SHARD_PATHS);
    else paths.push(rng.pick(SHARD_PATHS));
    name = 'tfjs:shard-path';
  } else if (op === 4 && shards.length) {
    const s = rng.pick(shards);
    const b = files.get(s)!;
    const how = rng.int(3);
    if (how === 0) files.delete(s);
    else if (how === 1) files.set(s, b.subarray(0, rng.int(b.length)));
    else files.set(s, Uint8Array.from([...b, ...new Uint8Array(rng.pick([1, 4, 1000]))]));
    name = ['tfjs:missing-shard', 'tfjs:short-shard', 'tfjs:long-shard'][how];
  } else if (op === 5 && weights.length) {
    const { weight } = rng.pick(weights);
    weight.quantization = rng.pick<Json>([
      { dtype: 'uint8', scale: 0.1, min: -1 },
      { dtype: 'uint16', scale: 1e308, min: -1e308 },
      { dtype: 'float16' },
      { dtype: 'int4', scale: 1, min: 0 },
      { dtype: 'uint8', scale: 'x', min: null },
      { dtype: 'uint8' },
      { dtype: 'uint8', scale: 1, min: 0, original_dtype: 'int32' },
      {},
      'uint8',
    ]);
    name = 'tfjs:quantization';
  } else if (op === 6) {
    modelJson.weightsManifest = rng.pick<Json>([[], null, {}, 'x', [{ paths: [], weights: [] }], [...groups, ...groups], [{ paths: shards, weights: null }]]);
    name = 'tfjs:manifest';
  } else if (op === 7) {
    const m = mutateJson(rng, modelJson);
    files.set('model.json', enc.encode(m.text));
    return { name: `tfjs:${m.name}`, files, raw };
  } else if (op === 8) {
    const topo = modelJson.modelTopology;
    const m = mutateJson(rng, topo ?? null);
    files.set('model.json', enc.encode(`{"format": "layers-model", "modelTopology": ${m.text}, "weightsManifest": ${JSON.stringify(modelJson.weightsManifest)}}`));
    return { name: `tfjs:topology:${m.name}`, files, raw };
  } else if (op === 9) {
    const m = mutateBytes(rng, pristine.get('model.json')!);
    files.set('model.json', m.bytes);
    return { name: `tfjs:model.json:${m.name}`, files, raw: true };
  } else if (shards.length) {
    const s = rng.pick(shards);
    const m = mutateBytes(rng, files.get(s)!);
    files.set(s, m.bytes);
    return { name: `tfjs:shard:${m.name}`, files, raw: true };
  } else {
    name = 'tfjs:noop';
  }
  setJson(modelJson);
  return { name, files, raw };
}
