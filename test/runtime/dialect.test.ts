import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { isKerasInteropError } from '../../src/errors.js';
import type { JsonObject, JsonValue, KerasModel } from '../../src/model/types.js';
import { readGoldenCase } from '../../src/parity/case.js';
import { compareArrays } from '../../src/parity/compare.js';
import { readNpyFileSync } from '../../src/parity/npy-file.js';
import { readModel } from '../../src/readers/index.js';
import { keras3TensorRef } from '../../src/runtime/config-walk.js';
import { inferOutputShapes, toKeras2Config, toKeras3Config } from '../../src/runtime/dialect.js';
import { isLegacyH5Form, legacyH5ToArchiveConfig } from '../../src/runtime/dialect-archive.js';
import { normalizeConfig, normalizeConfigDetailed } from '../../src/runtime/normalize.js';
import { runModel } from '../../src/runtime/run.js';
import { convertModel } from '../../src/writers/index.js';
import { GOLDEN, goldenCases, keras3GoldenCases, requireWild } from '../helpers/paths.js';
import { describeWild } from '../helpers/wild.js';
import { fileTempDir } from '../helpers/tmp.js';

const tmp = fileTempDir('keras-interop-writers-');
let n = 0;

type Layer = JsonObject & { class_name: string; name: string; config: JsonObject; inbound_nodes: JsonValue[] };

function layersOf(model: JsonObject): Layer[] {
  return (model.config as JsonObject).layers as unknown as Layer[];
}

function byName(model: JsonObject): Map<string, Layer> {
  return new Map(layersOf(model).map((l) => [l.name ?? (l.config.name as string), l]));
}

/** Every object in a JSON tree. */
function objects(v: JsonValue): JsonObject[] {
  if (Array.isArray(v)) return v.flatMap(objects);
  if (v === null || typeof v !== 'object') return [];
  return [v, ...Object.keys(v).flatMap((k) => objects(v[k]))];
}

/**
 * Keys that legitimately differ between Keras versions (Keras 3.16 writes defaults older files lack; the
 * op-layer cases' tf.keras 2 files hold tf.keras 2.13's own keys: Dense's activity_regularizer, LSTM's
 * implementation, no initializer axes).
 */
const VERSION_KEYS = new Set([
  'seed', 'use_gate', 'rms_scaling', 'quantization_config', 'optional', 'input_length', 'sliding_window', 'shared_object_id',
  'activity_regularizer', 'implementation', 'zero_output_for_mask', 'input_axes', 'output_axes',
]);

function withoutKeys(v: JsonValue, keys: Set<string>): JsonValue {
  if (Array.isArray(v)) return v.map((x) => withoutKeys(x, keys));
  if (v === null || typeof v !== 'object') return v;
  const out: JsonObject = {};
  for (const k of Object.keys(v)) if (!keys.has(k)) out[k] = withoutKeys(v[k], keys);
  return out;
}

/** tf.keras 2's MultiHeadAttention config holds the shapes Keras 3 keeps in `build_config`. */
const MHA_SHAPES = ['query_shape', 'key_shape', 'value_shape'];

/** Two normalized configs describe the same graph: same layers, classes, configs (but version keys) and calls. */
function expectSameGraph(actual: JsonObject, expected: JsonObject, alsoIgnore: string[] = []): void {
  const ignore = new Set([...VERSION_KEYS, ...alsoIgnore]);
  expect(actual.class_name).toBe(expected.class_name);
  const a = byName(actual);
  const e = byName(expected);
  expect([...a.keys()]).toEqual([...e.keys()]);
  for (const [name, l] of e) {
    const got = a.get(name) as Layer;
    expect(got.class_name, name).toBe(l.class_name);
    expect(withoutKeys(got.config, ignore), name).toEqual(withoutKeys(l.config, ignore));
    expect(got.inbound_nodes ?? [], name).toEqual(l.inbound_nodes ?? []);
  }
  for (const key of ['input_layers', 'output_layers']) {
    expect((actual.config as JsonObject)[key], key).toEqual((expected.config as JsonObject)[key]);
  }
}

