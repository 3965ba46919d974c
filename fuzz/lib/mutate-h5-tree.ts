/**
 * HDF5 mutations that keep the file well-formed: the pristine model is written again with the
 * project's HDF5 writer after its tree is changed (config text, name lists, attribute kinds, dataset
 * shapes and dtypes, missing, renamed and extra members). These reach the Keras-level checks that
 * byte flips rarely get past.
 */
import type { KerasModel, WeightData, WeightDType } from '../../src/model/types.js';
import { H5Dataset, H5Group, type H5AttrValue, type H5Attribute, serializeH5 } from '../../src/writers/h5-builder.js';
import { buildHdf5Tree, buildWeightsHdf5Tree } from '../../src/writers/hdf5.js';
import { mutateJson } from './mutate-json.js';
import type { Rng } from './rng.js';

export type TreeLayout = 'full' | 'legacy' | 'keras3';

export function buildTree(model: KerasModel, layout: TreeLayout): H5Group {
  return layout === 'full' ? buildHdf5Tree(model) : buildWeightsHdf5Tree(model, { layout });
}

interface Nodes {
  groups: H5Group[];
  datasets: { parent: H5Group; key: string; ds: H5Dataset }[];
  attrs: { owner: H5Attribute[]; index: number }[];
}

function collect(root: H5Group): Nodes {
  const n: Nodes = { groups: [], datasets: [], attrs: [] };
  const walk = (g: H5Group): void => {
    n.groups.push(g);
    g.attrs.forEach((_, i) => n.attrs.push({ owner: g.attrs, index: i }));
    for (const [key, child] of g.children) {
      if (child instanceof H5Group) walk(child);
      else {
        n.datasets.push({ parent: g, key, ds: child });
        child.attrs.forEach((_, i) => n.attrs.push({ owner: child.attrs, index: i }));
      }
    }
  };
  walk(root);
  return n;
}

const WEIRD_NAMES = ['', '..', '.', ' ', '../../etc', 'a'.repeat(5000), '\u00e9\ud83d\udca5', 'vars', 'layers', '0', '-1', '999999', 'NaN', '__proto__', 'constructor'];
const WEIRD_STRINGS = ['', '3', '99.1.0', 'abc', '2.15.0', '3.16.0', '\u0000', 'A'.repeat(100_000), '1e309', 'tensorflow', 'jax', '__proto__'];
const DTYPES: WeightDType[] = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

function convert(data: WeightData, dtype: WeightDType, count: number): WeightData {
  const nums = Array.from({ length: count }, (_, i) => {
    const v = i < data.length ? data[i] : 0;
    return typeof v === 'bigint' ? Number(v) : v;
  });
  const ints = nums.map((v) => (Number.isFinite(v) ? Math.trunc(v * 10) : 0));
  switch (dtype) {
    case 'float16':
      return Uint16Array.from(nums, (v) => (v === 0 ? 0 : 0x3c00));
    case 'float32':
      return Float32Array.from(nums);
    case 'float64':
      return Float64Array.from(nums);
    case 'int8':
      return Int8Array.from(ints);
    case 'int16':
      return Int16Array.from(ints);
    case 'int32':
      return Int32Array.from(ints);
    case 'int64':
      return BigInt64Array.from(ints, (v) => BigInt(v));
    case 'uint8':
    case 'bool':
      return Uint8Array.from(ints, (v) => (dtype === 'bool' ? (v ? 1 : 0) : v & 0xff));
    case 'uint16':
      return Uint16Array.from(ints);
    case 'uint32':
      return Uint32Array.from(ints);
    case 'uint64':
      return BigUint64Array.from(ints, (v) => BigInt(Math.abs(v)));
  }
}

function newShape(rng: Rng, shape: number[]): number[] {
  const count = shape.reduce((a, b) => a * b, 1);
  return rng.pick([
    [count],
    [1, ...shape],
    [...shape].reverse(),
    [],
    [0],
    [count + 1],
    shape.map((d, i) => (i === 0 ? d + 1 : d)),
    shape.slice(1),
    [...shape, 2],
  ]);
}

function replaceChild(parent: H5Group, key: string, make: (old: H5Group | H5Dataset) => [string, H5Group | H5Dataset] | undefined): void {
  const entries = [...parent.children];
  parent.children.clear();
  for (const [k, v] of entries) {
    if (k !== key) parent.children.set(k, v);
    else {
      const made = make(v);
      if (made) parent.children.set(made[0], made[1]);
    }
  }
}

function mutateList(rng: Rng, values: string[], all: string[]): string[] {
  const out = [...values];
  switch (rng.int(7)) {
    case 0:
      if (out.length) out.splice(rng.int(out.length), 1);
      break;
    case 1:
      if (out.length) out.push(out[rng.int(out.length)]);
      break;
    case 2:
      out.splice(rng.int(out.length + 1), 0, rng.pick(WEIRD_NAMES));
      break;
    case 3:
      out.reverse();
      break;
    case 4:
      return [];
    case 5:
      if (out.length && all.length) out[rng.int(out.length)] = rng.pick(all);
      break;
    default:
      return Array.from({ length: rng.pick([1000, 20000]) }, (_, i) => `layer_${i}`);
  }
  return out;
}

