/**
 * The kernel ABI is written once (assembly/abi.ts and the signatures of assembly/index.ts) and
 * generated into src/wasm/abi.ts: the committed file must be what the generator makes of the
 * sources now, and both kernel builds must export exactly its functions, each with its
 * parameter count, and nothing else.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ABI_OUTPUT, generateAbi } from "../../scripts/abi.mjs";
import * as abi from "../../src/wasm/abi.ts";
import { BINARY_FNS, REDUCE_FNS, UNARY_FNS } from "../../src/model/tensor-codes.ts";

const root = resolve(import.meta.dirname, "..", "..");

describe("kernel ABI", () => {
  it(`${ABI_OUTPUT} is what scripts/abi.mjs generates from assembly/ (run npm run build after editing assembly/abi.ts or index.ts)`, () => {
    expect(readFileSync(resolve(root, ABI_OUTPUT), "utf8")).toBe(generateAbi());
  });

  it.each(["rnn-simd.wasm", "rnn-relaxed.wasm"])("build/%s exports exactly KernelExports, with the declared parameter counts", async (file) => {
    const module = await WebAssembly.compile(readFileSync(resolve(root, "build", file)));
    const declared = Object.entries(abi.KERNEL_FUNCTIONS);
    expect(WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`).sort()).toEqual(
      ["memory:memory", ...declared.map(([name]) => `${name}:function`)].sort(),
    );
    const ex = (await WebAssembly.instantiate(module, {})).exports as Record<string, (...args: number[]) => unknown>;
    for (const [name, params] of declared) expect(ex[name].length, `${name}'s parameters`).toBe(params);
  });

  it("codes the runtime stores and passes are distinct where they must be", () => {
    const group = (prefix: string) => Object.entries(abi).filter(([k, v]) => k.startsWith(prefix) && typeof v === "number");
    for (const prefix of ["ACT_", "BIN_", "POOL_", "CELL_", "TB_", "TU_", "TR_"]) {
      const codes = group(prefix).filter(([k]) => !["ACT_COUNT", "TU_COUNT", "TU_VECTOR"].includes(k)).map(([, v]) => v);
      expect(new Set(codes).size, `${prefix}* codes`).toBe(codes.length);
    }
    // elementwise activation codes are 0 .. ACT_COUNT - 1; the slots' ACT_UNARY + TU_* and the
    // softmax codes lie outside that range and apart
    const elementwise = group("ACT_").filter(([k]) => !["ACT_COUNT", "ACT_UNARY", "ACT_SOFTMAX", "ACT_LOG_SOFTMAX"].includes(k)).map(([, v]) => v).sort((a, b) => (a as number) - (b as number));
    expect(elementwise).toEqual(Array.from({ length: abi.ACT_COUNT }, (_, i) => i));
    expect(abi.ACT_UNARY).toBeGreaterThanOrEqual(abi.ACT_COUNT);
    expect(abi.ACT_UNARY + abi.TU_COUNT).toBeLessThanOrEqual(abi.ACT_SOFTMAX);
    // the tensor ops' codes are stored by name: each name list is the codes in order
    for (const [prefix, names] of [["TB_", BINARY_FNS], ["TU_", UNARY_FNS], ["TR_", REDUCE_FNS]] as const) {
      expect(names.map((n) => (abi as Record<string, unknown>)[prefix + n.toUpperCase()]), `${prefix}* by name`).toEqual(names.map((_, i) => i));
    }
    expect(abi.TU_COUNT).toBe(UNARY_FNS.length);
    // flags are single bits; description fields are whole i32 slots inside the block
    const flags = [abi.RNN_GO_BACKWARDS, abi.RNN_ALIGN_OUTPUT, abi.RNN_ZERO_MASKED_OUTPUT, abi.RNN_RESET_AFTER, abi.RNN_INPUT_FORGET];
    for (const f of flags) expect(f & (f - 1), `flag ${f}`).toBe(0);
    expect(flags.reduce((a, b) => a | b)).toBe(flags.reduce((a, b) => a + b));
    const fields = group("RNN_DESC_").filter(([k]) => k !== "RNN_DESC_BYTES");
    const flagNames = new Set(["RNN_GO_BACKWARDS", "RNN_ALIGN_OUTPUT", "RNN_ZERO_MASKED_OUTPUT", "RNN_RESET_AFTER", "RNN_INPUT_FORGET"]);
    expect(group("RNN_").filter(([k]) => !k.startsWith("RNN_DESC_") && !flagNames.has(k)), "every RNN_ constant is a field or a flag").toEqual([]);
    expect(new Set(fields.map(([, v]) => v)).size, "fields at distinct offsets").toBe(fields.length);
    for (const [k, off] of fields) {
      expect((off as number) % 4, k).toBe(0);
      expect(off as number, k).toBeLessThan(abi.RNN_DESC_BYTES);
    }
    expect(abi.RNN_DESC_BYTES % abi.BLOCK_ALIGN).toBe(0);
    // activation slots: code, alpha, beta in SLOT_BYTES, and the slots of a description apart
    expect([abi.SLOT_CODE, abi.SLOT_ALPHA, abi.SLOT_BETA].every((o) => o % 4 === 0 && o < abi.SLOT_BYTES)).toBe(true);
    const slots = [abi.RNN_DESC_ACT_GATE, abi.RNN_DESC_ACT_CANDIDATE, abi.RNN_DESC_ACT_CELL].sort((a, b) => a - b);
    for (const [i, s] of slots.entries()) {
      expect(s + abi.SLOT_BYTES, "a slot inside the block").toBeLessThanOrEqual(abi.RNN_DESC_BYTES);
      if (i) expect(s - slots[i - 1], "slots apart").toBeGreaterThanOrEqual(abi.SLOT_BYTES);
      for (const [k, off] of fields) if (!k.startsWith("RNN_DESC_ACT_")) expect((off as number) < s || (off as number) >= s + abi.SLOT_BYTES, `${k} outside slot ${s}`).toBe(true);
    }
    // a cell's code is its gate count (src/model/spec.ts GATES)
    expect([abi.CELL_LSTM, abi.CELL_GRU, abi.CELL_SIMPLE_RNN]).toEqual([4, 3, 1]);
    expect(abi.PTR_INT8 | abi.PTR_F16).toBeLessThan(abi.BLOCK_ALIGN);
  });
});
