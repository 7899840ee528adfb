/**
 * The description block rnnSequence reads (assembly/abi.ts, RNN_DESC_*): allocated in the model's
 * kernel memory and filled by the kernels' rnnDescribe once per recurrent layer, so a call
 * passes one pointer for what the layer is.
 */
import { RNN_DESC_BYTES } from "../wasm/abi.js";
import { fail } from "../errors.js";
import type { KernelInstance } from "../wasm/kernels.js";
import { GATES, type Op } from "./spec.js";

/** What a description holds: the rnn op's own fields (spec.ts). */
export type RecurrenceFields = Pick<
  Extract<Op, { op: "rnn" }>,
  "layer" | "cell" | "units" | "inDim" | "activation" | "recurrentActivation" | "goBackwards" | "alignOutput" | "zeroOutputForMask" | "resetAfter" |
  "cellActivation" | "activationParams" | "clip" | "inputForget"
>;

/** Kernel-memory pointers of a recurrent layer's weights (absent: 0; PTR_INT8 kept). */
export interface RecurrenceWeights {
  kernel: number;
  bias?: number;
  recurrentKernel: number;
  recurrentBias?: number;
  peepholes?: number;
}

/**
 * Describes `op` with weights `w` in fresh kernel memory; returns the description's pointer.
 * Values the kernels do not run (an unknown activation code, a non-finite alpha, beta or
 * clip: rnnDescribe checks them) are a corrupt model: E_BUNDLE_CORRUPT.
 */
export function describeRecurrence(k: KernelInstance, op: RecurrenceFields, w: RecurrenceWeights): number {
  const p = k.alloc(RNN_DESC_BYTES, op.layer);
  // (the clip, alphas and betas may be absent: rnnDescribe takes them as 0)
  const bad = (k.exports.rnnDescribe as (...args: unknown[]) => number)(
    p, GATES[op.cell], op.units, op.inDim, op.goBackwards, op.alignOutput, op.zeroOutputForMask, op.resetAfter, op.inputForget,
    w.kernel, w.bias, w.recurrentKernel, w.recurrentBias, w.peepholes, op.clip,
    op.recurrentActivation, op.activation, op.cellActivation ?? op.activation, ...(op.activationParams ?? []),
  );
  if (bad) fail("E_BUNDLE_CORRUPT", `layer ${op.layer}: invalid recurrent option ${bad}`);
  return p;
}
