/**
 * Bounds on JSON-like values that come from outside (a model.json, a Keras config, a tokenizer
 * document, objects passed in memory): code that walks them recursively, formats them into a
 * message or serialises them is safe once these hold. (The bundle reader, which only sees
 * parsed JSON text, checks the depth alone, with the same bound.)
 */
import { fail, type RnnWasmErrorCode } from "./errors.js";

/**
 * Nesting deeper than this is refused (real model files nest 5-12 levels). The bundle reader's
 * MAX_HEADER_DEPTH is the same bound, written there again rather than imported: this module
 * loads with the importers, the reader eagerly (test/format/hostile-bundles.test.ts checks
 * that the two agree).
 */
export const MAX_JSON_DEPTH = 256;
/** Values visited (shared sub-objects counted each time they are reached). */
export const MAX_JSON_NODES = 1 << 23;

/**
 * Refuses values nested deeper than MAX_JSON_DEPTH (which catches cycles), trees of more than
 * MAX_JSON_NODES values (which catches sub-objects shared exponentially often) and values JSON
 * cannot hold (symbols, functions, bigints). Iterative: its own stack is an array.
 */
export function checkJsonTree(value: unknown, where: string, code: RnnWasmErrorCode): void {
  const stack: [unknown, number][] = [[value, 0]];
  for (let n = 0; stack.length; n++) {
    const [v, depth] = stack.pop()!;
    const t = typeof v;
    if (t === "symbol" || t === "function" || t === "bigint") fail(code, `${where} holds a ${t}, which JSON cannot`);
    if (t !== "object" || v === null || ArrayBuffer.isView(v)) continue;
    if (depth >= MAX_JSON_DEPTH || n > MAX_JSON_NODES) fail(code, `${where} nests deeper than ${MAX_JSON_DEPTH} levels or holds more than ${MAX_JSON_NODES} values (or is cyclic)`);
    for (const k of Object.keys(v as object)) stack.push([(v as Record<string, unknown>)[k], depth + 1]);
  }
}
