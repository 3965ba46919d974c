/**
 * One function per Python version, as that version's compiler lays it out. The real files give 3.8
 * (wild 06), 3.11 (wild 32) and 3.13 (wild 41): their bytes are decoded by hand below once. The other
 * versions are assembled here from each version's opcode table (CPython `Lib/opcode.py`, `dis` docs),
 * each instruction written out with its meaning; the translation must name the version(s) whose reading
 * of the bytes is the only one that evaluates, and recover the expression.
 */
import { describe, expect, it } from 'vitest';
import { readModel } from '../../../src/readers/index.js';
import { type LambdaTranslation, lambdaCodeBytes, translateLambda } from '../../../src/runtime/lambda/translate.js';
import type { JsonObject } from '../../../src/model/types.js';
import { type CodeSpec, base64, marshalCode } from '../../../fuzz/lib/marshal-writer.js';
import { wildFile } from '../../helpers/paths.js';
import { describeWild } from '../../helpers/wild.js';
import { lambdaConfigs } from '../../helpers/lambda-configs.js';

function translate(spec: CodeSpec, extra: JsonObject = {}): LambdaTranslation {
  return translateLambda({ name: 'l', function: [base64(marshalCode(spec)), null, null], function_type: 'lambda', arguments: {}, ...extra });
}

function ok(t: LambdaTranslation): Extract<LambdaTranslation, { ok: true }> {
  if (!t.ok) throw new Error(t.reason);
  return t;
}

const CACHE = (n: number) => Array<number>(2 * n).fill(0);

describe('Python 3.5 (one-byte instructions, three with an argument)', () => {
  // lambda x: K.sum(x[:, -1], axis=1)
  const code = [
    0x74, 0, 0, //    LOAD_GLOBAL 0 (K)
    0x6a, 1, 0, //    LOAD_ATTR 1 (sum)
    0x7c, 0, 0, //    LOAD_FAST 0 (x)
    0x64, 0, 0, //    LOAD_CONST 0 (None)
    0x64, 0, 0, //    LOAD_CONST 0 (None)
    0x85, 2, 0, //    BUILD_SLICE 2
    0x90, 0, 0, //    EXTENDED_ARG 0 (a no-op prefix: arg = 0 * 65536 + 1)
    0x64, 1, 0, //    LOAD_CONST 1 (-1)
    0x66, 2, 0, //    BUILD_TUPLE 2
    0x19, //          BINARY_SUBSCR (no argument bytes)
    0x64, 2, 0, //    LOAD_CONST 2 ('axis')
    0x64, 3, 0, //    LOAD_CONST 3 (1)
    0x83, 1, 1, //    CALL_FUNCTION 257: 1 positional, 1 keyword pair (name constant, value)
    0x53, //          RETURN_VALUE
  ];
  it('reads variable-length instructions, EXTENDED_ARG and 3.5 keyword calls', () => {
    const t = ok(translate({ layout: 'py35', code, consts: [null, -1, 'axis', 1], names: ['K', 'sum'] }));
    expect(t.expression).toBe('K.sum(x[:, -1], axis=1)');
    expect(t.function.python).toEqual(['3.5']);
    expect(t.function.listing.map((l) => l.name)).toContain('EXTENDED_ARG');
  });
});

