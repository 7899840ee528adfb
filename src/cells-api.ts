/**
 * Public LstmCell / GruCell. The implementation (src/cells.ts, with the weight packing code)
 * is a separate chunk loaded by `ready()` or `create()`, so models that never use standalone
 * cells do not download it. `new LstmCell(args)` works once `await ready()` has run and
 * returns the implementation object (which has the same `call`, `units` and `inputDim`).
 */
import { fail } from "./errors.js";
import type { CellArgs, GruCell as GruCellImpl, LstmCell as LstmCellImpl } from "./cells.js";
import type { SimdChoice, WasmSource } from "./wasm/loader.js";

type CellsModule = typeof import("./cells.js");
let cells: CellsModule | null = null;
type Options = { wasm?: WasmSource; simd?: SimdChoice };

/** Prepares standalone cells (their code and the compiled kernel module); call once before `new LstmCell(...)`. */
export async function ready(options: Options = {}): Promise<void> {
  cells ??= await import("./cells.js");
  await cells.ready(options);
}

function cellClass<T>(kind: "LstmCell" | "GruCell") {
  const make = (args: CellArgs) => {
    if (!cells) fail("E_WASM", `${kind}: await ready() (or use ${kind}.create) first`);
    return new cells[kind](args) as T;
  };
  const ctor = function (args: CellArgs) {
    return make(args);
  } as unknown as { new (args: CellArgs): T; create(args: CellArgs, options?: Options): Promise<T> };
  ctor.create = async (args, options) => ((cells ??= await import("./cells.js"))[kind].create(args, options) as T);
  return ctor;
}

export const LstmCell = cellClass<LstmCellImpl>("LstmCell");
export const GruCell = cellClass<GruCellImpl>("GruCell");
