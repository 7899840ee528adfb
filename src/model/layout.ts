/**
 * The few constants every part of the runtime shares (kept apart from the importers and the
 * packing code so the runtime bundle does not pull those in).
 */

/** Two shapes (or any number lists) hold the same dims. */
export const sameShape = (a: readonly (number | null)[], b: readonly (number | null)[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Units rounded up to the 8-unit tile of the recurrent kernels. */
export function padTo8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Elementwise activation codes are 0 .. ACT_CODES-1 (assembly/math.ts, activations.ts). */
export const ACT_CODES = 17;
/** Pseudo-codes handled outside the elementwise kernel. */
export const ACT_SOFTMAX = 100;
export const ACT_LOG_SOFTMAX = 101;
