/**
 * What the writers produce: a file as parts written back to back. A part is bytes in hand (headers,
 * JSON, a weight's own bytes viewed without a copy) or a deferred part, whose bytes are made only when
 * it is written: a weight read from its still-open source then (`streamWeights`), converted, written
 * and dropped. Writing a file therefore holds one weight at a time, whatever the model's size.
 */
import { KerasInteropError } from '../errors.js';

export interface DeferredPart {
  /** Known up front (a file's layout needs every part's size before any is made). */
  readonly size: number;
  bytes(): Uint8Array;
}

export type Part = Uint8Array | DeferredPart;

/** Bytes to write at an offset after every part is written (a zip header's CRC, known only then). */
export interface Patch {
  offset: number;
  bytes: Uint8Array;
}

export function partSize(p: Part): number {
  return p instanceof Uint8Array ? p.length : p.size;
}

export function partsSize(parts: readonly Part[]): number {
  return parts.reduce((a, p) => a + partSize(p), 0);
}

/** A part's bytes, made now if it is deferred; a deferred part must make exactly the bytes it announced. */
export function partBytes(p: Part, file?: string): Uint8Array {
  if (p instanceof Uint8Array) return p;
  const b = p.bytes();
  if (b.length !== p.size) {
    throw new KerasInteropError('WRITE_FAILED', `a part announced ${p.size} bytes but made ${b.length}`, file === undefined ? {} : { file });
  }
  return b;
}

/** Fills `out` with the parts in order, yielding the bytes filled after each part. */
function* fill(parts: readonly Part[], out: Uint8Array): Generator<number> {
  let at = 0;
  for (const p of parts) {
    const b = partBytes(p);
    out.set(b, at);
    at += b.length;
    yield at;
  }
}

function applyPatches(out: Uint8Array, patches?: () => Patch[]): Uint8Array {
  for (const patch of patches?.() ?? []) out.set(patch.bytes, patch.offset);
  return out;
}

/** The parts in one buffer, with `patches` applied (for callers that want the file's bytes in memory). */
export function concatParts(parts: readonly Part[], patches?: () => Patch[]): Uint8Array {
  const out = new Uint8Array(partsSize(parts));
  for (const _ of fill(parts, out)) void _;
  return applyPatches(out, patches);
}

/** `concatParts`, telling `onBytes` how many bytes are done after each part (and waiting for it: a page repaints). */
export async function concatPartsReporting(parts: readonly Part[], onBytes: (done: number) => void | Promise<void>, patches?: () => Patch[]): Promise<Uint8Array> {
  const out = new Uint8Array(partsSize(parts));
  for (const done of fill(parts, out)) await onBytes(done);
  return applyPatches(out, patches);
}

/**
 * A deferred part's bytes cut into consecutive pieces (tfjs shards cut weights at shard borders): the
 * pieces share one made copy, kept only while pieces of it are being written in order.
 */
export function slicePart(p: Part, cuts: { start: number; end: number }[]): Part[] {
  if (p instanceof Uint8Array) return cuts.map((c) => p.subarray(c.start, c.end));
  let made: Uint8Array | undefined;
  let left = cuts.length;
  return cuts.map((c) => ({
    size: c.end - c.start,
    bytes: () => {
      made ??= partBytes(p);
      const piece = made.subarray(c.start, c.end);
      if (--left === 0) made = undefined;
      return piece;
    },
  }));
}
