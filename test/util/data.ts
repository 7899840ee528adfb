/**
 * Where the shared, read-only data lives: `RNN_WASM_DATA` if set, else `../shared/data` beside
 * the repository (the layout of the work machines and of CI's clean clone).
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const DATA_DIR = process.env.RNN_WASM_DATA ?? resolve(REPO_ROOT, "../shared/data");
