/** The data kernels and the kernel-memory allocator. */
import { describe, expect, it } from "vitest";
import { halvesToFloats } from "../../src/format/half.ts";
import { PTR_F16 } from "../../src/wasm/abi.ts";
import { kernel } from "./harness.ts";

/** Index of the first float whose bits differ (kernel output bytes vs expected), or -1. */
function firstMismatch(gotBytes: Uint8Array, expected: Float32Array): number {
  const got = new Uint32Array(gotBytes.buffer, gotBytes.byteOffset, expected.length);
  const want = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return i;
  return -1;
}

describe.each([["SIMD", 0], ["scalar twin", 1]])("widenHalves (%s)", (_name, scalar) => {
  // every half bit pattern, then lengths around the 8-wide step with a shifted start, all in
  // place from the upper half of the destination as the loader calls it
  it.each([65536, 1, 7, 8, 9, 15, 17, 1001])("matches the JS decoder bit for bit, n = %i, in place", async (n) => {
    const k = await kernel("simd");
    k.exports.set_scalar_mode(scalar);
    try {
      const halves = Uint16Array.from({ length: n }, (_, i) => (i * 40503 + n) & 0xffff);
      if (n === 65536) halves.forEach((_, i) => (halves[i] = i));
      const p = k.alloc(n * 4, "test");
      k.u8.set(new Uint8Array(halves.buffer), p + 2 * n);
      k.exports.widenHalves(n, p + 2 * n, p);
      const expected = new Float32Array(n);
      halvesToFloats(halves, expected);
      const mismatch = firstMismatch(k.u8.slice(p, p + 4 * n), expected);
      expect(mismatch, `first mismatch at index ${mismatch}: half 0x${halves[mismatch]?.toString(16)}`).toBe(-1);
    } finally {
      k.exports.set_scalar_mode(0);
    }
  });
});

describe.each([["SIMD", 0], ["scalar twin", 1]])("gatherRows from an f16 table (%s)", (_name, scalar) => {
  // an f16 bundle's embedding table stays halves in kernel memory (pointer bit 1); each
  // gathered row is widened: rows around the 8-wide step, ids repeated and at both ends
  it.each([1, 7, 8, 9, 17, 300])("equals the JS decoder on the gathered rows, dim = %i", async (dim) => {
    const k = await kernel("simd");
    k.exports.set_scalar_mode(scalar);
    try {
      const rows = 13;
      const halves = Uint16Array.from({ length: rows * dim }, (_, i) => (i * 40503 + dim) & 0xffff);
      const ids = Int32Array.from([12, 0, 5, 5, 12, 1, 0]);
      const table = k.alloc(halves.byteLength, "table");
      k.u8.set(new Uint8Array(halves.buffer), table);
      const idp = k.alloc(ids.byteLength, "ids");
      k.u8.set(new Uint8Array(ids.buffer), idp);
      const out = k.alloc(ids.length * dim * 4, "out");
      k.exports.gatherRows(ids.length, idp, table | PTR_F16, dim, out, rows);
      const expected = new Float32Array(ids.length * dim);
      ids.forEach((id, i) => halvesToFloats(halves.subarray(id * dim, (id + 1) * dim), expected.subarray(i * dim, (i + 1) * dim)));
      const mismatch = firstMismatch(k.u8.slice(out, out + 4 * ids.length * dim), expected);
      expect(mismatch, `first mismatch at output ${mismatch} (row ${Math.floor(mismatch / dim)})`).toBe(-1);
    } finally {
      k.exports.set_scalar_mode(0);
    }
  });
});

describe("allocator", () => {
  it("reuses freed blocks, coalesces neighbours, lowers the top, and zero-fills", async () => {
    const k = await kernel("simd");
    const a = k.alloc(100, "a");
    const b = k.alloc(200, "b");
    const c = k.alloc(300, "c");
    expect([a % 16, b % 16, c % 16]).toEqual([0, 0, 0]);
    expect(b).toBe(a + 112);
    k.u8.fill(7, a, c + 304);
    k.release(a, 100);
    k.release(b, 200);
    // a and b coalesced: a 300-byte request fits where they were
    const d = k.alloc(300, "d");
    expect(d).toBe(a);
    expect(k.u8.subarray(d, d + 300).every((v) => v === 0)).toBe(true);
    k.release(c, 300);
    k.release(d, 300);
    expect(k.usedBytes).toBe(0);
    // everything free again: the next block starts where the first did
    expect(k.alloc(16, "e")).toBe(a);
  });

  it("refuses sizes past the 2 GiB limit with E_SHAPE and stays usable", async () => {
    const k = await kernel("simd");
    expect(() => k.alloc(2 ** 31 + 1, "huge")).toThrowError(expect.objectContaining({ code: "E_SHAPE" }));
    expect(() => k.alloc(NaN, "nan")).toThrowError(expect.objectContaining({ code: "E_SHAPE" }));
    const p = k.alloc(64, "after");
    expect(p % 16).toBe(0);
  });
});
