/**
 * Public LstmCell / GruCell. The implementation (src/cells.ts, with the weight packing code)
 * is a separate chunk loaded by `ready()` or `create()`, so models that never use standalone
 * cells do not download it. `new LstmCell(args)` works once `await ready()` has run and
 * returns the implementation object (which has the same `call`, `units` and `inputDim`).
 */
import { RnnWasmError } from "./errors.js";
import type { CellArgs, GruCell as GruCellImpl, LstmCell as LstmCellImpl } from "./cells.js";
import type { SimdChoice, WasmSource } from "./wasm/loader.js";

type CellsModule = typeof import("./cells.js");
let cells: CellsModule | null = null;

/** Prepares standalone cells (kernel instance and code); call once before `new LstmCell(...)`. */
export async function ready(options: { wasm?: WasmSource; simd?: SimdChoice } = {}): Promise<void> {
  cells ??= await import("./cells.js");
  await cells.ready(options);
}

function loaded(kind: string): CellsModule {
  if (!cells) throw new RnnWasmError("E_WASM", `${kind}: call \`await ready()\` once before \`new ${kind}(...)\`, or use \`await ${kind}.create(...)\``);
  return cells;
}

export const LstmCell = function LstmCell(args: CellArgs): LstmCellImpl {
  return new (loaded("LstmCell").LstmCell)(args);
} as unknown as {
  new (args: CellArgs): LstmCellImpl;
  create(args: CellArgs, options?: { wasm?: WasmSource; simd?: SimdChoice }): Promise<LstmCellImpl>;
};
LstmCell.create = async (args, options) => {
  await ready(options);
  return new (loaded("LstmCell").LstmCell)(args);
};

export const GruCell = function GruCell(args: CellArgs): GruCellImpl {
  return new (loaded("GruCell").GruCell)(args);
} as unknown as {
  new (args: CellArgs): GruCellImpl;
  create(args: CellArgs, options?: { wasm?: WasmSource; simd?: SimdChoice }): Promise<GruCellImpl>;
};
GruCell.create = async (args, options) => {
  await ready(options);
  return new (loaded("GruCell").GruCell)(args);
};
