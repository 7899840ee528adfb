/**
 * Cold start and memory of one engine on one model, in a fresh process (the harness bundles
 * this file with esbuild and runs it with plain node, one child per measurement).
 *
 * Before the clock starts the child reads the model files (bytes in memory, as an edge worker
 * holds its bundle). Then, timed from one clock:
 *   init   import the engine package, compile / initialise its wasm or native backend
 *   load   load the model from those bytes
 *   first  the first predict (batch 1, T = the model's sequence length)
 *   step   open a batch-1 stream and run its first step (not part of the cold-start figure)
 * and the process RSS after each phase. Prints one JSON line.
 */
import { createEngine } from "./engines/index.ts";
import type { EngineId, LoadedModel } from "./engines/types.ts";
import type { RnnWasmEntry } from "./engines/rnnwasm.ts";
import { makeInput, timestep } from "./models.ts";
import { readModelFiles } from "./model-files.ts";

interface Args {
  engine: EngineId;
  root: string;
  rnnWasmEntry?: RnnWasmEntry;
  modelDir: string;
}

export interface ColdStartResult {
  engine: EngineId;
  model: string;
  ok: boolean;
  error?: string;
  /** Milliseconds from the clock start to the end of each phase. */
  ms?: { init: number; load: number; first: number; step?: number };
  /** Process RSS in bytes: before init and after each phase. */
  rss?: { start: number; init: number; load: number; first: number; step?: number };
  /** What the engine reports through its own API (rnn-wasm: model.memoryBytes). */
  resident?: { model?: number; session?: number; how: string };
  stepError?: string;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as Args;
  const model = readModelFiles(args.modelDir);
  const x = makeInput(model.def, 1, model.def.seqLen, 9001);
  const x0 = timestep(makeInput(model.def, 1, 1, 9002), 0);
  const result: ColdStartResult = { engine: args.engine, model: model.def.id, ok: false };
  const rss = () => process.memoryUsage.rss();
  const rssStart = rss();
  const t0 = performance.now();
  try {
    const engine = await createEngine(args.engine, { root: args.root, rnnWasmEntry: args.rnnWasmEntry });
    const tInit = performance.now();
    const rssInit = rss();
    const loaded: LoadedModel = await engine.load(model);
    const tLoad = performance.now();
    const rssLoad = rss();
    const y = await loaded.predict(x);
    const tFirst = performance.now();
    const rssFirst = rss();
    if (!(y.length > 0 && Number.isFinite(y[0]))) throw new Error("first predict returned no finite output");
    result.ok = true;
    result.ms = { init: tInit - t0, load: tLoad - t0, first: tFirst - t0 };
    result.rss = { start: rssStart, init: rssInit, load: rssLoad, first: rssFirst };
    try {
      const stream = await loaded.openStream();
      await stream.step(x0);
      result.ms.step = performance.now() - t0;
      result.rss.step = rss();
    } catch (e) {
      result.stepError = (e as Error).message.split("\n")[0];
    }
    result.resident = loaded.residentBytes?.();
  } catch (e) {
    result.error = (e as Error).message.split("\n")[0];
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // ORT and tfjs keep handles open; the measurement is done.
  process.exit(0);
}

void main();
