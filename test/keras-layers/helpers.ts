/**
 * Shared by the Keras layer tests: a model definition (the corpus' form, test/fixtures/corpus)
 * saved as its writer saves it and loaded by rnn-wasm as a user would (tfjs artifacts directly,
 * Keras files through exportBundle), the float64 reference built from the same definition, and
 * seeded inputs.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { corpusDefinition } from "../fixtures/corpus/make-corpus.ts";
import type { CorpusModel } from "../fixtures/corpus/models.ts";
import { corpusWeights, keras2H5, keras3Archive, referenceTopology, tfjsArtifacts, type CorpusDefinition } from "../fixtures/corpus/files.ts";
import { ReferenceModel, toTensor64 } from "../reference/index.ts";
import { makeInput, runLabel, type Run } from "../util/cases.ts";
import { copyArtifacts } from "../util/harness.ts";
import { rngFor } from "../util/prng.ts";
import type { InputTensor, OutputTensor } from "../util/tfjs.ts";

let dir: string | undefined;
function tempDir(): string {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), "rnn-wasm-keras-layers-"));
    const mine = dir;
    afterAll(() => rmSync(mine, { recursive: true, force: true }));
  }
  return dir;
}

export const inputsFor = (def: CorpusDefinition, run: Run): InputTensor[] => {
  const rng = rngFor(`corpus ${def.id} ${runLabel(run)}`);
  return def.inputs.map((g, k) => makeInput(g, run, rng.fork(`input${k}`)));
};

/** The float64 reference built from the definition (Keras files: Keras semantics). */
export function referenceOf(def: CorpusDefinition): ReferenceModel {
  const weights = corpusWeights(def).map((w) => ({ name: w.name, shape: w.shape, data: Float64Array.from(w.data) }));
  return new ReferenceModel(referenceTopology(def), weights, { semantics: def.writer === "tfjs" ? "tfjs" : "keras" });
}

export const referencePredict = (ref: ReferenceModel, xs: InputTensor[]): OutputTensor[] =>
  ref.predict(xs.map(toTensor64)).map((t) => ({ data: Float32Array.from(t.data), shape: t.shape.slice() }));

/** The file a definition's writer saves: tfjs artifacts, or the path of a Keras file. */
export async function savedFile(def: CorpusDefinition): Promise<{ modelJson: object; weights: ArrayBuffer | ArrayBuffer[] } | string> {
  if (def.writer === "tfjs") return copyArtifacts(tfjsArtifacts(def));
  const file = join(tempDir(), `${def.id}.${def.writer === "keras2" ? "h5" : "keras"}`);
  writeFileSync(file, def.writer === "keras2" ? await keras2H5(def) : await keras3Archive(def));
  return file;
}

/** rnn-wasm's model of a definition: tfjs artifacts as they are, Keras files through exportBundle (as `rnn-wasm export` does). */
export async function loadDefinition(def: CorpusDefinition) {
  const saved = await savedFile(def);
  return loadModel(typeof saved === "string" ? await exportBundle(saved) : (saved as never));
}

/** A definition from a model written in place (a test's own case, in the corpus' form). */
export function define(m: CorpusModel): Promise<CorpusDefinition> {
  return corpusDefinition(m);
}
