/**
 * Issue 15 item 1: a one-byte change of a real .h5 file makes h5wasm loop forever in
 * synchronous code (the file: keras224_imdb_lstm.h5, byte 4288 0xFD -> 0xF1; our own
 * fixture float16_dense.h5 with byte 2056 inverted, found by test/fuzz's .h5 fuzzer, does the
 * same). Keras files are read in a worker that is terminated at a deadline: the caller gets
 * E_TIMEOUT, its event loop keeps running meanwhile, and the next file reads normally.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RnnWasmError } from "../../src/errors.ts";
import { DEFAULT_KERAS_TIMEOUT_MS, exportBundle, importKerasFile } from "../../src/export.ts";
import { optionalData } from "../util/data.ts";

const FIXTURE = new URL("../fixtures/keras/float16_dense.h5", import.meta.url);
const IMDB = optionalData("real-models/keras-h5/keras224_imdb_lstm.h5", "the issue's own hanging .h5 file");

/** `file` with byte `at` changed from `from` to `to`. */
function changed(file: string | URL, at: number, from: number, to: number): Uint8Array {
  const b = new Uint8Array(readFileSync(file));
  expect(b[at]).toBe(from);
  b[at] = to;
  return b;
}
const hangingFixture = () => changed(FIXTURE, 2056, readFileSync(FIXTURE)[2056], readFileSync(FIXTURE)[2056] ^ 0xff);

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof RnnWasmError) return `${e.code}: ${e.message}`;
    throw e;
  }
}

/** Runs `read`, counting ticks of a 50 ms timer meanwhile (the caller's thread must stay free). */
async function timed(read: () => Promise<unknown>): Promise<{ result: string; ms: number; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 50);
  const t0 = performance.now();
  const result = await outcome(read());
  clearInterval(timer);
  return { result, ms: performance.now() - t0, ticks };
}

describe("Keras files are read within a deadline", () => {
  it("a hanging file ends with E_TIMEOUT at the deadline, the event loop running all along", async () => {
    const r = await timed(() => importKerasFile(hangingFixture(), "hang.h5", { timeoutMs: 1500 }));
    expect(r.result).toMatch(/^E_TIMEOUT: hang\.h5: reading the Keras file took longer than 1500 ms/);
    expect(r.ms).toBeGreaterThanOrEqual(1490);
    expect(r.ticks).toBeGreaterThan(10);
  });

  it.skipIf(!IMDB)("the issue's reproducer: keras224_imdb_lstm.h5 with byte 4288 0xFD -> 0xF1", async () => {
    const r = await timed(() => importKerasFile(changed(IMDB!, 4288, 0xfd, 0xf1), "hang.h5", { timeoutMs: 1500 }));
    expect(r.result).toMatch(/^E_TIMEOUT: /);
    expect(r.ticks).toBeGreaterThan(10);
  });

  it("exportBundle(path) passes timeoutMs through; a good file exports beside it, and again after", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "rnnwasm-hang-")), "hang.h5");
    writeFileSync(path, hangingFixture());
    const good = FIXTURE.pathname;
    const [bundle, bad] = await Promise.all([exportBundle(good), outcome(exportBundle(path, { timeoutMs: 1000 }))]);
    expect(bad).toMatch(/^E_TIMEOUT: /);
    expect(Array.from(await exportBundle(good))).toEqual(Array.from(bundle));
  });

  it("timeoutMs must be a positive number; the default is documented", async () => {
    expect(DEFAULT_KERAS_TIMEOUT_MS).toBe(60_000);
    for (const t of [0, -1, NaN, "5", 2 ** 31]) {
      expect(await outcome(importKerasFile(hangingFixture(), "x.h5", { timeoutMs: t as number }))).toMatch(/^E_ARGUMENT: timeoutMs must be a positive number/);
    }
  });

  it("errors from inside the worker keep their code and message", async () => {
    expect(await outcome(importKerasFile(new Uint8Array(4096), "noise.bin"))).toMatch(/^E_HDF5: noise\.bin: not a Keras file/);
  });
});