/**
 * The op-layer cases name layers as each generation does (tf.keras 2's `input_1`, `tf.math.multiply`;
 * Keras 3's `input_layer`, `multiply`); their case.json aligns the two layer sequences. Other cases share
 * names (an empty map).
 */
function keras3Names(dir: string): Map<string, string> {
  const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { layer_sequence?: { name: string }[]; tfkeras2_layer_sequence?: { name: string }[] };
  const k2 = c.tfkeras2_layer_sequence ?? [];
  return new Map(k2.map((l, i) => [l.name, c.layer_sequence?.[i]?.name ?? l.name]));
}

/** A config with tf.keras 2's layer names in Keras 3's (every string naming a layer: entries, references). */
function renamed(v: JsonValue, names: Map<string, string>): JsonValue {
  if (typeof v === 'string') return names.get(v) ?? v;
  if (Array.isArray(v)) return v.map((x) => renamed(x, names));
  if (v === null || typeof v !== 'object') return v;
  const out: JsonObject = {};
  for (const k of Object.keys(v)) out[k] = renamed(v[k], names);
  return out;
}

/**
 * Op-layer array constants as plain lists: a TFOpLambda node saves a NumPy value as a nested list, Keras 3
 * as an array with its dtype; the op reads both the same.
 */
function plainConstants(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(plainConstants);
  if (v === null || typeof v !== 'object') return v;
  if ('array' in v && Object.keys(v).every((k) => k === 'array' || k === 'dtype')) return v.array;
  const out: JsonObject = {};
  for (const k of Object.keys(v)) out[k] = plainConstants(v[k]);
  return out;
}

function sameOps(v: JsonObject): JsonObject {
  return plainConstants(v) as JsonObject;
}

/** Every `__keras_tensor__` of a Keras 3 config, by where it points: its shape and dtype. */
function kerasTensors(config: JsonObject): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  for (const o of objects(config)) {
    const ref = keras3TensorRef(o);
    if (ref) out.set(ref.join('/'), [(o.config as JsonObject).shape, (o.config as JsonObject).dtype]);
  }
  return out;
}

async function config(path: string): Promise<JsonObject> {
  const m = await readModel(path);
  if (!m.config) throw new Error(`${path} has no config`);
  return m.config;
}

/** Runs a model on a golden case's inputs and checks every output against the case's tolerance. */
async function expectGoldenOutputs(model: KerasModel, caseDir: string): Promise<void> {
  const kase = readGoldenCase(caseDir);
  const outputs = await runModel(model, kase.inputs.map((t) => readNpyFileSync(t.path)));
  expect(outputs.length).toBe(kase.outputs.length);
  outputs.forEach((o, i) => {
    const r = compareArrays(o, readNpyFileSync(kase.outputs[i].path), kase.tolerance, kase.outputs[i].name ?? String(i));
    expect(r.pass, `${caseDir} output ${i}: max abs ${r.maxAbsError}`).toBe(true);
  });
}

/** read → write in the other generation → read: the model that comes back. */
async function converted(src: string, to: 'keras' | 'h5', generation?: 'keras2' | 'keras3'): Promise<KerasModel> {
  const m = await readModel(src);
  const out = join(tmp, `c${n++}.${to === 'keras' ? 'keras' : 'h5'}`);
  await convertModel(m, to, out, { generation });
  return readModel(out);
}

const tfkeras2Cases = goldenCases().filter((c) => existsSync(join(GOLDEN, c, 'model.tfkeras2.h5')));

