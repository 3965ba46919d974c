/**
 * The seed corpus: every golden fixture of every format present, plus folders synthesized from them
 * with the project's own writers (tfjs layers-model folders, ONNX files; SavedModel once a writer exists). Only targets
 * whose pristine input reads cleanly are fuzzed, so every failure is the mutation's doing.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { readModel } from '../../src/readers/index.js';
import { writeLambdaSeeds } from './lambda-seeds.js';
import { writeOnnxSeeds } from './onnx-seeds.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GOLDEN = join(ROOT, 'fixtures', 'golden');

/** What a case mutates. Each names one input kind the CLI reads. */
export type Target =
  | 'keras3-h5'
  | 'keras2-h5'
  | 'weights-h5'
  | 'keras'
  | 'config-json'
  | 'tfjs'
  | 'savedmodel'
  | 'npy-input'
  | 'npy-output'
  | 'case-json'
  | 'lambda'
  | 'onnx';

export const ALL_TARGETS: Target[] = [
  'keras3-h5', 'keras2-h5', 'weights-h5', 'keras', 'config-json', 'tfjs', 'savedmodel', 'npy-input', 'npy-output', 'case-json', 'lambda', 'onnx',
];

export interface Fixture {
  name: string;
  dir: string;
  inputs: string[];
  outputs: string[];
  /** Pristine path per target (a file, or a folder for tfjs / savedmodel / onnx). */
  paths: Partial<Record<Target, string>>;
  /**
   * The model has a layer whose class names attention (`SeqSelfAttention`, `MultiHeadAttention`, ...):
   * `attention` runs on its mutants. On a model without one it would repeat predict, then refuse.
   */
  attention?: boolean;
}

export interface Corpus {
  work: string;
  fixtures: Fixture[];
  /** Targets with at least one fixture, in a fixed order. */
  targets: Target[];
  notes: string[];
}

const FILES: [Target, string][] = [
  ['keras3-h5', 'model.h5'],
  ['keras2-h5', 'model.tfkeras2.h5'],
  ['weights-h5', 'model.weights.h5'],
  ['keras', 'model.keras'],
  ['case-json', 'case.json'],
];

async function readsCleanly(path: string, config?: string): Promise<boolean> {
  try {
    const opts = config ? { config: (await readModel(config)).config ?? undefined } : {};
    await readModel(path, opts as Parameters<typeof readModel>[1]);
    return true;
  } catch {
    return false;
  }
}

