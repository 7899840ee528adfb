/**
 * The float64 reference against tfjs (cpu backend) over every case of the parity matrix that
 * tfjs can run: same artifacts, same seeded inputs. This is what makes the reference
 * trustworthy where it later stands alone (GRU reset_after=true, causal Conv1D, Keras 3).
 */
import { afterAll, describe, expect, it } from "vitest";
import { ReferenceModel } from "./index.ts";
import { REF_VS_TFJS } from "../tolerance.ts";
import { parityCases, runLabel } from "../util/cases.ts";
import { assertAllClose } from "../util/compare.ts";
import { prepareCase, referenceOutputs, signatureProblems } from "../util/harness.ts";
import { describeSeed } from "../util/prng.ts";

const cases = parityCases().filter((c) => c.oracle === "tfjs");
const worst = { maxAbs: 0, maxRel: 0, maxAbsCase: "" };

for (const group of [...new Set(cases.map((c) => c.group))]) {
  describe(`reference vs tfjs: ${group}`, () => {
    for (const c of cases.filter((x) => x.group === group)) {
      it(c.id, async () => {
        const p = await prepareCase(c);
        try {
          const ref = ReferenceModel.fromArtifacts(p.artifacts.modelJson, p.artifacts.weights);
          const dtypes = c.inputs.map((g) => (g.kind === "ids" ? "int32" : "float32"));
          expect(signatureProblems(ref, p.signature, dtypes)).toEqual([]);
          for (const run of c.runs) {
            const { inputs, outputs } = p.expected(run);
            const results = assertAllClose(
              referenceOutputs(ref, inputs),
              outputs,
              REF_VS_TFJS,
              `${c.id}, ${runLabel(run)}; ${describeSeed(p.rng)}`,
            );
            for (const r of results) {
              if (r.maxAbs > worst.maxAbs) Object.assign(worst, { maxAbs: r.maxAbs, maxAbsCase: `${c.id} (${runLabel(run)})` });
              worst.maxRel = Math.max(worst.maxRel, r.maxRel);
            }
          }
        } finally {
          p.dispose();
        }
      }, 120_000);
    }
  });
}

afterAll(() => {
  console.log(
    `reference vs tfjs over ${cases.length} cases: max abs err ${worst.maxAbs.toExponential(2)} ` +
      `(${worst.maxAbsCase}), max rel err ${worst.maxRel.toExponential(2)}`,
  );
});
