/**
 * Standalone cells own their memory (issue 15 item 10): each has its own kernel instance, so
 * a dropped cell's memory goes with it (1000 dropped 64-unit cells kept +98 to +128 MB when
 * they shared one instance), dispose() ends a cell at once, and a cell keeps one set of
 * buffers, sized for the largest batch it has seen (batch sizes 1..300 kept +133 MB).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LstmCell, GruCell, RnnWasmError } from "../../src/index.ts";

const u = 64;
const lstmArgs = { units: u, kernel: new Float32Array(u * 4 * u).fill(0.01), recurrentKernel: new Float32Array(u * 4 * u).fill(0.01) };
const state = (B: number) => [{ data: new Float32Array(B * u), shape: [B, u] }, { data: new Float32Array(B * u), shape: [B, u] }];
const input = (B: number) => ({ data: new Float32Array(B * u).fill(0.5), shape: [B, u] });

describe("standalone cells own their memory", () => {
  it("1000 dropped 64-unit LstmCells leave the process's memory where it was (its own process, with --expose-gc)", () => {
    const script = fileURLToPath(new URL("./cells-memory.ts", import.meta.url));
    const run = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", script], { encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const grown = JSON.parse(run.stdout.trim().split("\n").pop()!) as { rss: number; external: number };
    // a cell holds ~0.5 MB (its instance's memory): kept, 1000 of them would be ~500 MB
    expect(grown.external, JSON.stringify(grown)).toBeLessThan(32);
    expect(grown.rss, JSON.stringify(grown)).toBeLessThan(64);
  });

  it("batch sizes 1..300 on one cell: memory of the largest batch once, results as from a fresh cell", async () => {
    const cell = await LstmCell.create(lstmArgs);
    for (let B = 1; B <= 300; B++) cell.call(input(B), state(B));
    const fresh = await LstmCell.create(lstmArgs);
    const [h] = fresh.call(input(300), state(300));
    expect(cell.memoryBytes).toBeLessThanOrEqual(fresh.memoryBytes);
    // a smaller batch after a larger one reuses the first rows of the same buffers
    const [h7] = cell.call(input(7), state(7));
    expect(Array.from(h7.data)).toEqual(Array.from(h.data.subarray(0, 7 * u)));
  });

  it("dispose() ends the cell: E_DISPOSED after, other cells unaffected", async () => {
    const a = await LstmCell.create(lstmArgs);
    const b = await GruCell.create({ units: u, kernel: new Float32Array(u * 3 * u).fill(0.01), recurrentKernel: new Float32Array(u * 3 * u).fill(0.01) });
    const before = b.call(input(2), [state(2)[0]])[0];
    a.dispose();
    expect(() => a.call(input(1), state(1))).toThrow(RnnWasmError);
    expect(() => a.call(input(1), state(1))).toThrow(/has been disposed/);
    expect(Array.from(b.call(input(2), [state(2)[0]])[0].data)).toEqual(Array.from(before.data));
  });

  it("an object claiming a length is not weights (it would have allocated 2^32 floats)", async () => {
    await expect(LstmCell.create({ ...lstmArgs, kernel: { data: { length: 2 ** 32 } } as never })).rejects.toMatchObject({ code: "E_ARGUMENT" });
  });
});
