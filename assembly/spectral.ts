// Short-time Fourier magnitudes: what a Conv with a windowed DFT basis followed by
// sqrt(re² + im²) computes (Silero VAD's front end), by a real FFT per frame instead of a
// product with the basis (N·N/2 multiply-adds per frame -> ~N·log2(N)). In float64, with
// twiddles given as float32 pairs (hi + lo): the product with the basis that it replaces rounds
// each sum once per term in float32, and an FFT in float32 rounds differently (its error is
// relative to the whole frame, not to each bin), which a model taking log(magnitude) amplifies;
// float64 makes the FFT's own error negligible. Scalar: the work per frame is small and
// irregular; there is no SIMD form, so no twin.

/**
 * In-place radix-2 complex FFT of M points (M a power of 2) at z (interleaved f64 re, im), with
 * twiddles tw[j] = (cos hi, cos lo, −sin hi, −sin lo)(2πj/N) for j < N/2 where N = 2M (the
 * table of the real FFT; the complex FFT of M points uses every other entry).
 */
function fftComplex(z: usize, M: i32, tw: usize): void {
  // bit-reversal permutation
  for (let i = 1, j = 0; i < M; i++) {
    let bit = M >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) {
      const pi = z + (<usize>i << 4), pj = z + (<usize>j << 4);
      const re = load<f64>(pi), im = load<f64>(pi, 8);
      store<f64>(pi, load<f64>(pj));
      store<f64>(pi, load<f64>(pj, 8), 8);
      store<f64>(pj, re);
      store<f64>(pj, im, 8);
    }
  }
  for (let len = 2; len <= M; len <<= 1) {
    const half = len >> 1;
    // twiddle step in the N/2-entry table: angle 2π/len = 2π·(2M/len)/N
    const step = (M << 1) / len;
    for (let start = 0; start < M; start += len) {
      for (let k = 0; k < half; k++) {
        const t = tw + (<usize>(k * step) << 4);
        const wr = <f64>load<f32>(t) + <f64>load<f32>(t, 4), wi = <f64>load<f32>(t, 8) + <f64>load<f32>(t, 12);
        const pa = z + (<usize>(start + k) << 4), pb = z + (<usize>(start + k + half) << 4);
        const br = load<f64>(pb), bi = load<f64>(pb, 8);
        const xr = br * wr - bi * wi, xi = br * wi + bi * wr;
        const ar = load<f64>(pa), ai = load<f64>(pa, 8);
        store<f64>(pa, ar + xr);
        store<f64>(pa, ai + xi, 8);
        store<f64>(pb, ar - xr);
        store<f64>(pb, ai - xi, 8);
      }
    }
  }
}

/**
 * out[b][f][k] = |Σ_n window[n]·x[b][f·hop + n − padLeft]·e^(−2πikn/N)| for k < bins (≤ N/2 + 1),
 * samples outside [0, Tin) read as 0. x: [B][Tin]; window: N floats; tw: N/2 entries of four
 * floats (cos hi, cos lo, −sin hi, −sin lo)(2πj/N); work: N + 2 doubles (8·N + 16 bytes). N a
 * power of 2, at least 4.
 */
export function f32_stft_magnitude(
  B: i32, Tin: i32, x: usize, frames: i32, N: i32, hop: i32, padLeft: i32, window: usize, tw: usize, bins: i32, out: usize, work: usize,
): void {
  const M = N >> 1;
  for (let b = 0; b < B; b++) {
    const xb = x + (<usize>b * <usize>Tin << 2);
    for (let f = 0; f < frames; f++) {
      // the windowed frame as M complex points z[m] = s[2m] + i·s[2m+1]
      const s0 = f * hop - padLeft;
      for (let n = 0; n < N; n++) {
        const s = s0 + n;
        const v: f64 = s >= 0 && s < Tin ? <f64>load<f32>(xb + (<usize>s << 2)) : 0;
        store<f64>(work + (<usize>n << 3), v * <f64>load<f32>(window + (<usize>n << 2)));
      }
      fftComplex(work, M, tw);
      // the real spectrum from the half-size one: X[k] = E[k] + W^k·O[k], with
      // E = (Z[k] + conj Z[M−k]) / 2 and O = (Z[k] − conj Z[M−k]) / 2i
      store<f64>(work + (<usize>M << 4), load<f64>(work));
      store<f64>(work + (<usize>M << 4), load<f64>(work, 8), 8);
      const ob = out + ((<usize>b * <usize>frames + <usize>f) * <usize>bins << 2);
      for (let k = 0; k < bins; k++) {
        const pk = work + (<usize>k << 4), pm = work + (<usize>(M - k) << 4);
        const zr = load<f64>(pk), zi = load<f64>(pk, 8);
        const cr = load<f64>(pm), ci = -load<f64>(pm, 8);
        const er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
        // (Z[k] − conj Z[M−k]) / 2i = (di, −dr) / 2
        const dr = zr - cr, di = zi - ci;
        const orr = 0.5 * di, oi = -0.5 * dr;
        // W^k = e^(−2πik/N): tw[k] for k < M, and −1 at k = M
        let wr: f64 = -1, wi: f64 = 0;
        if (k < M) {
          const t = tw + (<usize>k << 4);
          wr = <f64>load<f32>(t) + <f64>load<f32>(t, 4);
          wi = <f64>load<f32>(t, 8) + <f64>load<f32>(t, 12);
        }
        const re = er + (orr * wr - oi * wi);
        const im = ei + (orr * wi + oi * wr);
        store<f32>(ob + (<usize>k << 2), <f32>sqrt(re * re + im * im));
      }
    }
  }
}
