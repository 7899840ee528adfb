/**
 * Kernels the tfjs wasm backend (4.22) does not ship but training the seed tasks needs,
 * implemented in TypeScript directly on the backend's heap (the tensors live in the wasm
 * module's memory; `typedArrayFromHeap` gives a view of them).
 *
 * - `UnsortedSegmentSum`: the gradient of `Gather` (so of every Embedding layer) scatters
 *   dy rows back into the table with it. Without it, any model with an Embedding fails in
 *   the first `trainOnBatch` with "Kernel 'UnsortedSegmentSum' not registered for backend
 *   'wasm'".
 *
 * - `BatchMatMul` (replaced, not added): the wasm backend runs a matMul whose first operand is
 *   transposed (`transposeA`, what every weight gradient dW = x^T dy asks for) in a naive
 *   loop, about 12x slower than transposing with its own Transpose kernel and multiplying
 *   with XNNPACK (measured 176 ms vs 14 ms for [64,513]^T x [64,2048]); for the next-word
 *   model at batch 64 this was 2.7 of 3.2 s per step. `transposeB` (dh = dz U^T) is slow
 *   too once the product has many rows. The replacement transposes the flagged operands
 *   explicitly (see TRANSPOSE_B_MIN_ROWS) and calls the original kernel without the flags:
 *   a training step of the next-word model at batch 64 went from 3.2 s to 0.32 s.
 *
 * - `Slice`, `Unpack`, `SplitV` (replaced): the wasm backend's Slice reads its input with
 *   `readSync`, which copies the whole tensor out of the heap for every slice; Unpack and
 *   SplitV call it once per output. An LSTM layer unstacks its [batch, T, features] input into
 *   T slices, so each step copied the sequence T times: 2.0 of 4.8 s per training step of the
 *   StockTwits model at batch 128. The replacements copy only the sliced elements, through
 *   views of the heap.
 *
 * The list is what running the four task architectures (Embedding, LSTM, GRU, stateful LSTM,
 * TimeDistributed Dense, softmax / sigmoid heads, Adam and RMSProp) found missing; each
 * kernel is tested against the cpu backend in test/train/wasm-kernels.test.ts.
 */
import type * as tfTypes from "@tensorflow/tfjs";

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tfTypes.DataType): tfTypes.TensorInfo;
  typedArrayFromHeap(t: tfTypes.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type KernelConfig = tfTypes.KernelConfig;

function input(inputs: tfTypes.NamedTensorInfoMap, name: string): tfTypes.TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`kernel input "${name}" is missing`);
  return t;
}

/**
 * UnsortedSegmentSum(x, segmentIds; numSegments): out[s, ...] = sum of x[i..., ...] over the
 * leading index tuples i whose segmentIds[i] === s. segmentIds' shape is a prefix of x's
 * shape; ids outside [0, numSegments) contribute nothing (as in the cpu backend, whose
 * mask never matches them). Output shape [numSegments, ...x.shape.slice(segmentIds.rank)],
 * dtype of x.
 */
export function unsortedSegmentSumKernel(args: {
  inputs: tfTypes.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tfTypes.NamedAttrMap;
}): tfTypes.TensorInfo {
  const backend = args.backend as WasmHeapBackend;
  const x = input(args.inputs, "x");
  const segmentIds = input(args.inputs, "segmentIds");
  const numSegments = Number(args.attrs?.numSegments);
  const rank = segmentIds.shape.length;
  const innerShape = x.shape.slice(rank);
  const inner = innerShape.reduce((p, d) => p * d, 1);
  const rows = segmentIds.shape.reduce((p, d) => p * d, 1);
  for (let d = 0; d < rank; d++) {
    if (x.shape[d] !== segmentIds.shape[d]) {
      throw new Error(
        `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] is not a prefix of x shape [${x.shape}]`,
      );
    }
  }
  // makeOutput may grow the wasm memory, which detaches earlier views: allocate first.
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  const outData = backend.typedArrayFromHeap(out);
  const xData = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  outData.fill(0); // the heap is not zeroed by malloc
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) outData[dst + k] += xData[src + k];
  }
  return out;
}

type KernelArgs = Parameters<tfTypes.KernelFunc>[0];

