/**
 * Faster replacements for two kernels of @tensorflow/tfjs-backend-wasm 4.x, installed by `useBackend`
 * when it picks wasm (or by calling `installWasmKernels` after `tf.setBackend('wasm')`).
 *
 * - BatchMatMul: the wasm backend sends only batch-1, untransposed products to XNNPACK; everything
 *   else (attention's (B*h, T, k) x (B*h, k, T), SeqSelfAttention's (B, T, T) x (B, T, F)) goes to a
 *   naive triple loop, 10-30x slower on the shapes attention layers use. Here the operands are made
 *   contiguous (transposed when asked) and every batch entry is run as its own batch-1 XNNPACK product on
 *   views of the wasm heap (no copies); a right-hand side shared by the whole batch becomes one product.
 * - Tile (and BroadcastTo, which tiles): the wasm kernel computes an index per element; tfjs-layers'
 *   LayerNormalization tiles four tensors per call. Here the output is filled with block copies.
 * - Slice, Unpack (tf.unstack) and SplitV (tf.split): the wasm kernels copy the *whole* input out of the
 *   heap (`readSync`) for every slice, so unstacking a (B, T, F) sequence into T steps, as every
 *   recurrent layer does, copies T times the sequence. Here slices are copied straight from the heap.
 * - Tanh: a scalar libm loop in the wasm build; here 2 sigmoid(2x) - 1 on XNNPACK's vectorized sigmoid.
 * - Reverse along one axis (a backwards RNN reverses its whole sequence): an index computed per element
 *   there (25 ns each); here the slices along the axis are block-copied in reverse order.
 *
 * All produce the same values as the originals (BatchMatMul up to float32 summation order, XNNPACK's;
 * Tanh within 2.5e-7). They rely on
 * the wasm backend's internals (its data map, heap, and exported C functions), so they are installed
 * only when those look as expected; anything unusual (dtype, broadcast pattern) falls back to the
 * original kernel.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: tf.DataType;
  refCount: number;
}

interface WasmModule {
  HEAPU8: Uint8Array;
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
  };
}

interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];
type KernelArgs = Parameters<KernelFunc>[0];

function looksLikeWasmBackend(b: unknown): b is WasmBackendInternals {
  const x = b as Partial<WasmBackendInternals> | null;
  return (
    x != null &&
    typeof x.dataIdNextNumber === 'number' &&
    typeof x.makeOutput === 'function' &&
    typeof x.typedArrayFromHeap === 'function' &&
    x.dataIdMap != null &&
    x.wasm != null &&
    typeof x.wasm.cwrap === 'function' &&
    typeof x.wasm.tfjs?.registerTensor === 'function' &&
    typeof x.wasm.tfjs?.disposeData === 'function'
  );
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const shapeBytes = (shape: readonly number[]): Uint8Array => new Uint8Array(new Int32Array(shape).buffer);

const REPLACED = ['BatchMatMul', 'Tile', 'Slice', 'Unpack', 'SplitV', 'Tanh', 'Reverse'] as const;
type Replaced = (typeof REPLACED)[number];
type Originals = Record<Replaced | 'Transpose' | 'Sigmoid', KernelFunc>;
let originals: Originals | null = null;
const cwrapped = new WeakMap<object, (...args: unknown[]) => void>();

function wasmBatchMatMulFn(backend: WasmBackendInternals): (...args: unknown[]) => void {
  let fn = cwrapped.get(backend);
  if (!fn) {
    // The C entry point the wasm kernel itself calls (BatchMatMul.js in tfjs-backend-wasm 4.x).
    fn = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
    cwrapped.set(backend, fn);
  }
  return fn;
}

/** A contiguous copy with the last two axes swapped (through the backend's own Transpose kernel). */
function swapLastTwo(x: tf.TensorInfo, backend: WasmBackendInternals): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return originals!.Transpose({ inputs: { x }, backend: backend as unknown as tf.KernelBackend, attrs: { perm } }) as tf.TensorInfo;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function batchMatMul(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend: anyBackend, attrs } = args;
  const a = inputs.a as tf.TensorInfo;
  const b = inputs.b as tf.TensorInfo;
  const transposeA = Boolean(attrs?.transposeA);
  const transposeB = Boolean(attrs?.transposeB);
  const backend = anyBackend as unknown as WasmBackendInternals;
  const fallback = () => originals!.BatchMatMul(args);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return fallback();
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  if (batchA === 1 && batchB === 1 && !transposeA && !transposeB) return fallback(); // already XNNPACK
  // Batch shapes must match, or one side must be a single matrix; other broadcasts keep the original.
  if (!(batchA === 1 || batchB === 1 || sameDims(outerA, outerB))) return fallback();
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb || m === 0 || n === 0 || k === 0) return fallback();
  const batch = Math.max(batchA, batchB);
  const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), m, n];

  const temps: tf.TensorInfo[] = [];
  const views: number[] = [];
  try {
    const aC = transposeA ? swapLastTwo(a, backend) : a;
    if (transposeA) temps.push(aC);
    const bC = transposeB ? swapLastTwo(b, backend) : b;
    if (transposeB) temps.push(bC);
    const out = backend.makeOutput(outShape, 'float32');
    const aBase = backend.dataIdMap.get(aC.dataId)!.memoryOffset;
    const bBase = backend.dataIdMap.get(bC.dataId)!.memoryOffset;
    const oBase = backend.dataIdMap.get(out.dataId)!.memoryOffset;
    const run = backend.wasm.tfjs;
    const matmul = wasmBatchMatMulFn(backend);
    const view = (offset: number, size: number): number => {
      const id = backend.dataIdNextNumber++;
      run.registerTensor(id, size, offset);
      views.push(id);
      return id;
    };
    const call = (aOff: number, rows: number, bOff: number, oOff: number) => {
      const aId = view(aOff, rows * k);
      const bId = view(bOff, k * n);
      const oId = view(oOff, rows * n);
      matmul(aId, shapeBytes([1, rows, k]), 3, bId, shapeBytes([1, k, n]), 3, false, false, oId);
      // Disposing the views also drops the XNNPACK operator cached on the b view; the heap stays.
      for (const id of views.splice(0)) run.disposeData(id);
    };
    if (batchB === 1) {
      // One right-hand side for the whole batch: a single (batch*m, k) x (k, n) product.
      call(aBase, batch * m, bBase, oBase);
    } else {
      for (let i = 0; i < batch; i++) {
        const ai = batchA === 1 ? 0 : i;
        call(aBase + ai * m * k * 4, m, bBase + i * k * n * 4, oBase + i * m * n * 4);
      }
    }
    return out;
  } finally {
    for (const id of views) backend.wasm.tfjs.disposeData(id);
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Fills `dst` (shape `outShape`) with `src` (shape `shape`) repeated `reps` times along each axis. */
export function tileInto(src: ArrayLike<number> & { subarray(b: number, e: number): ArrayLike<number> }, shape: readonly number[], reps: readonly number[], dst: Float32Array | Int32Array | Uint8Array): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  const outShape = shape.map((d, i) => d * reps[i]);
  const innerX = new Array<number>(rank).fill(1);
  const innerO = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) {
    innerX[d] = innerX[d + 1] * shape[d + 1];
    innerO[d] = innerO[d + 1] * outShape[d + 1];
  }
  // Repeat the block [off, off + len) so that it fills [off, off + len * times), doubling each copy.
  const repeat = (off: number, len: number, times: number) => {
    const total = len * times;
    let filled = len;
    while (filled < total) {
      const chunk = Math.min(filled, total - filled);
      dst.copyWithin(off + filled, off, off + chunk);
      filled += chunk;
    }
  };
  const fill = (d: number, xOff: number, oOff: number) => {
    const s = shape[d];
    if (d === rank - 1) {
      if (s === 1) dst.fill(src[xOff], oOff, oOff + reps[d]);
      else {
        dst.set(src.subarray(xOff, xOff + s) as ArrayLike<number>, oOff);
        repeat(oOff, s, reps[d]);
      }
      return;
    }
    for (let i = 0; i < s; i++) fill(d + 1, xOff + i * innerX[d], oOff + i * innerO[d]);
    repeat(oOff, s * innerO[d], reps[d]);
  };
  fill(0, 0, 0);
}

