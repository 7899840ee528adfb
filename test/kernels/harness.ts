/**
 * Direct access to the kernel builds for kernel tests: the baseline SIMD build, the same
 * instance switched to its scalar twins, and the relaxed-SIMD build, each with helpers to
 * place float arrays in its memory and read them back.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { KernelInstance } from "../../src/wasm/kernels.ts";

export type Variant = "simd" | "scalar" | "relaxed";

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
