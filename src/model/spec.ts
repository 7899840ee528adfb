/**
 * The model spec: a small graph of kernel-level ops in topological order, with weights
 * already packed in the layouts the kernels read (docs/kernels.md). It is what the .rnnb
 * bundle's header describes, and what the runtime executes. Shapes exclude the batch axis;
 * `null` is a time axis fixed only when the input arrives.
 */
import { CELL_GRU, CELL_LSTM, CELL_SIMPLE_RNN } from "../wasm/abi.js";

import type { BinaryFn, ReduceFn, UnaryFn } from "./tensor-codes.js";

export type Shape = (number | null)[];

/** Gates per recurrent cell: LSTM i, f, c, o; GRU z, r, h; SimpleRNN one: the kernels' cell codes (a cell's code is its gate count). */
export const GATES = { lstm: CELL_LSTM, gru: CELL_GRU, simple_rnn: CELL_SIMPLE_RNN } as const;

export interface TensorInfo {
  shape: Shape;
  /** Id of the mask tensor carried with this tensor ([B][T] bytes), if any. */
  mask?: string;
}

/** A packed weight: logical shape for reporting, kernel layout for the runtime. */
export interface WeightSpec {
  name: string;
  /** Layout tag, see docs/kernels.md: "rows" (row-major), "panels", "lstm_rec", "gru_rec", "rnn_rec", "gate_vector", "vector". */
  layout: string;
  /** Values stored (after packing and padding; int8 matrices count K rounded up to even). */
  length: number;
  /** Shape in the source model (as Keras reports it), for inspect/param counts. */
  sourceShape: number[];
  /** Number of parameters in the source model this weight accounts for. */
  params: number;
}

export interface OpBase {
  /** Layer name in the source model (error messages, inspect). */
  layer: string;
  inputs: string[];
  outputs: string[];
}

export type Op =
  | (OpBase & { op: "embedding"; inputDim: number; outputDim: number; maskZero: boolean; weights: { table: string } })
  | (OpBase & { op: "dense"; units: number; inDim: number; activation: number; weights: { kernel: string; bias?: string } })
  | (OpBase & {
      op: "rnn";
      cell: "lstm" | "gru" | "simple_rnn";
      units: number;
      inDim: number;
      activation: number;
      recurrentActivation: number;
      returnSequences: boolean;
      returnState: boolean;
      goBackwards: boolean;
      /** Write outputs at their input time index (Bidirectional's backward half). */
      alignOutput: boolean;
      /** Masked steps output zeros instead of the previous h (Keras zero_output_for_mask). */
      zeroOutputForMask?: boolean;
      resetAfter: boolean;
      stateful: boolean;
      /** ONNX: LSTM's cell output activation h in h = o·h(c), when not `activation` (Keras: always `activation`). */
      cellActivation?: number;
      /**
       * ONNX: alpha and beta of activations that take them (codes ACT_UNARY + TU_*,
       * src/wasm/abi.ts): [recurrentActivation's alpha, its beta, activation's alpha, its beta,
       * cellActivation's alpha, its beta]; absent values are 0.
       */
      activationParams?: number[];
      /** ONNX clip: every gate's pre-activation clipped to [-clip, clip] before its activation. */
      clip?: number;
      /** ONNX input_forget (LSTM): coupled gates, f = 1 − i. */
      inputForget?: boolean;
      /**
       * peepholes (ONNX P, LSTM): i, f, o weights [3u] in that order, packed as a gate vector
       * (packGateVector(P, 3, u): [tile][i,f,o][8], docs/kernels.md).
       */
      weights: { kernel: string; bias?: string; recurrentKernel: string; recurrentBias?: string; peepholes?: string };
    })
  | (OpBase & { op: "activation"; activation: number })
  | (OpBase & { op: "relu"; maxValue: number | null; negativeSlope: number; threshold: number })
  | (OpBase & { op: "masking"; maskValue: number })
  | (OpBase & {
      op: "global_pool";
      mode: "avg" | "max";
      /** Keras pools over unmasked steps only; tfjs-layers ignores the mask. */
      maskAware: boolean;
    })
  | (OpBase & { op: "pool1d"; mode: "avg" | "max"; poolSize: number; strides: number; padding: "valid" | "same" })
  | (OpBase & {
      op: "conv1d";
      filters: number;
      kernelSize: number;
      inDim: number;
      strides: number;
      dilation: number;
      /** explicit: `pads` elements of zeros before and after the time axis (ONNX's pads). */
      padding: "valid" | "same" | "causal" | "explicit";
      pads?: [number, number];
      activation: number;
      weights: { kernel: string; bias?: string };
    })
  | (OpBase & { op: "scale_shift"; weights: { scale: string; shift: string } })
  | (OpBase & { op: "layer_norm"; epsilon: number; weights: { gamma?: string; beta?: string } })
  | (OpBase & { op: "reshape"; target: number[] })
  | (OpBase & { op: "repeat"; n: number })
  | (OpBase & { op: "merge"; mode: "add" | "mul" | "avg" | "max" | "min" | "sub" | "concat"; axis: number })
  // Tensor ops of general graphs (ONNX). Axes count from the first axis after the batch; shapes
  // broadcast as in numpy over equal ranks (a size-1 axis repeats).
  | (OpBase & { op: "transpose"; perm: number[] })
  /**
   * Per axis: the first index read, the step between reads (negative: backwards) and the count
   * read. With `bounds`, starts and sizes follow from each axis' size when the input arrives, by
   * Python's slice rules ([start, stop) with `steps`, negative counting from the end, null the
   * default end; Keras `x[:, -1]` on a time axis of any length), and starts/sizes are unused.
   */
  | (OpBase & { op: "slice"; starts: number[]; steps: number[]; sizes: number[]; bounds?: [number | null, number | null][] })
  | (OpBase & { op: "concat"; axis: number })
  /** Per axis, elements added before and after; reflect mirrors without repeating the edge, edge repeats it. */
  | (OpBase & { op: "pad"; mode: "constant" | "reflect" | "edge"; before: number[]; after: number[]; value: number })
  /**
   * Elementwise a (fn) b with broadcasting. Operands come from `inputs` in order, except the one
   * a weight stands for: `weights.a` or `weights.b`, shaped `constShape` (the same rank, no batch:
   * it repeats over the batch).
   */
  | (OpBase & { op: "binary"; fn: BinaryFn; weights?: { a?: string; b?: string }; constShape?: number[] })
  | (OpBase & { op: "unary"; fn: UnaryFn; alpha: number; beta: number })
  | (OpBase & { op: "reduce"; fn: ReduceFn; axis: number; keepDims: boolean })
  /** Softmax (log: log-softmax) along one axis. */
  | (OpBase & { op: "softmax"; axis: number; log: boolean })
  /** [..., M, K] x [..., K, N] of two runtime tensors with the same leading dims. */
  | (OpBase & { op: "matmul" })
  /**
   * Magnitudes of the short-time Fourier transform of a signal [T] (or [T, 1]) -> [frames, bins]:
   * |Σ window[n]·x[f·hop + n − padLeft]·e^(−2πikn/N)|, samples outside the signal 0; N = the
   * window's length (a power of 2). `twiddles` holds (cos, −sin)(2πj/N) for j < N/2, each as a
   * float32 pair hi + lo (the FFT runs in float64).
   */
  | (OpBase & { op: "stft_magnitude"; frameLength: number; hop: number; pads: [number, number]; bins: number; weights: { window: string; twiddles: string } })
  /**
   * ONNX sequence_lens: inputs [x, lengths] (x [T, ...], lengths one int32 per batch row),
   * output the mask `<id>/mask` over x's time axis, a step live while t < its row's length.
   */
  | (OpBase & { op: "lengths_mask" })
  /** A weight shaped `shape`, repeated for every batch row of the input (whose values are not read). */
  | (OpBase & { op: "constant"; shape: number[]; weights: { value: string } })
  /**
   * Attention (Keras Attention, AdditiveAttention, the core of MultiHeadAttention): inputs the
   * query [Tq, H·Dk], the value [Tv, H·Dv] and optionally the key [Tv, H·Dk] (else the value);
   * heads side by side in a row. Outputs the result [Tq, H·Dv], then with `returnScores` the
   * weights, [H, Tq, Tv] (`headAxis`) or [Tq, Tv]. Score: dot `scoreScale`·q·k, or additive
   * `scoreScale`·Σ factors_d·tanh(`tanhScale`·(q_d + k_d)) (factors: ones without the weight).
   * The value's mask masks keys (the key's too with `keyMask`); the query's mask masks whole rows
   * of scores ("rows", MultiHeadAttention) or zeroes outputs ("output", Attention). Masked
   * scores are lowered by 1e9 before the softmax; `zeroMasked` zeroes their weights after it.
   */
  | (OpBase & {
      op: "attention";
      heads: number;
      score: "dot" | "additive";
      scoreScale: number;
      tanhScale: number;
      causal: boolean;
      queryMask: "none" | "rows" | "output";
      keyMask: boolean;
      zeroMasked: boolean;
      returnScores: boolean;
      headAxis: boolean;
      weights?: { factors?: string };
    });


