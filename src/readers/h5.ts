/**
 * Thin, defensive access to HDF5 files through h5wasm: every read checks what it gets and turns
 * surprises into KerasInteropError naming the file and the HDF5 path. h5wasm comes from the platform
 * (its Node build, or its browser build in a page), and so does the place its bytes are opened from.
 */
import type h5wasmModule from 'h5wasm';
import { KerasInteropError } from '../errors.js';
import type { ByteSource } from './io/source.js';
import { type Weight, type WeightData, type WeightDType, bytesPerElement, lazyWeight } from '../model/types.js';
import { float32ToFloat16Bits } from '../model/float16.js';
import { type H5Module, type StagedH5, platform } from './io/platform.js';
import { checkHdf5Structure } from './h5-check.js';

export type H5File = InstanceType<typeof h5wasmModule.File>;
export type H5Group = InstanceType<typeof h5wasmModule.Group>;
export type H5Dataset = InstanceType<typeof h5wasmModule.Dataset>;

export interface ReadLimits {
  /** Largest single tensor, in bytes. */
  maxTensorBytes: number;
  /** All weights together, in bytes. */
  maxTotalBytes: number;
  /** Sum of inflated sizes a zip archive may declare. */
  maxInflatedBytes?: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxTensorBytes: 2 * 1024 ** 3,
  maxTotalBytes: 8 * 1024 ** 3,
};

let loaded: H5Module | undefined;

export async function h5Ready(): Promise<H5Module> {
  loaded ??= await platform().h5wasm();
  return loaded;
}

/** An open HDF5 file; `close` closes it and then releases the copy it was opened from, if any. */
export interface OpenH5 {
  file: H5File;
  close(): void;
}

/** Opens the HDF5 bytes of `src` read-only; `label` names them in errors. The caller closes it. */
export async function openH5Source(src: ByteSource, label = src.name): Promise<OpenH5> {
  await h5Ready();
  return openStagedH5(platform().stageH5(src), src, label);
}

/** Opens an HDF5 file on disk (Node) read-only, where h5wasm reads it in place; the caller closes it. */
export async function openH5(path: string, label = path): Promise<H5File> {
  const src = platform().fileSource?.(path);
  if (!src) throw new KerasInteropError('USAGE', 'there are no files to open by path here; read the bytes with openH5Source', { file: path });
  try {
    return (await openH5Source(src, label)).file;
  } finally {
    src.close?.();
  }
}

/**
 * Opens bytes already staged for h5wasm (`src` holds the same bytes, read for the structure check); the
 * staged copy is released when the file is closed, or now if it cannot be opened.
 */
export async function openStagedH5(staged: StagedH5, src: ByteSource, label = src.name): Promise<OpenH5> {
  const h5 = await h5Ready();
  let f: H5File;
  try {
    // Metadata HDF5 would loop on, or allocate its whole heap for, is refused before h5wasm sees it.
    checkHdf5Structure(src, label);
    try {
      f = new h5.File(staged.path, 'r');
    } catch (e) {
      throw new KerasInteropError('HDF5_INVALID', `cannot open as HDF5 (${(e as Error).message})`, { file: label });
    }
  } catch (e) {
    staged.release();
    throw e;
  }
  // h5wasm does not check H5Fopen's result: a file HDF5 refuses comes back with id -1, and calls on
  // that id answer from stale memory (a group "found" in the previous file) instead of failing.
  if (f.file_id < 0n) {
    staged.release();
    throw new KerasInteropError('HDF5_INVALID', 'cannot open as HDF5 (no valid superblock)', { file: label });
  }
  let open = true;
  return {
    file: f,
    close() {
      if (!open) return;
      open = false;
      try {
        f.close();
      } finally {
        staged.release();
      }
    },
  };
}

export function isGroup(e: unknown): e is H5Group {
  return loaded !== undefined && e instanceof loaded.Group;
}

export function isDataset(e: unknown): e is H5Dataset {
  return loaded !== undefined && e instanceof loaded.Dataset;
}

/**
 * Runs one h5wasm call. h5wasm reports a damaged file by throwing strings ("error - name not
 * defined!") or Errors, and a wasm trap ("memory access out of bounds") when HDF5 reads past its
 * buffers; all of them mean an unreadable HDF5 file.
 */
export function h5call<T>(what: string, file: string, place: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KerasInteropError) throw e;
    throw new KerasInteropError('HDF5_INVALID', `${what} (${e instanceof Error ? e.message : String(e)})`, { file, place }, { cause: e });
  }
}

/** A member of a group (group, dataset, link), or null when absent. */
export function getMember(parent: H5Group, name: string, file: string): unknown {
  return h5call(`cannot read "${name}"`, file, joinPath(parent.path, name), () => parent.get(name));
}

