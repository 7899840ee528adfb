/** The runtime's hostile-input table (targets/runtime-table.ts): every row, in the harness's watched worker. */
import { expect, it } from "vitest";
import { caseRange, describeReport, fuzz } from "./harness.ts";
import { TABLE } from "./targets/runtime-table.ts";

const range = caseRange(TABLE.length);

it(`${TABLE.length} hostile calls to the runtime: each its typed error (or its result), nothing else disturbed`, async () => {
  const r = await fuzz(new URL("./targets/runtime-table.ts", import.meta.url), { from: range.from, to: Math.min(range.to, TABLE.length) });
  console.log(describeReport(r));
  expect(r.findings, describeReport(r)).toEqual([]);
}, 300_000);
