/**
 * Turns (run seed, case index) into one fuzz case: which fixture and input kind, the mutated bytes,
 * and the CLI commands that read them. Everything random comes from the case's own seed, so a case
 * is reproduced from its index alone (`npm run fuzz -- --seed S --case I`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import type { KerasModel } from '../../src/model/types.js';
import { readModel } from '../../src/readers/index.js';
import type { Corpus, Fixture, Target } from './corpus.js';
import { mutateBytes } from './mutate-bytes.js';
import { mutateH5Headers, findH5Fields, type Field } from './mutate-h5.js';
import { type TreeLayout, mutateH5Tree } from './mutate-h5-tree.js';
import { mutateJson } from './mutate-json.js';
import { mutateLambdaModel } from './mutate-lambda.js';
import { writeHdf5 } from '../../src/writers/hdf5.js';
import { mutateNpy } from './mutate-npy.js';
import { ONNX_FILE, mutateOnnx } from './mutate-onnx.js';
import { ONNX_VARIANTS } from './onnx-seeds.js';
import { mutateSavedModel } from './mutate-savedmodel.js';
import { mutateTfjs } from './mutate-tfjs.js';
import { mutateZip, rezip } from './mutate-zip.js';
import { Rng, caseSeed } from './rng.js';

/**
 * Targets whose containers carry checksums (zip: CRC-32 per entry; SavedModel: CRC-32C per index
 * block and per tensor). A case marks itself `raw` only when it changed checksummed bytes.
 */
export const CHECKSUMMED: ReadonlySet<Target> = new Set<Target>(['keras', 'savedmodel']);

export interface CaseFile {
  /** Relative to the case's input folder. */
  rel: string;
  bytes: Uint8Array;
}

export interface CaseSpec {
  index: number;
  seed: number;
  target: Target;
  fixture: string;
  mutation: string;
  /** Bytes changed without recomputing the container's checksums. */
  raw: boolean;
  files: CaseFile[];
  /** The mutated model (file or folder) inside the input folder, for model targets. */
  model?: string;
  /** Commands, with `{in}` and `{out}` standing for the case's input and output folders. */
  commands: string[][];
  /** Commands run only when the mutant reads (one of `commands` succeeded), each with its summary label. */
  ifReads?: { label: string; args: string[] }[];
}

const dec = new TextDecoder();

/** Pristine things a worker computes once: bytes, models, zip entries, HDF5 header fields. */
export class Pristine {
  private bytes = new Map<string, Uint8Array>();
  private models = new Map<string, Promise<KerasModel>>();
  private fields = new Map<string, Field[]>();

  read(path: string): Uint8Array {
    let b = this.bytes.get(path);
    if (!b) {
      b = new Uint8Array(readFileSync(path));
      this.bytes.set(path, b);
    }
    return b;
  }

  h5Fields(key: string, b: Uint8Array): Field[] {
    let f = this.fields.get(key);
    if (!f) {
      f = findH5Fields(b);
      this.fields.set(key, f);
    }
    return f;
  }

  model(path: string, configFrom?: string): Promise<KerasModel> {
    const key = `${path}|${configFrom ?? ''}`;
    let m = this.models.get(key);
    if (!m) {
      m = (async () => {
        const config = configFrom ? (await readModel(configFrom)).config ?? undefined : undefined;
        return readModel(path, config ? { config } : {});
      })();
      this.models.set(key, m);
    }
    return m;
  }

  zipEntries(path: string): [string, Uint8Array][] {
    return Object.entries(unzipSync(this.read(path)));
  }