export function getGroup(parent: H5Group, path: string, file: string): H5Group | undefined {
  const e = h5call('cannot read group', file, joinPath(parent.path, path), () => parent.get(path));
  if (e == null) return undefined;
  if (!isGroup(e)) {
    throw new KerasInteropError('HDF5_INVALID', 'expected a group, found a dataset', { file, place: joinPath(parent.path, path) });
  }
  return e;
}

export function joinPath(a: string, b: string): string {
  if (b.startsWith('/')) return b;
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

function attrValue(obj: H5Group | H5Dataset, name: string, file: string): unknown {
  if (!hasAttr(obj, name, file)) return undefined;
  return h5call(`cannot read attribute "${name}"`, file, obj.path, () => obj.attrs[name].value);
}

export function hasAttr(obj: H5Group | H5Dataset, name: string, file: string): boolean {
  return h5call('cannot list attributes', file, obj.path, () => Object.prototype.hasOwnProperty.call(obj.attrs, name));
}

const decoder = new TextDecoder();

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return decoder.decode(v).replace(/\0+$/, '');
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** A string attribute (fixed- or variable-length), or undefined when absent. */
export function readStringAttr(obj: H5Group | H5Dataset, name: string, file: string): string | undefined {
  const v = attrValue(obj, name, file);
  if (v === undefined) return undefined;
  const s = asString(v);
  if (s === undefined) {
    throw new KerasInteropError('HDF5_INVALID', `attribute "${name}" should be a string`, { file, place: obj.path });
  }
  return s;
}

function asStringList(v: unknown, name: string, obj: H5Group | H5Dataset, file: string): string[] {
  if (v == null) return [];
  // Keras writes an empty list as a zero-length float64 array.
  if (ArrayBuffer.isView(v) && v.byteLength === 0) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) {
    return v.map((item, i) => {
      const s = asString(item);
      if (s === undefined) {
        throw new KerasInteropError('HDF5_INVALID', `attribute "${name}"[${i}] should be a string`, { file, place: obj.path });
      }
      return s;
    });
  }
  throw new KerasInteropError('HDF5_INVALID', `attribute "${name}" should be a list of strings`, { file, place: obj.path });
}

/**
 * How a list-of-strings attribute is stored: `fixed` (h5py 2's null-padded fixed-length arrays) or `vlen`
 * (h5py 3's variable-length strings); undefined when absent. Kept so a round trip writes the same kind.
 */
export function stringListKind(obj: H5Group | H5Dataset, name: string, file: string): 'fixed' | 'vlen' | undefined {
  const attr = hasAttr(obj, name, file) ? name : hasAttr(obj, `${name}0`, file) ? `${name}0` : undefined;
  if (attr === undefined) return undefined;
  const meta = h5call(`cannot read attribute "${attr}"`, file, obj.path, () => obj.attrs[attr].metadata);
  if (meta.type !== 3) return undefined; // not a string type (an empty list is a float64 array)
  return meta.vlen ? 'vlen' : 'fixed';
}

/**
 * A list-of-strings attribute. Keras splits lists too large for one HDF5 object header into
 * `name0`, `name1`, ...; those are concatenated until one is missing.
 */
export function readStringListAttr(obj: H5Group | H5Dataset, name: string, file: string): string[] | undefined {
  if (hasAttr(obj, name, file)) return asStringList(attrValue(obj, name, file), name, obj, file);
  if (!hasAttr(obj, `${name}0`, file)) return undefined;
  const out: string[] = [];
  for (let i = 0; hasAttr(obj, `${name}${i}`, file); i++) {
    out.push(...asStringList(attrValue(obj, `${name}${i}`, file), `${name}${i}`, obj, file));
  }
  return out;
}

/** The names of a group's members, numeric names in numeric order (`vars/0`, `vars/1`, ..., `vars/10`). */
export function memberNames(group: H5Group, file: string): string[] {
  return h5call('cannot list group members', file, group.path, () => group.keys());
}

export function numericMembers(group: H5Group, file: string): string[] {
  return memberNames(group, file)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b));
}

function dtypeOf(ds: H5Dataset, file: string): WeightDType {
  const place = ds.path;
  const m = h5call('cannot read the dataset header', file, place, () => ds.metadata);
  if (!m.littleEndian && m.size > 1) {
    throw new KerasInteropError('UNSUPPORTED_DTYPE', 'big-endian datasets are not supported', { file, place });
  }
  if (m.type === 1) {
    if (m.size === 4) return 'float32';
    if (m.size === 8) return 'float64';
    if (m.size === 2) return 'float16';
  } else if (m.type === 0) {
    const bits = m.size * 8;
    if ([8, 16, 32, 64].includes(bits)) return `${m.signed ? 'int' : 'uint'}${bits}` as WeightDType;
  } else if (m.type === 8 && m.size === 1) {
    return 'bool';
  }
  throw new KerasInteropError(
    'UNSUPPORTED_DTYPE',
    `dataset has HDF5 type class ${m.type} of ${m.size} bytes; expected a float or integer tensor`,
    { file, place },
  );
}

