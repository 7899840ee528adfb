/**
 * Prepares one parity case: builds the tfjs model, draws its weights from the case seed, saves
 * the artifacts (then transforms them: Keras names, quantisation, shards, patched configs) and
 * computes the oracle's outputs for each run.
 */
import { ReferenceModel, toTensor64 } from "../reference/index.ts";
import type { ReferenceOptions } from "../reference/index.ts";
import { type ParityCase, type Run, makeInputs } from "./cases.ts";
import { type Rng, rngFor } from "./prng.ts";
import {
  type Artifacts,
  type InputTensor,
  type OutputTensor,
  initTfjs,
  loadTfjsModel,
  randomizeWeights,
  saveArtifacts,
  tfjsPredict,
  tfjsSignature,
  withCheapInitializers,
} from "./tfjs.ts";

export type SymShape = (number | null)[];

export interface Prepared {
  readonly case: ParityCase;
  readonly rng: Rng;
  readonly artifacts: Artifacts;
  /** Symbolic input/output shapes according to the oracle. */
  readonly signature: { inputs: SymShape[]; outputs: SymShape[] };
  /** Seeded inputs of a run and the oracle's outputs for them. */
  expected(run: Run): { inputs: InputTensor[]; outputs: OutputTensor[] };
  dispose(): void;
}

/** A fresh copy, so that a runtime that detaches or mutates its input cannot affect the next use. */
export function copyArtifacts(art: Artifacts): Artifacts {
  return {
    modelJson: JSON.parse(JSON.stringify(art.modelJson)),
    weights: Array.isArray(art.weights) ? art.weights.map((b) => b.slice(0)) : art.weights.slice(0),
  };
}

export function referenceOutputs(ref: ReferenceModel, inputs: InputTensor[]): OutputTensor[] {
  return ref.predict(inputs.map(toTensor64)).map((t) => ({ data: Float32Array.from(t.data), shape: t.shape.slice() }));
}

export async function prepareCase(c: ParityCase, refOptions: ReferenceOptions = {}): Promise<Prepared> {
  const tf = await initTfjs();
  const rng = rngFor(c.id);
  const model = c.build(withCheapInitializers(tf));
  randomizeWeights(model, rng.fork("weights"));
  let artifacts: Artifacts = await saveArtifacts(model);
  if (c.transform) artifacts = c.transform(artifacts, rng.fork("transform"));
  const runInputs = (run: Run) => makeInputs(c, run, rng.fork(`run b${run.batch} t${run.time}`));
  if (c.oracle === "tfjs") {
    const tfModel = c.transform ? await loadTfjsModel(copyArtifacts(artifacts)) : model;
    if (tfModel !== model) model.dispose();
    return {
      case: c,
      rng,
      artifacts,
      signature: tfjsSignature(tfModel),
      expected(run) {
        const inputs = runInputs(run);
        return { inputs, outputs: tfjsPredict(tfModel, inputs) };
      },
      dispose: () => tfModel.dispose(),
    };
  }
  model.dispose();
  const ref = ReferenceModel.fromArtifacts(artifacts.modelJson, artifacts.weights, refOptions);
  return {
    case: c,
    rng,
    artifacts,
    signature: { inputs: ref.inputs.map((i) => i.shape), outputs: ref.outputs.map((o) => o.shape) },
    expected(run) {
      const inputs = runInputs(run);
      return { inputs, outputs: referenceOutputs(ref, inputs) };
    },
    dispose: () => {},
  };
}

/**
 * Checks a model's declared inputs/outputs against the oracle's symbolic shapes. Inputs must
 * match exactly (a fixed size where the oracle has null would refuse valid inputs); an output
 * may be more specific than the oracle (tfjs leaves e.g. Reshape's -1 as null). Input dtypes:
 * "int32" for token-id inputs, "float32" otherwise. Returns a list of problems (empty = ok).
 */
export function signatureProblems(
  model: { inputs: { shape: SymShape; dtype: string }[]; outputs: { shape: SymShape }[] },
  oracle: { inputs: SymShape[]; outputs: SymShape[] },
  inputDtypes: string[],
): string[] {
  const problems: string[] = [];
  const fmt = (s: SymShape) => `[${s.map(String).join(", ")}]`;
  if (model.inputs.length !== oracle.inputs.length) problems.push(`${model.inputs.length} inputs, expected ${oracle.inputs.length}`);
  if (model.outputs.length !== oracle.outputs.length) problems.push(`${model.outputs.length} outputs, expected ${oracle.outputs.length}`);
  model.inputs.forEach((inp, i) => {
    const o = oracle.inputs[i];
    if (o && (inp.shape.length !== o.length || inp.shape.some((d, k) => d !== o[k]))) {
      problems.push(`input ${i} shape ${fmt(inp.shape)}, expected ${fmt(o)}`);
    }
    if (inputDtypes[i] !== undefined && inp.dtype !== inputDtypes[i]) problems.push(`input ${i} dtype ${inp.dtype}, expected ${inputDtypes[i]}`);
  });
  model.outputs.forEach((out, i) => {
    const o = oracle.outputs[i];
    if (o && (out.shape.length !== o.length || out.shape.some((d, k) => o[k] !== null && d !== o[k]))) {
      problems.push(`output ${i} shape ${fmt(out.shape)}, expected ${fmt(o)}`);
    }
  });
  return problems;
}