  /** Every file under a folder, by path relative to it (`variables/variables.index`). */
  folder(path: string): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const walk = (rel: string): void => {
      for (const e of readdirSync(join(path, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(r);
        else out.set(r, this.read(join(path, r)));
      }
    };
    walk('');
    return out;
  }
}

const IN = '{in}';
const OUT = '{out}';

/** onnxruntime, on one thread (two workers share the machine's cores). */
const ORT = ['--backend', 'onnxruntime', '--threads', '1'];
/**
 * What a model mutant goes through: `inspect` and `convert` (h5, keras or tfjs; a streaming read), then,
 * when it reads (one of those succeeded), `predict`, `convert --to onnx` and, for models with an
 * attention layer, `attention`. On a mutant that inspect refuses, predict would fail in the very same
 * read; on a model without attention layers, attention would repeat predict and refuse.
 */
function modelRuns(rng: Rng, model: string, fx: Fixture, config: string[], convertTargets: string[], inspectAlone = false): Pick<CaseSpec, 'commands' | 'ifReads'> {
  // A weights-only file is also inspected on its own, as a user would before finding its config.
  const commands = [
    ['inspect', model, ...(inspectAlone ? [] : config)],
    ['convert', model, ...config, '--to', rng.pick(convertTargets), `${OUT}/convert`],
  ];
  // A quarter of the predictions run as a user's do by default where onnxruntime-node is installed:
  // the model lowered to ONNX in memory, on onnxruntime (the rest on tfjs's cpu backend).
  const backend = rng.chance(0.25) ? ORT : [];
  const flags = [...(rng.chance(0.3) ? ['--external-data'] : []), ...(rng.chance(0.2) ? ['--contrib-ops'] : [])];
  const ifReads = [
    { label: 'predict', args: ['predict', model, ...config, '--inputs', fx.inputs.join(','), '--out', `${OUT}/predict`, ...backend] },
    { label: 'convert-onnx', args: ['convert', model, ...config, '--to', 'onnx', ...flags, `${OUT}/model.onnx`] },
  ];
  if (fx.attention) ifReads.push({ label: 'attention', args: ['attention', model, ...config, '--inputs', fx.inputs.join(','), '--out', `${OUT}/attention`] });
  return { commands, ifReads };
}

async function mutateH5File(rng: Rng, pristine: Pristine, path: string, layout: TreeLayout, config?: string): Promise<{ name: string; bytes: Uint8Array; raw: boolean }> {
  const b = pristine.read(path);
  const r = rng.next();
  if (r < 0.3) {
    const tree = mutateH5Tree(rng, await pristine.model(path, config), layout);
    if (tree) return { ...tree, raw: false };
  }
  if (r < 0.65) {
    const h = mutateH5Headers(rng, b, pristine.h5Fields(path, b));
    if (h) return { ...h, raw: true };
  }
  return { ...mutateBytes(rng, b), raw: true };
}

async function mutateKeras(rng: Rng, pristine: Pristine, path: string): Promise<{ name: string; bytes: Uint8Array; raw: boolean }> {
  const r = rng.next();
  if (r < 0.25) return { ...mutateBytes(rng, pristine.read(path)), raw: true };
  const entries = pristine.zipEntries(path);
  if (r < 0.55) return { ...mutateZip(rng, entries), raw: false };
  const get = (n: string) => entries.find(([k]) => k === n)?.[1];
  if (r < 0.75 || !get('model.weights.h5')) {
    const which = rng.chance(0.8) ? 'config.json' : 'metadata.json';
    const text = dec.decode(get(which) ?? new Uint8Array());
    if (rng.chance(0.85)) {
      const m = mutateJson(rng, JSON.parse(text || 'null'));
      return { name: `keras:${which}:${m.name}`, bytes: rezip(entries, which, m.text), raw: false };
    }
    const m = mutateBytes(rng, get(which) ?? new Uint8Array());
    return { name: `keras:${which}:${m.name}`, bytes: rezip(entries, which, m.bytes), raw: false };
  }
  // The weights file inside, corrupted, in an archive whose checksums are right.
  const h5 = get('model.weights.h5')!;
  let inner: { name: string; bytes: Uint8Array } | undefined;
  const q = rng.next();
  if (q < 0.35) inner = mutateH5Tree(rng, await pristine.model(path), 'keras3');
  if (!inner && q < 0.75) inner = mutateH5Headers(rng, h5, pristine.h5Fields(`${path}!model.weights.h5`, h5));
  inner ??= mutateBytes(rng, h5);
  return { name: `keras:model.weights.h5:${inner.name}`, bytes: rezip(entries, 'model.weights.h5', inner.bytes), raw: false };
}

function mutateJsonFile(rng: Rng, b: Uint8Array, extraStrings = false): { name: string; bytes: Uint8Array; raw: boolean } {
  if (rng.chance(0.25)) return { ...mutateBytes(rng, b), raw: true };
  let value: unknown = JSON.parse(dec.decode(b));
  if (extraStrings && rng.chance(0.3) && value && typeof value === 'object') {
    // case.json names files: point one at something that is not a regular file, or outside the case.
    const v = value as Record<string, unknown>;
    const where = rng.pick(['files', 'inputs', 'outputs', 'model_file', 'extra_files']);
    const bad = rng.pick(['/dev/zero', '/dev/null', '/', '.', '..', '../../../../etc/passwd', '/etc/passwd', 'case.json', 'nope.npy', '']);
    if (where === 'files') v.files = [bad];
    else if (where === 'model_file') v.model_file = bad;
    else if (where === 'extra_files') v.extra_files = [{ file: bad, synthesized: true }];
    else if (Array.isArray(v[where]) && (v[where] as unknown[]).length) {
      const first = (v[where] as Record<string, unknown>[])[0];
      if (first && typeof first === 'object') first.file = bad;
    }
    value = v;
    const m = rng.chance(0.5) ? mutateJson(rng, value) : { name: 'plain', text: JSON.stringify(value) };
    return { name: `case:${where}=${bad}:${m.name}`, bytes: new TextEncoder().encode(m.text), raw: false };
  }
  const m = mutateJson(rng, value);
  return { name: m.name, bytes: new TextEncoder().encode(m.text), raw: false };
}

export interface CaseContext {
  corpus: Corpus;
  pristine: Pristine;
}

/** The fixtures that have a target, per target, in corpus order. */
function fixturesFor(corpus: Corpus, target: Target): Fixture[] {
  return corpus.fixtures.filter((f) => f.paths[target]);
}

export async function generateCase(ctx: CaseContext, runSeed: number, index: number): Promise<CaseSpec> {
  const { corpus, pristine } = ctx;
  const seed = caseSeed(runSeed, index);
  const rng = new Rng(seed);
  // Round robin over the targets so every format gets its share of any run, however short.
  const target = corpus.targets[index % corpus.targets.length];
  const fx = rng.pick(fixturesFor(corpus, target));
  const path = fx.paths[target]!;
  const convertTargets = corpus.targets.includes('tfjs') ? ['h5', 'keras', 'tfjs'] : ['h5', 'keras'];
  const base = { index, seed, target, fixture: fx.name };
  const keras = fx.paths.keras ?? fx.paths['keras3-h5']!;
  switch (target) {
    case 'keras3-h5':
    case 'keras2-h5':
    case 'weights-h5': {
      const config = target === 'weights-h5' ? fx.paths.keras : undefined;
      const layout: TreeLayout = target === 'weights-h5' ? ((await pristine.model(path, config)).source.extras.layout as TreeLayout) : 'full';
      const m = await mutateH5File(rng, pristine, path, layout, config);
      const rel = basename(path);
      const runs = modelRuns(rng, `${IN}/${rel}`, fx, config ? ['--config', config] : [], convertTargets, !!config && rng.chance(0.3));
      return { ...base, mutation: m.name, raw: m.raw, files: [{ rel, bytes: m.bytes }], model: `${IN}/${rel}`, ...runs };
    }
    case 'keras': {
      const m = await mutateKeras(rng, pristine, path);
      return {
        ...base, mutation: m.name, raw: m.raw, files: [{ rel: 'model.keras', bytes: m.bytes }], model: `${IN}/model.keras`,
        ...modelRuns(rng, `${IN}/model.keras`, fx, [], convertTargets),
      };
    }
    case 'config-json': {
      const m = mutateJsonFile(rng, pristine.read(path));
      return {
        ...base, mutation: m.name, raw: m.raw, files: [{ rel: 'config.json', bytes: m.bytes }],
        ...modelRuns(rng, fx.paths['weights-h5']!, fx, ['--config', `${IN}/config.json`], convertTargets),
      };
    }
    case 'savedmodel':
    case 'tfjs': {
      const m = (target === 'tfjs' ? mutateTfjs : mutateSavedModel)(rng, pristine.folder(path));
      return {
        ...base, mutation: m.name, raw: m.raw, files: [...m.files].map(([rel, bytes]) => ({ rel: `model/${rel}`, bytes })), model: `${IN}/model`,
        ...modelRuns(rng, `${IN}/model`, fx, [], convertTargets),
      };
    }
    case 'lambda': {
      const m = mutateLambdaModel(rng, await pristine.model(path));
      if (!m) throw new Error(`fuzz corpus: ${path} has no Lambda layer`);
      return {
        ...base, mutation: m.name, raw: false, files: [{ rel: 'model.h5', bytes: await writeHdf5(m.model) }], model: `${IN}/model.h5`,
        ...modelRuns(rng, `${IN}/model.h5`, fx, [], convertTargets),
      };
    }
    case 'onnx': {
      // An .onnx file runs as it is, on onnxruntime (inspect only decodes it); convert and attention refuse
      // it (it is no Keras model), once it reads.
      const variant = rng.pick(ONNX_VARIANTS);
      const m = mutateOnnx(rng, pristine.folder(join(path, variant)));
      const model = `${IN}/model/${ONNX_FILE}`;
      const inputs = fx.inputs.join(',');
      const commands = [['inspect', model], ['predict', model, '--inputs', inputs, '--out', `${OUT}/predict`, ...ORT]];
      if (rng.chance(0.3)) commands.push(['verify', model, '--inputs', inputs, '--expected', fx.outputs.join(','), ...ORT]);
      const ifReads = [
        { label: 'convert-onnx', args: ['convert', model, '--to', 'onnx', `${OUT}/model.onnx`] },
        { label: 'attention', args: ['attention', model, '--inputs', inputs, '--out', `${OUT}/attention`] },
      ];
      return {
        ...base, mutation: `onnx:${m.name} (${variant})`, raw: false, files: [...m.files].map(([rel, bytes]) => ({ rel: `model/${rel}`, bytes })), model,
        commands, ifReads,
      };
    }
    case 'npy-input':
    case 'npy-output': {
      const list = target === 'npy-input' ? fx.inputs : fx.outputs;
      const k = rng.int(list.length);
      const b = pristine.read(list[k]);
      const m = (rng.chance(0.6) && mutateNpy(rng, b)) || { ...mutateBytes(rng, b) };
      const rel = basename(list[k]);
      const swapped = list.map((p, i) => (i === k ? `${IN}/${rel}` : p)).join(',');
      const inputs = target === 'npy-input' ? swapped : fx.inputs.join(',');
      const expected = target === 'npy-output' ? swapped : fx.outputs.join(',');
      const commands = [['verify', keras, '--inputs', inputs, '--expected', expected]];
      if (target === 'npy-input') commands.unshift(['predict', keras, '--inputs', inputs, '--out', `${OUT}/predict`]);
      return { ...base, mutation: m.name, raw: true, files: [{ rel, bytes: m.bytes }], commands };
    }
    case 'case-json': {
      const m = mutateJsonFile(rng, pristine.read(path), true);
      // The case folder: the mutated case.json beside copies of the fixture's other files.
      const files: CaseFile[] = readdirSync(fx.dir)
        .filter((f) => f !== 'case.json')
        .map((f) => ({ rel: `case/${f}`, bytes: pristine.read(join(fx.dir, f)) }));
      files.push({ rel: 'case/case.json', bytes: m.bytes });
      return { ...base, mutation: `case.json:${m.name}`, raw: m.raw, files, commands: [['verify', `${IN}/case`]] };
    }
  }
}

export function resolveArgs(args: string[], dirs: { in: string; out: string }): string[] {
  return args.map((a) => a.split(IN).join(dirs.in).split(OUT).join(dirs.out));
}
