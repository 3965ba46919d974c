/**
 * Translating a Lambda config: both generations' config forms, parameter binding (arguments, defaults,
 * closure, mask, training), the evaluator's bounds (stack depth, expression size, specialized opcodes)
 * and the reasons it gives when it stops.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DISASSEMBLE_LIMITS, disassemble } from '../../../src/runtime/lambda/disassemble.js';
import { OPCODE_TABLES } from '../../../src/runtime/lambda/opcodes.js';
import { type LambdaTranslation, lambdaCodeBytes, translateLambda } from '../../../src/runtime/lambda/translate.js';
import type { JsonObject } from '../../../src/model/types.js';
import { type CodeSpec, base64, marshalCode } from '../../../fuzz/lib/marshal-writer.js';

// lambda x, axis: K.sum(x, axis=axis), as Python 3.8 compiles it.
const SUM_AXIS: CodeSpec = {
  layout: 'py38',
  argcount: 2,
  varnames: ['x', 'axis'],
  names: ['K', 'sum'],
  consts: [null, ['axis']],
  // LOAD_GLOBAL 0 (K), LOAD_ATTR 1 (sum), LOAD_FAST 0 (x), LOAD_FAST 1 (axis), LOAD_CONST 1 (('axis',)),
  // CALL_FUNCTION_KW 2, RETURN_VALUE
  code: [0x74, 0, 0x6a, 1, 0x7c, 0, 0x7c, 1, 0x64, 1, 0x8d, 2, 0x53, 0],
};

function keras2(spec: CodeSpec, extra: JsonObject = {}): JsonObject {
  return { name: 'l', trainable: true, dtype: 'float32', function: [base64(marshalCode(spec)), null, null], function_type: 'lambda', arguments: {}, ...extra };
}

function reason(t: LambdaTranslation): string {
  if (t.ok) throw new Error(`translated: ${t.expression}`);
  return t.reason;
}

describe('Lambda configs', () => {
  it('reads the Keras 3 form and binds arguments by name', () => {
    const config = {
      name: 'l',
      function: { class_name: '__lambda__', config: { code: base64(marshalCode(SUM_AXIS)), defaults: null, closure: null } },
      arguments: { axis: [1, 2] },
    };
    const t = translateLambda(config);
    if (!t.ok) throw new Error(t.reason);
    expect(t.expression).toBe('K.sum(x, axis=axis)');
    expect(t.program.bound).toEqual([{ name: 'axis', value: { k: 'list', items: [{ k: 'int', v: 1 }, { k: 'int', v: 2 }] }, from: 'arguments' }]);
  });

  it('takes positional defaults, passes training=False, and refuses parameters nothing fills', () => {
    const defaults = translateLambda(keras2(SUM_AXIS, { function: [base64(marshalCode(SUM_AXIS)), [-1], null] }));
    expect(defaults.ok && defaults.program.bound[0]).toEqual({ name: 'axis', value: { k: 'int', v: -1 }, from: 'default' });
    const training = translateLambda(keras2({ ...SUM_AXIS, varnames: ['x', 'training'], code: [0x7c, 0, 0x53, 0] }));
    expect(training.ok && training.program.bound[0]).toEqual({ name: 'training', value: { k: 'bool', v: false }, from: 'keras' });
    expect(reason(translateLambda(keras2(SUM_AXIS)))).toMatch(/parameter "axis" gets no value/);
    expect(reason(translateLambda(keras2(SUM_AXIS, { arguments: { axis: 1, other: 2 } })))).toMatch(/"other", which the function has no parameter for/);
  });

  it('names what it will not translate in the config itself', () => {
    expect(reason(translateLambda(keras2(SUM_AXIS, { function: 'my_module.my_function', function_type: 'function' })))).toMatch(/named by reference/);
    expect(reason(translateLambda({ name: 'l', function: { class_name: 'function', config: 'my_fn' } }))).toMatch(/named by reference/);
    expect(reason(translateLambda(keras2(SUM_AXIS, { mask: 'x' })))).toMatch(/mask/);
    expect(reason(translateLambda(keras2(SUM_AXIS, { surprise: 1 })))).toMatch(/config keys not understood: surprise/);
    expect(reason(translateLambda(keras2(SUM_AXIS, { function: ['bm90IGNvZGU=', null, null] })))).toMatch(/cannot be read/);
  });

  it('reads the raw_unicode_escape form of Keras before 2.1', () => {
    const bytes = marshalCode({ layout: 'py35', code: [0x7c, 0, 0, 0x53], consts: [null] });
    const raw = String.fromCharCode(...bytes);
    expect(lambdaCodeBytes(raw)).toEqual(bytes);
    expect(lambdaCodeBytes(base64(bytes))).toEqual(bytes);
    const t = translateLambda(keras2({ layout: 'py35', code: [0x7c, 0, 0, 0x53] }, { function: [raw, null, null] }));
    expect(t.ok && t.expression).toBe('x');
  });
});

describe('the evaluator stops', () => {
  it('at expressions that would blow up when written out (shared sub-expressions)', () => {
    // LOAD_FAST x, then 20 x (DUP_TOP, BINARY_ADD): x + x, (x + x) + (x + x), ... 2^20 leaves.
    const code = [0x7c, 0, ...Array.from({ length: 20 }, () => [0x04, 0, 0x17, 0]).flat(), 0x53, 0];
    expect(reason(translateLambda(keras2({ layout: 'py38', code, stacksize: 2 })))).toMatch(/grows past 5000 nodes/);
  });

  it('at a stack deeper than the code declares, and at popping an empty one', () => {
    const deep = [0x7c, 0, 0x7c, 0, 0x7c, 0, 0x17, 0, 0x17, 0, 0x53, 0];
    expect(reason(translateLambda(keras2({ layout: 'py38', code: deep, stacksize: 2 })))).toMatch(/declared depth 2/);
    expect(translateLambda(keras2({ layout: 'py38', code: deep, stacksize: 3 })).ok).toBe(true);
    expect(reason(translateLambda(keras2({ layout: 'py38', code: [0x17, 0, 0x53, 0] })))).toMatch(/empty stack|pops/);
  });

  it('at code that never returns, and at globals that are not whitelisted modules', () => {
    expect(reason(translateLambda(keras2({ layout: 'py38', code: [0x7c, 0, 0x01, 0] })))).toMatch(/ends without returning/);
    const os = { layout: 'py38' as const, names: ['os', 'system'], code: [0x74, 0, 0x6a, 1, 0x7c, 0, 0x83, 1, 0x53, 0] };
    expect(reason(translateLambda(keras2(os)))).toMatch(/os\.system\(\) is not a whitelisted function/);
  });

  it('bounds the readings of unnamed (specialized) opcodes', () => {
    // 3.11: RESUME, then 30 opcodes 3.11 does not name (more than the longest cache run can cover).
    const code = Uint8Array.from([0x97, 0, ...Array.from({ length: 30 }, () => [3, 1]).flat(), 0x53, 0]);
    expect(() => disassemble(code, OPCODE_TABLES['3.11'])).toThrow(/more than 2 opcodes/);
    const readings = disassemble(Uint8Array.from([0x97, 0, 3, 0, 0x53, 0]), OPCODE_TABLES['3.11']);
    expect(readings.length).toBeGreaterThan(1);
    expect(readings.length).toBeLessThanOrEqual(DEFAULT_DISASSEMBLE_LIMITS.maxReadings);
    expect(readings.every((r) => r.specialized === 1)).toBe(true);
  });
});
