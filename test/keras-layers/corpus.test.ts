/**
 * The corpus (test/fixtures/corpus): recurrent models in the shapes real code writes them —
 * attention on recurrent outputs, CuDNN layers, TensorFlow-op lambdas, nested models,
 * transformer blocks — each saved as its framework saves it (tfjs artifacts, a Keras 2 `.h5`,
 * a Keras 3 `.keras`). Every one must load (tfjs artifacts directly; Keras files through
 * `rnn-wasm export`'s exportBundle and a bundle), match its oracle within the named tolerance
 * (tfjs for tfjs-saved models; else the float64 reference of the Keras equations, fed from the
 * definition rather than the file), and stream or refuse to stream as its layers allow.
 * The README's corpus figure is the count of this suite.
 */
import { describe, expect, it, afterAll } from "vitest";
import { RnnWasmError } from "../../src/index.ts";
import { corpusDefinition, definitionText } from "../fixtures/corpus/make-corpus.ts";
import { corpusModels } from "../fixtures/corpus/models.ts";
import { corpusDefinitions, tfjsArtifacts } from "../fixtures/corpus/files.ts";
import { F16_WEIGHTS, INT8_WEIGHTS, parityTolerance, REF_VS_TFJS } from "../tolerance.ts";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { runLabel } from "../util/cases.ts";
import { assertAllClose } from "../util/compare.ts";
import { copyArtifacts } from "../util/harness.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { loadTfjsModel, tfjsPredict } from "../util/tfjs.ts";
import { inputsFor, loadDefinition as load, referenceOf as reference, referencePredict as refPredict, savedFile } from "./helpers.ts";

const definitions = corpusDefinitions();

const tally = { loaded: 0, matched: 0, worst: 0, where: "" };

describe("the corpus definitions are what make-corpus.ts writes", () => {
  it.each(corpusModels().map((m) => [m.id, m] as const))("%s", async (id, m) => {
    const committed = definitions.find((d) => d.id === id);
    expect(committed, `test/fixtures/corpus/models/${id}.json is missing: run npx tsx test/fixtures/corpus/make-corpus.ts`).toBeDefined();
    expect(definitionText(committed!)).toBe(definitionText(await corpusDefinition(m)));
  }, 60_000);
});

describe("corpus: every model loads and matches its oracle", () => {
  it.each(definitions.map((d) => [d.id, d] as const))("%s", async (_id, def) => {
    const model = await load(def);
    tally.loaded++;
    try {
      const ref = reference(def);
      const tfModel = def.writer === "tfjs" && def.oracle !== "reference" ? await loadTfjsModel(copyArtifacts(tfjsArtifacts(def))) : null;
      const tol = parityTolerance(def.approx);
      for (const run of def.runs) {
        const xs = inputsFor(def, run);
        const where = `${def.id} (${def.writer}), ${runLabel(run)}; ${describeSeed(rngFor(`corpus ${def.id}`))}`;
        const want = tfModel ? tfjsPredict(tfModel, xs) : refPredict(ref, xs);
        // tfjs-saved models also check the reference against tfjs (what vouches for it elsewhere)
        if (tfModel) assertAllClose(refPredict(ref, xs), want, REF_VS_TFJS, `reference vs tfjs: ${where}`);
        const got = model.predict(xs.length === 1 ? xs[0] : xs);
        for (const r of assertAllClose(Array.isArray(got) ? got : [got], want, tol, where)) {
          if (r.maxAbs > tally.worst) Object.assign(tally, { worst: r.maxAbs, where: def.id });
        }
      }
      tfModel?.dispose();
      tally.matched++;
    } finally {
      model.dispose();
    }
  }, 120_000);
});

describe("corpus: sessions stream the causal models and refuse the others, naming why", () => {
  it.each(definitions.map((d) => [d.id, d] as const))("%s", async (_id, def) => {
    const model = await load(def);
    try {
      if (def.streams !== true) {
        let err: unknown;
        try {
          model.createSession();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(RnnWasmError);
        expect((err as RnnWasmError).code).toBe("E_NOT_STREAMABLE");
        expect((err as Error).message).toContain(def.streams);
        return;
      }
      // one timestep at a time gives, at each step, what predict gives on the sequence so far
      const run = def.runs[0];
      const xs = inputsFor(def, run);
      const session = model.createSession({ batchSize: run.batch });
      for (let t = 1; t <= run.time; t++) {
        const step = xs.map((x) => {
          const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
          const data = new (x.data.constructor as Float32ArrayConstructor)(run.batch * inner);
          for (let b = 0; b < run.batch; b++) data.set(x.data.subarray((b * x.shape[1] + t - 1) * inner, (b * x.shape[1] + t) * inner), b * inner);
          return { data, shape: [run.batch, ...x.shape.slice(2)] };
        });
        const prefix = xs.map((x) => {
          const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
          const data = new (x.data.constructor as Float32ArrayConstructor)(run.batch * t * inner);
          for (let b = 0; b < run.batch; b++) data.set(x.data.subarray(b * x.shape[1] * inner, (b * x.shape[1] + t) * inner), b * t * inner);
          return { data, shape: [run.batch, t, ...x.shape.slice(2)] };
        });
        const got = [session.step(step.length === 1 ? step[0] : step)].flat();
        // a model whose inputs fix the time length predicts that length only: compare the last step
        if (t < run.time && model.inputs.some((i) => i.shape[1] !== null)) continue;
        const whole = [model.predict(prefix.length === 1 ? prefix[0] : prefix)].flat();
        whole.forEach((w, k) => {
          // a sequence output: its last step; else the whole output
          const seqOut = w.shape.length > got[k].shape.length;
          const n = got[k].data.length / run.batch;
          const last = seqOut ? Float32Array.from({ length: run.batch * n }, (_, i) => w.data[(Math.floor(i / n) * t + t - 1) * n + (i % n)]) : w.data;
          expect(Array.from(got[k].data), `${def.id}: step ${t}, output ${k}`).toEqual(Array.from(last));
        });
      }
      session.dispose();
    } finally {
      model.dispose();
    }
  }, 120_000);
});

describe("corpus: f16 and int8 bundles stay within their quantisation bounds of the f32 bundle", () => {
  it.each(definitions.map((d) => [d.id, d] as const))("%s", async (_id, def) => {
    const saved = await savedFile(def);
    const f32 = await loadModel(await exportBundle(saved as never));
    const xs = inputsFor(def, def.runs[0]);
    const want = [f32.predict(xs.length === 1 ? xs[0] : xs)].flat();
    for (const [dtype, tol] of [["f16", F16_WEIGHTS], ["int8", INT8_WEIGHTS]] as const) {
      const q = await loadModel(await exportBundle(saved as never, { dtype }));
      assertAllClose([q.predict(xs.length === 1 ? xs[0] : xs)].flat(), want, tol, `${def.id} as ${dtype}`);
      q.dispose();
    }
    f32.dispose();
  }, 120_000);
});

afterAll(() => {
  console.log(`[corpus] ${tally.loaded}/${definitions.length} load, ${tally.matched}/${definitions.length} match their oracle; worst abs error ${tally.worst.toExponential(2)} (${tally.where})`);
});
