/**
 * Weight packing: Keras/tfjs row-major matrices -> the kernels' layouts (docs/kernels.md).
 * Done once, at export (bundles store packed weights) or when loading tfjs/Keras files.
 */

import { padTo8 } from "./layout.js";

export { padTo8 };

/**
 * Panels for f32_gemm: [K, N] row-major -> ceil(N/8) panels of [K][8] (zeros past N).
 */
export function packPanels(w: Float32Array, K: number, N: number): Float32Array {
  const panels = Math.ceil(N / 8);
  const out = new Float32Array(panels * K * 8);
  for (let p = 0; p < panels; p++) {
    const base = p * K * 8;
    const cols = Math.min(8, N - p * 8);
    for (let k = 0; k < K; k++) {
      const src = k * N + p * 8;
      const dst = base + k * 8;
      for (let l = 0; l < cols; l++) out[dst + l] = w[src + l];
    }
  }
  return out;
}

/** Bias padded to whole panels. */
export function padVector(b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(padTo8(n));
  out.set(b.subarray(0, n));
  return out;
}

/**
 * Input kernel of a recurrent layer, [K, G*u] with Keras gate-major columns, as panels in
 * [tile][gate] order, so one f32_gemm writes rows laid out [tile][gate][8 units]: the order
 * the recurrence reads.
 */
export function packGatePanels(w: Float32Array, K: number, G: number, u: number): Float32Array {
  const tiles = padTo8(u) / 8;
  const out = new Float32Array(tiles * G * K * 8);
  let dst = 0;
  for (let tile = 0; tile < tiles; tile++) {
    const cols = Math.min(8, u - tile * 8);
    for (let g = 0; g < G; g++) {
      for (let k = 0; k < K; k++) {
        const src = k * G * u + g * u + tile * 8;
        for (let l = 0; l < cols; l++) out[dst + l] = w[src + l];
        dst += 8;
      }
    }
  }
  return out;
}

/** Bias of a recurrent layer, [G*u] gate-major -> [tile][gate][8] (zeros in padding). */
export function packGateVector(b: Float32Array, G: number, u: number, offset = 0): Float32Array {
  const tiles = padTo8(u) / 8;
  const out = new Float32Array(tiles * G * 8);
  for (let tile = 0; tile < tiles; tile++) {
    const cols = Math.min(8, u - tile * 8);
    for (let g = 0; g < G; g++) {
      for (let l = 0; l < cols; l++) out[(tile * G + g) * 8 + l] = b[offset + g * u + tile * 8 + l];
    }
  }
  return out;
}

/** Gates gFrom..gFrom+G-1 of a gate-major [K, Gtotal*u] matrix, as a [K, G*u] matrix. */
function gateColumns(w: Float32Array, K: number, Gtotal: number, gFrom: number, G: number, u: number): Float32Array {
  const out = new Float32Array(K * G * u);
  for (let k = 0; k < K; k++) out.set(w.subarray(k * Gtotal * u + gFrom * u, k * Gtotal * u + (gFrom + G) * u), k * G * u);
  return out;
}

/**
 * Recurrent kernels are panels in [tile][gate] order, the input kernel's layout
 * (packGatePanels): each gate of an 8-unit tile is one contiguous [u][8] panel, so the per-row
 * kernels stream two panels per pass and the batched path is a plain panel GEMM (bundle format
 * 2; format 1 interleaved the gates per k, [tile][k][gate][8]).
 *
 * LSTM [u, 4u] -> [tile][i,f,c,o][k][8].
 */
export function packLstmRecurrent(w: Float32Array, u: number): Float32Array {
  return packGatePanels(w, u, 4, u);
}

/**
 * GRU [u, 3u]. reset_after: [tile][z,r,h][k][8]. Otherwise the z, r panels [tile][z,r][k][8]
 * for all tiles, then the h panels [tile][k][8] (the kernel's two passes: r*h for every unit
 * before any candidate).
 */
export function packGruRecurrent(w: Float32Array, u: number, resetAfter: boolean): Float32Array {
  if (resetAfter) return packGatePanels(w, u, 3, u);
  const zr = packGatePanels(gateColumns(w, u, 3, 0, 2, u), u, 2, u);
  const h = packGatePanels(gateColumns(w, u, 3, 2, 1, u), u, 1, u);
  const out = new Float32Array(zr.length + h.length);
  out.set(zr);
  out.set(h, zr.length);
  return out;
}

/** SimpleRNN [u, u] -> [tile][k][8] (one panel per tile). */
export function packSimpleRnnRecurrent(w: Float32Array, u: number): Float32Array {
  return packGatePanels(w, u, 1, u);
}
