/**
 * examples/node/quickstart.mjs ("load a bundle, predict, stream, in ten lines") runs as written,
 * both inside the repository (`rnn-wasm` is the repository itself by self-reference, dist/ must
 * be built; rnn-wasm-tools is the workspace's tools/) and in a fresh folder where the packed
 * packages are installed (the demo model comes from rnn-wasm-tools' models/). Its predictions equal the repository's loadModel on Node
 * for the build it ran, and the streamed outputs equal the whole-sequence prediction.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Tensor } from "../../src/index.ts";
import { ROOT, cleanup, projectWithPackedPackage, runProcess } from "../runtimes/harness.ts";
import { EXACT_F32 } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { STREAM_MODEL, disposeNodeModels, nodeModel, type Build } from "./shared.ts";

const QUICKSTART = join(ROOT, "examples/node/quickstart.mjs");

interface QuickstartOutput {
  simd: Build;
  predicted: number[];
  streamed: number[];
  snapshotBytes: number;
}

async function check(out: QuickstartOutput, where: string): Promise<void> {
  expect(STREAM_MODEL, "quickstart.mjs streams the sine model").toBe("sine.rnnb");
  const T = 60;
  const xs = Array.from({ length: T }, (_, t) => Math.sin(t / (10 * Math.PI)));
  const model = await nodeModel(STREAM_MODEL, out.simd);
  // the sine LSTM was trained stateful (Keras semantics: predict carries h and c over to the
  // next predict call), and this model object is shared: start from zero like a fresh load
  model.resetStates();
  const y = model.predict({ data: Float32Array.from(xs), shape: [1, T, 1] }) as Tensor;
  assertClose({ data: out.predicted, shape: [1, T, 1] }, y, EXACT_F32, `${where}: predict vs Node (${out.simd} build)`);
  assertClose({ data: out.streamed, shape: [1, T, 1] }, y, EXACT_F32, `${where}: streamed steps vs the whole-sequence predict`);
  const session = model.createSession();
  session.run({ data: Float32Array.from(xs), shape: [1, T, 1] });
  expect(out.snapshotBytes).toBe(session.getState().length);
  session.dispose();
}

describe("examples/node/quickstart.mjs", () => {
  let dir: string | undefined;

  beforeAll(() => {
    dir = projectWithPackedPackage("node-example", { tools: true }).dir;
    copyFileSync(QUICKSTART, join(dir, "quickstart.mjs"));
  });
  afterAll(() => {
    disposeNodeModels();
    cleanup(dir);
  });

  it("runs in the repository and streams what it predicts", async () => {
    const r = await runProcess(process.execPath, [QUICKSTART], { cwd: ROOT, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    await check(JSON.parse(r.stdout) as QuickstartOutput, "in the repository");
  });

  it("runs where the packed packages are installed, with the model rnn-wasm-tools ships, on both kernel builds", async () => {
    for (const flags of [[], ["--experimental-wasm-relaxed-simd"]]) {
      const r = await runProcess(process.execPath, [...flags, "quickstart.mjs"], { cwd: dir, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as QuickstartOutput;
      // Node 20 validates relaxed SIMD only behind the flag; Node 22+ always
      const relaxedByDefault = Number(process.versions.node.split(".")[0]) >= 22;
      expect(out.simd).toBe(flags.length || relaxedByDefault ? "relaxed" : "baseline");
      await check(out, `installed package, node ${flags.join(" ")}`);
    }
  });
});
