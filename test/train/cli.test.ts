/**
 * `rnn-wasm train` run from the sources as docs/training.md says (tools/cli/main.ts through tsx,
 * a child process): exit codes 0/1/2 and one-line errors; and train() the command calls.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { train, TASKS } from "../../tools/train/train.js";
import { REPO_ROOT } from "../../tools/train/data.js";

const CLI = path.join(REPO_ROOT, "tools/cli/main.ts");
const tmp = mkdtempSync(path.join(os.tmpdir(), "rnnwasm-train-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, "train", ...args], { cwd: REPO_ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.length > 0);
  expect(lines, stderr).toHaveLength(1);
  return lines[0];
}

describe("rnn-wasm train from the sources", () => {
  it.each([
    { args: ["bogus", "-o", "x"], message: /unknown task "bogus"/ },
    { args: ["sine"], message: /required option '-o, --out <dir>'/ },
    { args: ["sine", "-o", "x", "--epochs", "0"], message: /--epochs must be a positive integer/ },
    { args: ["sine", "-o", "x", "--seed", "-1"], message: /seed|unknown option/ },
    { args: ["sine", "-o", "x", "--frobnicate"], message: /unknown option/ },
  ])("exits 2 with one line for usage error $args", ({ args, message }) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(message);
    expect(r.stdout).toBe("");
  });

  it("exits 1 with one line when the output folder cannot be created", () => {
    const file = path.join(tmp, "a-file");
    writeFileSync(file, "not a folder");
    const r = run(["sine", "-o", path.join(file, "out"), "--epochs", "1", "--slice", "2", "--batch-size", "2", "-q"]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^rnn-wasm: E_IO: .*(ENOTDIR|not a directory)/);
  });

  it("exits 0, prints the result as JSON and writes the model", () => {
    const out = path.join(tmp, "sine");
    const r = run(["sine", "-o", out, "--epochs", "2", "--slice", "2", "--batch-size", "2", "--seed", "5", "-q"]);
    // exported after training: the bundle beside the tfjs files
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.modelDir).toBe(out);
    expect(res.backend).toMatch(/wasm backend/);
    const meta = JSON.parse(readFileSync(path.join(out, "meta.json"), "utf8"));
    expect(meta.command).toContain("--seed 5");
    expect(meta.epochs).toBe(2);
    expect(meta.command).toMatch(/^npx tsx tools\/cli\/main\.ts train sine /);
    expect(res.bundle).toBe(path.join(out, "model.rnnb"));
    expect(readFileSync(res.bundle).subarray(0, 4).toString("latin1")).toBe("RNNB");
    // the same folder for another seed: its checkpoint belongs to another run, a usage error
    const again = run(["sine", "-o", out, "--epochs", "2", "--slice", "2", "--batch-size", "2", "--seed", "6", "-q"]);
    expect(again.code, again.stderr).toBe(2);
    expect(oneLine(again.stderr)).toMatch(/^rnn-wasm: E_USAGE: .*seed/);
  });
});

describe("train() for the main CLI and the export step", () => {
  it("lists the tasks and rejects an unknown one with E_ARGUMENT", async () => {
    expect([...TASKS]).toEqual(["next-word", "sentiment", "uci-sentiment", "gru-sentiment", "sine"]);
    await expect(train("nope", { outDir: tmp })).rejects.toMatchObject({ code: "E_ARGUMENT" });
    await expect(train("sine", { outDir: tmp, epochs: 1.5 })).rejects.toMatchObject({ code: "E_ARGUMENT" });
  });

  it("returns modelDir, tokenizerPath and metrics", async () => {
    const out = path.join(tmp, "uci");
    const r = await train("uci-sentiment", { outDir: out, epochs: 1, slice: 60, quiet: true });
    expect(r.modelDir).toBe(out);
    expect(r.tokenizerPath).toBe(path.join(out, "tokenizer.json"));
    expect(typeof r.metrics.testAccuracy).toBe("number");
    expect(JSON.parse(readFileSync(path.join(out, "model.json"), "utf8")).format).toBe("layers-model");
  });
});
