/**
 * One instantiated kernel module with its own memory: every loaded model gets one, so a
 * model's failure or disposal never touches another model's memory. Typed views are
 * re-created whenever memory has grown (a grown buffer detaches the old views).
 */
import { fail } from "../errors.js";

export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  relaxed_build(): number;
  set_scalar_mode(on: number): void;
  /** w with bit 0 set: int8 panels; q is then scratch for the quantised x rows (docs/kernels.md). */
  gemm(M: number, N: number, K: number, x: number, xStride: number, w: number, bias: number, out: number, outStride: number, q?: number): void;
  /** The recurrences take their input (x [B·T][K], W, bias, q as for gemm) and project it into xp themselves. */
  lstmSequence(B: number, T: number, u: number, x: number, K: number, W: number, bias: number, q: number, xp: number, wRec: number,
    h: number, c: number, scratch: number, mask: number, out: number, flags: number, act: number, recAct: number): void;
  gruSequence(B: number, T: number, u: number, x: number, K: number, W: number, bias: number, q: number, xp: number, wRec: number,
    bRec: number, resetAfter: number, h: number, scratch: number, mask: number, out: number, flags: number, act: number, recAct: number): void;
  simpleRnnSequence(B: number, T: number, u: number, x: number, K: number, W: number, bias: number, q: number, xp: number, wRec: number,
    h: number, scratch: number, mask: number, out: number, flags: number, act: number): void;
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
  /** rows: the table's row count (an int8 table, bit 0 set, keeps its row scales after the rows). */
  gatherRows(n: number, ids: number, table: number, dim: number, out: number, rows?: number): void;
  copyRows(rows: number, n: number, src: number, srcStride: number, dst: number, dstStride: number): void;
  maskFromIds(n: number, ids: number, mask: number): void;
  maskRows(rows: number, F: number, x: number, maskValue: number, out: number, mask: number): void;
  andMask(n: number, m: number, out: number): void;
  repeatRows(B: number, n: number, F: number, x: number, out: number): void;
  firstNonFinite(n: number, x: number): number;
  firstIdOutOfRange(n: number, ids: number, limit: number): number;
  widenHalves(n: number, src: number, dst: number): void;
  poolStream(B: number, T: number, F: number, x: number, mask: number, acc: number, count: number, out: number, mode: number): void;
  crc32(p: number, n: number, seed: number): number;
  crc_buffer(): number;
  /** General tensor graphs (assembly/tensor.ts): dims and strides are i32 blocks in memory. */
  copyStrided(rank: number, dims: number, srcStrides: number, src: number, dstStrides: number, dst: number): void;
  fill(n: number, value: number, out: number): void;
  binaryStrided(op: number, rank: number, dims: number, aStrides: number, a: number, bStrides: number, b: number, out: number): void;
  unary(fn: number, n: number, x: number, out: number, alpha: number, beta: number): void;
  reduce(fn: number, outer: number, n: number, inner: number, x: number, out: number): void;
  softmaxAxis(outer: number, n: number, inner: number, x: number, log: number): void;
  matmul(batch: number, M: number, N: number, K: number, a: number, b: number, out: number): void;
}

const PAGE = 65536;
/** wasm32 memories stop at 4 GiB; refuse well before the engine would. */
const MAX_BYTES = 2 ** 31;
export const align = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);

/**
 * The kernel instance plus a first-fit allocator over its memory above heap_base. All
 * blocks are 16-byte aligned (v128 loads of packed panels). Allocation sizes are checked
 * against MAX_BYTES before growing, so a hostile shape gets an error, not an OOM crash.
 */
export class KernelInstance {
  readonly relaxed: boolean;
  /** Free blocks [start, size], sorted by start, coalesced. */
  private free: [number, number][] = [];
  private top: number;
  private views: [ArrayBuffer | null, Float32Array, Int32Array, Uint8Array] = [null, new Float32Array(0), new Int32Array(0), new Uint8Array(0)];
  usedBytes = 0;

