/**
 * An uncaught error from the built Node entry reads like code: Node prints a short source line
 * (not the whole minified entry), the class as RnnWasmError (not a minified name), frames with
 * the functions' own names, and with --enable-source-maps the TypeScript files and lines.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, cleanup, runProcess, scratchDir } from "./harness.ts";

const SCRIPT = (entry: string) => `
import { loadModel } from ${JSON.stringify(entry)};
const m = await loadModel(${JSON.stringify(join(ROOT, "models/sine.rnnb"))});
m.predict({ data: new Float32Array(3), shape: [1, 3, 2] }); // 6 values needed: E_SHAPE, uncaught
`;

describe("uncaught errors from dist/node.js", () => {
  let dir: string | undefined;
  beforeAll(() => {
    dir = scratchDir("stack");
    writeFileSync(join(dir, "uncaught.mjs"), SCRIPT(join(ROOT, "dist/node.js")));
  });
  afterAll(() => cleanup(dir));

  it("print a short source line, RnnWasmError and the functions' names", async () => {
    const r = await runProcess(process.execPath, ["uncaught.mjs"], { cwd: dir, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    expect(Math.max(...lines.map((l) => l.length)), `the longest stderr line:\n${r.stderr}`).toBeLessThan(400);
    expect(r.stderr).toMatch(/^RnnWasmError: input \S+: shape \[1,3,2\] needs 6 values, data holds 3$/m);
    expect(r.stderr).not.toMatch(/\[RnnWasmError\]/);
    expect(r.stderr).toMatch(/at checkInput \(/);
    expect(r.stderr).toMatch(/at \S*predict \(/);
  });

  it("map to the TypeScript sources with --enable-source-maps", async () => {
    const r = await runProcess(process.execPath, ["--enable-source-maps", "uncaught.mjs"], { cwd: dir, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/src\/model\/inputs\.ts:\d+:\d+/);
    expect(r.stderr).toMatch(/src\/model\/model\.ts:\d+:\d+/);
  });
});
