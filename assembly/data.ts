// Data movement and checks the runtime would otherwise loop over in JS: strided row copies,
// masks, repeats, and scans of inputs for bad values. Scalar code: these are not hot.

import { POOL_MAX } from "./abi";

/** Copies `rows` rows of `n` floats from src (stride srcStride floats) to dst (stride dstStride). */
export function copyRows(rows: i32, n: i32, src: usize, srcStride: i32, dst: usize, dstStride: i32): void {
  const bytes = <usize>n << 2;
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + ((<usize>r * <usize>dstStride) << 2), src + ((<usize>r * <usize>srcStride) << 2), bytes);
  }
}

/** mask[i] = ids[i] != 0 (Embedding mask_zero). */
export function maskFromIds(n: i32, ids: usize, mask: usize): void {
  for (let i = 0; i < n; i++) store<u8>(mask + <usize>i, load<i32>(ids + (<usize>i << 2)) != 0 ? 1 : 0);
}

/** Masking layer: a step is kept when any feature differs from maskValue; masked steps become 0. */
export function maskRows(rows: i32, F: i32, x: usize, maskValue: f32, out: usize, mask: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>F) << 2);
    const o = out + ((<usize>r * <usize>F) << 2);
    let any: u8 = 0;
    for (let f = 0; f < F; f++) {
      if (load<f32>(row + (<usize>f << 2)) != maskValue) {
        any = 1;
        break;
      }
    }
    store<u8>(mask + <usize>r, any);
    if (any) memory.copy(o, row, <usize>F << 2);
    else memory.fill(o, 0, <usize>F << 2);
  }
}

/**
 * mask[b][t] = t < lens[b] for B rows of T steps (ONNX sequence_lens, int32): the steps of a row
 * past its length are masked. A length outside [0, T] is the caller's to refuse
 * (firstIdOutOfRange with limit T + 1 finds one); here it masks all steps or none.
 */
export function lengthsToMask(B: i32, T: i32, lens: usize, mask: usize): void {
  for (let b = 0; b < B; b++) {
    const n = load<i32>(lens + (<usize>b << 2));
    const row = mask + <usize>b * <usize>T;
    for (let t = 0; t < T; t++) store<u8>(row + <usize>t, t < n ? 1 : 0);
  }
}

/** out[i] &= m[i] over n bytes (merging masks). */
export function andMask(n: i32, m: usize, out: usize): void {
  for (let i = 0; i < n; i++) store<u8>(out + <usize>i, load<u8>(out + <usize>i) & load<u8>(m + <usize>i));
}

/** RepeatVector: x [B][F] -> out [B][n][F]. */
export function repeatRows(B: i32, n: i32, F: i32, x: usize, out: usize): void {
  const bytes = <usize>F << 2;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < n; r++) memory.copy(out + (<usize>b * <usize>n + <usize>r) * bytes, x + <usize>b * bytes, bytes);
  }
}

/** Index of the first NaN or infinity among n floats, or -1. */
export function firstNonFinite(n: i32, x: usize): i32 {
  for (let i = 0; i < n; i++) if (!isFinite(load<f32>(x + (<usize>i << 2)))) return i;
  return -1;
}

/** Index of the first id outside [0, limit), or -1. */
export function firstIdOutOfRange(n: i32, ids: usize, limit: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<i32>(ids + (<usize>i << 2));
    if (v < 0 || v >= limit) return i;
  }
  return -1;
}

/**
 * Streaming global pooling for sessions: folds the unmasked steps of x [B][T][F] into the
 * running sum (POOL_AVG) or max (POOL_MAX) acc [B][F] and count [B] (floats), then writes the
 * mean (sum * (1/count), as f32_global_pool) or max so far; 0 while no step was seen.
 */
export function poolStream(B: i32, T: i32, F: i32, x: usize, mask: usize, acc: usize, count: usize, out: usize, mode: i32): void {
  for (let b = 0; b < B; b++) {
    const a = acc + ((<usize>b * <usize>F) << 2);
    const cp = count + (<usize>b << 2);
    for (let t = 0; t < T; t++) {
      if (mask != 0 && load<u8>(mask + <usize>b * <usize>T + <usize>t) == 0) continue;
      const row = x + ((<usize>(b * T + t) * <usize>F) << 2);
      const first = load<f32>(cp) == 0;
      for (let f = 0; f < F; f++) {
        const p = <usize>f << 2;
        const v = load<f32>(row + p);
        store<f32>(a + p, mode == POOL_MAX ? (first ? v : max(load<f32>(a + p), v)) : load<f32>(a + p) + v);
      }
      store<f32>(cp, load<f32>(cp) + 1);
    }
    const n = load<f32>(cp);
    const inv: f32 = <f32>1.0 / n;
    const o = out + ((<usize>b * <usize>F) << 2);
    for (let f = 0; f < F; f++) {
      const p = <usize>f << 2;
      store<f32>(o + p, n == 0 ? 0 : mode == POOL_MAX ? load<f32>(a + p) : load<f32>(a + p) * inv);
    }
  }
}