/**
 * Rows of the product from which a transposed b is transposed explicitly. Measured on the
 * next-word model (b = a [512, 2048] recurrent kernel): at 1 row the original kernel is 2x
 * faster per step, at 64 rows 2x slower.
 */
export const TRANSPOSE_B_MIN_ROWS = 16;

/** A BatchMatMul that transposes flagged operands first, then runs `original` untransposed. */
export function transposingBatchMatMul(original: tfTypes.KernelFunc, transpose: tfTypes.KernelFunc): tfTypes.KernelFunc {
  return (args: KernelArgs) => {
    const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const inA = input(args.inputs, "a");
    const inB = input(args.inputs, "b");
    const aShape = inA.shape;
    const rowsOfA = transposeA ? aShape[aShape.length - 1] : aShape[aShape.length - 2];
    // transposeB costs the original a naive loop per output row; transposing b (and
    // XNNPACK packing it anew) has a fixed cost that pays off from about 16 rows.
    const swapB = Boolean(transposeB) && rowsOfA >= TRANSPOSE_B_MIN_ROWS;
    if (!transposeA && !swapB) return original(args);
    const backend = args.backend as WasmHeapBackend & { disposeData(id: tfTypes.DataId): boolean };
    const swapLast = (t: tfTypes.TensorInfo): tfTypes.TensorInfo => {
      const r = t.shape.length;
      const perm = [...Array(r).keys()];
      perm[r - 2] = r - 1;
      perm[r - 1] = r - 2;
      return transpose({ inputs: { x: t }, backend: args.backend, attrs: { perm } }) as tfTypes.TensorInfo;
    };
    const a = transposeA ? swapLast(inA) : inA;
    const b = swapB ? swapLast(inB) : inB;
    try {
      return original({
        inputs: { a, b },
        backend: args.backend,
        attrs: { ...args.attrs, transposeA: false, transposeB: swapB ? false : Boolean(transposeB) },
      });
    } finally {
      if (transposeA) backend.disposeData(a.dataId);
      if (swapB) backend.disposeData(b.dataId);
    }
  };
}

export const wasmExtraKernels: KernelConfig[] = [
  {
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: unsortedSegmentSumKernel as unknown as tfTypes.KernelFunc,
  },
];

/**
 * Copies x[begin .. begin+size) (row-major) into out. Trailing dimensions taken whole are
 * merged into one contiguous run, so the copy is a loop of `set(subarray)` over runs.
 */
export function copySlice(
  xv: Float32Array | Int32Array | Uint8Array,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: Float32Array | Int32Array | Uint8Array,
): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = xv[0];
    return;
  }
  if (size.some((d) => d === 0)) return;
  let d = rank - 1;
  let inner = 1;
  while (d > 0 && begin[d] === 0 && size[d] === shape[d]) {
    inner *= shape[d];
    d--;
  }
  const run = size[d] * inner;
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  const idx = new Array<number>(d).fill(0); // odometer over dims 0..d-1
  let o = 0;
  for (;;) {
    let off = begin[d] * strides[d];
    for (let i = 0; i < d; i++) off += (begin[i] + idx[i]) * strides[i];
    out.set(xv.subarray(off, off + run), o);
    o += run;
    let i = d - 1;
    while (i >= 0 && ++idx[i] === size[i]) idx[i--] = 0;
    if (i < 0) break;
  }
}

type HeapBackend = WasmHeapBackend & { disposeData(id: tfTypes.DataId): boolean };

/**
 * Slices of x along the given (begin, size) boxes, allocated first and filled after: a heap
 * allocation may grow the wasm memory, which detaches views taken before it.
 */
function heapSlices(backend: HeapBackend, x: tfTypes.TensorInfo, boxes: { begin: number[]; size: number[]; shape: number[] }[]): tfTypes.TensorInfo[] {
  const outs = boxes.map((b) => backend.makeOutput(b.size, x.dtype));
  const xv = backend.typedArrayFromHeap(x);
  outs.forEach((out, k) => {
    copySlice(xv, x.shape, boxes[k].begin, boxes[k].size, backend.typedArrayFromHeap(out));
    out.shape = boxes[k].shape;
  });
  return outs;
}

