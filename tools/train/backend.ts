/**
 * Picks the tfjs backend the training tool runs on.
 *
 * 1. `@tensorflow/tfjs-node` (native libtensorflow) when it is installed and loads. It is an
 *    optionalDependency: npm skips it where libtensorflow cannot be downloaded, and a
 *    half-installed copy throws on import, so any error means "not available".
 * 2. Else `@tensorflow/tfjs` with `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD build),
 *    plus the kernels the wasm backend lacks (wasm-kernels.ts). About 30x faster than the
 *    cpu backend for LSTM training on this machine.
 *
 * The wasm backend's multi-threaded build does not start in Node 20: tfjs turns
 * WASM_HAS_MULTITHREAD_SUPPORT off under Node (tfjs issue 3830), and forcing it on fails with
 * ERR_WORKER_PATH (emscripten hands node:worker_threads a blob: URL). So it runs the
 * single-threaded SIMD build, which also keeps one training job to one of the machine's cores.
 *
 * The cpu backend is never chosen here; tests that compare kernels against it select it
 * explicitly.
 */
import { createRequire } from "node:module";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import { registerWasmExtraKernels } from "./wasm-kernels.js";

export type Tf = typeof tfTypes;

export interface TrainingBackend {
  tf: Tf;
  /** "tensorflow" (tfjs-node) or "wasm". */
  name: string;
  /** Human-readable description for logs and meta.json. */
  description: string;
  simd: boolean;
  threads: number;
  /** Kernels registered by this tool for the wasm backend. */
  extraKernels: string[];
  /** Why tfjs-node was not used, when it was not. */
  nodeUnavailable?: string;
}

let cached: Promise<TrainingBackend> | undefined;

/** Initialises the backend once per process and returns it (later calls share it). */
export function initTrainingBackend(opts: { preferNode?: boolean } = {}): Promise<TrainingBackend> {
  cached ??= pick(opts.preferNode ?? true);
  return cached;
}

async function pick(preferNode: boolean): Promise<TrainingBackend> {
  let nodeUnavailable = "skipped";
  if (preferNode) {
    try {
      // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
      const specifier = "@tensorflow/tfjs-node";
      const tfn = (await import(specifier)) as Tf;
      await tfn.ready();
      if (tfn.getBackend() === "tensorflow") {
        return {
          tf: tfn,
          name: "tensorflow",
          description: `tfjs-node ${tfn.version.tfjs} (libtensorflow)`,
          simd: false,
          threads: 0,
          extraKernels: [],
        };
      }
      nodeUnavailable = `tfjs-node loaded but backend is ${tfn.getBackend()}`;
    } catch (err) {
      nodeUnavailable = firstLine(err);
    }
  }
  const tf = await import("@tensorflow/tfjs");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const require = createRequire(import.meta.url);
  // The package's main entry lives in dist/, next to the three .wasm builds.
  const distDir = path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
  wasm.setWasmPaths(distDir.endsWith(path.sep) ? distDir : distDir + path.sep);
  const ok = await tf.setBackend("wasm");
  if (!ok || tf.getBackend() !== "wasm") {
    throw new Error(`could not initialise the tfjs wasm backend (wasm files in ${distDir})`);
  }
  const extraKernels = registerWasmExtraKernels(tf);
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  const threads = wasm.getThreadsCount();
  return {
    tf,
    name: "wasm",
    description: `tfjs ${tf.version.tfjs} wasm backend (${simd ? "SIMD" : "no SIMD"}, ${threads} thread${threads === 1 ? "" : "s"})`,
    simd,
    threads,
    extraKernels,
    nodeUnavailable,
  };
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0];
}
