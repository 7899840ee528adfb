/** The engine registry: ids in report order, and one constructor for each. */
import { createOrtEngine } from "./ort.ts";
import { createRnnWasmEngine, type RnnWasmEntry, type RnnWasmFrom } from "./rnnwasm.ts";
import { createTfjsEngine } from "./tfjs.ts";
import type { Engine, EngineId } from "./types.ts";

export const ENGINE_IDS: EngineId[] = ["rnn-wasm", "rnn-wasm-int8", "ort-web", "tfjs-wasm", "tfjs-cpu", "ort-node-1t", "ort-node", "tfjs-node"];

/** rnn-wasm's own engines: the default f32 bundle and the int8 one (`--dtype int8`). */
export const RNN_WASM_ENGINES: EngineId[] = ["rnn-wasm", "rnn-wasm-int8"];

export interface EngineOptions {
  root: string;
  rnnWasmFrom?: RnnWasmFrom;
  /** A prepared entry (prepareRnnWasmEntry); overrides rnnWasmFrom. */
  rnnWasmEntry?: RnnWasmEntry;
}

export async function createEngine(id: EngineId, opts: EngineOptions): Promise<Engine> {
  switch (id) {
    case "rnn-wasm": return createRnnWasmEngine(opts.root, opts.rnnWasmFrom, opts.rnnWasmEntry);
    case "rnn-wasm-int8": return createRnnWasmEngine(opts.root, opts.rnnWasmFrom, opts.rnnWasmEntry, "int8");
    case "tfjs-cpu":
    case "tfjs-wasm":
    case "tfjs-node": return createTfjsEngine(id);
    case "ort-web":
    case "ort-node-1t":
    case "ort-node": return createOrtEngine(id);
  }
}

export function isEngineId(s: string): s is EngineId {
  return (ENGINE_IDS as string[]).includes(s);
}
