/**
 * Headless Chromium (Debian `chromium`, driven by playwright-core; never a downloaded browser):
 * a page served from a loopback HTTP server imports the packed package through an import map
 * that points where the package's "browser" export condition leads; the entry fetches the
 * kernel builds next to itself (application/wasm, streaming compile).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, relative, resolve, sep } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { ProbeResult } from "./engine/probe.ts";
import { checkAgainstNode, logSummary, resolveEntry, useEngineProject } from "./harness.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".rnnb": "application/octet-stream",
};

function page(entryUrl: string): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>rnn-wasm probe</title>
<script type="importmap">${JSON.stringify({ imports: { "rnn-wasm": entryUrl } })}</script>
<script type="module">
import * as api from "rnn-wasm";
import { runProbe } from "/probe.mjs";
try {
  const cases = await (await fetch("/cases.json")).json();
  const bundles = await Promise.all(cases.map(async (_, i) => new Uint8Array(await (await fetch("/model-" + i + ".rnnb")).arrayBuffer())));
  window.__result = { ok: true, result: await runProbe(api, bundles, cases) };
} catch (e) {
  window.__result = { ok: false, error: String((e && e.stack) || e) };
}
</script>`;
}

/** Static files of `root` on 127.0.0.1; records every path requested. */
function serve(root: string, requests: string[]): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    const file = resolve(root, "." + (path === "/" ? "/index.html" : path));
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(body);
  });
  return new Promise((res) => server.listen(0, "127.0.0.1", () => res({ server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describe("headless Chromium runs the packed package", () => {
  let http: Server | undefined;
  let browser: Browser | undefined;
  const requests: string[] = [];
  const p = useEngineProject("chromium", async () => {
    await browser?.close();
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
  });

  it("loads the browser entry and predicts what Node predicts, relaxed and baseline builds agreeing", async () => {
    const { dir, cases, node, timings } = p;
    const entry = await resolveEntry(dir, ["browser"]);
    expect(entry).toBe(join(dir, "node_modules/rnn-wasm/dist/browser.js"));
    writeFileSync(join(dir, "index.html"), page("/" + relative(dir, entry).split(sep).join("/")));
    const served = await serve(dir, requests);
    http = served.server;

    let t0 = performance.now();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
    const tab = await browser.newPage();
    timings.launch = performance.now() - t0;
    const log: string[] = [];
    tab.on("console", (m) => log.push(`console.${m.type()}: ${m.text()}`));
    tab.on("pageerror", (e) => log.push(`page error: ${e.message}`));
    tab.on("requestfailed", (r) => log.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    t0 = performance.now();
    await tab.goto(served.base + "/", { timeout: 30_000 });
    const handle = await tab.waitForFunction(() => (window as unknown as { __result?: unknown }).__result, undefined, { timeout: 60_000 }).catch((e: Error) => {
      throw new Error(`the page produced no result: ${e.message}\n${log.join("\n")}`);
    });
    const out = (await handle.jsonValue()) as { ok: boolean; result?: ProbeResult; error?: string };
    timings.probe = performance.now() - t0;
    expect(out.ok, `page failed: ${out.error}\n${log.join("\n")}`).toBe(true);
    const version = browser.version();

    expect(out.result!.relaxedSupported, `Chromium ${version} ships relaxed SIMD (since 114): the relaxed build must be used`).toBe(true);
    const s = checkAgainstNode(`Chromium ${version}`, out.result!, node, cases);
    logSummary(s, timings);
    // each build fetched once, from next to the entry, however many models loaded it (module cache)
    const wasm = requests.filter((p) => p.endsWith(".wasm")).sort();
    expect(wasm).toEqual(["/node_modules/rnn-wasm/dist/rnn-relaxed.wasm", "/node_modules/rnn-wasm/dist/rnn-simd.wasm"]);
  });
});
