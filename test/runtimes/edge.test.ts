/**
 * Vercel's Edge Runtime (npm `edge-runtime`, offline): an edge function bundled from the packed
 * package the way Vercel's bundler does it (conditions edge-light/worker/browser, one script,
 * each `.wasm?module` import replaced by a WebAssembly.Module binding compiled ahead of time in
 * the runtime's own realm), served by edge-runtime's HTTP server on loopback.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { EdgeRuntime, runServer } from "edge-runtime";
import * as esbuild from "esbuild";
import { describe, expect, it } from "vitest";
import type { ProbeResult } from "./engine/probe.ts";
import { checkAgainstNode, logSummary, probeCases, resolveEntry, useEngineProject } from "./harness.ts";

const FUNCTION = `
import * as api from "rnn-wasm";
import { runProbe } from "./probe.mjs";

function fromBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

addEventListener("fetch", (event) => {
  event.respondWith((async () => {
    try {
      const { cases, bundles } = await event.request.json();
      return Response.json(await runProbe(api, bundles.map(fromBase64), cases));
    } catch (e) {
      return new Response(String(e && e.stack || e), { status: 500 });
    }
  })());
});
`;

/** Bundles like Vercel: one script; `x.wasm?module` becomes the global binding wasm_x. */
async function bundleEdgeFunction(dir: string): Promise<{ code: string; wasm: Map<string, string> }> {
  const wasm = new Map<string, string>();
  const result = await esbuild.build({
    entryPoints: [join(dir, "function.mjs")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    conditions: ["edge-light", "worker", "browser"],
    target: "es2022",
    logLevel: "warning",
    plugins: [
      {
        name: "vercel-wasm-module",
        setup(b) {
          b.onResolve({ filter: /\.wasm\?module$/ }, (args) => ({ path: join(args.resolveDir, args.path.replace(/\?module$/, "")), namespace: "wasm-binding" }));
          b.onLoad({ filter: /.*/, namespace: "wasm-binding" }, (args) => {
            const name = `wasm_${basename(args.path).replace(/\W/g, "_")}`;
            wasm.set(name, args.path);
            return { contents: `export default globalThis.${name};`, loader: "js" };
          });
        },
      },
    ],
  });
  return { code: result.outputFiles[0].text, wasm };
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

describe("Vercel Edge Runtime (edge-runtime) runs the packed package", () => {
  let server: Awaited<ReturnType<typeof runServer>> | undefined;
  const p = useEngineProject("edge", () => server?.close());

  it("bundles the edge-light entry, whose kernels are wasm module bindings", async () => {
    expect(await resolveEntry(p.dir, ["edge-light", "worker", "browser"])).toBe(join(p.dir, "node_modules/rnn-wasm/dist/edge.js"));
  });

  it("answers HTTP requests with Node's predictions for every build", async () => {
    const { dir, cases, node, timings } = p;
    writeFileSync(join(dir, "function.mjs"), FUNCTION);
    const { code, wasm } = await bundleEdgeFunction(dir);
    expect([...wasm.keys()].sort()).toEqual(["wasm_rnn_relaxed_wasm", "wasm_rnn_simd_wasm"]);
    let t0 = performance.now();
    const runtime = new EdgeRuntime();
    // compiled ahead of time in the runtime's own realm, as Vercel does at deploy time
    const Wasm = runtime.evaluate("WebAssembly") as typeof WebAssembly;
    for (const [name, path] of wasm) (runtime.context as unknown as Record<string, unknown>)[name] = new Wasm.Module(readFileSync(path));
    runtime.evaluate(code);
    server = await runServer({ runtime, port: 0, host: "127.0.0.1" });
    timings.startup = performance.now() - t0;
    t0 = performance.now();
    const res = await fetch(server.url, {
      method: "POST",
      body: JSON.stringify({ cases: probeCases(cases), bundles: cases.map((c) => base64(c.bundle)) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    timings.probe = performance.now() - t0;
    expect(res.status, `edge function answered ${res.status}: ${text}`).toBe(200);
    const s = checkAgainstNode(`edge-runtime (Node ${process.versions.node} V8 ${process.versions.v8})`, JSON.parse(text) as ProbeResult, node, cases);
    logSummary(s, timings);
  });
});
