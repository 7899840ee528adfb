/**
 * rnn-wasm against tfjs (cpu backend) over the seeded parity matrix (test/util/cases.ts): every
 * layer and option of issue 2, the seeds' architectures, odd sizes and batches, quantised and
 * sharded weights, converter-style files; and against the float64 reference for files tfjs
 * cannot run (GRU reset_after=true, causal Conv1D, Keras 3 hard_sigmoid, exponential).
 *
 * Fails at import until src/index.ts exists. RNN_PARITY_TARGET=reference runs the same tests on
 * the reference adapter to validate the test code (test/util/runtime.ts).
 */
import { afterAll, describe, expect, it } from "vitest";
import { parityTolerance } from "../tolerance.ts";
import { parityCases, runLabel } from "../util/cases.ts";
import { assertAllClose } from "../util/compare.ts";
import { copyArtifacts, prepareCase, signatureProblems } from "../util/harness.ts";
import { describeSeed } from "../util/prng.ts";
import { TARGET, asList, loadRuntime } from "../util/runtime.ts";

const runtime = await loadRuntime();
const cases = parityCases();
const worst = { maxAbs: 0, where: "" };

for (const group of [...new Set(cases.map((c) => c.group))]) {
  describe(`${TARGET} vs ${cases.find((c) => c.group === group)!.oracle}: ${group}`, () => {
    for (const c of cases.filter((x) => x.group === group)) {
      it(c.id, async () => {
        const p = await prepareCase(c);
        const model = await runtime.loadModel(copyArtifacts(p.artifacts));
        try {
          const dtypes = c.inputs.map((g) => (g.kind === "ids" ? "int32" : "float32"));
          expect(signatureProblems(model, p.signature, dtypes), `declared inputs/outputs of ${c.id}`).toEqual([]);
          const tol = parityTolerance(c.approx);
          for (const run of c.runs) {
            const { inputs, outputs } = p.expected(run);
            const y = asList(model.predict(inputs.length === 1 ? inputs[0] : inputs));
            const results = assertAllClose(y, outputs, tol, `${c.id}, ${runLabel(run)}; ${describeSeed(p.rng)}`);
            for (const r of results) {
              if (r.maxAbs > worst.maxAbs) Object.assign(worst, { maxAbs: r.maxAbs, where: `${c.id} (${runLabel(run)})` });
            }
          }
        } finally {
          model.dispose();
          p.dispose();
        }
      }, 120_000);
    }
  });
}

afterAll(() => {
  console.log(`${TARGET} parity over ${cases.length} cases: max abs err ${worst.maxAbs.toExponential(2)} (${worst.where})`);
});
