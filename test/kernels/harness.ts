/**
 * Direct access to the kernel builds for kernel tests: the baseline SIMD build, the same
 * instance switched to its scalar twins, and the relaxed-SIMD build, each with helpers to
 * place float arrays in its memory and read them back.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { KernelInstance } from "../../src/wasm/kernels.ts";
import type { Tolerance } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { describeSeed, type Rng } from "../util/prng.ts";

export type Variant = "simd" | "scalar" | "relaxed";
export const VARIANTS: Variant[] = ["simd", "scalar", "relaxed"];

/** One fresh instance of each variant (each kernel test file takes its own). */
export async function allVariants(): Promise<Record<Variant, KernelInstance>> {
  return { simd: await kernel("simd"), scalar: await kernel("scalar"), relaxed: await kernel("relaxed") };
}

export const unit = (r: Rng) => r.uniform(-1, 1);

/** Element-wise comparison of two flat arrays within `tol`, naming the case and its seed. */
export function check(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string, rng: Rng): void {
  const a = Array.from(actual);
  const e = Array.from(expected);
  assertClose({ data: a, shape: [a.length] }, { data: e, shape: [e.length] }, tol, `${what}; ${describeSeed(rng)}`);
}

const root = resolve(import.meta.dirname, "..", "..");

export async function kernel(variant: Variant): Promise<KernelInstance> {
  const file = variant === "relaxed" ? "rnn-relaxed.wasm" : "rnn-simd.wasm";
  const module = await WebAssembly.compile(readFileSync(resolve(root, "build", file)));
  const k = await KernelInstance.create(module);
  k.exports.set_scalar_mode(variant === "scalar" ? 1 : 0);
  return k;
}

/** Copies `data` into a fresh 16-byte aligned block; returns its byte offset. */
export function put(k: KernelInstance, data: ArrayLike<number>, extraFloats = 0): number {
  const p = k.alloc((data.length + extraFloats) * 4, "test data");
  k.f32.set(data, p >>> 2);
  return p;
}

export function putBytes(k: KernelInstance, data: Uint8Array): number {
  const p = k.alloc(data.length, "test mask");
  k.u8.set(data, p);
  return p;
}

export function zeros(k: KernelInstance, floats: number): number {
  return k.alloc(floats * 4, "test buffer");
}

export function get(k: KernelInstance, ptr: number, n: number): Float32Array {
  return k.f32.slice(ptr >>> 2, (ptr >>> 2) + n);
}
