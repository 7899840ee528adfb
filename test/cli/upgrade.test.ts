/**
 * `rnn-wasm upgrade` through the built bin, on a real format-1 bundle: the sine demo model as
 * rnn-wasm 0.1 shipped it (test/fixtures/format1/sine.rnnb). The conversion itself is proven in
 * test/format/upgrade.test.ts (format 1 made from fresh exports upgrades back byte for byte);
 * here: the runtime's refusal names the command, -o writes the converted file and leaves the
 * input alone, no -o replaces the input, and a current bundle is left as it is.
 */
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upgradeBundle } from "../../src/format/upgrade.ts";
import { ensureCliBuilt, errorLine, ROOT, runCli, tempDir } from "./helpers.ts";

const FORMAT1 = join(ROOT, "test", "fixtures", "format1", "sine.rnnb");
let dir: string;

beforeAll(() => {
  ensureCliBuilt();
  dir = tempDir("upgrade");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rnn-wasm upgrade", () => {
  it("a format-1 bundle: predict refuses it naming the command; upgrade -o converts it and keeps the input", () => {
    const input = JSON.stringify([[[0.1], [0.2], [0.3]]]);
    const refused = runCli(["predict", FORMAT1, "--input", input]);
    expect(refused.code).toBe(1);
    expect(errorLine(refused)).toMatch(/E_BUNDLE_VERSION.*format 1 is older.*rnn-wasm upgrade/);

    const before = readFileSync(FORMAT1);
    const out = join(dir, "sine-v2.rnnb");
    const r = runCli(["upgrade", FORMAT1, "-o", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/format 1 -> 2, 1 recurrent kernel\(s\) reordered/);
    expect(readFileSync(FORMAT1).equals(before)).toBe(true);
    expect(readFileSync(out).equals(Buffer.from(upgradeBundle(new Uint8Array(before)).bytes))).toBe(true);

    const p = runCli(["predict", out, "--input", input]);
    expect(p.code, p.stderr).toBe(0);
    const y = (JSON.parse(p.stdout) as unknown[]).flat(Infinity) as number[];
    expect(y.length).toBeGreaterThan(0);
    expect(y.every(Number.isFinite)).toBe(true);
  });

  it("without -o the file is replaced; a current bundle is left as it is", () => {
    const file = join(dir, "in-place.rnnb");
    copyFileSync(FORMAT1, file);
    expect(runCli(["upgrade", file, "-q"]).code).toBe(0);
    const upgraded = readFileSync(file);
    expect(upgraded.readUInt32LE(4)).toBe(2);
    const again = runCli(["upgrade", file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already format 2/);
    expect(readFileSync(file).equals(upgraded)).toBe(true);
  });

  it("a file that is not a bundle: E_BUNDLE_CORRUPT naming it", () => {
    const file = join(dir, "junk.rnnb");
    copyFileSync(join(ROOT, "package.json"), file);
    const r = runCli(["upgrade", file]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/E_BUNDLE_CORRUPT.*junk\.rnnb|junk\.rnnb.*E_BUNDLE_CORRUPT/);
  });
});