/** Builds the corpus under `work/corpus` (synthesized folders and extracted configs). */
export async function buildCorpus(work: string, only?: string[]): Promise<Corpus> {
  const notes: string[] = [];
  const fixtures: Fixture[] = [];
  const names = readdirSync(GOLDEN, { withFileTypes: true })
    .filter((d) => d.isDirectory() && (!only || only.includes(d.name)))
    .map((d) => d.name)
    .sort();
  let tfjsWriter = true;
  for (const name of names) {
    const dir = join(GOLDEN, name);
    const listing = readdirSync(dir).sort();
    const fx: Fixture = {
      name,
      dir,
      inputs: listing.filter((f) => /^input_\d+\.npy$/.test(f)).map((f) => join(dir, f)),
      outputs: listing.filter((f) => /^output_\d+\.npy$/.test(f)).map((f) => join(dir, f)),
      paths: {},
    };
    const keras = join(dir, 'model.keras');
    for (const [target, file] of FILES) {
      const p = join(dir, file);
      if (!existsSync(p)) continue;
      if (target === 'case-json' || (await readsCleanly(p, target === 'weights-h5' ? keras : undefined))) fx.paths[target] = p;
    }
    if (fx.inputs.length) fx.paths['npy-input'] = fx.inputs[0];
    if (fx.outputs.length) fx.paths['npy-output'] = fx.outputs[0];
    const own = join(work, 'corpus', name);
    if (fx.paths.keras && fx.paths['weights-h5']) {
      // The config.json of the archive, to pair with the weights-only file through --config.
      const entries = unzipSync(readFileSync(keras), { filter: (f) => f.name === 'config.json' });
      if (entries['config.json']) {
        mkdirSync(own, { recursive: true });
        writeFileSync(join(own, 'config.json'), entries['config.json']);
        fx.paths['config-json'] = join(own, 'config.json');
      }
    }
    const pristine = fx.paths.keras ?? fx.paths['keras3-h5'];
    const model = pristine ? await readModel(pristine) : undefined;
    fx.attention = model !== undefined && /Attention/.test(JSON.stringify(model.config));
    if (tfjsWriter && fx.paths.keras && model) {
      const out = join(own, 'tfjs');
      try {
        const { convertModel } = await import('../../src/writers/index.js');
        mkdirSync(out, { recursive: true });
        await convertModel(model, 'tfjs', out);
        if (await readsCleanly(out)) fx.paths.tfjs = out;
        else notes.push(`tfjs: the folder written for ${name} does not read back; not fuzzed`);
      } catch (e) {
        const msg = (e as Error).message;
        if (/tfjs output lands/.test(msg)) {
          tfjsWriter = false;
          notes.push('tfjs: no tfjs writer yet to synthesize layers-model folders from the golden models; not fuzzed');
        } else {
          notes.push(`tfjs: cannot write ${name} as tfjs (${msg.slice(0, 200)}); not fuzzed`);
        }
      }
    }
    if (model) {
      const why = await writeOnnxSeeds(model, join(own, 'onnx'));
      if (why === undefined) fx.paths.onnx = join(own, 'onnx');
      else notes.push(`onnx: cannot export ${name} (${why.slice(0, 200)}); not fuzzed`);
    }
    fixtures.push(fx);
  }
  // No SavedModel writer exists to convert the golden models with: the seeds are the small synthesized
  // SavedModels under fixtures/fuzz/savedmodel (see the README there).
  const seeds = join(ROOT, 'fixtures', 'fuzz', 'savedmodel');
  for (const name of existsSync(seeds) ? readdirSync(seeds, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : []) {
    const dir = join(seeds, name);
    if (only && !only.includes(name)) continue;
    if (await readsCleanly(join(dir, 'model'))) {
      fixtures.push({ name, dir, inputs: [join(dir, 'input_0.npy')], outputs: [], paths: { savedmodel: join(dir, 'model') } });
    } else {
      notes.push(`savedmodel: the seed ${name} does not read; not fuzzed`);
    }
  }
  // Lambda layers: small models around the Python 3.11 Lambda fixtures (see lambda-seeds.ts).
  for (const seed of await writeLambdaSeeds(ROOT, join(work, 'corpus'))) {
    if (only && !only.includes(seed.name)) continue;
    if (await readsCleanly(seed.model)) fixtures.push({ name: seed.name, dir: seed.dir, inputs: seed.inputs, outputs: [], paths: { lambda: seed.model } });
    else notes.push(`lambda: the seed ${seed.name} does not read; not fuzzed`);
  }
  const targets = ALL_TARGETS.filter((t) => fixtures.some((f) => f.paths[t]));
  return { work, fixtures, targets, notes };
}

/** The corpus with only these targets fuzzed (`--targets`): cases go round robin over them alone. */
export function narrowTargets(corpus: Corpus, targets: string[] | undefined): Corpus {
  if (!targets) return corpus;
  const unknown = targets.filter((t) => !(ALL_TARGETS as string[]).includes(t));
  if (unknown.length) throw new Error(`unknown fuzz target ${unknown.join(', ')} (${ALL_TARGETS.join(', ')})`);
  const kept = corpus.targets.filter((t) => targets.includes(t));
  if (!kept.length) throw new Error(`the corpus has no fixture for ${targets.join(', ')}`);
  return { ...corpus, targets: kept };
}