  private constructor(readonly exports: KernelExports) {
    this.relaxed = exports.relaxed_build() === 1;
    this.top = align(exports.heap_base());
  }

  static async create(module: WebAssembly.Module): Promise<KernelInstance> {
    // the kernels import nothing (no runtime, no asserts: asconfig.json)
    return KernelInstance.wrap(await WebAssembly.instantiate(module, {}).catch((e) => fail("E_WASM", `could not instantiate the rnn-wasm kernels: ${(e as Error)?.message ?? e}`, e)));
  }

  /** An instance of the kernel module made elsewhere (standalone cells instantiate synchronously). */
  static wrap(instance: WebAssembly.Instance): KernelInstance {
    const ex = instance.exports as unknown as KernelExports;
    if (typeof ex.gemm !== "function" || !(ex.memory instanceof WebAssembly.Memory)) fail("E_WASM", "the wasm module is not an rnn-wasm kernel build");
    return new KernelInstance(ex);
  }

  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /**
   * Typed views of memory, re-created after memory.grow, which detaches the old buffer: a
   * detached view has length 0, and a live one never does (memory only grows), so the check
   * needs no call to the memory.buffer getter on every access.
   */
  private view(): KernelInstance["views"] {
    if (this.views[3].length === 0) {
      const buf = this.exports.memory.buffer;
      this.views = [buf, new Float32Array(buf), new Int32Array(buf), new Uint8Array(buf)];
    }
    return this.views;
  }

  /** CRC-32 of `bytes` (chained from `seed`), in wasm through its static 16 KB buffer. */
  crc32(bytes: Uint8Array, seed = 0): number {
    const ex = this.exports;
    const p = ex.crc_buffer();
    for (let i = 0; i < bytes.length; i += 16384) {
      const part = bytes.subarray(i, i + 16384);
      this.u8.set(part, p);
      seed = ex.crc32(p, part.length, seed);
    }
    return seed >>> 0;
  }

  get f32(): Float32Array { return this.view()[1]; }
  get i32(): Int32Array { return this.view()[2]; }
  get u8(): Uint8Array { return this.view()[3]; }

  /** Allocates `bytes` (rounded up to 16), zero-filled. Returns the byte offset. */
  alloc(bytes: number, what: string): number {
    const size = align(bytes);
    if (!(bytes >= 0) || this.usedBytes + size > MAX_BYTES) {
      fail("E_SHAPE", `${what}: ${bytes} bytes of kernel memory is past the 2 GiB limit`);
    }
    let start = this.top;
    const i = this.free.findIndex((b) => b[1] >= size);
    if (i >= 0) {
      const b = this.free[i];
      start = b[0];
      if (b[1] === size) this.free.splice(i, 1);
      else (b[0] += size), (b[1] -= size);
    } else {
      const need = start + size - this.memoryBytes;
      if (need > 0) {
        try {
          this.exports.memory.grow(Math.ceil(need / PAGE));
        } catch (e) {
          fail("E_SHAPE", `could not grow kernel memory for ${what}: ${(e as Error).message}`, e);
        }
      }
      this.top = start + size;
    }
    this.usedBytes += size;
    this.u8.fill(0, start, start + size);
    return start;
  }

  /** Returns a block to the free list (coalescing neighbours; the last block lowers top). */
  release(start: number, bytes: number): void {
    const size = align(bytes);
    this.usedBytes -= size;
    const free = this.free;
    let i = 0;
    while (i < free.length && free[i][0] < start) i++;
    free.splice(i, 0, [start, size]);
    // merge with the next, then the previous block
    for (const j of [i, i - 1]) {
      if (j >= 0 && j + 1 < free.length && free[j][0] + free[j][1] === free[j + 1][0]) {
        free[j][1] += free[j + 1][1];
        free.splice(j + 1, 1);
      }
    }
    const last = free[free.length - 1];
    if (last[0] + last[1] === this.top) {
      this.top = last[0];
      free.pop();
    }
  }
}