function tile(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const reps = (args.attrs?.reps ?? []) as number[];
  if (x.dtype === 'string' || x.dtype === 'complex64' || reps.length !== x.shape.length) return originals!.Tile(args);
  const backend = args.backend as unknown as WasmBackendInternals;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  if (sizeOf(outShape) === 0) return out;
  // Views taken after makeOutput: an allocation may grow (and so replace) the heap buffer.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  tileInto(src, x.shape, reps, dst);
  return out;
}

/** Copies the box `begin`..`begin + size` of `src` (shape `shape`, row-major) into `dst`, row by row. */
export function sliceInto(src: Float32Array | Int32Array | Uint8Array, shape: readonly number[], begin: readonly number[], size: readonly number[], dst: Float32Array | Int32Array | Uint8Array): void {
  const rank = shape.length;
  if (sizeOf(size) === 0) return;
  // Trailing axes taken whole merge into one contiguous run with the first partial axis before them.
  let d = rank - 1;
  let inner = 1;
  while (d >= 0 && begin[d] === 0 && size[d] === shape[d]) inner *= shape[d--]!;
  if (d < 0) {
    dst.set(src.subarray(0, inner));
    return;
  }
  const run = size[d]! * inner;
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  const index = new Array<number>(d).fill(0);
  let out = 0;
  for (;;) {
    let off = begin[d]! * strides[d]!;
    for (let i = 0; i < d; i++) off += (begin[i]! + index[i]!) * strides[i]!;
    dst.set(src.subarray(off, off + run), out);
    out += run;
    let i = d - 1;
    while (i >= 0 && ++index[i]! === size[i]) index[i--] = 0;
    if (i < 0) return;
  }
}

