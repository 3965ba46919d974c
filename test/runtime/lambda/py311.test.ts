/**
 * Lambda functions compiled by Python 3.11 (fixtures/lambda/make_py311.py, committed with its output):
 * every whitelisted kind of expression must come back as the Python text it was written as, every
 * construct outside the whitelist must stop with its reason, and the NumPy-only functions must compute
 * what NumPy computed for them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runProgram } from '../../../src/runtime/lambda/execute.js';
import { translateLambda } from '../../../src/runtime/lambda/translate.js';
import { PySeq } from '../../../src/runtime/lambda/values.js';
import type { JsonObject, JsonValue } from '../../../src/model/types.js';
import { ROOT } from '../../helpers/paths.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  code: string;
  defaults: JsonValue;
  closure: JsonValue;
  arguments: JsonObject;
  expression?: string;
  reason?: string;
  inputs?: Arr[];
  output?: Arr;
}

const doc = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'lambda', 'py311.json'), 'utf8')) as { python: string; cases: Case[] };

/** The config tf.keras 2 writes for a Lambda (Keras 3's form is covered by the wild files). */
export function lambdaConfig(c: Pick<Case, 'name' | 'code' | 'defaults' | 'closure' | 'arguments'>): JsonObject {
  return { name: c.name, trainable: true, dtype: 'float32', function: [c.code, c.defaults, c.closure], function_type: 'lambda', module: '__main__', output_shape: null, output_shape_type: 'raw', output_shape_module: null, arguments: c.arguments };
}

describe(`Python ${doc.python} Lambda bytecode`, () => {
  it('has fixtures of both kinds', () => {
    expect(doc.python.startsWith('3.11')).toBe(true);
    expect(doc.cases.filter((c) => c.expression).length).toBeGreaterThan(40);
    expect(doc.cases.filter((c) => c.reason).length).toBeGreaterThan(10);
  });

  for (const c of doc.cases) {
    it(`${c.name}: ${c.expression ?? `refused (${c.reason})`}`, () => {
      const t = translateLambda(lambdaConfig(c));
      if (c.reason) {
        expect(t.ok).toBe(false);
        if (!t.ok) expect(t.reason).toContain(c.reason);
        return;
      }
      if (!t.ok) throw new Error(t.reason);
      expect(t.expression).toBe(c.expression);
      // Bytecode with no instruction whose form changed in 3.12 reads the same as 3.12's.
      expect(t.function.python).toContain('3.11');
      if (!c.output) return;
      const out = tf.tidy(() => {
        const inputs = c.inputs!.map((a) => tf.tensor(a.data, a.shape));
        const r = runProgram(t.program, inputs.length === 1 ? inputs[0] : new PySeq('list', inputs));
        if (Array.isArray(r)) throw new Error('one output expected');
        return { shape: r.shape, data: Array.from(r.dataSync()) };
      });
      expect(out.shape).toEqual(c.output.shape);
      out.data.forEach((v, i) => expect(Math.abs(v - c.output!.data[i])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(c.output!.data[i])));
    });
  }
});
