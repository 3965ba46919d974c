/** Format-blind mutations: truncation, bit flips, zeroed or filled ranges, inserted and removed bytes. */
import type { Rng } from './rng.js';

export interface ByteMutation {
  name: string;
  bytes: Uint8Array;
}

const RANGE_LENGTHS = [1, 2, 4, 8, 16, 64, 512, 4096];

function copy(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b);
}

export function truncate(rng: Rng, b: Uint8Array): ByteMutation {
  const at = rng.chance(0.1) ? 0 : rng.offset(b.length);
  return { name: 'truncate', bytes: b.slice(0, at) };
}

export function flipBits(rng: Rng, b: Uint8Array, headOnly = false): ByteMutation {
  const out = copy(b);
  const n = rng.pick([1, 1, 2, 3, 8, 32]);
  const span = headOnly ? Math.min(out.length, 1024) : out.length;
  for (let i = 0; i < n && span > 0; i++) {
    const at = headOnly ? rng.int(span) : rng.offset(span);
    out[at] ^= 1 << rng.int(8);
  }
  return { name: headOnly ? 'flip-head' : 'flip', bytes: out };
}

export function setBytes(rng: Rng, b: Uint8Array): ByteMutation {
  const out = copy(b);
  const n = rng.pick([1, 2, 4]);
  for (let i = 0; i < n && out.length; i++) out[rng.offset(out.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01, rng.int(256)]);
  return { name: 'set-byte', bytes: out };
}

export function fillRange(rng: Rng, b: Uint8Array): ByteMutation {
  const out = copy(b);
  if (!out.length) return { name: 'fill', bytes: out };
  const at = rng.offset(out.length);
  const len = Math.min(out.length - at, rng.pick(RANGE_LENGTHS));
  const kind = rng.pick(['zero', 'ff', 'random'] as const);
  for (let i = at; i < at + len; i++) out[i] = kind === 'zero' ? 0 : kind === 'ff' ? 0xff : rng.int(256);
  return { name: `fill-${kind}`, bytes: out };
}

export function insertBytes(rng: Rng, b: Uint8Array): ByteMutation {
  const at = rng.offset(b.length + 1);
  const extra = rng.chance(0.5) ? new Uint8Array(rng.pick(RANGE_LENGTHS)) : rng.bytes(rng.pick(RANGE_LENGTHS));
  const out = new Uint8Array(b.length + extra.length);
  out.set(b.subarray(0, at), 0);
  out.set(extra, at);
  out.set(b.subarray(at), at + extra.length);
  return { name: 'insert', bytes: out };
}

export function removeBytes(rng: Rng, b: Uint8Array): ByteMutation {
  const at = rng.offset(b.length);
  const len = Math.min(b.length - at, rng.pick(RANGE_LENGTHS));
  const out = new Uint8Array(b.length - len);
  out.set(b.subarray(0, at), 0);
  out.set(b.subarray(at + len), at);
  return { name: 'remove', bytes: out };
}

/** Copies a range of the file over another (a header where a data block belongs, and the reverse). */
export function copyRange(rng: Rng, b: Uint8Array): ByteMutation {
  const out = copy(b);
  if (out.length < 2) return { name: 'copy-range', bytes: out };
  const len = Math.min(rng.pick(RANGE_LENGTHS), out.length >> 1);
  const from = rng.int(out.length - len + 1);
  const to = rng.offset(out.length - len + 1);
  out.copyWithin(to, from, from + len);
  return { name: 'copy-range', bytes: out };
}

/** One random format-blind mutation. */
export function mutateBytes(rng: Rng, b: Uint8Array): ByteMutation {
  return rng.weighted<(r: Rng, x: Uint8Array) => ByteMutation>([
    [3, truncate],
    [4, (r, x) => flipBits(r, x)],
    [3, (r, x) => flipBits(r, x, true)],
    [2, setBytes],
    [3, fillRange],
    [1, insertBytes],
    [1, removeBytes],
    [1, copyRange],
  ])(rng, b);
}