/** Slice, Unpack and SplitV reading only the sliced elements (strings go to the originals). */
export function heapSliceKernels(tf: typeof tfTypes): KernelConfig[] {
  const original = (name: string) => {
    const k = tf.getKernel(name, "wasm");
    if (!k) throw new Error(`tfjs wasm backend has no ${name} kernel to replace`);
    return k.kernelFunc;
  };
  const slice0 = original("Slice");
  const unpack0 = original("Unpack");
  const splitV0 = original("SplitV");
  const slice: tfTypes.KernelFunc = (args) => {
    const x = input(args.inputs, "x");
    if (x.dtype === "string") return slice0(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tfTypes.TensorInfo as tfTypes.Tensor, begin, size);
    return heapSlices(args.backend as HeapBackend, x, [{ begin: b, size: s, shape: s }])[0];
  };
  const unpack: tfTypes.KernelFunc = (args) => {
    const x = input(args.inputs, "value");
    if (x.dtype === "string") return unpack0(args);
    let axis = Number((args.attrs as { axis?: number }).axis ?? 0);
    if (axis < 0) axis += x.shape.length;
    const shape = x.shape.filter((_, i) => i !== axis);
    const boxes = Array.from({ length: x.shape[axis] }, (_, i) => {
      const begin = x.shape.map(() => 0);
      begin[axis] = i;
      const size = x.shape.slice();
      size[axis] = 1;
      return { begin, size, shape };
    });
    return heapSlices(args.backend as HeapBackend, x, boxes);
  };
  const splitV: tfTypes.KernelFunc = (args) => {
    const x = input(args.inputs, "x");
    if (x.dtype === "string") return splitV0(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tfTypes.TensorInfo as tfTypes.Tensor, numOrSizeSplits, ax);
    let at = 0;
    const boxes = sizes.map((n) => {
      const begin = x.shape.map(() => 0);
      begin[ax] = at;
      at += n;
      const size = x.shape.slice();
      size[ax] = n;
      return { begin, size, shape: size };
    });
    return heapSlices(args.backend as HeapBackend, x, boxes);
  };
  return [
    { kernelName: "Slice", backendName: "wasm", kernelFunc: slice },
    { kernelName: "Unpack", backendName: "wasm", kernelFunc: unpack },
    { kernelName: "SplitV", backendName: "wasm", kernelFunc: splitV },
  ];
}

/** Marks the replaced BatchMatMul so a second registration does not wrap it twice. */
const WRAPPED = Symbol.for("rnn-wasm.train.transposingBatchMatMul");

/**
 * Registers the missing kernels (unless tfjs already has them for "wasm": a later tfjs may)
 * and replaces BatchMatMul. Call after `tf.setBackend("wasm")` resolved: the original
 * kernels' setup (binding their wasm exports) has then run.
 */
export function registerWasmExtraKernels(tf: typeof tfTypes): string[] {
  const registered: string[] = [];
  for (const config of wasmExtraKernels) {
    if (tf.getKernel(config.kernelName, "wasm") != null) continue;
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  const matMul = tf.getKernel("BatchMatMul", "wasm");
  const transpose = tf.getKernel("Transpose", "wasm");
  if (matMul && transpose && !(matMul.kernelFunc as { [WRAPPED]?: boolean })[WRAPPED]) {
    const kernelFunc = transposingBatchMatMul(matMul.kernelFunc, transpose.kernelFunc);
    (kernelFunc as { [WRAPPED]?: boolean })[WRAPPED] = true;
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel({ ...matMul, kernelFunc });
    registered.push("BatchMatMul (transposes first)");
  }
  const sliceKernel = tf.getKernel("Slice", "wasm");
  if (sliceKernel && !(sliceKernel.kernelFunc as { [WRAPPED]?: boolean })[WRAPPED]) {
    for (const k of heapSliceKernels(tf)) {
      (k.kernelFunc as { [WRAPPED]?: boolean })[WRAPPED] = true;
      tf.unregisterKernel(k.kernelName, "wasm");
      tf.registerKernel(k);
      registered.push(`${k.kernelName} (heap views)`);
    }
  }
  return registered;
}
