/**
 * A readable disassembly of one reading of a code object, in the style of Python's `dis`: offset,
 * instruction, argument and what the argument means (the constant, the name, the operator). It is what
 * `inspect --json` shows for every Lambda, so that a user can write the replacement by hand when the
 * translation stops.
 */
import type { Instruction } from './disassemble.js';
import { constExpr } from './evaluate.js';
import { formatExpr } from './ir.js';
import type { CodeObject } from './marshal.js';
import { COMPARE_OPS, NB_OPS, type PyVersion, compareShift } from './opcodes.js';

export interface ListingLine {
  offset: number;
  opcode: number;
  name: string;
  arg?: number;
  /** What the argument means: `1 (axis)`, `('axis',)`, `reduce_sum + NULL`. */
  argrepr?: string;
  /** Set when the opcode is not in the version's table and was read as a specialized form of `name`. */
  specialized?: boolean;
}

const NAME_ARGS = new Set([
  'LOAD_NAME', 'STORE_NAME', 'DELETE_NAME', 'LOAD_METHOD', 'STORE_ATTR', 'DELETE_ATTR', 'STORE_GLOBAL',
  'DELETE_GLOBAL', 'IMPORT_NAME', 'IMPORT_FROM', 'LOAD_FROM_DICT_OR_GLOBALS',
]);
const LOCAL_ARGS = new Set(['LOAD_FAST', 'STORE_FAST', 'DELETE_FAST', 'LOAD_FAST_CHECK', 'LOAD_FAST_AND_CLEAR']);
const PAIR_ARGS = new Set(['LOAD_FAST_LOAD_FAST', 'STORE_FAST_LOAD_FAST', 'STORE_FAST_STORE_FAST']);
const DEREF_ARGS = new Set(['LOAD_DEREF', 'STORE_DEREF', 'DELETE_DEREF', 'LOAD_CLOSURE', 'MAKE_CELL', 'LOAD_CLASSDEREF', 'LOAD_FROM_DICT_OR_DEREF']);
const CONST_ARGS = new Set(['LOAD_CONST', 'RETURN_CONST', 'KW_NAMES']);
const INTRINSICS: Readonly<Record<number, string>> = { 5: 'INTRINSIC_UNARY_POSITIVE', 6: 'INTRINSIC_LIST_TO_TUPLE' };

function argRepr(ins: Instruction, code: CodeObject, version: PyVersion): string | undefined {
  const modern = code.layout === 'py311';
  const a = ins.arg;
  const at = (list: readonly string[], i: number) => list[i] ?? `<${i}?>`;
  const locals = modern ? code.derefNames : code.varnames;
  if (CONST_ARGS.has(ins.name)) {
    const c = code.consts[a];
    if (!c) return `<${a}?>`;
    const e = constExpr(c);
    return typeof e === 'string' ? e : formatExpr(e);
  }
  if (LOCAL_ARGS.has(ins.name)) return at(locals, a);
  if (PAIR_ARGS.has(ins.name)) return `${at(locals, a >> 4)}, ${at(locals, a & 15)}`;
  if (DEREF_ARGS.has(ins.name)) return at(code.derefNames, a);
  if (NAME_ARGS.has(ins.name)) return at(code.names, a);
  if (ins.name === 'LOAD_GLOBAL') return modern ? `${at(code.names, a >> 1)}${a & 1 ? ' + NULL' : ''}` : at(code.names, a);
  if (ins.name === 'LOAD_ATTR') {
    return version === '3.12' || version === '3.13' ? `${at(code.names, a >> 1)}${a & 1 ? ' + NULL|self' : ''}` : at(code.names, a);
  }
  if (ins.name === 'COMPARE_OP') return COMPARE_OPS[a >> compareShift(version)] ?? `<${a}?>`;
  if (ins.name === 'BINARY_OP') return NB_OPS[a] ?? `<${a}?>`;
  if (ins.name === 'CALL_INTRINSIC_1') return INTRINSICS[a];
  return undefined;
}

/** Arguments only where the instruction takes one (3.5's short instructions and 3.6+'s with a zero byte alike). */
function takesArg(ins: Instruction, version: PyVersion): boolean {
  return version === '3.5' ? ins.opcode >= 90 : ins.opcode >= (version === '3.13' ? 44 : 90) || ins.specialized;
}

export function listing(instructions: readonly Instruction[], code: CodeObject, version: PyVersion): ListingLine[] {
  return instructions.map((ins) => {
    const line: ListingLine = { offset: ins.offset, opcode: ins.opcode, name: ins.name };
    if (takesArg(ins, version)) line.arg = ins.arg;
    const repr = argRepr(ins, code, version);
    if (repr !== undefined) line.argrepr = repr;
    if (ins.specialized) line.specialized = true;
    return line;
  });
}

/** The listing as text, one instruction a line: `   4 LOAD_GLOBAL          1 (tf + NULL)`. */
export function formatListing(lines: readonly ListingLine[]): string {
  return lines
    .map((l) => {
      const arg = l.arg === undefined ? '' : String(l.arg);
      const repr = l.argrepr === undefined ? '' : ` (${l.argrepr})`;
      const spec = l.specialized ? `  [opcode ${l.opcode}, a specialized form]` : '';
      return `${String(l.offset).padStart(5)} ${l.name.padEnd(22)} ${arg.padStart(3)}${repr}${spec}`.trimEnd();
    })
    .join('\n');
}
