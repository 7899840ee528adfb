/**
 * `rnn-wasm train`: delegates to the training tool (tools/train, `train(task, opts)`), loaded
 * only when this command runs: it pulls in tfjs, which the other commands never need. The
 * module is found next to the CLI build (dist/train.js) or, in a source checkout, as
 * tools/train/train.ts run through tsx.
 */
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { RnnWasmError } from "../../src/errors.js";

export interface TrainModule {
  train(task: string, opts: { outDir: string; epochs?: number; slice?: number | null; seed?: number; batchSize?: number; quiet?: boolean }): Promise<{
    modelDir: string;
    tokenizerPath?: string;
    metrics: Record<string, unknown>;
    backend?: string;
  }>;
  TASKS?: readonly string[];
}

/** Candidate locations, in order: built JS beside this file, then the TypeScript sources. */
function candidates(): { url: URL; ts: boolean }[] {
  const here = import.meta.url;
  return [
    { url: new URL("./train.js", here), ts: false }, // dist/cli.js -> dist/train.js
    { url: new URL("../tools/train/train.ts", here), ts: true }, // dist/cli.js in a checkout
    { url: new URL("../train/train.ts", here), ts: true }, // tools/cli/main.ts run by tsx
  ];
}

export async function loadTrainer(): Promise<TrainModule> {
  const tried: string[] = [];
  for (const c of candidates()) {
    const path = fileURLToPath(c.url);
    // dist/train.js would be the trainer only if it exports train(); a same-named file elsewhere is skipped
    if (!existsSync(path)) {
      tried.push(path);
      continue;
    }
    let mod: Partial<TrainModule>;
    try {
      if (c.ts) {
        // a non-literal specifier keeps the bundler from inlining tsx or the trainer into the CLI
        const tsxApi = "tsx/esm/api";
        const { tsImport } = (await import(tsxApi)) as { tsImport: (specifier: string, parent: string) => Promise<unknown> };
        mod = (await tsImport(pathToFileURL(path).href, import.meta.url)) as Partial<TrainModule>;
      } else {
        mod = (await import(c.url.href)) as Partial<TrainModule>;
      }
    } catch (e) {
      throw new RnnWasmError("E_IO", `cannot load the training tool from ${path}: ${(e as Error).message}`, { cause: e });
    }
    if (typeof mod.train === "function") return mod as TrainModule;
    tried.push(`${path} (no train export)`);
  }
  throw new RnnWasmError(
    "E_IO",
    `the training tool is not available in this installation (looked for ${tried.join(", ")}); run it from a source checkout of rnn-wasm with its dev dependencies installed`,
  );
}
