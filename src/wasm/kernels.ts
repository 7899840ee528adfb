/**
 * One instantiated kernel module with its own memory: every loaded model gets one, so a
 * model's failure or disposal never touches another model's memory. Typed views are
 * re-created whenever memory has grown (a grown buffer detaches the old views).
 */
import { fail } from "../errors.js";
import { BLOCK_ALIGN, type KernelExports } from "./abi.js";

export type { KernelExports };


const PAGE = 65536;
/** wasm32 memories stop at 4 GiB; refuse well before the engine would. */
const MAX_BYTES = 2 ** 31;
/** n rounded up to whole BLOCK_ALIGN blocks; at least one block. */
export const align = (n: number) => Math.max(BLOCK_ALIGN, Math.ceil(n / BLOCK_ALIGN) * BLOCK_ALIGN);

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

  /** Wraps an instance's exports (KernelInstance.create instantiates; audio worklets, which may not wait, instantiate synchronously). */
  constructor(readonly exports: KernelExports) {
    if (typeof exports.gemm !== "function" || !(exports.memory instanceof WebAssembly.Memory)) fail("E_WASM", "the wasm module is not an rnn-wasm kernel build");
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
