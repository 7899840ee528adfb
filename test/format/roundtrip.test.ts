/**
 * The bundle round trip over the whole seeded parity matrix (test/util/cases.ts): artifacts ->
 * exportBundle(f32) -> loadModel(bytes) -> predict is bit-identical to loadModel(artifacts) —
 * a bundle is the packed weights, copied, never transformed — and so within the parity
 * tolerance of the oracle (tfjs, or the float64 reference for files tfjs cannot run). The f16
 * bundle stays within F16_WEIGHTS of the f32 one (the worst error is printed for
 * docs/bundle-format.md), and computes exactly what its widened weights do: bit-identical to
 * the same weights written as f32, though its embedding tables stay halves in kernel memory.
 */
import { afterAll, describe, expect, it } from "vitest";
import { exportBundle, writeBundle } from "../../src/export.ts";
import { SECTION_ALIGN } from "../../src/format/bundle.ts";
import { readBundle } from "../../src/format/reader.ts";
import { loadModel } from "../../src/index.ts";
import { F16_WEIGHTS, parityTolerance } from "../tolerance.ts";
import { parityCases, runLabel } from "../util/cases.ts";
import { assertAllClose } from "../util/compare.ts";
import { copyArtifacts, prepareCase } from "../util/harness.ts";
import { describeSeed } from "../util/prng.ts";

type T = { data: Float32Array | Int32Array; shape: number[] };
const list = (y: T | T[]): T[] => (Array.isArray(y) ? y : [y]);

const cases = parityCases();
const worstF16 = { abs: 0, rel: 0, where: "" };
const worstF32 = { abs: 0, where: "" };

for (const group of [...new Set(cases.map((c) => c.group))]) {
  describe(`bundle round trip: ${group}`, () => {
    for (const c of cases.filter((x) => x.group === group)) {
      it(c.id, async () => {
        const p = await prepareCase(c);
        const f32 = await exportBundle(copyArtifacts(p.artifacts), { dtype: "f32" });
        const f16 = await exportBundle(copyArtifacts(p.artifacts), { dtype: "f16" });
        // sections: aligned, half the bytes in f16, same spec in both
        const r32 = readBundle(f32);
        const r16 = readBundle(f16);
        for (const s of r32.header.sections) expect(s.offset % SECTION_ALIGN).toBe(0);
        expect(r16.header.sections.map((s) => 2 * s.bytes)).toEqual(r32.header.sections.map((s) => s.bytes));
        expect(r16.header.model).toEqual(r32.header.model);
        const direct = await loadModel(copyArtifacts(p.artifacts));
        const m32 = await loadModel(f32);
        const m16 = await loadModel(f16);
        const m16w = await loadModel(writeBundle(r16.packed, { dtype: "f32" })); // the halves widened, as f32 sections
        try {
          // f16 embedding tables are held as halves (widened per gathered row), the rest as f32
          const tableValues = r32.header.model.ops.flatMap((op) => (op.op === "embedding" ? [op.inputDim * op.outputDim] : []));
          const align = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);
          expect(m32.weightBytes - m16.weightBytes, "kernel memory saved by f16 tables").toBe(tableValues.reduce((a, n) => a + align(4 * n) - align(2 * n), 0));
          expect(m16w.weightBytes).toBe(m32.weightBytes);
          expect(m32.inputs).toEqual(direct.inputs);
          expect(m32.outputs).toEqual(direct.outputs);
          for (const run of c.runs) {
            const { inputs, outputs } = p.expected(run);
            const x = inputs.length === 1 ? inputs[0] : inputs;
            const yd = list(direct.predict(x));
            const y32 = list(m32.predict(x));
            const y16 = list(m16.predict(x));
            const y16w = list(m16w.predict(x));
            const where = `${c.id}, ${runLabel(run)}; ${describeSeed(p.rng)}`;
            // bit-exact: the bundle holds the packed weights the direct load computes
            expect(y32.map((t) => t.shape)).toEqual(yd.map((t) => t.shape));
            y32.forEach((t, i) => expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(yd[i].data.buffer, yd[i].data.byteOffset, yd[i].data.byteLength)), `${where}: output ${i} bits`).toBe(true));
            for (const r of assertAllClose(y32, outputs, parityTolerance(c.approx), `f32 bundle vs ${c.oracle}: ${where}`)) {
              if (r.maxAbs > worstF32.abs) Object.assign(worstF32, { abs: r.maxAbs, where: c.id });
            }
            y16.forEach((t, i) => expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(y16w[i].data.buffer, y16w[i].data.byteOffset, y16w[i].data.byteLength)), `${where}: f16 bundle vs its weights widened, output ${i} bits`).toBe(true));
            for (const r of assertAllClose(y16, y32, F16_WEIGHTS, `f16 bundle vs f32 bundle: ${where}`)) {
              if (r.maxAbs > worstF16.abs) Object.assign(worstF16, { abs: r.maxAbs, where: `${c.id} (${runLabel(run)})` });
              if (r.maxRel > worstF16.rel && Number.isFinite(r.maxRel)) worstF16.rel = r.maxRel;
            }
          }
        } finally {
          direct.dispose();
          m32.dispose();
          m16.dispose();
          m16w.dispose();
          p.dispose();
        }
      }, 120_000);
    }
  });
}

afterAll(() => {
  console.log(
    `bundle round trip over ${cases.length} parity cases: f32 vs oracle max abs ${worstF32.abs.toExponential(2)} (${worstF32.where}); ` +
      `f16 vs f32 max abs ${worstF16.abs.toExponential(2)} (${worstF16.where}), max rel ${worstF16.rel.toExponential(2)}`,
  );
});
