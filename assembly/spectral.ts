// Short-time Fourier magnitudes: what a Conv with a windowed DFT basis followed by
// sqrt(re² + im²) computes (Silero VAD's front end), by a real FFT per frame instead of a
// product with the basis (N·N/2 multiply-adds per frame -> ~N·log2(N)). Scalar: the work per
// frame is small and irregular; there is no SIMD form, so no twin.

/**
 * In-place radix-2 complex FFT of M points (M a power of 2) at z (interleaved re, im), with
 * twiddles tw[j] = (cos, -sin)(2πj/N) for j < N/2 where N = 2M (the table of the real FFT;
 * the complex FFT of M points uses every other entry).
 */
function fftComplex(z: usize, M: i32, tw: usize): void {
  // bit-reversal permutation
  for (let i = 1, j = 0; i < M; i++) {
    let bit = M >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) {
      const pi = z + (<usize>i << 3), pj = z + (<usize>j << 3);
      const re = load<f32>(pi), im = load<f32>(pi, 4);
      store<f32>(pi, load<f32>(pj));
      store<f32>(pi, load<f32>(pj, 4), 4);
      store<f32>(pj, re);
      store<f32>(pj, im, 4);
    }
  }
  for (let len = 2; len <= M; len <<= 1) {
    const half = len >> 1;
    // twiddle step in the N/2-entry table: angle 2π/len = 2π·(2M/len)/N
    const step = (M << 1) / len;
    for (let start = 0; start < M; start += len) {
      for (let k = 0; k < half; k++) {
        const t = tw + (<usize>(k * step) << 3);
        const wr = load<f32>(t), wi = load<f32>(t, 4);
        const pa = z + (<usize>(start + k) << 3), pb = z + (<usize>(start + k + half) << 3);
        const br = load<f32>(pb), bi = load<f32>(pb, 4);
        const xr = br * wr - bi * wi, xi = br * wi + bi * wr;
        const ar = load<f32>(pa), ai = load<f32>(pa, 4);
        store<f32>(pa, ar + xr);
        store<f32>(pa, ai + xi, 4);
        store<f32>(pb, ar - xr);
        store<f32>(pb, ai - xi, 4);
      }
    }
  }
}

/**
 * out[b][f][k] = |Σ_n window[n]·x[b][f·hop + n − padLeft]·e^(−2πikn/N)| for k < bins (≤ N/2 + 1),
 * samples outside [0, Tin) read as 0. x: [B][Tin]; window: N floats; tw: N/2 (cos, −sin)
 * pairs of 2πj/N; work: N + 2 floats. N a power of 2, at least 4.
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
        const v: f32 = s >= 0 && s < Tin ? load<f32>(xb + (<usize>s << 2)) : 0;
        store<f32>(work + (<usize>n << 2), v * load<f32>(window + (<usize>n << 2)));
      }
      fftComplex(work, M, tw);
      // the real spectrum from the half-size one: X[k] = E[k] + W^k·O[k], with
      // E = (Z[k] + conj Z[M−k]) / 2 and O = (Z[k] − conj Z[M−k]) / 2i
      store<f32>(work + (<usize>M << 3), load<f32>(work));
      store<f32>(work + (<usize>M << 3), load<f32>(work, 4), 4);
      const ob = out + ((<usize>b * <usize>frames + <usize>f) * <usize>bins << 2);
      for (let k = 0; k < bins; k++) {
        const pk = work + (<usize>k << 3), pm = work + (<usize>(M - k) << 3);
        const zr = load<f32>(pk), zi = load<f32>(pk, 4);
        const cr = load<f32>(pm), ci = -load<f32>(pm, 4);
        const er: f32 = <f32>0.5 * (zr + cr), ei: f32 = <f32>0.5 * (zi + ci);
        // (Z[k] − conj Z[M−k]) / 2i = (di, −dr) / 2
        const dr = zr - cr, di = zi - ci;
        const orr: f32 = <f32>0.5 * di, oi: f32 = <f32>-0.5 * dr;
        // W^k = e^(−2πik/N): tw[k] for k < M, and −tw[k − M] past it (only k = M: −1)
        let wr: f32 = -1, wi: f32 = 0;
        if (k < M) {
          wr = load<f32>(tw + (<usize>k << 3));
          wi = load<f32>(tw + (<usize>k << 3), 4);
        }
        const re = er + (orr * wr - oi * wi);
        const im = ei + (orr * wi + oi * wr);
        store<f32>(ob + (<usize>k << 2), sqrt(re * re + im * im));
      }
    }
  }
}
