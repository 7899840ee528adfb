/**
 * Where the shared data lives: `RNN_WASM_DATA` if set, else `../shared/data` beside the
 * repository (the layout of the work machines and of CI's clone).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DATA_DIR = process.env.RNN_WASM_DATA ?? path.resolve(REPO_ROOT, "../shared/data");