describe('toKeras3Config on the golden tf.keras 2 files', () => {
  for (const name of tfkeras2Cases) {
    const dir = join(GOLDEN, name);
    it(`${name}: builds the graph of the Keras 3 file, written as Keras 3 writes it`, async () => {
      const k2 = await config(join(dir, 'model.tfkeras2.h5'));
      const before = structuredClone(k2);
      const shapes = await inferOutputShapes(k2);
      expect(shapes).toBeDefined();
      const names = keras3Names(dir);
      const k3 = renamed(toKeras3Config(k2, { outputShapes: shapes }), names) as JsonObject;
      expect(k2).toEqual(before);
      // the same graph as Keras 3's own config of the model, once both are normalized for tfjs
      expectSameGraph(sameOps(normalizeConfig(k3)), sameOps(normalizeConfig(await config(join(dir, 'model.h5')))));

      const gold = await config(join(dir, 'model.keras'));
      expect(k3.module).toBe(gold.module);
      expect(k3.registered_name).toBe(gold.registered_name);
      const want = byName(gold);
      for (const [layerName, l] of byName(k3)) {
        const g = want.get(layerName);
        expect(g, layerName).toBeDefined();
        expect([l.module, l.class_name, l.registered_name], layerName).toEqual([g?.module, g?.class_name, g?.registered_name]);
        expect(l.build_config, layerName).toEqual(g?.build_config);
        expect(withoutKeys(l.config, VERSION_KEYS), layerName).toEqual(withoutKeys(g?.config as JsonObject, VERSION_KEYS));
      }
      // what Keras 3 adds and tf.keras 2 cannot know: its mask pseudo-layers and the `mask` arguments they feed
      for (const [layerName, g] of want) if (!byName(k3).has(layerName)) expect(['NotEqual', 'Any', 'ConvertToTensor']).toContain(g.class_name);
      // every argument tensor carries the shape and dtype Keras 3 recorded
      const got = kerasTensors(k3);
      for (const [ref, spec] of kerasTensors(gold)) if (got.has(ref)) expect(got.get(ref), ref).toEqual(spec);
      expect(objects(k3).some((o) => 'batch_input_shape' in o)).toBe(false);
    });

    it(`${name}: model.tfkeras2.h5 → .keras and → Keras 3 .h5 reproduce the golden outputs`, async () => {
      const keras = await converted(join(dir, 'model.tfkeras2.h5'), 'keras');
      expect(keras.source.format).toBe('keras3-archive');
      await expectGoldenOutputs(keras, dir);
      const h5 = await converted(join(dir, 'model.tfkeras2.h5'), 'h5', 'keras3');
      expect(h5.source.format).toBe('keras3-h5');
      expect(h5.source.kerasVersion).toMatch(/^3\./);
      await expectGoldenOutputs(h5, dir);
    });
  }
});

