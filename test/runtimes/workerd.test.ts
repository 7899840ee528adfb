/**
 * Cloudflare workerd (npm `workerd`): a worker bundled from the packed package the way wrangler
 * bundles (esbuild, conditions workerd/worker/browser, .wasm imports kept as wasm modules), the
 * bundles bound as data blobs, served on a loopback port and answering HTTP requests.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import * as esbuild from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import type { ProbeResult, ProbeRun } from "./engine/probe.ts";
import { BIN, ServerProcess, checkAgainstNode, freePort, logSummary, resolveEntry, useEngineProject } from "./harness.ts";

const WORKER = `
import * as api from "rnn-wasm";
import { runProbe } from "./probe.mjs";

const models = new Map();

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const cases = JSON.parse(env.CASES);
    const bundle = (i) => new Uint8Array(env["MODEL_" + i]);
    try {
      if (url.pathname === "/probe") return Response.json(await runProbe(api, cases.map((_, i) => bundle(i)), cases));
      if (url.pathname === "/predict" && request.method === "POST") {
        const { model: i, inputs } = await request.json();
        if (!models.has(i)) models.set(i, api.loadModel(bundle(i)));
        const model = await models.get(i);
        const xs = inputs.map((t) => ({ data: t.dtype === "int32" ? Int32Array.from(t.data) : Float32Array.from(t.data), shape: t.shape }));
        const y = model.predict(xs.length === 1 ? xs[0] : xs);
        return Response.json({ build: model.simd, outputs: (Array.isArray(y) ? y : [y]).map((t) => ({ shape: t.shape, data: Array.from(t.data) })) });
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(String(e && e.stack || e), { status: 500 });
    }
  },
};
`;

/** Bundles like wrangler: .wasm imports stay imports and their files become wasm modules. */
async function bundleWorker(dir: string): Promise<string[]> {
  const wasm = new Set<string>();
  await esbuild.build({
    entryPoints: [join(dir, "worker.mjs")],
    outfile: join(dir, "out", "worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    logLevel: "warning",
    plugins: [
      {
        name: "wasm-modules",
        setup(b) {
          b.onResolve({ filter: /\.wasm$/ }, (args) => {
            wasm.add(join(args.resolveDir, args.path));
            return { path: `./${basename(args.path)}`, external: true };
          });
        },
      },
    ],
  });
  for (const f of wasm) copyFileSync(f, join(dir, "out", basename(f)));
  return [...wasm].map((f) => basename(f));
}

function capnpConfig(port: number, wasmModules: string[], nModels: number): string {
  const modules = [
    `(name = "worker.js", esModule = embed "out/worker.js")`,
    ...wasmModules.map((w) => `(name = "${w}", wasm = embed "out/${w}")`),
  ];
  const bindings = [
    `(name = "CASES", text = embed "cases.json")`,
    ...Array.from({ length: nModels }, (_, i) => `(name = "MODEL_${i}", data = embed "model-${i}.rnnb")`),
  ];
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .probeWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const probeWorker :Workerd.Worker = (
  modules = [ ${modules.join(",\n    ")} ],
  bindings = [ ${bindings.join(",\n    ")} ],
  compatibilityDate = "2025-01-01",
);
`;
}

describe("workerd serves the packed package", () => {
  let server: ServerProcess | undefined;
  let base = "";
  let probe: ProbeResult;
  const p = useEngineProject("workerd", () => server?.stop());

  beforeAll(async () => {
    const { dir, cases, timings } = p;
    expect(await resolveEntry(dir, ["workerd", "worker", "browser"])).toBe(join(dir, "node_modules/rnn-wasm/dist/workerd.js"));
    writeFileSync(join(dir, "worker.mjs"), WORKER);
    mkdirSync(join(dir, "out"), { recursive: true });
    const wasmModules = await bundleWorker(dir);
    expect(wasmModules.sort()).toEqual(["rnn-relaxed.wasm", "rnn-simd.wasm"]);
    // the port is free when picked; if another process takes it first, workerd exits and we retry
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      writeFileSync(join(dir, "config.capnp"), capnpConfig(port, wasmModules, cases.length));
      const t0 = performance.now();
      server = new ServerProcess(BIN("workerd"), ["serve", "config.capnp"], { cwd: dir });
      try {
        base = `http://127.0.0.1:${port}`;
        await server.waitForHttp(`${base}/health`, 30_000);
        timings.startup = performance.now() - t0;
        break;
      } catch (e) {
        await server.stop();
        if (attempt === 3 || !/address already in use|EADDRINUSE/i.test(server.output)) throw e;
      }
    }
  });

  it("answers /probe with Node's predictions for every build", async () => {
    const t0 = performance.now();
    const res = await fetch(`${base}/probe`, { signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    p.timings.probe = performance.now() - t0;
    expect(res.status, `workerd answered ${res.status}: ${text}\nworkerd output:\n${server!.output}`).toBe(200);
    probe = JSON.parse(text) as ProbeResult;
    const s = checkAgainstNode("workerd", probe, p.node, p.cases);
    logSummary(s, p.timings);
  });

  it("answers concurrent /predict requests from one cached model per bundle", async () => {
    expect(probe, "the /probe test must pass first").toBeDefined();
    const requests = p.cases.flatMap((c, i) => Array.from({ length: 4 }, () => ({ i, c })));
    const answers = await Promise.all(
      requests.map(async ({ i, c }) => {
        const res = await fetch(`${base}/predict`, {
          method: "POST",
          body: JSON.stringify({ model: i, inputs: c.inputs }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        expect(res.status, `/predict model ${c.name}: ${text}`).toBe(200);
        return JSON.parse(text) as ProbeRun;
      }),
    );
    answers.forEach((a, k) => {
      const auto = probe.cases[requests[k].i].runs.auto as ProbeRun;
      expect(a.build).toBe(auto.build);
      expect(a.outputs, `/predict for ${requests[k].c.name} equals the worker's own "auto" run`).toEqual(auto.outputs);
    });
  });
});
