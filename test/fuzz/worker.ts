/**
 * The worker side of harness.ts: imports the target, builds its base once, then runs cases
 * in order, reporting each start (the watchdog times it), its outcome or its finding.
 */
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { rngFor } from "../util/prng.ts";
// as test/setup.ts does for the suite: the Node entry registers where the kernels are
import "../../src/node.ts";
import { codeOf, Defect, type FuzzTarget } from "./harness.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const { targetFile, from, to } = workerData as { targetFile: string; from: number; to: number };
const { target } = (await import(targetFile)) as { target: FuzzTarget<unknown> };
const base = await target.setup();
const post = (m: unknown) => parentPort!.postMessage(m);
const held = () => {
  gc();
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
};
const maxRetained = target.maxRetainedBytes ?? 64 * 2 ** 20;
post({ type: "ready", caseTimeoutMs: target.caseTimeoutMs ?? 10_000 });

for (let i = from; i < to; i++) {
  const before = held();
  post({ type: "start", i });
  let outcome: string;
  let made: unknown;
  try {
    try {
      made = await target.make(rngFor(`${target.name}/${i}`), i, base);
    } catch (e) {
      post({ type: "finding", i, kind: "fuzzer error", message: `making the case failed: ${(e as Error)?.stack ?? e}` });
      continue;
    }
    outcome = await target.run(made, base);
  } catch (e) {
    const code = codeOf(e);
    // a case that says what it did (`what`) says it in the report
    const what = (made as { what?: unknown } | undefined)?.what;
    const message = `${(e as Error)?.name ?? "error"}: ${(e as Error)?.message ?? e}${what ? ` [case: ${JSON.stringify(what).slice(0, 300)}]` : ""}`;
    if (e instanceof Defect) post({ type: "finding", i, kind: "defect", message });
    else if (code === null) post({ type: "finding", i, kind: "untyped error", message: `${message}\n${(e as Error)?.stack?.split("\n").slice(1, 6).join("\n") ?? ""}` });
    else if (!target.codes.includes(code)) post({ type: "finding", i, kind: "code not allowed", message });
    else post({ type: "done", i, outcome: code });
    continue;
  }
  const retained = held() - before;
  if (retained > maxRetained) post({ type: "finding", i, kind: "retained memory", message: `${(retained / 2 ** 20).toFixed(1)} MiB still allocated after the case` });
  else post({ type: "done", i, outcome });
}
post({ type: "end" });
