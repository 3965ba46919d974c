/**
 * The marshal reader: every type code a code object's constants use, back-references, the three
 * code-object layouts, and bad bytes (cut short at every length, flipped, lying lengths, cycles, deep
 * nesting), which must all end in a MarshalError that names the offset, never in anything else.
 */
import { describe, expect, it } from 'vitest';
import { MarshalError, type PyObject, readCodeObject } from '../../../src/runtime/lambda/marshal.js';
import { mulberry32 } from '../../../fuzz/lib/rng.js';
import { marshalCode } from '../../../fuzz/lib/marshal-writer.js';

const LAMBDA_LAST = [0x7c, 0, 0x64, 0, 0x64, 0, 0x85, 2, 0x64, 1, 0x64, 0, 0x64, 0, 0x85, 2, 0x66, 3, 0x19, 0, 0x53, 0];

function constsOf(bytes: Uint8Array): PyObject[] {
  return readCodeObject(bytes).code.consts;
}

describe('marshal reader', () => {
  it('reads every constant type a code object holds', () => {
    const bytes = marshalCode({
      layout: 'py38',
      code: LAMBDA_LAST,
      consts: [null, true, false, 7, -(2n ** 70n), 2n ** 40n, { float: -1.5 }, 'axis', 'ünïcode', [1, [2, 'a']], { ellipsis: true }],
    });
    const c = constsOf(bytes);
    expect(c.map((o) => o.t)).toEqual(['none', 'bool', 'bool', 'int', 'int', 'int', 'float', 'str', 'str', 'tuple', 'ellipsis']);
    expect(c[4]).toEqual({ t: 'int', v: -(2n ** 70n) });
    expect(c[5]).toEqual({ t: 'int', v: 2n ** 40n });
    expect(c[6]).toEqual({ t: 'float', v: -1.5 });
    expect(c[8]).toEqual({ t: 'str', v: 'ünïcode' });
    expect(c[9]).toEqual({ t: 'tuple', items: [{ t: 'int', v: 1n }, { t: 'tuple', items: [{ t: 'int', v: 2n }, { t: 'str', v: 'a' }] }] });
  });

  it('numbers flagged objects from where they start, and resolves references to them', () => {
    // Ref 0 is the code object itself (flagged, started first); ref 1 the flagged string.
    const bytes = marshalCode({ layout: 'py311', code: [0x97, 0, 0x53, 0], consts: [{ flagged: 'shared' }, { ref: 1 }] });
    const c = constsOf(bytes);
    expect(c[1]).toEqual({ t: 'str', v: 'shared' });
  });

  it('refuses a reference to an object still being read, and one past those read', () => {
    const cycle = marshalCode({ layout: 'py311', code: [0x97, 0, 0x53, 0], consts: [{ ref: 0 }] });
    expect(() => readCodeObject(cycle)).toThrow(/still being read|no code object/);
    const ahead = marshalCode({ layout: 'py311', code: [0x97, 0, 0x53, 0], consts: [{ ref: 5 }] });
    expect(() => readCodeObject(ahead)).toThrow(MarshalError);
  });

  it('tells the three code-object layouts apart', () => {
    for (const layout of ['py35', 'py38', 'py311'] as const) {
      const code = readCodeObject(marshalCode({ layout, code: LAMBDA_LAST, consts: [null, -1], varnames: ['x', 'y'], argcount: 2 })).code;
      expect(code.layout).toBe(layout);
      expect(code.varnames).toEqual(['x', 'y']);
      expect(code.argcount).toBe(2);
    }
  });

  it('reads 3.11 cell and free variables from co_localspluskinds', () => {
    const code = readCodeObject(marshalCode({ layout: 'py311', code: [0x97, 0, 0x53, 0], varnames: ['x'], cellvars: ['x'], freevars: ['k'] })).code;
    expect(code.varnames).toEqual(['x']);
    expect(code.freevars).toEqual(['k']);
    expect(code.derefNames).toEqual(['x', 'k']);
  });

  it('refuses what is no Python 3 code object', () => {
    // Python 2's code object has four ints (argcount, nlocals, stacksize, flags) before co_code.
    const py2 = [0x63, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x43, 0, 0, 0, 0x73, 4, 0, 0, 0, 0x7c, 0, 0, 0x53];
    expect(() => readCodeObject(Uint8Array.from(py2))).toThrow(/no code object of Python 3.5 to 3.13/);
    expect(() => readCodeObject(Uint8Array.from([0x4e]))).toThrow(/expected a code object/);
    expect(() => readCodeObject(new Uint8Array(0))).toThrow(MarshalError);
  });

  it('checks declared lengths against the bytes left before allocating', () => {
    const bytes = marshalCode({ layout: 'py38', code: LAMBDA_LAST, consts: [null, -1] });
    // co_code's length field sits after 'c' and six ints: make it 2^31 - 1.
    const lying = bytes.slice();
    new DataView(lying.buffer).setInt32(1 + 24 + 1, 0x7fffffff, true);
    expect(() => readCodeObject(lying)).toThrow(/bytes are left|no code object/);
  });

  it('bounds nesting', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    const bytes = marshalCode({ layout: 'py38', code: LAMBDA_LAST, consts: [deep as never] });
    expect(() => readCodeObject(bytes)).toThrow(/nested deeper than 64|no code object/);
  });

  it('ends every cut-short or corrupted stream in a MarshalError', () => {
    const bytes = marshalCode({ layout: 'py311', code: [0x97, 0, 0x7c, 0, 0x53, 0], consts: [null, 'axis', [1, 2], { float: 2 }] });
    for (let n = 0; n < bytes.length; n++) {
      expect(() => readCodeObject(bytes.subarray(0, n))).toThrow(MarshalError);
    }
    const rand = mulberry32(5);
    for (let i = 0; i < 2000; i++) {
      const b = bytes.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let j = 0; j < flips; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        readCodeObject(b);
      } catch (e) {
        expect(e).toBeInstanceOf(MarshalError);
      }
    }
  });
});
