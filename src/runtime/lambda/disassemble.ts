/**
 * Bytecode → instructions, for one Python version: 3.5's one- or three-byte instructions, 3.6+'s two-byte
 * wordcode, `EXTENDED_ARG` prefixes, and from 3.11 the inline cache entries after each instruction.
 *
 * An opcode the version's table does not name is, from 3.11 on, a specialized instruction (see
 * opcodes.ts): it is read as each instruction the version specializes, and each reading is kept for the
 * evaluator to try (a wrong one stops at a stack or name mismatch). Readings multiply, so the number of
 * such opcodes and of readings is bounded.
 */
import { type OpcodeTable } from './opcodes.js';

export interface Instruction {
  /** Byte offset in `co_code`. */
  offset: number;
  /** The opcode as the bytes have it. */
  opcode: number;
  /** Its name in this version; for a specialized opcode, the instruction it is read as. */
  name: string;
  /** The argument with every `EXTENDED_ARG` prefix applied (0 when the instruction takes none). */
  arg: number;
  /** Inline cache entries that follow it (3.11+). */
  caches: number;
  /** True when `opcode` is not in the table and is read as a specialized form of `name`. */
  specialized: boolean;
  /** True when a cache entry after it is not zero (CPython zeroes them when it marshals code). */
  dirtyCache: boolean;
}

export interface Reading {
  instructions: Instruction[];
  /** How many opcodes were read as specialized forms. */
  specialized: number;
  /** How many instructions had a non-zero cache entry. */
  dirtyCaches: number;
}

export class DisassemblyError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset} of the bytecode)`);
    this.name = 'DisassemblyError';
  }
}

export interface DisassembleLimits {
  /** Most instructions in one code object. */
  maxInstructions: number;
  /** Most opcodes read as specialized forms in one reading. */
  maxSpecialized: number;
  /** Most readings kept. */
  maxReadings: number;
}

export const DEFAULT_DISASSEMBLE_LIMITS: DisassembleLimits = { maxInstructions: 5000, maxSpecialized: 2, maxReadings: 256 };

const CACHE = 0;

/**
 * Every reading of `code` under `table`: exactly one when the table names every opcode. Throws
 * `DisassemblyError` when there is none (truncated instruction, a cache entry where an instruction should
 * be, too many instructions or specialized opcodes).
 */
export function disassemble(code: Uint8Array, table: OpcodeTable, limits: DisassembleLimits = DEFAULT_DISASSEMBLE_LIMITS): Reading[] {
  const readings: Reading[] = [];
  let firstError: DisassemblyError | undefined;
  const cacheOp = table.numbers.get('CACHE');

  // Straight-line decoding in a loop; a copy of the reading so far only where an opcode has several readings.
  const walk = (start: number, prefix: Instruction[], ext0: number, specialized0: number, dirty0: number): void => {
    const acc = prefix;
    let pos = start;
    let ext = ext0;
    let specialized = specialized0;
    let dirty = dirty0;
    for (;;) {
      if (readings.length >= limits.maxReadings) return;
      if (pos === code.length) {
        if (ext !== 0) return fail(new DisassemblyError('EXTENDED_ARG at the end of the code', pos));
        readings.push({ instructions: acc, specialized, dirtyCaches: dirty });
        return;
      }
      if (acc.length >= limits.maxInstructions) return fail(new DisassemblyError(`more than ${limits.maxInstructions} instructions`, pos));
      const opcode = code[pos];
      let arg: number;
      let size: number;
      if (table.wordcode) {
        if (pos + 2 > code.length) return fail(new DisassemblyError('an instruction cut short', pos));
        arg = ext * 256 + code[pos + 1];
        size = 2;
      } else if (opcode >= table.haveArgument) {
        if (pos + 3 > code.length) return fail(new DisassemblyError('an instruction cut short', pos));
        arg = ext * 65536 + (code[pos + 1] | (code[pos + 2] << 8));
        size = 3;
      } else {
        arg = 0;
        size = 1;
      }
      // CPython's own arguments fit 32 bits; a longer EXTENDED_ARG chain is not bytecode it wrote.
      if (arg > 0xffffffff) return fail(new DisassemblyError('an argument wider than 32 bits', pos));
      if (cacheOp !== undefined && opcode === cacheOp) return fail(new DisassemblyError('a CACHE entry where an instruction should be', pos));
      const name = table.names.get(opcode);
      let candidates: { name: string; specialized: boolean }[];
      if (name) candidates = [{ name, specialized: false }];
      else if (table.specializable.length === 0) candidates = [{ name: `<${opcode}>`, specialized: false }];
      else if (specialized >= limits.maxSpecialized) {
        return fail(new DisassemblyError(`more than ${limits.maxSpecialized} opcodes this version does not name (${opcode})`, pos));
      } else candidates = table.specializable.map((n) => ({ name: n, specialized: true }));
      const next: { ins: Instruction; end: number }[] = [];
      for (const c of candidates) {
        const caches = table.caches.get(c.name) ?? 0;
        const end = pos + size + 2 * caches;
        if (end > code.length) {
          fail(new DisassemblyError(`${c.name} needs ${caches} cache entries after it, past the end of the code`, pos));
          continue;
        }
        let dirtyCache = false;
        for (let i = pos + size; i < end; i++) if (code[i] !== 0) dirtyCache = true;
        next.push({ ins: { offset: pos, opcode, name: c.name, arg, caches, specialized: c.specialized, dirtyCache }, end });
      }
      if (next.length !== 1) {
        for (const n of next) {
          walk(n.end, [...acc, n.ins], n.ins.name === 'EXTENDED_ARG' ? arg : 0, specialized + 1, dirty);
        }
        return;
      }
      const { ins, end } = next[0];
      acc.push(ins);
      pos = end;
      ext = ins.name === 'EXTENDED_ARG' ? arg : 0;
      if (ins.specialized) specialized++;
      else if (ins.dirtyCache) dirty++;
    }
  };
  const fail = (e: DisassemblyError): void => {
    firstError ??= e;
  };
  walk(0, [], 0, 0, 0);
  if (readings.length === 0) throw firstError ?? new DisassemblyError('no reading of the bytecode', 0);
  return readings;
}
