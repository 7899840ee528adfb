/** The model.json fuzzer (targets/model-json.ts) at the suite's size; RNN_FUZZ_N=10000 for a large run. */
import { expect, it } from "vitest";
import { caseRange, describeReport, fuzz } from "./harness.ts";

const range = caseRange(80);

it(`tfjs model.json topologies and manifests: ${range.to - range.from} seeded cases, each refused with a typed error or a working model`, async () => {
  const r = await fuzz(new URL("./targets/model-json.ts", import.meta.url), range);
  console.log(describeReport(r));
  expect(r.findings, describeReport(r)).toEqual([]);
  if (range.to - range.from >= 100) expect(Object.keys(r.outcomes).some((k) => k.startsWith("predicts")), describeReport(r)).toBe(true);
}, 600_000);
