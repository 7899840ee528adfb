/** float32 <-> IEEE 754 binary16, for f16 bundle sections (widened to f32 on load). */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round-to-nearest-even float -> half bits. */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000; // subnormal half: shift in the implicit bit
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && half & 1) ? half + 1 : half);
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // may carry into the exponent: correct
  return sign | half;
}

/** Decodes `n` halves at `src` into float32s at `dst` (Uint32 view, for exact bit patterns). */
export function halvesToFloats(src: Uint16Array, dst: Float32Array): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    const sign = (h & 0x8000) << 16;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) {
      if (m === 0) out[i] = sign;
      else {
        // subnormal: normalise
        let mm = m;
        let ee = -1;
        do { ee++; mm <<= 1; } while ((mm & 0x400) === 0);
        out[i] = sign | ((127 - 15 - ee) << 23) | ((mm & 0x3ff) << 13);
      }
    } else if (e === 0x1f) {
      out[i] = sign | 0x7f800000 | (m << 13);
    } else {
      out[i] = sign | ((e + 112) << 23) | (m << 13);
    }
  }
}
