/**
 * The description block rnnSequence reads (assembly/abi.ts, RNN_DESC_*): allocated in the model's
 * kernel memory and filled by the kernels' rnnDescribe once per recurrent layer, so a call
 * passes one pointer for what the layer is.
 */
import {
  CELL_GRU, CELL_LSTM, CELL_SIMPLE_RNN, RNN_ALIGN_OUTPUT, RNN_DESC_BYTES, RNN_GO_BACKWARDS, RNN_RESET_AFTER, RNN_ZERO_MASKED_OUTPUT,
} from "../wasm/abi.js";
import type { KernelInstance } from "../wasm/kernels.js";
import type { Op } from "./spec.js";

/** What a description holds: the rnn op's own fields (spec.ts). */
export type RecurrenceFields = Pick<Extract<Op, { op: "rnn" }>, "cell" | "units" | "inDim" | "activation" | "recurrentActivation" | "goBackwards" | "alignOutput" | "zeroOutputForMask" | "resetAfter">;

/** Kernel-memory pointers of a recurrent layer's weights (absent: 0; PTR_INT8 kept). */
export interface RecurrenceWeights {
  kernel: number;
  bias?: number;
  recurrentKernel: number;
  recurrentBias?: number;
}

const CELLS = { lstm: CELL_LSTM, gru: CELL_GRU, simple_rnn: CELL_SIMPLE_RNN };

/** Describes `op` with weights `w` in fresh kernel memory; returns the description's pointer. */
export function describeRecurrence(k: KernelInstance, op: RecurrenceFields, w: RecurrenceWeights): number {
  const p = k.alloc(RNN_DESC_BYTES, "rnn layer");
  const flags = (op.goBackwards ? RNN_GO_BACKWARDS : 0) | (op.alignOutput ? RNN_ALIGN_OUTPUT : 0) |
    (op.zeroOutputForMask ? RNN_ZERO_MASKED_OUTPUT : 0) | (op.resetAfter ? RNN_RESET_AFTER : 0);
  k.exports.rnnDescribe(p, CELLS[op.cell], op.units, op.inDim, flags, w.kernel, w.bias!, w.recurrentKernel, w.recurrentBias!, op.recurrentActivation, op.activation);
  return p;
}