export interface ModelSpec {
  name: string;
  /** `batch`: the batch size fixed by batch_input_shape, if any (reported, and held by stateful layers). */
  inputs: { name: string; tensor: string; shape: Shape; dtype: "float32" | "int32"; batch?: number }[];
  outputs: { name: string; tensor: string }[];
  tensors: Record<string, TensorInfo>;
  ops: Op[];
  weights: WeightSpec[];
  /** The source model's layers in order, for inspect (class names as Keras reports them). */
  layers?: { name: string; className: string; inner?: string }[];
  /** Source facts kept for inspect and metadata. */
  source: { origin: string; kerasVersion?: string; className: string; producer?: string };
  /**
   * State pairs (ONNX --state IN=OUT): before each call the tensor `input` is filled from the
   * session's state (zeros for predict), after it the tensor `output` is the next state. `input`
   * is not a model input and `output` not a model output; both have the same shape.
   */
  states?: { name: string; input: string; output: string }[];
  /**
   * The graph's tensors carry their batch as an axis of their own (an ONNX graph whose shapes
   * depend on the batch size, exported for one): callers pass and receive the graph's shapes, and
   * the runtime runs them as a batch of one.
   */
  unbatched?: boolean;
}

/** A spec with the packed weight data, ready to load into kernel memory or a bundle. */
export interface PackedModel {
  spec: ModelSpec;
  /**
   * Packed data per weight name (same order as spec.weights): float32; the IEEE half bits of
   * an f16 bundle section (a Uint16Array), widened to float32 as it is placed; or an int8
   * weight as the kernels hold it (a Uint8Array: `length` int8 values in the k-pair layouts of
   * docs/kernels.md, zeros to the next 16 bytes, then one f32 scale per column; see
   * src/model/quantize.ts).
   */
  data: Map<string, Float32Array | Uint16Array | Uint8Array>;
}
