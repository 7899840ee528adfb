/**
 * Deno (npm `deno`): a script in a fresh folder imports the packed package by name; Deno's own
 * resolver must pick the "deno" entry, which fetches the kernel builds from file: URLs.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ProbeResult } from "./engine/probe.ts";
import { BIN, checkAgainstNode, logSummary, runProcess, useEngineProject } from "./harness.ts";

const MAIN = `
import * as api from "rnn-wasm";
import { runProbe } from "./probe.mjs";
const cases = JSON.parse(await Deno.readTextFile(new URL("./cases.json", import.meta.url)));
const bundles = await Promise.all(cases.map((_, i) => Deno.readFile(new URL("./model-" + i + ".rnnb", import.meta.url))));
const result = await runProbe(api, bundles, cases);
console.log(JSON.stringify({ entry: import.meta.resolve("rnn-wasm"), version: Deno.version, result }));
`;

describe("Deno runs the packed package", () => {
  const p = useEngineProject("deno");

  it("imports the deno entry by package name and predicts what Node predicts", async () => {
    const { dir, cases, node, timings } = p;
    writeFileSync(join(dir, "main.mjs"), MAIN);
    const r = await runProcess(
      BIN("deno"),
      ["run", "--quiet", "--no-prompt", "--node-modules-dir=manual", `--allow-read=${dir}`, "main.mjs"],
      { cwd: dir, env: { ...process.env, DENO_DIR: join(dir, ".deno-cache"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }, timeoutMs: 90_000 },
    );
    timings.deno = r.ms;
    expect(r.code, `deno exited with ${r.code}; stderr:\n${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { entry: string; version: { deno: string; v8: string }; result: ProbeResult };
    expect(out.entry).toBe(`file://${join(dir, "node_modules/rnn-wasm/dist/deno.js")}`);
    const s = checkAgainstNode(`Deno ${out.version.deno} (V8 ${out.version.v8})`, out.result, node, cases);
    logSummary(s, timings);
  });
});
