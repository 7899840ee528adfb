/**
 * The worker thread that reads Keras files for isolated.ts, one request at a time (the caller
 * ends the worker if a request passes its deadline): the artifacts go back with their weight
 * buffers transferred, a failure as its code and message.
 */
import { parentPort } from "node:worker_threads";
import { RnnWasmError } from "../../errors.js";
import { importKerasFile, type KerasH5Options } from "./index.js";

parentPort!.on("message", async ({ bytes, sourceName, options }: { bytes: Uint8Array; sourceName: string; options: KerasH5Options }) => {
  try {
    const artifacts = await importKerasFile(bytes, sourceName, options);
    parentPort!.postMessage({ artifacts }, [...new Set(artifacts.weights.map((w) => w.data.buffer as ArrayBuffer))]);
  } catch (e) {
    const typed = e instanceof RnnWasmError;
    parentPort!.postMessage({ error: { code: typed ? e.code : "E_HDF5", message: typed ? e.message : `${sourceName}: the Keras reader failed (${(e as Error)?.message ?? e})` } });
  }
});
