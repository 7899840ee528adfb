/** The .h5 / .keras fuzzer (targets/h5.ts) at the suite's size; RNN_FUZZ_N=2000 for a large run. */
import { expect, it } from "vitest";
import { caseRange, describeReport, fuzz } from "./harness.ts";

const range = caseRange(8);

it(`Keras files with bytes changed: ${range.to - range.from} seeded cases, each refused with a typed error (E_TIMEOUT at the latest) or a working model`, async () => {
  const r = await fuzz(new URL("./targets/h5.ts", import.meta.url), range);
  console.log(describeReport(r));
  expect(r.findings, describeReport(r)).toEqual([]);
}, 900_000);
