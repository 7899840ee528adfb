/**
 * One instantiated kernel module with its own memory: every loaded model gets one, so a
 * model's failure or disposal never touches another model's memory. Typed views are
 * re-created whenever memory has grown (a grown buffer detaches the old views).
 */
import { RnnWasmError } from "../errors.js";

export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  relaxed_build(): number;
  set_scalar_mode(on: number): void;
  gemm(M: number, N: number, K: number, x: number, xStride: number, w: number, bias: number, out: number, outStride: number): void;
  lstmSequence(B: number, T: number, u: number, xp: number, wRec: number, h: number, c: number, scratch: number,
    mask: number, out: number, flags: number, act: number, recAct: number): void;
  gruSequence(B: number, T: number, u: number, xp: number, wRec: number, bRec: number, resetAfter: number, h: number,
    scratch: number, mask: number, out: number, flags: number, act: number, recAct: number): void;
  simpleRnnSequence(B: number, T: number, u: number, xp: number, wRec: number, h: number, scratch: number,
    mask: number, out: number, flags: number, act: number): void;
  activate(code: number, ptr: number, n: number): void;
  softmax(rows: number, n: number, x: number): void;
  globalPool(B: number, T: number, F: number, x: number, mask: number, out: number, mode: number): void;
  scaleShift(rows: number, F: number, x: number, scale: number, shift: number, out: number): void;
  binary(op: number, n: number, a: number, b: number, out: number): void;
  pool1d(B: number, Tin: number, F: number, x: number, Tout: number, poolSize: number, stride: number, padLeft: number, mode: number, out: number): void;
  im2col1d(B: number, Tin: number, Cin: number, x: number, Tout: number, kernel: number, stride: number, dilation: number, padLeft: number, out: number): void;
  layerNorm(rows: number, F: number, x: number, gamma: number, beta: number, eps: number, out: number): void;
  scale(n: number, x: number, s: number): void;
  reluGeneral(n: number, x: number, maxValue: number, negativeSlope: number, threshold: number): void;
  gatherRows(n: number, ids: number, table: number, dim: number, out: number): void;
}

const ALIGN = 16;
const PAGE = 65536;
/** wasm32 memories stop at 4 GiB; refuse well before the engine would. */
const MAX_BYTES = 2 ** 31;

interface Block { start: number; size: number }

/**
 * The kernel instance plus a first-fit allocator over its memory above heap_base. All
 * blocks are 16-byte aligned (v128 loads of packed panels). Allocation sizes are checked
 * against MAX_BYTES before growing, so a hostile shape gets an error, not an OOM crash.
 */
export class KernelInstance {
  readonly exports: KernelExports;
  readonly relaxed: boolean;
  private free: Block[] = [];
  private top: number;
  private f32View: Float32Array;
  private i32View: Int32Array;
  private u8View: Uint8Array;
  private viewBuffer: ArrayBuffer | null = null;
  usedBytes = 0;

  private constructor(exports: KernelExports) {
    this.exports = exports;
    this.relaxed = exports.relaxed_build() === 1;
    this.top = align(exports.heap_base());
    this.f32View = new Float32Array(0);
    this.i32View = new Int32Array(0);
    this.u8View = new Uint8Array(0);
    this.refreshViews();
  }

  static async create(module: WebAssembly.Module): Promise<KernelInstance> {
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(module, {
        env: {
          abort: (_msg: number, _file: number, line: number, col: number) => {
            throw new RnnWasmError("E_WASM", `rnn-wasm kernel aborted at ${line}:${col}`);
          },
        },
      });
    } catch (e) {
      throw new RnnWasmError("E_WASM", `could not instantiate the rnn-wasm kernels: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    const ex = instance.exports as unknown as KernelExports;
    if (typeof ex.gemm !== "function" || !(ex.memory instanceof WebAssembly.Memory)) {
      throw new RnnWasmError("E_WASM", "the wasm module given is not an rnn-wasm kernel build (missing exports)");
    }
    return new KernelInstance(ex);
  }

  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  private refreshViews(): void {
    const buf = this.exports.memory.buffer;
    if (buf !== this.viewBuffer) {
      this.viewBuffer = buf;
      this.f32View = new Float32Array(buf);
      this.i32View = new Int32Array(buf);
      this.u8View = new Uint8Array(buf);
    }
  }

  get f32(): Float32Array { this.refreshViews(); return this.f32View; }
  get i32(): Int32Array { this.refreshViews(); return this.i32View; }
  get u8(): Uint8Array { this.refreshViews(); return this.u8View; }

  /** Allocates `bytes` (rounded up to 16), zero-filled. Returns the byte offset. */
  alloc(bytes: number, what: string): number {
    if (!Number.isFinite(bytes) || bytes < 0) {
      throw new RnnWasmError("E_SHAPE", `cannot allocate ${bytes} bytes for ${what}`);
    }
    const size = Math.max(ALIGN, align(bytes));
    if (this.usedBytes + size > MAX_BYTES) {
      throw new RnnWasmError(
        "E_SHAPE",
        `${what} needs ${formatBytes(size)} of kernel memory; with ${formatBytes(this.usedBytes)} in use that exceeds the 2 GiB limit (reduce the batch size or sequence length)`,
      );
    }
    for (let i = 0; i < this.free.length; i++) {
      const blk = this.free[i];
      if (blk.size >= size) {
        const start = blk.start;
        if (blk.size === size) this.free.splice(i, 1);
        else { blk.start += size; blk.size -= size; }
        this.usedBytes += size;
        this.u8.fill(0, start, start + size);
        return start;
      }
    }
    const start = this.top;
    const end = start + size;
    const have = this.exports.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.exports.memory.grow(pages);
      } catch (e) {
        throw new RnnWasmError("E_SHAPE", `could not grow kernel memory by ${formatBytes(pages * PAGE)} for ${what}: ${(e as Error).message}`, { cause: e });
      }
    }
    this.top = end;
    this.usedBytes += size;
    this.u8.fill(0, start, end);
    return start;
  }

  /** Returns a block to the free list (coalescing neighbours; the last block lowers top). */
  release(start: number, bytes: number): void {
    const size = Math.max(ALIGN, align(bytes));
    this.usedBytes -= size;
    if (start + size === this.top) {
      this.top = start;
      // absorb a free block now adjacent to the top
      const last = this.free[this.free.length - 1];
      if (last && last.start + last.size === this.top) {
        this.top = last.start;
        this.free.pop();
      }
      return;
    }
    let i = 0;
    while (i < this.free.length && this.free[i].start < start) i++;
    this.free.splice(i, 0, { start, size });
    const next = this.free[i + 1];
    if (next && start + size === next.start) {
      this.free[i].size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.start + prev.size === start) {
      prev.size += this.free[i].size;
      this.free.splice(i, 1);
    }
  }

  /** Copies `data` into wasm memory at `ptr`. */
  writeF32(ptr: number, data: ArrayLike<number>): void {
    this.f32.set(data, ptr >>> 2);
  }

  readF32(ptr: number, count: number): Float32Array {
    return this.f32.slice(ptr >>> 2, (ptr >>> 2) + count);
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
