/**
 * Issue 15 item 1: a one-byte change of a real .h5 file (keras224_imdb_lstm.h5, byte 4288 0xFD
 * -> 0xF1) makes h5wasm loop forever in synchronous code. Keras files are read in a worker
 * that is terminated at a deadline: the caller gets E_TIMEOUT, its event loop keeps running
 * meanwhile, and the next file reads normally.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RnnWasmError } from "../../src/errors.ts";
import { DEFAULT_KERAS_TIMEOUT_MS, exportBundle, importKerasFile } from "../../src/export.ts";
import { optionalData } from "../util/data.ts";

const IMDB = optionalData("real-models/keras-h5/keras224_imdb_lstm.h5", "the Keras deadline tests (issue 15's hanging file)");

/** The reproducer: the real file with byte 4288 changed from 0xFD to 0xF1. */
function hangingH5(): Uint8Array {
  const b = new Uint8Array(readFileSync(IMDB!));
  expect(b[4288]).toBe(0xfd);
  b[4288] = 0xf1;
  return b;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof RnnWasmError) return `${e.code}: ${e.message}`;
    throw e;
  }
}

describe.skipIf(!IMDB)("Keras files are read within a deadline", () => {
  it("the hanging file ends with E_TIMEOUT at the deadline, the event loop running all along", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 50);
    const t0 = performance.now();
    const outcome = await codeOf(importKerasFile(hangingH5(), "hang.h5", { timeoutMs: 1500 }));
    const ms = performance.now() - t0;
    clearInterval(timer);
    expect(outcome).toMatch(/^E_TIMEOUT: hang\.h5: reading the Keras file took longer than 1500 ms/);
    expect(ms).toBeGreaterThanOrEqual(1490);
    expect(ticks).toBeGreaterThan(10); // the caller's thread was never blocked
  });

  it("exportBundle(path) passes timeoutMs through; the real file still exports, before and after", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const path = join(mkdtempSync(join(tmpdir(), "rnnwasm-hang-")), "hang.h5");
    writeFileSync(path, hangingH5());
    const [good, bad] = await Promise.all([exportBundle(IMDB!), codeOf(exportBundle(path, { timeoutMs: 1000 }))]);
    expect(bad).toMatch(/^E_TIMEOUT: /);
    expect(good.length).toBeGreaterThan(100_000);
    expect(Array.from(await exportBundle(IMDB!))).toEqual(Array.from(good));
  });

  it("timeoutMs must be a positive number; the default is documented", async () => {
    expect(DEFAULT_KERAS_TIMEOUT_MS).toBe(60_000);
    for (const t of [0, -1, NaN, "5", 2 ** 31]) {
      expect(await codeOf(importKerasFile(hangingH5(), "x.h5", { timeoutMs: t as number }))).toMatch(/^E_ARGUMENT: timeoutMs must be a positive number/);
    }
  });

  it("errors from inside the worker keep their code and message", async () => {
    expect(await codeOf(importKerasFile(new Uint8Array(4096), "noise.bin"))).toMatch(/^E_HDF5: noise\.bin: not a Keras file/);
  });
});
