/** Shared by the runtime tests: the real configs to cover, and a small reader for archives (.npy: ../helpers/npy.ts). */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import type { JsonObject, KerasModel } from '../../src/model/types.js';
import { readModel as readHdf5 } from '../../src/readers/index.js';
import { isLayerRegistered, registerLayer } from '../../src/runtime/registry.js';
import { GOLDEN, WILD, requireWild, wildItems } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';

export interface ConfigCase {
  /** e.g. `golden/kmha_basic/model.h5`, `wild/24_.../lstm_model.h5`. */
  id: string;
  path: string;
  kind: 'h5' | 'keras' | 'tfjs';
}

export function goldenConfigCases(): ConfigCase[] {
  const out: ConfigCase[] = [];
  for (const dir of readdirSync(GOLDEN, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const file of ['model.h5', 'model.tfkeras2.h5', 'model.keras']) {
      const path = join(GOLDEN, dir, file);
      if (existsSync(path)) out.push({ id: `golden/${dir}/${file}`, path, kind: file.endsWith('.keras') ? 'keras' : 'h5' });
    }
  }
  return out;
}

/** Every real file with a model config: HDF5 (01-24), archives (17-21) and the tfjs folder (28); none without the folder. */
export function wildConfigCases(): ConfigCase[] {
  return wildItems(listWildConfigCases);
}

function listWildConfigCases(): ConfigCase[] {
  const root = requireWild();
  const out: ConfigCase[] = [];
  for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const file of readdirSync(join(root, dir)).sort()) {
      const path = join(root, dir, file);
      if (/\.(h5|hdf5)$/.test(file) && !file.endsWith('.weights.h5')) out.push({ id: `wild/${dir}/${file}`, path, kind: 'h5' });
      else if (file.endsWith('.keras')) out.push({ id: `wild/${dir}/${file}`, path, kind: 'keras' });
      else if (file === 'tfjs_model') out.push({ id: `wild/${dir}/${file}`, path: join(path, 'model.json'), kind: 'tfjs' });
    }
  }
  return out;
}

export function wildPath(...parts: string[]): string {
  return join(requireWild(), ...parts);
}

export { WILD };

/** The verbatim `{class_name, config}` of a case. */
export async function readConfig(c: ConfigCase): Promise<JsonObject> {
  if (c.kind === 'keras') return JSON.parse(new TextDecoder().decode(unzipSync(readFileSync(c.path), { filter: (f) => f.name === 'config.json' })['config.json'])) as JsonObject;
  if (c.kind === 'tfjs') return (JSON.parse(readFileSync(c.path, 'utf8')) as { modelTopology: { model_config: JsonObject } }).modelTopology.model_config;
  const m = await readHdf5(c.path);
  if (!m.config) throw new Error(`${c.path} has no model config`);
  return m.config;
}

/** A full KerasModel from an HDF5 file or a `.keras` archive (config.json + model.weights.h5 through the HDF5 reader). */
export async function readKerasModel(path: string): Promise<KerasModel> {
  if (!path.endsWith('.keras')) return readHdf5(path);
  const files = unzipSync(readFileSync(path));
  const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as JsonObject;
  const { dir, cleanup } = tempDir('keras-interop-test-');
  try {
    const weightsPath = join(dir, 'model.weights.h5');
    writeFileSync(weightsPath, files['model.weights.h5']);
    const model = await readHdf5(weightsPath, { config });
    model.source.file = path;
    return model;
  } finally {
    cleanup();
  }
}

/** max |a-b| - (atol + rtol |b|) over all elements: <= 0 means within tolerance. */
export function worstExcess(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): number {
  if (a.length !== b.length) return Infinity;
  let worst = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

/**
 * Stand-in for a layer class whose TypeScript implementation is not there yet (the real ones are being
 * written in src/layers): passes its first input through, with as many outputs as the config says.
 */
class StubLayer extends tf.layers.Layer {
  static className = 'StubLayer';
  private outputsCount: number;
  constructor(args: tf.serialization.ConfigDict & { name?: string }) {
    super(args as never);
    const extra = args.returnAttention === true ? 1 : 0;
    this.outputsCount = 1 + extra + (args.className === 'ResidualScaledDotProductAttention' ? 1 : 0);
  }
  override apply(inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[], kwargs?: tf.serialization.ConfigDict) {
    // Keras MultiHeadAttention's second output is asked for at the call, not in the config.
    if (kwargs?.returnAttentionScores === true) this.outputsCount = 2;
    return super.apply(inputs, kwargs);
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const first = (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
    return this.outputsCount === 1 ? first : Array.from({ length: this.outputsCount }, () => first);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const first = Array.isArray(inputs) ? inputs[0] : inputs;
    return this.outputsCount === 1 ? first : Array.from({ length: this.outputsCount }, () => first);
  }
}

/** Registers a stub for every class name given that tfjs cannot build yet; returns the names stubbed. */
export function stubMissing(classNames: Iterable<string>): string[] {
  const stubbed: string[] = [];
  for (const cls of classNames) {
    if (isLayerRegistered(cls)) continue;
    const named = class extends StubLayer {
      constructor(args: tf.serialization.ConfigDict) {
        super({ ...args, className: cls });
      }
    };
    Object.defineProperty(named, 'className', { value: cls });
    registerLayer(cls, named as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
    stubbed.push(cls);
  }
  return stubbed;
}

/** Imports our layers when src/layers is complete; returns whether that worked. */
export async function loadOurLayers(): Promise<boolean> {
  try {
    await import('../../src/layers/index.js');
    return true;
  } catch {
    return false;
  }
}
