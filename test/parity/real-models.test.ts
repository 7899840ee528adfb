/**
 * rnn-wasm against tfjs on the real tfjs models (test/util/real-models.ts): loaded in
 * tfjs through a custom IOHandler reading the files, in rnn-wasm as `{ modelJson, weights }`
 * and (Node) by the path of model.json, on seeded inputs.
 */
import { describe, expect, it } from "vitest";
import { APPROX } from "../tolerance.ts";
import { assertAllClose } from "../util/compare.ts";
import { signatureProblems } from "../util/harness.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { REAL_MODELS, readArtifacts } from "../util/real-models.ts";
import { TARGET, asList, loadRuntime } from "../util/runtime.ts";
import { initTfjs, loadTfjsModel, tfjsPredict, tfjsSignature } from "../util/tfjs.ts";
import { join } from "node:path";

const runtime = await loadRuntime();

describe(`${TARGET} vs tfjs on real models`, () => {
  for (const m of REAL_MODELS) {
    it.skipIf(!m.dir)(`${m.id}: ${m.description}`, async () => {
      await initTfjs();
      const art = readArtifacts(m.dir!);
      const tfModel = await loadTfjsModel(art);
      const model = await runtime.loadModel(art);
      const fromPath = await runtime.loadModel(join(m.dir!, "model.json"));
      try {
        expect(signatureProblems(model, tfjsSignature(tfModel), ["float32"])).toEqual([]);
        const rng = rngFor(`real model ${m.id}`);
        for (const run of m.runs) {
          const x = m.makeInput(run.batch, run.time, rng.fork(`b${run.batch} t${run.time}`));
          const expected = tfjsPredict(tfModel, [x]);
          const ctx = `${m.id}, batch ${run.batch}, time ${run.time}; ${describeSeed(rng)}`;
          const r = assertAllClose(asList(model.predict(x)), expected, APPROX, ctx);
          console.log(`${TARGET} ${m.id} batch ${run.batch} time ${run.time}: max abs err ${Math.max(...r.map((c) => c.maxAbs)).toExponential(2)}`);
          assertAllClose(asList(fromPath.predict(x)), expected, APPROX, `${ctx} (loaded by path)`);
        }
      } finally {
        model.dispose();
        fromPath.dispose();
        tfModel.dispose();
      }
    }, 120_000);
  }
});
