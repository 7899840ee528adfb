/**
 * Where data comes from (tools/train/data.ts, test/util/data.ts): the repository's copy first;
 * what cannot be redistributed skips with one line on a fresh clone and fails where a data folder
 * exists; the derived 16 kHz recording is the recorded bytes; and no other module resolves data.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { DERIVED, findData, REPO_DATA, REPO_ROOT } from "../../tools/train/data.ts";
import { STOCKTWITS_DATA } from "../../tools/train/tasks/sentiment.ts";
import { optionalData } from "../util/data.ts";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** optionalData(rel) in a fresh process with the given RNN_WASM_DATA: what it returned, or threw, and its stderr. */
function probe(rel: string, dataEnv: string): { result: string; stderr: string } {
  const code = `import { optionalData } from ${JSON.stringify(join(REPO_ROOT, "test/util/data.ts"))};
try { console.log(JSON.stringify(optionalData(${JSON.stringify(rel)}, "probe"))); } catch (e) { console.log(JSON.stringify("threw: " + e.message)); }`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, RNN_WASM_DATA: dataEnv },
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return { result: JSON.parse(r.stdout.trim()), stderr: r.stderr };
}

describe("test data", () => {
  it("every file in test/data is described in its README (source and licence)", () => {
    const readme = readFileSync(join(REPO_DATA, "README.md"), "utf8");
    const files = filesUnder(REPO_DATA)
      .map((f) => relative(REPO_DATA, f))
      .filter((f) => f !== "README.md" && !f.startsWith("derived/"));
    expect(files.length).toBeGreaterThan(10);
    const named = (f: string) => {
      const base = f.split("/").pop()!.replace(/_labelled\.txt$/, "");
      return readme.includes(f) || readme.includes(base) || readme.includes(`${f.split("/").slice(0, -1).join("/")}/\``);
    };
    expect(files.filter((f) => !named(f))).toEqual([]);
  });

  it("the repository's copy comes first", () => {
    expect(findData("uci-sentiment/yelp_labelled.txt")).toBe(join(REPO_DATA, "uci-sentiment/yelp_labelled.txt"));
    expect(findData("real-models/tfjs-nietzsche-lstm/model.json")).toBe(join(REPO_DATA, "real-models/tfjs-nietzsche-lstm/model.json"));
  });

  it("on a fresh clone (no data folder) a file that cannot be redistributed skips, with one line naming it and RNN_WASM_DATA", () => {
    const r = probe(STOCKTWITS_DATA, "none");
    expect(r.result).toBeNull();
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("[test data]"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/skipped probe: stocktwits\/StockTwits_SPY_Sentiment_2017\.gz is not redistributable .*set RNN_WASM_DATA/);
  });

  it("where a data folder is set, a missing file fails instead of skipping", () => {
    const empty = mkdtempSync(join(tmpdir(), "rnn-wasm-data-"));
    try {
      const r = probe(STOCKTWITS_DATA, empty);
      expect(r.result).toMatch(new RegExp(`^threw: probe needs ${STOCKTWITS_DATA.replace(/\./g, "\\.")}, which the data folder ${empty} does not hold`));
      expect(r.stderr).not.toMatch(/\[test data\] skipped/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("a repository file is found whatever the data folder", () => {
    expect(probe("aesop-belling-the-cat.txt", "none").result).toBe(join(REPO_DATA, "aesop-belling-the-cat.txt"));
  });

  const wav = "speech/aepyx_16k_resampled.wav";
  const derived = optionalData(wav, "the derived 16 kHz recording's check (test/train/data)");
  it.skipIf(!derived)("the derived 16 kHz recording has the recorded bytes (made by ffmpeg, or the data folder's copy)", () => {
    const bytes = readFileSync(derived!);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(DERIVED[wav].sha256);
    expect(statSync(derived!).size).toBe(5_412_942);
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("RIFF");
    expect(bytes.readUInt32LE(24)).toBe(16000);
  });

  it("no other module resolves data: nothing else names ../shared/data or RNN_WASM_DATA", () => {
    // (docs.test checks that training.md documents RNN_WASM_DATA)
    const allowed = new Set(["tools/train/data.ts", "test/util/data.ts", "test/train/data.test.ts", "test/docs/docs.test.ts"]);
    const code = ["src", "tools", "test", "bench", "examples", "scripts"].flatMap((d) => filesUnder(join(REPO_ROOT, d)))
      .map((f) => relative(REPO_ROOT, f))
      .filter((f) => /\.(ts|mjs|js)$/.test(f) && !f.includes("node_modules") && !f.startsWith("test/data/") && !allowed.has(f));
    const offenders = code.filter((f) => /shared\/data|RNN_WASM_DATA/.test(readFileSync(join(REPO_ROOT, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});