/** The array class that holds each dtype's values (float16 as raw bits, bool as bytes). */
const ARRAY_OF: Record<WeightDType, { of(...items: never[]): WeightData }> = {
  float16: Uint16Array, float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array, int32: Int32Array,
  int64: BigInt64Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array, bool: Uint8Array,
};

function coerce(value: unknown, dtype: WeightDType, count: number, file: string, place: string): WeightData {
  if (value == null) {
    if (count === 0) return new Float32Array(0);
    throw new KerasInteropError('HDF5_INVALID', 'dataset has no readable value', { file, place });
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    // A scalar dataset: h5wasm gives a number (float16 as its value, not its bits).
    if (dtype === 'float16') value = float32ToFloat16Bits(Float32Array.of(Number(value)));
    else if (dtype === 'int64' || dtype === 'uint64') value = ARRAY_OF[dtype].of(BigInt(value) as never);
    else value = ARRAY_OF[dtype].of(Number(value) as never);
  }
  if (!ArrayBuffer.isView(value)) {
    throw new KerasInteropError('HDF5_INVALID', 'dataset value is not a numeric array', { file, place });
  }
  let data = value as unknown as WeightData;
  // h5wasm hands float16 back either as raw bits or as float32; keep raw uint16 bits.
  if (dtype === 'float16' && !(data instanceof Uint16Array)) {
    data = float32ToFloat16Bits(Float32Array.from(data as Float32Array));
  }
  if (dtype === 'bool' && !(data instanceof Uint8Array)) data = Uint8Array.from(data as Int8Array);
  if (dtype === 'float64' && !(data instanceof Float64Array)) data = Float64Array.from(data as Float32Array);
  if (data.length !== count) {
    throw new KerasInteropError('HDF5_INVALID', `dataset holds ${data.length} values, its shape says ${count}`, { file, place });
  }
  if (count > 0 && data.BYTES_PER_ELEMENT !== bytesPerElement(dtype)) {
    throw new KerasInteropError('HDF5_INVALID', `dataset of type ${dtype} came back as ${data.BYTES_PER_ELEMENT}-byte values`, { file, place });
  }
  return data;
}

/** One file's weight reading: the bytes declared so far (against `maxTotalBytes`), and how values are read. */
export interface WeightReads {
  used: number;
  /** Values read on demand from the open file (`lazyWeight`) instead of now. */
  lazy?: boolean;
  /** Set when the file is closed: a lazy weight read after that is refused (h5wasm would read a stale id). */
  closed?: boolean;
}

/**
 * A streamed model's `close`: closes the HDF5 file once (lazy weights read after it are refused, and a
 * staged copy goes with it), then runs `after` (closing the source).
 */
export function closeStreamed(h5: OpenH5, reads: WeightReads, after?: () => void): () => void {
  return () => {
    if (reads.closed) return;
    reads.closed = true;
    h5.close();
    after?.();
  };
}

/**
 * Reads a dataset as a weight, checking its declared size against the limits before reading. With
 * `reads.lazy`, only the header is read now and the values each time `data` is asked for (the file
 * must stay open until then).
 */
export function readWeight(
  ds: H5Dataset,
  name: string,
  file: string,
  limits: ReadLimits,
  budget: WeightReads,
): Weight {
  const place = ds.path;
  const dtype = dtypeOf(ds, file);
  const shape = ds.metadata.shape ?? [];
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = count * bytesPerElement(dtype);
  if (bytes > limits.maxTensorBytes) {
    throw new KerasInteropError(
      'LIMIT_EXCEEDED',
      `tensor of shape [${shape.join(', ')}] needs ${bytes} bytes, over the limit of ${limits.maxTensorBytes} (raise --max-tensor-bytes)`,
      { file, place },
    );
  }
  budget.used += bytes;
  if (budget.used > limits.maxTotalBytes) {
    throw new KerasInteropError(
      'LIMIT_EXCEEDED',
      `weights exceed the limit of ${limits.maxTotalBytes} bytes in all (raise --max-total-bytes)`,
      { file, place },
    );
  }
  const load = () => {
    if (budget.closed) {
      throw new KerasInteropError('USAGE', 'the model was closed: its weights were read on demand from this file (streamWeights) and are gone', { file, place });
    }
    return coerce(h5call('cannot read dataset', file, place, () => ds.value), dtype, count, file, place);
  };
  const meta = { name, path: place, shape: [...shape], dtype };
  return budget.lazy ? lazyWeight(meta, load) : { ...meta, data: load() };
}
