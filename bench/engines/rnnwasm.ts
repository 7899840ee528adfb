/**
 * rnn-wasm through its public API only: loadModel({ modelJson, weights }), model.predict,
 * model.createSession({ batchSize }) / session.step / session.reset, model.dispose. It loads
 * the built package (dist/node.js) when present, else the source entry (src/node.ts, which
 * needs the tsx loader). The "rnn-wasm-int8" engine is the same API on the model exported with
 * `--dtype int8` (exportBundle from src/export.ts, outside the timed calls).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { BenchModel, InputTensor } from "../models.ts";
import { EngineUnavailable, type Engine, type LoadedModel, type Stream } from "./types.ts";

interface RnnTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}
interface RnnSession {
  step(x: RnnTensor): RnnTensor | RnnTensor[];
  reset(): void;
  getState?(): Uint8Array;
  dispose?(): void;
}
interface RnnModel {
  predict(x: RnnTensor): RnnTensor | RnnTensor[];
  createSession?(opts?: { batchSize?: number }): RnnSession;
  dispose(): void;
  readonly simd?: string;
  readonly memoryBytes?: number;
  readonly weightBytes?: number;
}
interface RnnModule {
  loadModel(source: { modelJson: object; weights: ArrayBuffer } | Uint8Array, options?: object): Promise<RnnModel>;
}

export type RnnWasmFrom = "dist" | "src" | "auto";

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Where the package entry for Node is. "auto": the build (dist/node.js) when it is at least as
 * new as every file under src/ (`npm run bench` builds first), else the source entry.
 */
export function locateRnnWasm(root: string, from: RnnWasmFrom = "auto"): { path: string; from: "dist" | "src" } | undefined {
  const dist = resolve(root, "dist/node.js");
  const src = resolve(root, "src/node.ts");
  const distOk = existsSync(dist) && (from === "dist" || !existsSync(src) || statSync(dist).mtimeMs >= newestMtime(resolve(root, "src")));
  if (from !== "src" && distOk) return { path: dist, from: "dist" };
  if (from !== "dist" && existsSync(src)) return { path: src, from: "src" };
  return undefined;
}

export interface RnnWasmEntry {
  path: string;
  /** "dist" = the package build; "src-bundle" = src/node.ts bundled by the harness with esbuild. */
  from: "dist" | "src" | "src-bundle";
}

/**
 * The entry the harness runs: dist/node.js when it is current, else src/node.ts bundled with
 * esbuild into bench/results/tmp/rnn-wasm/ next to copies of build/*.wasm — the same bundle
 * step `npm run build` performs, so in-process runs and cold-start children load plain JS
 * without a TypeScript loader in the measurement.
 */
export async function prepareRnnWasmEntry(root: string, from: RnnWasmFrom = "auto"): Promise<RnnWasmEntry | undefined> {
  const where = locateRnnWasm(root, from);
  if (!where || where.from === "dist") return where;
  const outDir = resolve(root, "bench/results/tmp/rnn-wasm");
  mkdirSync(outDir, { recursive: true });
  const esbuild = await import("esbuild");
  await esbuild.build({ entryPoints: [where.path], outfile: join(outDir, "node.js"), bundle: true, format: "esm", platform: "node", target: "es2022", logLevel: "warning" });
  for (const f of ["rnn-simd.wasm", "rnn-relaxed.wasm"]) {
    const src = resolve(root, "build", f);
    if (existsSync(src)) copyFileSync(src, join(outDir, f));
  }
  return { path: join(outDir, "node.js"), from: "src-bundle" };
}

const first = (y: RnnTensor | RnnTensor[]): RnnTensor => (Array.isArray(y) ? y[0] : y);

/** A timestep as the session takes it: x_t for every batch row, [b, F] or [b] for tokens. */
function stepInput(x: InputTensor): RnnTensor {
  return { data: x.data, shape: x.shape.length === 3 ? [x.shape[0], x.shape[2]] : [x.shape[0]] };
}

export async function createRnnWasmEngine(root: string, from: RnnWasmFrom = "auto", entry?: RnnWasmEntry, dtype: "f32" | "int8" = "f32"): Promise<Engine> {
  const id = dtype === "int8" ? "rnn-wasm-int8" : "rnn-wasm";
  const where = entry ?? locateRnnWasm(root, from);
  if (!where) throw new EngineUnavailable(id, `no rnn-wasm entry found (dist/node.js or src/node.ts under ${root})`);
  let mod: RnnModule;
  try {
    mod = (await import(pathToFileURL(where.path).href)) as RnnModule;
  } catch (e) {
    throw new EngineUnavailable(id, `importing ${where.path} failed: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof mod.loadModel !== "function") throw new EngineUnavailable(id, `${where.path} exports no loadModel`);
  const engine: Engine = {
    id,
    label: `rnn-wasm${dtype === "int8" ? " int8 weights" : ""} (${where.from === "dist" ? "dist/ build" : where.from === "src-bundle" ? "src/ bundled by the harness" : "src/ through the TS loader"})`,
    notes: dtype === "int8" ? ["rnn-wasm-int8: the model exported with --dtype int8 (weight matrices int8, per-column scales); gated against the reference within INT8_WEIGHTS, not APPROX"] : [],
    variant: (model) => model.main,
    async load(model: BenchModel): Promise<LoadedModel> {
      const { modelJson, weights } = model.main.artifacts;
      // a bundle when the harness wrote one (cold start), else the tfjs artifacts (int8: exported here)
      let source: Uint8Array | { modelJson: object; weights: ArrayBuffer } = model.main.bundle ?? { modelJson, weights };
      if (dtype === "int8") {
        source = model.main.bundleInt8 ?? (await (await import("../../src/export.ts")).exportBundle({ modelJson, weights: weights.slice(0) }, { dtype: "int8" }));
      }
      const m = await mod.loadModel(source);
      if (m.simd && !engine.label.includes("SIMD")) engine.label = engine.label.replace(")", `, ${m.simd} SIMD)`);
      let sessionBytes: number | undefined;
      let sessionHow = "";
      return {
        sync: true,
        predict: (x) => first(m.predict({ data: x.data, shape: x.shape })).data as Float32Array,
        openStream(): Stream {
          if (typeof m.createSession !== "function") throw new Error("this rnn-wasm build has no createSession (session API not implemented yet)");
          const session = m.createSession({ batchSize: 1 });
          // The API's measure of a session: its portable snapshot holds exactly its state
          // (plus a small header and checksum).
          if (typeof session.getState === "function") {
            sessionBytes = session.getState().byteLength;
            sessionHow = "session = session.getState().byteLength (its whole state, with header)";
          }
          return {
            how: "model.createSession({ batchSize: 1 }); session.step(x_t)",
            step: (x) => first(session.step(stepInput(x))).data as Float32Array,
            reset: () => session.reset(),
            dispose: () => session.dispose?.(),
          };
        },
        residentBytes() {
          if (m.memoryBytes === undefined) return undefined;
          return { model: m.memoryBytes, session: sessionBytes, how: `model = model.memoryBytes (its wasm memory: weights, activations, states)${sessionHow ? `; ${sessionHow}` : ""}` };
        },
        dispose: () => m.dispose(),
      };
    },
    async dispose() {},
  };
  return engine;
}
