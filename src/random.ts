/**
 * mulberry32: a small, fast generator seeded by one u32 (Tommy Ettinger's constants). Used
 * for generate()'s sampling and, outside the runtime, for seeded shuffles, weights and inputs
 * (training tool, benchmarks, CLI bench). Uniform floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
