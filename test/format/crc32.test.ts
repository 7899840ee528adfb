/**
 * The bundle checksum against an independent implementation (node:zlib's crc32, zlib's C
 * code): every length 0..300 (around the 4-byte main loop and its tail), a few large ones,
 * unaligned views, and chunked = one-shot through the seed argument. Both implementations:
 * the JS loop (writer, tools) and the kernels' wasm CRC-32 that loadModel and sessions use
 * (copied through its 16 KB buffer, so lengths around 16384 matter).
 */
import * as zlib from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { crc32 as jsCrc32 } from "../../src/format/crc32.ts";
import { getKernelModule } from "../../src/wasm/loader.ts";
import { KernelInstance } from "../../src/wasm/kernels.ts";
import { describeSeed, rngFor } from "../util/prng.ts";

const zcrc = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function randomBytes(n: number, label: string): Uint8Array {
  const rng = rngFor(label);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(0, 256);
  return b;
}

const impls: Record<string, { crc32?: (bytes: Uint8Array, seed?: number) => number }> = {
  "JS loop": { crc32: jsCrc32 },
  "wasm kernels (baseline build)": {},
  "wasm kernels (relaxed build)": {},
};

beforeAll(async () => {
  for (const simd of ["baseline", "relaxed"] as const) {
    const k = await KernelInstance.create(await getKernelModule(undefined, simd));
    impls[`wasm kernels (${simd} build)`].crc32 = (bytes, seed) => k.crc32(bytes, seed);
  }
});

describe.runIf(zcrc !== undefined).each(Object.keys(impls))("crc32 vs node:zlib: %s", (name) => {
  const crc32 = (bytes: Uint8Array, seed?: number) => impls[name].crc32!(bytes, seed);

  it("known vectors", () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926); // the CRC-32/ISO-HDLC check value
    expect(crc32(new TextEncoder().encode("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
  });

  it("every length 0..300 and large awkward lengths, at every byte offset 0..7 of the buffer", () => {
    const big = randomBytes(70_000, "crc32 lengths");
    const lengths = [...Array.from({ length: 301 }, (_, i) => i), 1021, 4093, 4096, 4099, 16_383, 16_384, 16_385, 32_769, 65_535, 65_536, 65_537, 69_990];
    for (const offset of [0, 1, 2, 3, 4, 5, 6, 7]) {
      for (const n of lengths) {
        const view = big.subarray(offset, offset + n);
        expect(crc32(view), `length ${n} at offset ${offset}`).toBe(zcrc!(view));
      }
    }
  });

  it("all-zero and all-0xff inputs (table edge values)", () => {
    for (const n of [1, 3, 4, 5, 64, 1000]) {
      expect(crc32(new Uint8Array(n))).toBe(zcrc!(new Uint8Array(n)));
      expect(crc32(new Uint8Array(n).fill(0xff))).toBe(zcrc!(new Uint8Array(n).fill(0xff)));
    }
  });

  it("chunked through the seed argument equals one shot, for seeded split points", () => {
    const rng = rngFor("crc32 chunks");
    const data = randomBytes(10_000, "crc32 chunk data");
    for (let trial = 0; trial < 200; trial++) {
      const cuts = Array.from({ length: rng.int(1, 6) }, () => rng.int(0, data.length + 1)).sort((a, b) => a - b);
      let c = 0;
      let prev = 0;
      for (const cut of [...cuts, data.length]) {
        c = crc32(data.subarray(prev, cut), c);
        prev = cut;
      }
      expect(c, `cuts ${cuts}; ${describeSeed(rng)}`).toBe(crc32(data));
      expect(zcrc!(data.subarray(cuts[0]), zcrc!(data.subarray(0, cuts[0])))).toBe(c);
    }
  });

  it("detects every single-bit error in a 1 KiB message", () => {
    const data = randomBytes(1024, "crc32 bit flips");
    const good = crc32(data);
    for (let bit = 0; bit < data.length * 8; bit++) {
      data[bit >> 3] ^= 1 << (bit & 7);
      expect(crc32(data) === good).toBe(false);
      data[bit >> 3] ^= 1 << (bit & 7);
    }
  });
});