describe('Python 3.6 and 3.7 (wordcode)', () => {
  // lambda x: K.concatenate([x[0], x[1]], axis=-1)
  const concat = [
    0x74, 0, //   LOAD_GLOBAL 0 (K)
    0x6a, 1, //   LOAD_ATTR 1 (concatenate)
    0x7c, 0, //   LOAD_FAST 0 (x)
    0x64, 1, //   LOAD_CONST 1 (0)
    0x19, 0, //   BINARY_SUBSCR
    0x7c, 0, //   LOAD_FAST 0 (x)
    0x64, 2, //   LOAD_CONST 2 (1)
    0x19, 0, //   BINARY_SUBSCR
    0x67, 2, //   BUILD_LIST 2
    0x90, 0, //   EXTENDED_ARG 0 (arg = 0 << 8 | 3)
    0x64, 3, //   LOAD_CONST 3 (-1)
    0x64, 4, //   LOAD_CONST 4 (('axis',))
    0x8d, 2, //   CALL_FUNCTION_KW 2: the last of 2 arguments is named by the tuple on top
    0x53, 0, //   RETURN_VALUE
  ];
  it('reads 3.6 keyword calls (names in a constant tuple); 3.7 reads the same bytes the same way', () => {
    const t = ok(translate({ layout: 'py35', code: concat, consts: [null, 0, 1, -1, ['axis']], names: ['K', 'concatenate'] }));
    expect(t.expression).toBe('K.concatenate([x[0], x[1]], axis=-1)');
    expect(t.function.python).toEqual(['3.6', '3.7']);
  });

  // lambda x: K.softmax(x)
  const method = [
    0x74, 0, //   LOAD_GLOBAL 0 (K)
    0xa0, 1, //   LOAD_METHOD 1 (softmax): 3.7's method call, an unknown opcode (160) in 3.6
    0x7c, 0, //   LOAD_FAST 0 (x)
    0xa1, 1, //   CALL_METHOD 1
    0x53, 0, //   RETURN_VALUE
  ];
  it('reads 3.7 method calls, which only 3.7 has', () => {
    const t = ok(translate({ layout: 'py35', code: method, consts: [null], names: ['K', 'softmax'] }));
    expect(t.expression).toBe('K.softmax(x)');
    expect(t.function.python).toEqual(['3.7']);
  });
});

describe('Python 3.9 and 3.10', () => {
  // lambda x: K.tile(x, [1, 2, 3]): from 3.9 a list of constants is BUILD_LIST 0 + LIST_EXTEND of a tuple.
  const code = [
    0x74, 0, //   LOAD_GLOBAL 0 (K)
    0x6a, 1, //   LOAD_ATTR 1 (tile)
    0x7c, 0, //   LOAD_FAST 0 (x)
    0x67, 0, //   BUILD_LIST 0
    0x64, 1, //   LOAD_CONST 1 ((1, 2, 3))
    0xa2, 1, //   LIST_EXTEND 1 (162: CALL_FINALLY in 3.8, which stops that reading)
    0x83, 2, //   CALL_FUNCTION 2
    0x53, 0, //   RETURN_VALUE
  ];
  it('reads LIST_EXTEND (3.9+): straight-line 3.9 and 3.10 bytecode is the same', () => {
    const t = ok(translate({ layout: 'py38', code, consts: [null, [1, 2, 3]], names: ['K', 'tile'] }));
    expect(t.expression).toBe('K.tile(x, [1, 2, 3])');
    expect(t.function.python).toEqual(['3.9', '3.10']);
  });
});

describe('Python 3.12 (LOAD_ATTR method bit, 4-entry LOAD_GLOBAL and 9-entry LOAD_ATTR caches, no PRECALL)', () => {
  // lambda x: K.sum(x, axis=1)
  const code = [
    0x97, 0, //               RESUME 0
    0x74, 0, ...CACHE(4), //  LOAD_GLOBAL 0 (K): arg >> 1 is the name, low bit clear: no NULL
    0x6a, 3, ...CACHE(9), //  LOAD_ATTR 3: name 3 >> 1 = 1 (sum), low bit set: method form (NULL + callable)
    0x7c, 0, //               LOAD_FAST 0 (x)
    0x64, 1, //               LOAD_CONST 1 (1)
    0xac, 2, //               KW_NAMES 2 (('axis',))
    0xab, 2, ...CACHE(3), //  CALL 2
    0x53, 0, //               RETURN_VALUE
  ];
  it('reads it as 3.12 only (3.11 caches are longer, 3.13 numbers differ)', () => {
    const t = ok(translate({ layout: 'py311', code, consts: [null, 1, ['axis']], names: ['K', 'sum'] }));
    expect(t.expression).toBe('K.sum(x, axis=1)');
    expect(t.function.python).toEqual(['3.12']);
  });

  // lambda x: x[1:3]: 3.12 compiles a two-part slice subscript to BINARY_SLICE.
  it('reads BINARY_SLICE', () => {
    const slice = [0x97, 0, 0x7c, 0, 0x64, 1, 0x64, 2, 0x1a, 0, 0x53, 0];
    const t = ok(translate({ layout: 'py311', code: slice, consts: [null, 1, 3] }));
    expect(t.expression).toBe('x[1:3]');
    expect(t.function.python).toEqual(['3.12']);
  });
});

