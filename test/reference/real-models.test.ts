/**
 * The reference against tfjs on the real tfjs models written by others (including the 2018
 * format whose weight groups are not in layer order), on seeded inputs.
 */
import { describe, expect, it } from "vitest";
import { ReferenceModel } from "./index.ts";
import { REF_VS_TFJS } from "../tolerance.ts";
import { assertAllClose } from "../util/compare.ts";
import { referenceOutputs } from "../util/harness.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import { REAL_MODELS, readArtifacts } from "../util/real-models.ts";
import { initTfjs, loadTfjsModel, tfjsPredict, tfjsSignature } from "../util/tfjs.ts";

describe("reference vs tfjs on real models", () => {
  for (const m of REAL_MODELS) {
    it.skipIf(!m.dir)(`${m.id}: ${m.description}`, async () => {
      await initTfjs();
      const art = readArtifacts(m.dir!);
      const tfModel = await loadTfjsModel(art);
      try {
        const ref = ReferenceModel.fromArtifacts(art.modelJson, art.weights);
        const sig = tfjsSignature(tfModel);
        expect(ref.inputs.map((i) => i.shape)).toEqual(sig.inputs);
        expect(ref.outputs.map((o) => o.shape)).toEqual(sig.outputs);
        const rng = rngFor(`real model ${m.id}`);
        for (const run of m.runs) {
          const x = m.makeInput(run.batch, run.time, rng.fork(`b${run.batch} t${run.time}`));
          const r = assertAllClose(referenceOutputs(ref, [x]), tfjsPredict(tfModel, [x]), REF_VS_TFJS, `${m.id}, batch ${run.batch}, time ${run.time}; ${describeSeed(rng)}`);
          console.log(`${m.id} batch ${run.batch} time ${run.time}: max abs err ${Math.max(...r.map((c) => c.maxAbs)).toExponential(2)}`);
        }
      } finally {
        tfModel.dispose();
      }
    }, 120_000);
  }
});
