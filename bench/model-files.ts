/**
 * Model files for child processes (cold start, memory): the parent writes each model's
 * artifacts and ONNX graphs once under bench/results/tmp/<model>/, the child reads them back
 * into a BenchModel before its clock starts, so generating weights or ONNX is never timed.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { modelDef, type BenchModel, type ModelVariant, type TfjsArtifacts } from "./models.ts";
import { onnxFor, primeOnnx } from "./engines/ort.ts";
import type { OnnxModel } from "./onnx.ts";

function writeVariant(dir: string, name: string, v: ModelVariant): void {
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ kind: v.kind, layers: v.layers, tfjsRunnable: v.tfjsRunnable, modelJson: v.artifacts.modelJson }));
  writeFileSync(join(dir, `${name}.bin`), new Uint8Array(v.artifacts.weights));
}

function readVariant(dir: string, name: string): ModelVariant {
  const meta = JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as Omit<ModelVariant, "artifacts" | "weights"> & { modelJson: TfjsArtifacts["modelJson"] };
  const bin = readFileSync(join(dir, `${name}.bin`));
  const weights = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  return { kind: meta.kind, layers: meta.layers, tfjsRunnable: meta.tfjsRunnable, weights: [], artifacts: { modelJson: meta.modelJson, weights } };
}

function writeOnnx(dir: string, kind: string, g: OnnxModel): void {
  writeFileSync(join(dir, `${kind}.onnx`), g.bytes);
  writeFileSync(join(dir, `${kind}.onnx.json`), JSON.stringify({ inputName: g.inputName, outputName: g.outputName, states: g.states }));
}

function readOnnx(dir: string, kind: string): OnnxModel {
  const meta = JSON.parse(readFileSync(join(dir, `${kind}.onnx.json`), "utf8")) as Omit<OnnxModel, "bytes">;
  return { ...meta, bytes: new Uint8Array(readFileSync(join(dir, `${kind}.onnx`))) };
}

export async function writeModelFiles(model: BenchModel, root: string): Promise<string> {
  const dir = join(root, model.def.id);
  mkdirSync(dir, { recursive: true });
  writeVariant(dir, "main", model.main);
  // rnn-wasm's cold start loads a bundle, as a user shipping a model would
  const { exportBundle } = await import("../src/export.ts"); // parent only: children just read
  writeFileSync(join(dir, "main.rnnb"), await exportBundle(model.main.artifacts));
  writeFileSync(join(dir, "main-int8.rnnb"), await exportBundle(model.main.artifacts, { dtype: "int8" }));
  if (model.tfjsTwin) writeVariant(dir, "twin", model.tfjsTwin);
  writeOnnx(dir, "sequence", onnxFor(model, model.main, "sequence"));
  writeOnnx(dir, "step", onnxFor(model, model.main, "step"));
  writeFileSync(join(dir, "model.json"), JSON.stringify({ id: model.def.id, weightBytes: model.weightBytes }));
  return dir;
}

export function readModelFiles(dir: string): BenchModel {
  const { id, weightBytes } = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")) as { id: string; weightBytes: number };
  const main = readVariant(dir, "main");
  if (existsSync(join(dir, "main.rnnb"))) main.bundle = new Uint8Array(readFileSync(join(dir, "main.rnnb")));
  if (existsSync(join(dir, "main-int8.rnnb"))) main.bundleInt8 = new Uint8Array(readFileSync(join(dir, "main-int8.rnnb")));
  const tfjsTwin = existsSync(join(dir, "twin.json")) ? readVariant(dir, "twin") : undefined;
  primeOnnx(main, "sequence", readOnnx(dir, "sequence"));
  primeOnnx(main, "step", readOnnx(dir, "step"));
  return { def: modelDef(id), main, tfjsTwin, weightBytes };
}