export interface TreeMutation {
  name: string;
  bytes: Uint8Array;
}

/** One structural change to the model's HDF5 tree, serialized; undefined when the writer refuses it. */
export function mutateH5Tree(rng: Rng, model: KerasModel, layout: TreeLayout): TreeMutation | undefined {
  let root: H5Group;
  try {
    root = buildTree(model, layout);
  } catch {
    return undefined;
  }
  const nodes = collect(root);
  const allNames = nodes.datasets.map((d) => d.key).concat([...root.children.keys()]);
  let name: string;
  const configAttr = root.attrs.find((a) => a.name === 'model_config');
  const op = rng.int(9);
  if (op <= 1 && configAttr && configAttr.value.kind === 'vlen-string') {
    const m = mutateJson(rng, JSON.parse(configAttr.value.value.replace(/\bNaN\b|-?\bInfinity\b/g, 'null')));
    configAttr.value = { ...configAttr.value, value: m.text };
    name = `tree:model_config:${m.name}`;
  } else if (op === 2) {
    const lists = nodes.attrs.filter(({ owner, index }) => /names/.test(owner[index].name));
    if (!lists.length) return undefined;
    const { owner, index } = rng.pick(lists);
    const a = owner[index];
    const v = a.value;
    const values = v.kind === 'vlen-string-array' || v.kind === 'fixed-string-array' ? v.values : [];
    const next = mutateList(rng, values, allNames);
    owner[index] = {
      name: a.name,
      value: rng.chance(0.8)
        ? { kind: 'vlen-string-array', cset: 'utf8', values: next }
        : { kind: 'fixed-string-array', cset: 'ascii', size: rng.pick([1, 4, 64]), values: next.map((s) => s.slice(0, 4)) },
    };
    name = `tree:list:${a.name}`;
  } else if (op === 3) {
    const { owner, index } = rng.pick(nodes.attrs);
    const a = owner[index];
    const value: H5AttrValue = rng.pick<H5AttrValue>([
      { kind: 'vlen-string', cset: 'utf8', value: rng.pick(WEIRD_STRINGS) },
      { kind: 'numeric', dtype: 'float64', shape: [0], data: new Float64Array(0) },
      { kind: 'numeric', dtype: 'int32', shape: [2], data: Int32Array.of(1, 2) },
      { kind: 'numeric', dtype: 'float64', shape: [], data: Float64Array.of(NaN) },
      { kind: 'vlen-string-array', cset: 'ascii', values: ['x', 'y'] },
      { kind: 'fixed-string-array', cset: 'ascii', size: 3, values: ['abc'] },
    ]);
    owner[index] = { name: a.name, value };
    name = `tree:attr:${a.name}`;
  } else if (op === 4 && nodes.datasets.length) {
    const { parent, key, ds } = rng.pick(nodes.datasets);
    const count = ds.shape.reduce((a, b) => a * b, 1);
    const changeDtype = rng.chance(0.5);
    const dtype = changeDtype ? rng.pick(DTYPES) : ds.dtype;
    const shape = changeDtype ? ds.shape : newShape(rng, ds.shape);
    const n = shape.reduce((a, b) => a * b, 1);
    replaceChild(parent, key, () => [key, new H5Dataset(dtype, shape, convert(typeof ds.data === 'function' ? ds.data() : ds.data, dtype, n || 0))]);
    name = changeDtype ? `tree:dtype:${dtype}` : `tree:shape:${count}->[${shape.join(',')}]`;
  } else if (op === 5) {
    const g = rng.pick(nodes.groups.filter((x) => x.children.size > 0).concat(root));
    const keys = [...g.children.keys()];
    if (!keys.length) return undefined;
    replaceChild(g, rng.pick(keys), () => undefined);
    name = 'tree:delete-member';
  } else if (op === 6) {
    const g = rng.pick(nodes.groups.filter((x) => x.children.size > 0).concat(root));
    const keys = [...g.children.keys()];
    if (!keys.length) return undefined;
    const weird = rng.pick([...WEIRD_NAMES, ...allNames]);
    replaceChild(g, rng.pick(keys), (old) => [weird, old]);
    name = 'tree:rename-member';
  } else if (op === 7) {
    const g = rng.pick(nodes.groups);
    const key = rng.pick(['vars', 'layers', '0', '1', 'cell', 'kernel:0', rng.pick(allNames.length ? allNames : ['x'])]);
    if (!g.children.has(key)) {
      g.children.set(
        key,
        rng.chance(0.5) ? new H5Dataset('float32', [2, 3], new Float32Array(6)) : new H5Group(g.path === '/' ? `/${key}` : `${g.path}/${key}`),
      );
    }
    name = 'tree:extra-member';
  } else {
    if (nodes.datasets.length < 2) return undefined;
    const a = rng.pick(nodes.datasets);
    const b = rng.pick(nodes.datasets);
    replaceChild(a.parent, a.key, () => [a.key, b.ds]);
    replaceChild(b.parent, b.key, () => [b.key, a.ds]);
    name = 'tree:swap-datasets';
  }
  try {
    return { name, bytes: serializeH5(root) };
  } catch {
    return undefined;
  }
}
