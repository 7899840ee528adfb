/**
 * The few helpers every part of the runtime shares (kept apart from the importers and the
 * packing code so the runtime bundle does not pull those in). Codes and layouts the kernels
 * define are in src/wasm/abi.ts.
 */
import { PANEL_WIDTH } from "../wasm/abi.js";

/** Two shapes (or any number lists) hold the same dims. */
export const sameShape = (a: readonly (number | null)[], b: readonly (number | null)[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Units rounded up to the tile of the recurrent kernels (columns to the panel of packed matrices). */
export function padTo8(n: number): number {
  return Math.ceil(n / PANEL_WIDTH) * PANEL_WIDTH;
}