/** Four halves (zero-extended to u32 lanes) to their float32 bits, exactly. */
// @ts-ignore: decorator
@inline function halvesToF32x4(h: v128): v128 {
  const em = v128.and(h, i32x4.splat(0x7fff));
  const shifted = i32x4.shl(em, 13);
  // normals and subnormals: the bits shifted into place are the value times 2^-112; times
  // 2^112 (bits 0x77800000) is exact, and a half's subnormals are float32 normals
  const scaled = f32x4.mul(shifted, i32x4.splat(0x77800000));
  // exponent 31 (infinity, NaN): all-ones exponent, mantissa kept
  const special = i32x4.gt_s(em, i32x4.splat(0x7bff));
  const value = v128.bitselect(v128.or(shifted, i32x4.splat(0x7f800000)), scaled, special);
  return v128.or(value, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/**
 * IEEE binary16 -> float32 for n values (f16 bundle sections, widened on load), eight per
 * step; the tail through the scalar twin. The halves may sit in the upper half of the
 * destination (src = dst + 2n): reading forward, each 32-byte write covers only halves
 * already read (4i + 32 <= 2n + 2i + 16 while i <= n - 8).
 */
export function widenHalves(n: i32, src: usize, dst: usize): void {
  const n8 = n & ~7;
  for (let i = 0; i < n8; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    v128.store(dst + (<usize>i << 2), halvesToF32x4(i32x4.extend_low_i16x8_u(h)));
    v128.store(dst + (<usize>i << 2), halvesToF32x4(i32x4.extend_high_i16x8_u(h)), 16);
  }
  widenHalvesScalar(n - n8, src + (<usize>n8 << 1), dst + (<usize>n8 << 2));
}

/**
 * Embedding gather from an f16 table [rows][dim] (an f16 bundle's table, kept as halves in
 * kernel memory): out[i] = the row ids[i] widened to float32. Widening a gathered row costs
 * what copying it did, so the table costs half the memory and half the first-touched pages
 * on load; matrices are widened once on load instead (docs/bundle-format.md).
 */
export function f16_gather_rows(scalar: bool, n: i32, ids: usize, table: usize, dim: i32, out: usize): void {
  const rowBytes = <usize>dim << 1;
  for (let i = 0; i < n; i++) {
    const src = table + <usize>load<i32>(ids + (<usize>i << 2)) * rowBytes;
    const dst = out + ((<usize>i * <usize>dim) << 2);
    if (scalar) widenHalvesScalar(dim, src, dst);
    else widenHalves(dim, src, dst);
  }
}

/** Scalar twin of widenHalves: one value at a time, by its fields. */
export function widenHalvesScalar(n: i32, src: usize, dst: usize): void {
  for (let i = 0; i < n; i++) {
    const h = <u32>load<u16>(src + (<usize>i << 1));
    const sign = (h & 0x8000) << 16;
    const e = (h >> 10) & 0x1f;
    let m = h & 0x3ff;
    let bits: u32;
    if (e == 0x1f) bits = sign | 0x7f800000 | (m << 13);
    else if (e != 0) bits = sign | ((e + 112) << 23) | (m << 13);
    else if (m == 0) bits = sign;
    else {
      // subnormal: normalise the mantissa
      let ee: u32 = 113;
      while ((m & 0x400) == 0) {
        m <<= 1;
        ee--;
      }
      bits = sign | (ee << 23) | ((m & 0x3ff) << 13);
    }
    store<u32>(dst + (<usize>i << 2), bits);
  }
}

// CRC-32 (IEEE, reflected, 0xEDB88320: zip/PNG) for the bundle trailer and session snapshots.
// In wasm rather than JS because a cold start runs it once over the whole bundle before V8
// has optimised anything: a JS loop runs as slow interpreted code there, this one as Liftoff
// code from the first call (measured: docs/kernels.md). Slice-by-8: eight table lookups per 8 bytes.
const CRC_TABLE = memory.data(8 * 256 * 4, 16);
let crcTableReady = false;

function crcTableInit(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(CRC_TABLE + (<usize>n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(CRC_TABLE + (<usize>n << 2));
    for (let k: u32 = 1; k < 8; k++) {
      c = load<u32>(CRC_TABLE + (<usize>(c & 0xff) << 2)) ^ (c >>> 8);
      store<u32>(CRC_TABLE + (<usize>(k * 256 + n) << 2), c);
    }
  }
  crcTableReady = true;
}

// @ts-ignore: decorator
@inline function crcAt(table: u32, index: u32): u32 {
  return load<u32>(CRC_TABLE + (<usize>((table << 8) | index) << 2));
}

/** Static room JS copies bytes into before crc32: no allocation per call. */
const CRC_BUFFER = memory.data(16384, 16);

/** Where the runtime copies bytes (16 KB at a time) before crc32 reads them. */
export function crc_buffer(): usize {
  return CRC_BUFFER;
}

/** CRC-32 of n bytes at p, continuing from `seed` (the CRC of what came before; 0 to start). */
export function crc32(p: usize, n: i32, seed: u32): u32 {
  if (!crcTableReady) crcTableInit();
  let c = ~seed;
  const end = p + <usize>n;
  const end8 = p + <usize>(n & ~7);
  for (; p < end8; p += 8) {
    c ^= load<u32>(p); // little-endian: byte 0 in the low bits, as the reflected CRC wants
    const d = load<u32>(p, 4);
    c = crcAt(7, c & 0xff) ^ crcAt(6, (c >>> 8) & 0xff) ^ crcAt(5, (c >>> 16) & 0xff) ^ crcAt(4, c >>> 24)
      ^ crcAt(3, d & 0xff) ^ crcAt(2, (d >>> 8) & 0xff) ^ crcAt(1, (d >>> 16) & 0xff) ^ crcAt(0, d >>> 24);
  }
  for (; p < end; p++) c = crcAt(0, (c ^ load<u8>(p)) & 0xff) ^ (c >>> 8);
  return ~c;
}