/** The function bytes of a wild file's Lambda layer. */
async function wildLambda(id: string, file: string, layer: string): Promise<JsonObject> {
  const model = await readModel(wildFile(id, file));
  const found = lambdaConfigs(model.config).filter((c) => c.name === layer).pop();
  if (!found) throw new Error(`no Lambda "${layer}" in ${id}`);
  return found;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

describeWild('real files', () => {
  it('wild 06 (Python 3.8): lambda x: x[:, -1, :]', async () => {
    const config = await wildLambda('06_ids_lstm_dot_attention', 'LSTM_model.h5', 'last_hidden_state');
    const fn = config.function as string[];
    // e3 | 01000000 00000000 00000000 01000000 05000000 53000000: argcount 1, posonlyargcount 0 (3.8+),
    // kwonlyargcount 0, nlocals 1, stacksize 5, flags 0x53; then co_code as 's' (0x73) of 0x16 bytes:
    const bytes = lambdaCodeBytes(fn[0]);
    expect(hex(bytes.subarray(0, 30))).toBe('e3 01 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 05 00 00 00 53 00 00 00 73 16 00 00 00');
    // 7c 00  LOAD_FAST 0 (x)          64 00  LOAD_CONST 0 (None)     64 00  LOAD_CONST 0 (None)
    // 85 02  BUILD_SLICE 2            64 01  LOAD_CONST 1 (-1)       64 00  LOAD_CONST 0 (None)
    // 64 00  LOAD_CONST 0 (None)      85 02  BUILD_SLICE 2           66 03  BUILD_TUPLE 3
    // 19 00  BINARY_SUBSCR            53 00  RETURN_VALUE
    expect(hex(bytes.subarray(30, 52))).toBe('7c 00 64 00 64 00 85 02 64 01 64 00 64 00 85 02 66 03 19 00 53 00');
    const t = ok(translateLambda(config));
    expect(t.expression).toBe('x[:, -1, :]');
    expect(t.function.python).toEqual(['3.8', '3.9', '3.10']);
    expect(t.function.listing.map((l) => `${l.name}${l.arg === undefined ? '' : ` ${l.arg}`}`)).toEqual([
      'LOAD_FAST 0', 'LOAD_CONST 0', 'LOAD_CONST 0', 'BUILD_SLICE 2', 'LOAD_CONST 1', 'LOAD_CONST 0', 'LOAD_CONST 0',
      'BUILD_SLICE 2', 'BUILD_TUPLE 3', 'BINARY_SUBSCR', 'RETURN_VALUE',
    ]);
  });

  it('wild 32 (Python 3.11, with a specialized opcode): the two-input attention sum', async () => {
    const config = await wildLambda('32_volatility_lstm_softmax_lambda_k213', 'attention_model.h5', 'lambda');
    const bytes = lambdaCodeBytes((config.function as string[])[0]);
    // After the 5 ints of the 3.11 layout and 's' of 0x3e bytes (offsets into co_code):
    //  0 97 00  RESUME 0
    //  2 7c 00  LOAD_FAST 0 (inputs)
    //  4 2f 02  opcode 47, which 3.11's base table leaves free: a specialized instruction; with one cache
    //    00 00  entry and two STORE_FASTs after it, only UNPACK_SEQUENCE 2 evaluates
    //  8 7d 01  STORE_FAST 1 (attention)      10 7d 02  STORE_FAST 2 (lstm_output)
    // 12 74 01  LOAD_GLOBAL 1: name 0 (tf), low bit: NULL first; 5 cache entries
    // 24 6a 01  LOAD_ATTR 1 (reduce_sum); 4 cache entries
    // 34 7c 01  LOAD_FAST 1    36 7c 02  LOAD_FAST 2    38 7a 05  BINARY_OP 5 (*); 1 cache entry
    // 42 64 01  LOAD_CONST 1 (1)    44 ac 02  KW_NAMES 2 (('axis',))    46 a6 02  PRECALL 2; 1 cache entry
    // 50 ab 02  CALL 2; 4 cache entries      60 53 00  RETURN_VALUE
    expect(hex(bytes.subarray(26, 36))).toBe('97 00 7c 00 2f 02 00 00 7d 01');
    const t = ok(translateLambda(config));
    expect(t.expression).toBe('attention, lstm_output = inputs; return tf.reduce_sum(attention * lstm_output, axis=1)');
    expect(t.function.python).toEqual(['3.11']);
    const unpack = t.function.listing.find((l) => l.offset === 4)!;
    expect(unpack).toMatchObject({ opcode: 47, name: 'UNPACK_SEQUENCE', arg: 2, specialized: true });
  });

  it('wild 41 (Python 3.13): the four Lambdas of a hand-made scaled dot-product attention', async () => {
    const scores = await wildLambda('41_pulkit_lambda_sdpa_k313_archive', 'attention_model.keras', 'attention_scores');
    const bytes = lambdaCodeBytes((scores.function as JsonObject & { config: { code: string } }).config.code);
    // 3.13 renumbered the opcodes:
    //   0 95 00  RESUME 0                       2 5b 00  LOAD_GLOBAL 0 (tf); 4 cache entries
    //  12 52 03  LOAD_ATTR 3: name 1 (matmul), method form (callable, then NULL); 9 cache entries
    //  32 55 00  LOAD_FAST 0 (x)   34 53 01  LOAD_CONST 1 (0)   36 05 00  BINARY_SUBSCR; 1 cache entry
    //  40 55 00  LOAD_FAST 0 (x)   42 53 02  LOAD_CONST 2 (1)   44 05 00  BINARY_SUBSCR; 1 cache entry
    //  48 53 03  LOAD_CONST 3 (True)   50 53 04  LOAD_CONST 4 (('transpose_b',))   52 39 03  CALL_KW 3
    //  ... tf.sqrt(tf.cast(tf.shape(x[0])[-1], tf.float32)) through CALL 1/2/1 (3 cache entries each),
    // 212 2c 0b  BINARY_OP 11 (/); 1 cache entry     216 24 00  RETURN_VALUE
    expect(hex(bytes.subarray(26, 40))).toBe('95 00 5b 00 00 00 00 00 00 00 00 00 52 03');
    const expected: Record<string, string> = {
      lag_slice: 'x[:, -7:]',
      attention_scores: 'tf.matmul(x[0], x[1], transpose_b=True) / tf.sqrt(tf.cast(tf.shape(x[0])[-1], tf.float32))',
      attention_context: 'tf.matmul(x[0], x[1])',
      other_slice: 'x[:, :-7]',
    };
    for (const [layer, text] of Object.entries(expected)) {
      const t = ok(translateLambda(await wildLambda('41_pulkit_lambda_sdpa_k313_archive', 'attention_model.keras', layer)));
      expect(t.expression).toBe(text);
      expect(t.function.python).toEqual(['3.13']);
    }
  });
});