function sliceInfo(x: tf.TensorInfo, begin: number[], size: number[], backend: WasmBackendInternals): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (sizeOf(size) === 0) return out;
  sliceInto(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

function slice(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string' || x.dtype === 'complex64') return originals!.Slice(args);
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs!.begin as number[], args.attrs!.size as number[]);
  return sliceInfo(x, begin, size, args.backend as unknown as WasmBackendInternals);
}

function unpack(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.value as tf.TensorInfo;
  if (x.dtype === 'string' || x.dtype === 'complex64') return originals!.Unpack(args);
  const rank = x.shape.length;
  let axis = args.attrs!.axis as number;
  if (axis < 0) axis += rank;
  const outShape = x.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(rank).fill(0);
  const size = x.shape.slice();
  size[axis] = 1;
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < x.shape[axis]!; i++) {
    begin[axis] = i;
    const o = sliceInfo(x, begin, size, args.backend as unknown as WasmBackendInternals);
    outs.push({ dataId: o.dataId, dtype: o.dtype, shape: outShape });
  }
  return outs;
}

function splitV(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string' || x.dtype === 'complex64') return originals!.SplitV(args);
  const axis = tf.util.parseAxisParam(args.attrs!.axis as number, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs!.numOrSizeSplits as number | number[], axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const o = sliceInfo(x, begin, size, args.backend as unknown as WasmBackendInternals);
    begin[axis]! += s;
    return o;
  });
}

/** Copies `src` (shape `shape`) into `dst` with axis `axis` reversed. */
export function reverseInto(src: Float32Array | Int32Array | Uint8Array, shape: readonly number[], axis: number, dst: Float32Array | Int32Array | Uint8Array): void {
  const n = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let i = 0; i < n; i++) dst.set(src.subarray(base + i * inner, base + (i + 1) * inner), base + (n - 1 - i) * inner);
  }
}

function reverse(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string' || x.dtype === 'complex64') return originals!.Reverse(args);
  const axes = [...new Set(tf.util.parseAxisParam(args.attrs!.dims as number | number[], x.shape))];
  if (axes.length !== 1) return originals!.Reverse(args);
  const backend = args.backend as unknown as WasmBackendInternals;
  const out = backend.makeOutput(x.shape, x.dtype);
  reverseInto(backend.typedArrayFromHeap(x), x.shape, axes[0], backend.typedArrayFromHeap(out));
  return out;
}

/**
 * tanh(x) = 2 sigmoid(2x) - 1 with XNNPACK's vectorized sigmoid: the wasm backend's Tanh is a scalar libm
 * loop (17 ns per value here, 5-10x the three passes below), and recurrent layers call it twice per step.
 * Within 2.5e-7 of tanh (sigmoid's error doubled, plus rounding 2s - 1), far inside the parity tolerances.
 */
function tanh(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype !== 'float32') return originals!.Tanh(args);
  const backend = args.backend as unknown as WasmBackendInternals;
  const n = sizeOf(x.shape);
  const doubled = backend.makeOutput(x.shape, 'float32');
  try {
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(doubled);
    for (let i = 0; i < n; i++) dst[i] = 2 * src[i];
    const out = originals!.Sigmoid({ inputs: { x: doubled }, backend: args.backend, attrs: {} }) as tf.TensorInfo;
    // A fresh view: the call may have grown the heap (detaching earlier views).
    const o = backend.typedArrayFromHeap(out);
    for (let i = 0; i < n; i++) o[i] = 2 * o[i] - 1;
    return out;
  } finally {
    backend.disposeData(doubled.dataId);
  }
}

const REPLACEMENTS: Record<Replaced, KernelFunc> = { BatchMatMul: batchMatMul, Tile: tile, Slice: slice, Unpack: unpack, SplitV: splitV, Tanh: tanh, Reverse: reverse };

/**
 * Installs the faster kernels (BatchMatMul, Tile, Slice, Unpack, SplitV, Tanh, Reverse) for the wasm backend (idempotent). Returns whether
 * they are in place; false when the wasm backend is not registered or its internals are not the ones
 * these kernels were written against.
 */
export function installWasmKernels(): boolean {
  if (originals) return true;
  if (tf.findBackend('wasm') == null || !looksLikeWasmBackend(tf.findBackend('wasm'))) return false;
  const configs = [...REPLACED, 'Transpose' as const, 'Sigmoid' as const].map((name) => tf.getKernel(name, 'wasm'));
  if (configs.some((c) => c == null)) return false;
  originals = Object.fromEntries(configs.map((c) => [c!.kernelName, c!.kernelFunc])) as Originals;
  for (const name of REPLACED) swapKernel(name, REPLACEMENTS[name]);
  return true;
}

function swapKernel(name: string, kernelFunc: KernelFunc): void {
  const config = tf.getKernel(name, 'wasm')!;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...config, kernelFunc });
}

/** Puts the wasm backend's own kernels back (for tests and comparisons). */
export function uninstallWasmKernels(): void {
  if (!originals) return;
  for (const name of REPLACED) if (tf.getKernel(name, 'wasm')) swapKernel(name, originals[name]);
  originals = null;
}
