/** The .rnnb header fuzzer (targets/rnnb.ts) at the suite's size; RNN_FUZZ_N=10000 for a large run. */
import { expect, it } from "vitest";
import { caseRange, describeReport, fuzz } from "./harness.ts";

const range = caseRange(150);

it(`.rnnb headers with valid CRCs: ${range.to - range.from} seeded cases, each refused with a typed error or a working model`, async () => {
  const r = await fuzz(new URL("./targets/rnnb.ts", import.meta.url), range);
  console.log(describeReport(r));
  expect(r.findings, describeReport(r)).toEqual([]);
  // not a fuzzer that only ever hits the first check: some cases load and run
  if (range.to - range.from >= 100) expect(Object.keys(r.outcomes).some((k) => k.startsWith("predicts")), describeReport(r)).toBe(true);
}, 600_000);
