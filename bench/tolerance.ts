/**
 * The benchmark's correctness gate. Before an engine is timed, its output on the same input
 * must match the reference (tfjs cpu backend, or the float64 reference where tfjs cannot run
 * the model) within this bound; otherwise it is reported as disagreeing and not timed.
 *
 * The bound is the suite's APPROX tolerance (test/tolerance.ts): rnn-wasm uses vector
 * tanh/sigmoid approximations documented within 1e-4, and every peer is held to the same bound.
 * Exact float32 engines measured here agree with the references to ~1e-7 (bench/results/*.json
 * records each engine's max error), so a real translation or kernel bug (errors ~1e-2) cannot
 * pass.
 */
import { APPROX, INT8_WEIGHTS } from "../test/tolerance.ts";

export const GATE = { ...APPROX, name: "GATE (= APPROX)" } as const;

/**
 * rnn-wasm-int8 runs the model exported with `--dtype int8`: its outputs differ from the float
 * reference by the weight quantisation (INT8_WEIGHTS, test/tolerance.ts), so it is gated on that
 * bound; a kernel bug still shows as errors of order 1.
 */
export const GATE_INT8 = { ...INT8_WEIGHTS, name: "GATE_INT8 (= INT8_WEIGHTS)" } as const;
