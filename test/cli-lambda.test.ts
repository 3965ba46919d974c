/**
 * Lambda layers through the command line, on the real files: inspect shows each recovered expression
 * (and, with --json, the disassembly); predict runs them unless --refuse-lambdas; convert keeps the
 * Lambda verbatim in h5 and .keras and writes a KerasInterop>Lambda layer to tfjs, which plain
 * `tf.loadLayersModel` runs after `import 'keras-interop/layers'` with the same outputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCliOnCpu as cli } from './helpers/cli.js';
import { readModel } from '../src/readers/index.js';
import { runModel } from '../src/runtime/run.js';
import { writeNpyFileSync } from '../src/parity/npy-file.js';
import type { JsonObject } from '../src/model/types.js';
import { mulberry32 } from '../fuzz/lib/rng.js';
import { maxDiff, predictInFreshProcess } from './writers/tfjs-helpers.js';
import { wildFile } from './helpers/paths.js';
import { describeWild } from './helpers/wild.js';
import { fileTempDir } from './helpers/tmp.js';
import { lambdaConfigs } from './helpers/lambda-configs.js';

const W06 = () => wildFile('06_ids_lstm_dot_attention', 'LSTM_model.h5');
const W41 = () => wildFile('41_pulkit_lambda_sdpa_k313_archive', 'attention_model.keras');
const dir = fileTempDir('ki-lambda-');

function input(shape: number[], seed: number) {
  const r = mulberry32(seed);
  return { dtype: 'float32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) };
}

describeWild('inspect', () => {
  it('prints each Lambda with the Python it computes', async () => {
    const r = await cli('inspect', W41());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('attention_scores: tf.matmul(x[0], x[1], transpose_b=True) / tf.sqrt(tf.cast(tf.shape(x[0])[-1], tf.float32))  [Python 3.13]');
    expect(r.out).toContain('lag_slice: x[:, -7:]');
  });

  it('--json adds the disassembly, and --refuse-lambdas says the model does not run', async () => {
    const r = await cli('inspect', W06(), '--json', '--refuse-lambdas');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.lambdas).toHaveLength(1);
    expect(s.lambdas[0]).toMatchObject({ layer: 'last_hidden_state', expression: 'x[:, -1, :]', python: ['3.8', '3.9', '3.10'], function: '<lambda>(x)' });
    expect(s.lambdas[0].disassembly[0]).toMatch(/^\s*0 LOAD_FAST\s+0 \(x\)$/);
    expect(s.lambdas[0].disassembly).toHaveLength(11);
    expect(s.blocking).toHaveLength(1);
    expect(s.blocking[0]).toMatchObject({ layer: 'last_hidden_state', className: 'Lambda' });
    expect(s.blocking[0].why).toContain('turned off (--refuse-lambdas)');
  });
});

describeWild('predict', () => {
  it('runs a translated Lambda by default and refuses it with --refuse-lambdas', async () => {
    const x = join(dir, 'x06.npy');
    writeNpyFileSync(x, input([2, 20, 68], 1));
    expect((await cli('predict', W06(), '--inputs', x, '--out', join(dir, 'p06'))).code).toBe(0);
    const r = await cli('predict', W06(), '--inputs', x, '--out', join(dir, 'p06r'), '--refuse-lambdas');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[LAMBDA_LAYER\].*"last_hidden_state".*turned off/);
  });
});

describeWild('convert', () => {
  it('to tfjs: a KerasInterop>Lambda layer that plain tfjs loads and runs with the same outputs', async () => {
    const out = join(dir, 'tfjs41');
    const r = await cli('convert', W41(), '--to', 'tfjs', out);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    const layers = json.modelTopology.model_config.config.layers as JsonObject[];
    const scores = layers.find((l) => (l.config as JsonObject).name === 'attention_scores')!;
    expect(scores.class_name).toBe('KerasInterop>Lambda');
    expect((scores.config as JsonObject).expression).toBe('tf.matmul(x[0], x[1], transpose_b=True) / tf.sqrt(tf.cast(tf.shape(x[0])[-1], tf.float32))');
    expect((scores.config as JsonObject).python).toBe('3.13');
    const x = input([3, 13], 2);
    const expected = await runModel(await readModel(W41()), [x], { backend: 'cpu' });
    const plain = await predictInFreshProcess(out, [x]);
    expect(plain.layers.filter((c) => c === 'KerasInterop>Lambda')).toHaveLength(4);
    expect(plain.outputs[0].shape).toEqual(expected[0].shape);
    const d = maxDiff(plain.outputs[0].data, expected[0].data);
    expect(d.abs).toBeLessThanOrEqual(1e-5 + 1e-4 * d.ref);
    expect(d.ref).toBeGreaterThan(0);
    // Refused, the conversion stops at the first Lambda.
    const refused = await cli('convert', W41(), '--to', 'tfjs', join(dir, 'tfjs41r'), '--refuse-lambdas');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('[LAMBDA_LAYER]');
  });

  it('to h5 and .keras: the Lambda verbatim (same bytecode), which still translates', async () => {
    const source = lambdaConfigs((await readModel(W06())).config)[0];
    const code = (source.function as string[])[0];
    for (const [to, name] of [['h5', 'm06.h5'], ['keras', 'm06.keras']] as const) {
      const out = join(dir, name);
      const r = await cli('convert', W06(), '--to', to, out);
      expect(r.code, r.err).toBe(0);
      const back = lambdaConfigs((await readModel(out)).config);
      expect(back).toHaveLength(1);
      const fn = back[0].function;
      expect(to === 'h5' ? (fn as string[])[0] : ((fn as JsonObject).config as JsonObject).code).toBe(code);
      const i = await cli('inspect', out, '--json');
      expect(JSON.parse(i.out).lambdas[0].expression).toBe('x[:, -1, :]');
    }
  });
});