describe('toKeras2Config on the golden Keras 3 files', () => {
  for (const name of keras3GoldenCases()) {
    const dir = join(GOLDEN, name);
    it(`${name}: builds the graph of the Keras 3 file in tf.keras 2's dialect`, async () => {
      for (const file of ['model.keras', 'model.h5']) {
        const k3 = await config(join(dir, file));
        const before = structuredClone(k3);
        const k2 = toKeras2Config(k3);
        expect(k3).toEqual(before);
        const all = objects(k2);
        expect(all.some((o) => 'module' in o || 'registered_name' in o || 'build_config' in o || 'batch_shape' in o)).toBe(false);
        expect(all.some((o) => o.class_name === 'DTypePolicy' || o.class_name === '__keras_tensor__')).toBe(false);
        for (const l of layersOf(k2)) {
          expect(['NotEqual', 'Any', 'ConvertToTensor']).not.toContain(l.class_name);
          for (const node of l.inbound_nodes) expect(Array.isArray(node), `${l.name} node`).toBe(true);
        }
        const norm = normalizeConfigDetailed(k3);
        const fromK2 = normalizeConfigDetailed(k2);
        expectSameGraph(sameOps(fromK2.config), sameOps(norm.config), MHA_SHAPES);
        expect(fromK2.removedLayers).toEqual([]);
        // without the recorded masks the runtime still runs every call Keras 3 ran without a mask so, where
        // there is one to withhold (it may add calls of layers that ignore masks anyway, such as Dense)
        const masks = layersOf(k3).some((l) => (l.class_name === 'Embedding' && l.config.mask_zero === true) || l.class_name === 'Masking');
        if (masks) for (const l of norm.callsWithoutMask) expect(fromK2.callsWithoutMask, file).toContain(l);
        // and back: tf.keras 2 → Keras 3 → the same graph again
        expectSameGraph(sameOps(normalizeConfig(toKeras3Config(k2))), sameOps(norm.config));
      }
      if (tfkeras2Cases.includes(name)) {
        // the synthesized tf.keras 2 file says the same (it keeps Keras 3's Bidirectional naming, which normalize undoes)
        const k2File = renamed(normalizeConfig(await config(join(dir, 'model.tfkeras2.h5'))), keras3Names(dir)) as JsonObject;
        expectSameGraph(sameOps(normalizeConfig(toKeras2Config(await config(join(dir, 'model.keras'))))), sameOps(k2File), MHA_SHAPES);
      }
    });

    it(`${name}: model.keras and model.h5 → tf.keras 2 .h5 reproduce the golden outputs`, async () => {
      for (const file of ['model.keras', 'model.h5']) {
        const m = await converted(join(dir, file), 'h5', 'keras2');
        expect(m.source.format).toBe('keras2-h5');
        expect(m.source.kerasVersion).toMatch(/^2\./);
        expect(m.source.backend).toBe('tensorflow');
        expect(m.weights.flatMap((l) => l.weights).every((w) => w.name.endsWith(':0'))).toBe(true);
        await expectGoldenOutputs(m, dir);
      }
    });
  }
});

