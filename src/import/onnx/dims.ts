/**
 * Dimensions while an ONNX graph is folded: a number, or a multiple of the batch size B, which
 * stays symbolic so that one export serves every batch size. Shape arithmetic (Shape -> Gather
 * -> Concat -> Reshape, ConstantOfShape, Mul by a constant) keeps the symbol; a decision that
 * depends on B's value (an If on `batch == 1`) cannot be folded for every B, and makes the export
 * fall back to a fixed batch (build.ts).
 */
import { RnnWasmError } from "../../errors.js";

/** k x B. */
export interface BatchDim {
  k: number;
}
export type Dim = number | BatchDim;

export const B1: BatchDim = { k: 1 };
export const isBatch = (d: Dim): d is BatchDim => typeof d === "object";
export const dimEq = (a: Dim, b: Dim) => (isBatch(a) ? isBatch(b) && a.k === b.k : a === b);
export const showDim = (d: Dim) => (isBatch(d) ? (d.k === 1 ? "batch" : `${d.k}*batch`) : String(d));
export const showShape = (s: Dim[]) => `[${s.map(showDim).join(", ")}]`;

/** Thrown when a fold needs B's value; the export is retried with a fixed batch. */
export class BatchDependent extends Error {
  constructor(readonly where: string) {
    super(`${where} depends on the batch size`);
  }
}

/** Values of B a batch-dependent decision is tried at: it must come out the same for all. */
const SAMPLES = [1, 2, 3, 7];

/**
 * Evaluates `f` on concrete values of every batch dim; the result must not depend on B (else
 * BatchDependent), unless the export runs with a fixed batch `fixed`, which is then used.
 */
export function decide<T>(where: string, fixed: number | undefined, f: (value: (d: Dim) => number) => T): T {
  const at = (b: number) => f((d) => (isBatch(d) ? d.k * b : d));
  if (fixed !== undefined) return at(fixed);
  const first = at(SAMPLES[0]);
  for (const b of SAMPLES.slice(1)) if (at(b) !== first) throw new BatchDependent(where);
  return first;
}

export function mulDim(a: Dim, b: Dim, where: string): Dim {
  if (isBatch(a) && isBatch(b)) throw new RnnWasmError("E_UNSUPPORTED_OPTION", `${where}: a shape computes batch x batch`);
  if (isBatch(a)) return b === 0 ? 0 : { k: a.k * (b as number) };
  if (isBatch(b)) return a === 0 ? 0 : { k: b.k * a };
  return a * b;
}

/** a / b where the result is exact (a dim); undefined when it is not. */
export function divDim(a: Dim, b: Dim): Dim | undefined {
  if (isBatch(a) && isBatch(b)) return a.k % b.k === 0 ? a.k / b.k : undefined;
  if (isBatch(b)) return undefined;
  if (isBatch(a)) return a.k % b === 0 && a.k / b >= 1 ? { k: a.k / b } : undefined;
  return b !== 0 && a % b === 0 ? a / b : undefined;
}

export function productDims(dims: Dim[], where: string): Dim {
  return dims.reduce<Dim>((p, d) => mulDim(p, d, where), 1);
}
