/**
 * Keras files from outside, read where a hostile one cannot stall the caller. h5wasm walks an
 * HDF5 file in synchronous C code that nothing can interrupt, and a one-byte change of a real
 * file can make it loop forever; so the exporter reads .h5 and .keras files in a worker thread
 * (keras-worker.ts) and terminates it at a deadline (E_TIMEOUT). The worker loads its own
 * h5wasm: a reader that hung or crashed takes nothing of the caller's down with it.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { fail, RnnWasmError, type RnnWasmErrorCode } from "../../errors.js";
import type { ModelArtifacts } from "../artifacts.js";
import type { KerasH5Options } from "./h5.js";

/** How long reading one Keras file may take by default (docs/keras-import.md). */
export const DEFAULT_KERAS_TIMEOUT_MS = 60_000;

export interface KerasFileOptions extends KerasH5Options {
  /** Deadline for reading the file, in milliseconds (default DEFAULT_KERAS_TIMEOUT_MS); past it: E_TIMEOUT. */
  timeoutMs?: number;
}

/**
 * The worker: dist/keras-worker.js beside the built package; in a source checkout the
 * TypeScript file, run through tsx (a development dependency).
 */
function startWorker(): Worker {
  const built = new URL("./keras-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return new Worker(built);
  // tsx's ES module API (its CommonJS twin cannot register hooks from an eval'd worker)
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const source = new URL("./keras-worker.ts", import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`, { eval: true });
}

/**
 * One idle worker is kept (unreferenced, so it never holds the process open) for the next
 * read: h5wasm's start costs more than most reads. A worker that passed a deadline or failed
 * is ended, never reused.
 */
let idle: Worker | undefined;

/** Reads a Keras `.h5` or `.keras` file (either, by its signature) in a worker, within `timeoutMs`. */
export async function importKerasFile(bytes: Uint8Array | ArrayBuffer, sourceName = "model", options: KerasFileOptions = {}): Promise<ModelArtifacts> {
  const { timeoutMs = DEFAULT_KERAS_TIMEOUT_MS, ...h5Options } = options;
  if (!(typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) {
    fail("E_ARGUMENT", `timeoutMs must be a positive number of milliseconds, received ${JSON.stringify(timeoutMs)}`);
  }
  const worker = idle ?? startWorker();
  idle = undefined;
  worker.ref();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let reusable = false;
  type Listener = Parameters<Worker["on"]>[1];
  const listeners: [string, Listener][] = [];
  return new Promise<ModelArtifacts>((resolve, reject) => {
    const end = (code: RnnWasmErrorCode, message: string, cause?: unknown) => reject(new RnnWasmError(code, message, { cause }));
    const on = (event: string, f: Listener) => {
      listeners.push([event, f]);
      worker.on(event, f);
    };
    timer = setTimeout(() => end("E_TIMEOUT", `${sourceName}: reading the Keras file took longer than ${timeoutMs} ms; stopped (a damaged or crafted file, or pass a larger timeoutMs)`), timeoutMs);
    on("message", (m: { artifacts?: ModelArtifacts; error?: { code: RnnWasmErrorCode; message: string } }) => {
      reusable = true;
      if (m.artifacts) resolve(m.artifacts);
      else end(m.error!.code, m.error!.message);
    });
    on("error", (e: Error) => end("E_HDF5", `${sourceName}: the Keras reader failed (${e.message})`, e));
    on("exit", () => end("E_HDF5", `${sourceName}: the Keras reader stopped without an answer`));
    worker.postMessage({ bytes: bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), sourceName, options: h5Options });
  }).finally(() => {
    clearTimeout(timer);
    for (const [event, f] of listeners) worker.off(event, f);
    if (reusable && !idle) {
      worker.unref();
      idle = worker;
    } else void worker.terminate();
  });
}