describeWild('cross-generation conversion of the real files with goldens', () => {
  it('01 (tf.keras 2.3.1, Model, bare Bidirectional, SeqSelfAttention) → .keras and Keras 3 .h5', async () => {
    const root = requireWild();
    const src = join(root, '01_dsRNA_seqselfattention', '3fold_model.h5');
    const golden = join(root, '01_dsRNA_seqselfattention', 'golden');
    const keras = await converted(src, 'keras');
    const c = keras.config as JsonObject;
    expect(c.class_name).toBe('Functional');
    const layers = byName(c);
    const bidi = layers.get('bidirectional_3') as Layer;
    expect((bidi.config.layer as JsonObject).config).toMatchObject({ name: 'forward_lstm_3', go_backwards: false });
    expect((bidi.config.backward_layer as JsonObject).config).toMatchObject({ name: 'backward_lstm_3', go_backwards: true });
    expect((bidi.config.layer as JsonObject).module).toBe('keras.layers');
    expect(layers.get('seq_self_attention_3')).toMatchObject({
      module: 'keras_self_attention.seq_self_attention',
      registered_name: 'SeqSelfAttention',
      build_config: { input_shape: [null, 19, 100] },
    });
    expect(layers.get('dense_6')?.build_config).toEqual({ input_shape: [null, 16] });
    await expectGoldenOutputs(keras, golden);
    await expectGoldenOutputs(await converted(src, 'h5', 'keras3'), golden);
  });

  for (const [id, file] of [
    ['17_retail_transformer_mha_archive', 'transformer_model.keras'],
    ['20_tree_lstm_embedding_archive', 'lstm_tree_model.keras'],
    ['21_rssi_hybrid_bn_bilstm_archive', 'hybrid_model.keras'],
  ] as const) {
    it(`${id} (.keras) → tf.keras 2 .h5`, async () => {
      const root = requireWild();
      const m = await converted(join(root, id, file), 'h5', 'keras2');
      expect(m.source.format).toBe('keras2-h5');
      const all = objects(m.config as JsonObject);
      expect(all.some((o) => 'module' in o || o.class_name === '__keras_tensor__' || o.class_name === 'DTypePolicy')).toBe(false);
      if (id.startsWith('17')) {
        // Keras 3's `x + y` operation is tf.keras 2's Add layer
        const add = byName(m.config as JsonObject).get('add_4') as Layer;
        expect(add.class_name).toBe('Add');
        expect(add.config).toEqual({ name: 'add_4', trainable: true, dtype: 'float32' });
        expect(add.inbound_nodes).toEqual([[['dropout_16', 0, 0, {}], ['input_layer_1', 0, 0, {}]]]);
      }
      if (id.startsWith('21')) {
        expect(m.config?.class_name).toBe('Sequential');
        expect(layersOf(m.config as JsonObject)[0].config).toMatchObject({ batch_input_shape: [null, 3, 2], dtype: 'float32' });
      }
      await expectGoldenOutputs(m, join(root, id, 'golden'));
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Small configs for what the files above do not hold.

const dense = (name: string, extra: JsonObject = {}): JsonObject => ({
  class_name: 'Dense',
  config: { name, trainable: true, dtype: 'float32', units: 2, activation: 'linear', use_bias: true, ...extra },
});
const input2 = (name: string, shape: JsonValue[]): JsonObject => ({
  class_name: 'InputLayer',
  config: { batch_input_shape: shape, dtype: 'float32', sparse: false, name },
  name,
  inbound_nodes: [],
});

function functional2(layers: JsonObject[], inputs: JsonValue, outputs: JsonValue): JsonObject {
  return { class_name: 'Functional', config: { name: 'model', layers, input_layers: inputs, output_layers: outputs } };
}

function expectError(f: () => unknown, code: string, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isKerasInteropError(e) && e.code).toBe(code);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}

describe('toKeras3Config details', () => {
  it('Keras 2.1 bare-list Sequential: an InputLayer in front, batch_input_shape gone, no time_major, one-item axis an int', () => {
    const k2: JsonObject = {
      class_name: 'Sequential',
      config: [
        { class_name: 'LSTM', config: { name: 'lstm', trainable: true, dtype: 'float32', batch_input_shape: [null, 5, 3], units: 4, time_major: false } },
        { class_name: 'BatchNormalization', config: { name: 'bn', trainable: true, dtype: 'float32', batch_input_shape: [null, 5, 3], axis: [1] } },
        dense('dense', { kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, kernel_regularizer: { class_name: 'L1L2', config: { l1: 0, l2: 0.01 } } }),
      ],
    };
    const k3 = toKeras3Config(k2);
    expect(k3).toMatchObject({ module: 'keras', class_name: 'Sequential', registered_name: null, build_config: { input_shape: [null, 5, 3] } });
    const c = k3.config as JsonObject;
    expect(c).toMatchObject({ name: 'sequential', trainable: true, build_input_shape: [null, 5, 3] });
    const layers = c.layers as JsonObject[];
    expect(layers[0]).toEqual({
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: { batch_shape: [null, 5, 3], dtype: 'float32', sparse: false, ragged: false, name: 'input_layer' },
      registered_name: null,
    });
    expect(layers[1].config).not.toHaveProperty('time_major');
    expect(layers[1].config).not.toHaveProperty('batch_input_shape');
    expect((layers[1].config as JsonObject).dtype).toEqual({ module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null });
    expect((layers[2].config as JsonObject).axis).toBe(1);
    expect((layers[3].config as JsonObject).kernel_initializer).toEqual({ module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null });
    expect((layers[3].config as JsonObject).kernel_regularizer).toEqual({ module: 'keras.regularizers', class_name: 'L1L2', config: { l1: 0, l2: 0.01 }, registered_name: null });
    // the first layer's build comes from the input shape; without inferred shapes, later layers get none
    // (Keras 3 builds a Sequential from its InputLayer anyway)
    expect(layers[1].build_config).toEqual({ input_shape: [null, 5, 3] });
    expect(layers[2]).not.toHaveProperty('build_config');
    expectError(
      () => toKeras3Config({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'GRU', config: { name: 'g', units: 2, time_major: true } }] } }),
      'UNSUPPORTED_LAYER',
      /time_major=True/,
    );
  });

  it('TFOpLambda `x + y` becomes Keras 3 operation Add; Lambda bytecode a __lambda__; registered custom classes keep their registered name', () => {
    const k2 = functional2(
      [
        input2('x', [null, 4]),
        { ...dense('d'), name: 'd', inbound_nodes: [[['x', 0, 0, {}]]] },
        {
          class_name: 'TFOpLambda',
          config: { name: 'tf.__operators__.add', trainable: true, dtype: 'float32', function: '__operators__.add' },
          name: 'tf.__operators__.add',
          inbound_nodes: [['d', 0, 0, { y: ['x', 0, 0], name: null }]],
        },
        {
          class_name: 'Lambda',
          config: { name: 'lam', trainable: true, dtype: 'float32', function: ['4wEAAA==', null, null], function_type: 'lambda', module: '__main__', output_shape: null, output_shape_type: 'raw', output_shape_module: null, arguments: {} },
          name: 'lam',
          inbound_nodes: [[['tf.__operators__.add', 0, 0, {}]]],
        },
        { class_name: 'Pkg>Scale', config: { name: 'scale', trainable: true, dtype: 'float32', k: 2 }, name: 'scale', inbound_nodes: [[['lam', 0, 0, {}]]] },
      ],
      [['x', 0, 0]],
      [['scale', 0, 0]],
    );
    const k3 = toKeras3Config(k2);
    const layers = byName(k3);
    const add = layers.get('tf.__operators__.add') as Layer;
    expect(add).toMatchObject({ module: 'keras.src.ops.numpy', class_name: 'Add', config: { name: 'tf.__operators__.add' }, registered_name: 'Add' });
    const args = (add.inbound_nodes[0] as JsonObject).args as JsonObject[];
    expect(args.map((a) => keras3TensorRef(a))).toEqual([['d', 0, 0], ['x', 0, 0]]);
    expect((add.inbound_nodes[0] as JsonObject).kwargs).toEqual({});
    const lam = layers.get('lam') as Layer;
    expect(lam.config.function).toEqual({ class_name: '__lambda__', config: { code: '4wEAAA==', defaults: null, closure: null } });
    expect(lam.config).not.toHaveProperty('function_type');
    expect(lam.config).not.toHaveProperty('module');
    expect(layers.get('scale')).toMatchObject({ module: null, class_name: 'Scale', registered_name: 'Pkg>Scale' });
    // and back
    const again = byName(toKeras2Config(k3));
    expect(again.get('tf.__operators__.add')).toMatchObject({ class_name: 'Add', inbound_nodes: [[['d', 0, 0, {}], ['x', 0, 0, {}]]] });
    expect((again.get('lam') as Layer).config).toMatchObject({ function: ['4wEAAA==', null, null], function_type: 'lambda' });
    expect(again.get('scale')?.class_name).toBe('Pkg>Scale');
    expectError(
      () => toKeras3Config(functional2([input2('x', [null, 4]), { class_name: 'TFOpLambda', config: { name: 't', function: 'math.bessel_i0e' }, name: 't', inbound_nodes: [['x', 0, 0, {}]] }], [['x', 0, 0]], [['t', 0, 0]])),
      'UNSUPPORTED_OP',
      /tf\.math\.bessel_i0e/,
    );
  });

  it('nested models: tf.keras 2 counts a model\'s own node 0, Keras 3 does not (node references), and Keras 3 keeps it for a Functional in input/output layers', () => {
    const inner = { class_name: 'Functional', config: { name: 'inner', layers: [input2('ix', [null, 4]), { ...dense('id'), name: 'id', inbound_nodes: [[['ix', 0, 0, {}]]] }], input_layers: [['ix', 0, 0]], output_layers: [['id', 0, 0]] } };
    const k2 = functional2(
      [input2('x', [null, 4]), { ...inner, name: 'inner', inbound_nodes: [[['x', 0, 0, {}]]] }, { ...dense('d'), name: 'd', inbound_nodes: [[['inner', 1, 0, {}]]] }],
      [['x', 0, 0]],
      [['d', 0, 0], ['inner', 1, 0]],
    );
    const k3 = toKeras3Config(k2);
    const layers = byName(k3);
    expect(layers.get('inner')).toMatchObject({ module: 'keras.src.models.functional', class_name: 'Functional', registered_name: 'Functional' });
    expect(keras3TensorRef(((layers.get('d') as Layer).inbound_nodes[0] as JsonObject & { args: JsonValue[] }).args[0])).toEqual(['inner', 0, 0]);
    expect((k3.config as JsonObject).output_layers).toEqual([['d', 0, 0], ['inner', 1, 0]]);
    const back = toKeras2Config(k3);
    expect(byName(back).get('d')?.inbound_nodes).toEqual([[['inner', 1, 0, {}]]]);
    expect((back.config as JsonObject).output_layers).toEqual([['d', 0, 0], ['inner', 1, 0]]);
  });

  it('Keras 3 legacy .h5 form: the model and its list entries as {class_name, config}, what they hold as in .keras', () => {
    const k2 = functional2([input2('x', [null, 4]), { ...dense('d'), name: 'd', inbound_nodes: [[['x', 0, 0, {}]]] }], [['x', 0, 0]], [['d', 0, 0]]);
    const legacy = toKeras3Config(k2, { legacyH5: true });
    expect(Object.keys(legacy)).toEqual(['class_name', 'config']);
    const d = byName(legacy).get('d') as Layer;
    expect(Object.keys(d).sort()).toEqual(['class_name', 'config', 'inbound_nodes', 'name']);
    expect(d.config.dtype).toMatchObject({ module: 'keras', class_name: 'DTypePolicy' });
  });

  it('and back to the archive form: module, registered_name and build_config at every level, nested models too', async () => {
    const inner = { class_name: 'Functional', config: { name: 'inner', layers: [input2('ix', [null, 4]), { ...dense('id'), name: 'id', inbound_nodes: [[['ix', 0, 0, {}]]] }], input_layers: [['ix', 0, 0]], output_layers: [['id', 0, 0]] } };
    const k2 = functional2(
      [input2('x', [null, 4]), { ...inner, name: 'inner', inbound_nodes: [[['x', 0, 0, {}]]] }, { ...dense('d'), name: 'd', inbound_nodes: [[['inner', 1, 0, {}]]] }],
      [['x', 0, 0]],
      [['d', 0, 0]],
    );
    const outputShapes = await inferOutputShapes(k2);
    const archive = toKeras3Config(k2, { outputShapes });
    const legacy = toKeras3Config(k2, { legacyH5: true, outputShapes });
    expect(isLegacyH5Form(legacy)).toBe(true);
    expect(isLegacyH5Form(archive)).toBe(false);
    expect(JSON.stringify(legacyH5ToArchiveConfig(legacy))).toBe(JSON.stringify(archive));
    expect((byName(archive).get('d') as Layer & { build_config: JsonValue }).build_config).toEqual({ input_shape: [null, 2] });
  });
});

describe('toKeras2Config details', () => {
  it('drops Keras 3 keys at their defaults, refuses them otherwise, and gives tf.keras 2 MultiHeadAttention its shapes', () => {
    const mha = (extra: JsonObject): JsonObject => ({
      class_name: 'Functional',
      config: {
        name: 'm',
        trainable: true,
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 3, 4], dtype: 'float32', sparse: false, ragged: false, name: 'x', optional: false }, registered_name: null, name: 'x', inbound_nodes: [] },
          {
            module: 'keras.layers',
            class_name: 'MultiHeadAttention',
            config: { name: 'mha', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'mixed_float16' }, registered_name: null }, num_heads: 2, key_dim: 2, seed: 3, use_gate: false, ...extra },
            registered_name: null,
            build_config: { shapes_dict: { query_shape: [null, 3, 4], value_shape: [null, 3, 4] } },
            name: 'mha',
            inbound_nodes: [{ args: [{ class_name: '__keras_tensor__', config: { shape: [null, 3, 4], dtype: 'float32', keras_history: ['x', 0, 0] } }, { class_name: '__keras_tensor__', config: { shape: [null, 3, 4], dtype: 'float32', keras_history: ['x', 0, 0] } }], kwargs: { mask: null, use_causal_mask: true } }],
          },
        ],
        input_layers: ['x', 0, 0],
        output_layers: ['mha', 0, 0],
      },
    });
    const k2 = toKeras2Config(mha({}));
    const layers = byName(k2);
    expect(layers.get('x')?.config).toEqual({ batch_input_shape: [null, 3, 4], dtype: 'float32', sparse: false, ragged: false, name: 'x' });
    expect(layers.get('mha')?.config).toEqual({
      name: 'mha',
      trainable: true,
      dtype: { class_name: 'Policy', config: { name: 'mixed_float16' } },
      num_heads: 2,
      key_dim: 2,
      query_shape: [null, 3, 4],
      key_shape: [null, 3, 4],
      value_shape: [null, 3, 4],
    });
    // the query is the node's entry; the value is a keyword, as tf.keras 2 records it
    expect(layers.get('mha')?.inbound_nodes).toEqual([[['x', 0, 0, { value: ['x', 0, 0], use_causal_mask: true }]]]);
    expect((k2.config as JsonObject).input_layers).toEqual([['x', 0, 0]]);
    expectError(() => toKeras2Config(mha({ use_gate: true })), 'UNSUPPORTED_LAYER', /use_gate=true/);
    expectError(() => toKeras2Config(mha({ quantization_config: { mode: 'int8' } })), 'UNSUPPORTED_LAYER', /quantization_config/);
  });

  it('refuses a Keras 3 operation that feeds a layer and the op table lacks; refuses what is no model', () => {
    const kt = (l: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 2], dtype: 'float32', keras_history: [l, 0, 0] } });
    const k3: JsonObject = {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: {
        name: 'm',
        trainable: true,
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 2], dtype: 'float32', name: 'x' }, registered_name: null, name: 'x', inbound_nodes: [] },
          { module: 'keras.src.ops.numpy', class_name: 'Kron', config: { name: 'kron' }, registered_name: 'Kron', name: 'kron', inbound_nodes: [{ args: [kt('x'), kt('x')], kwargs: {} }] },
          { module: 'keras.layers', class_name: 'Dense', config: { name: 'd', units: 1 }, registered_name: null, name: 'd', inbound_nodes: [{ args: [kt('kron')], kwargs: {} }] },
        ],
        input_layers: ['x', 0, 0],
        output_layers: ['d', 0, 0],
      },
      registered_name: 'Functional',
    };
    expectError(() => toKeras2Config(k3), 'UNSUPPORTED_OP', /keras\.src\.ops\.numpy\.Kron/);
    expectError(() => toKeras2Config({ class_name: 'Dense', config: {} }), 'CONFIG_INVALID', /expected a model config/);
    expectError(() => toKeras3Config({ class_name: 'Dense', config: {} }), 'CONFIG_INVALID', /expected a model config/);
  });
});

describe('convert --generation', () => {
  it('writes the generation asked for, and says when that cannot be', async () => {
    const out = join(tmp, 'cli.h5');
    const lines: string[] = [];
    const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    const src = join(GOLDEN, 'transformer_block', 'model.keras');
    expect(await main(['convert', src, '--to', 'h5', '--generation', 'keras2', out], io)).toBe(0);
    expect((await readModel(out)).source.format).toBe('keras2-h5');
    expect(await main(['convert', src, '--to', 'h5', out], io)).toBe(0);
    expect((await readModel(out)).source.format).toBe('keras3-h5');
    expect(await main(['convert', src, '--to', 'keras', '--generation', 'keras2', join(tmp, 'x.keras')], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/\.keras archives are Keras 3/);
  });
});
