/**
 * Patterns the translators fuse as they go: a runtime value remembers what produced it
 * (`RtValue.from`), and a later op that completes a pattern emits one fused op instead. The
 * ops the pattern made first are then read by nobody and dropped when the spec is finished, so
 * a fusion never changes what the graph computes, only how.
 *
 * - Conv followed by Relu (or another activation the conv1d op applies): one conv1d op.
 * - The short-time Fourier magnitude: Conv with a windowed DFT basis (the weight's rows are
 *   window·cos(2πkn/N) and ∓window·sin(2πkn/N)), its real and imaginary halves sliced,
 *   squared, added and square-rooted (Silero VAD's front end): one stft_magnitude op, an FFT
 *   per frame instead of a product with the N x N basis.
 */
import type { Op } from "../../model/spec.js";
import type { NodeContext } from "./context.js";
import type { RtValue } from "./values.js";

type ConvOp = Extract<Op, { op: "conv1d" }>;

interface Dft {
  /** The conv's input, channels last in memory ([T, 1]). */
  input: RtValue;
  frameLength: number;
  hop: number;
  pads: [number, number];
  bins: number;
  window: Float32Array;
}

export type Producer =
  | { kind: "conv"; op: ConvOp; onnxName: string }
  | { kind: "dft"; dft: Dft }
  | { kind: "dft-part"; dft: Dft; part: "re" | "im" }
  | { kind: "dft-square"; dft: Dft; part: "re" | "im" }
  | { kind: "dft-power"; dft: Dft };

/**
 * The window of a [2K, 1, N] conv weight whose rows are window·cos(2πkn/N) (k < K) then
 * ±window·sin(2πkn/N), with K = N/2 + 1 and N a power of two; undefined for any other weight.
 */
export function dftWindow(w: Float32Array, dims: number[]): Float32Array | undefined {
  const [rows, cin, N] = dims;
  const K = N / 2 + 1;
  if (cin !== 1 || rows !== 2 * K || N < 4 || (N & (N - 1)) !== 0) return undefined;
  const window = w.slice(0, N); // row k = 0: cos(0) = 1
  const peak = window.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (!(peak > 0)) return undefined;
  // float32 rounding of each product is below 2^-23 relative: allow a few ulps of the peak
  const tol = 4e-7 * peak;
  // the sine rows' sign (PyTorch's STFT basis uses −sin): from row k = 1 at its largest entry
  let at = 0;
  for (let n = 0; n < N; n++) if (Math.abs(window[n] * Math.sin((2 * Math.PI * n) / N)) > Math.abs(window[at] * Math.sin((2 * Math.PI * at) / N))) at = n;
  const sign = Math.sign(w[(K + 1) * N + at]) === Math.sign(Math.sin((2 * Math.PI * at) / N)) ? 1 : -1;
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const a = (2 * Math.PI * ((k * n) % N)) / N;
      if (Math.abs(w[k * N + n] - window[n] * Math.cos(a)) > tol) return undefined;
      if (Math.abs(w[(K + k) * N + n] - sign * window[n] * Math.sin(a)) > tol) return undefined;
    }
  }
  return window;
}

/** A fused conv1d with the activation `code`, if `x` is a conv's lone output with no activation yet. */
export function fuseActivation(ctx: NodeContext, x: RtValue, code: number): RtValue | undefined {
  const p = x.from;
  if (p?.kind !== "conv" || p.op.activation !== 0 || ctx.b.useCount(p.onnxName) !== 1 || ctx.node.inputs[0] !== p.onnxName) return undefined;
  const out = ctx.output(0, x.shape, x.batchAxis, x.order);
  return ctx.b.emitValue({ ...p.op, layer: `${p.op.layer}+${ctx.node.name}`, outputs: [], activation: code }, out);
}

/** A slice of a DFT conv's output along its channels: its real or imaginary half, else undefined. */
export function dftPart(x: RtValue, channelAxis: number, start: number, size: number, step: number): Producer | undefined {
  const p = x.from;
  if (p?.kind !== "dft" || step !== 1 || size !== p.dft.bins) return undefined;
  void channelAxis;
  return start === 0 ? { kind: "dft-part", dft: p.dft, part: "re" } : start === p.dft.bins ? { kind: "dft-part", dft: p.dft, part: "im" } : undefined;
}

export function dftSquare(x: RtValue): Producer | undefined {
  const p = x.from;
  return p?.kind === "dft-part" ? { kind: "dft-square", dft: p.dft, part: p.part } : undefined;
}

export function dftPower(a: RtValue, b: RtValue): Producer | undefined {
  const [p, q] = [a.from, b.from];
  if (p?.kind !== "dft-square" || q?.kind !== "dft-square" || p.dft !== q.dft || p.part === q.part) return undefined;
  return { kind: "dft-power", dft: p.dft };
}

/** sqrt of a DFT's re² + im²: the stft_magnitude op, shaped and laid out like the sqrt's result. */
export function dftMagnitude(ctx: NodeContext, x: RtValue): RtValue | undefined {
  const p = x.from;
  if (p?.kind !== "dft-power") return undefined;
  const { dft } = p;
  const b = ctx.b;
  const layer = ctx.node.name;
  const N = dft.frameLength;
  const twiddles = new Float32Array(N);
  for (let j = 0; j < N / 2; j++) {
    twiddles[2 * j] = Math.cos((2 * Math.PI * j) / N);
    twiddles[2 * j + 1] = -Math.sin((2 * Math.PI * j) / N);
  }
  const out = ctx.output(0, x.shape, x.batchAxis, x.order);
  return b.emitValue({
    op: "stft_magnitude", layer, inputs: [dft.input.id], outputs: [], frameLength: N, hop: dft.hop, pads: dft.pads, bins: dft.bins,
    weights: {
      window: b.addWeight(b.newId(`${layer}/window`), "vector", dft.window, [N], 0),
      twiddles: b.addWeight(b.newId(`${layer}/twiddles`), "vector", twiddles, [N / 2, 2], 0),
    },
  }, out);
}

export type { Dft };
