/**
 * Voice activity detection in a page, two ways, in headless Chromium with a fake microphone
 * playing real speech: examples/vad (rnn-wasm/vad, Silero v5 .rnnb, model in the audio thread)
 * and the same job with @ricky0123/vad-web 0.0.31 + onnxruntime-web (its documented script-tag
 * setup: ort.wasm.min.js, bundle.min.js, its worklet, silero_vad_v5.onnx, ort's wasm), each
 * page served by the same static server from the files it needs.
 *
 * Measured per page, in fresh browser contexts (empty cache), alternating: the bytes it fetched
 * (every response, and each body gzip -9: what a compressing server would send), and the time
 * from navigation start to the first frame whose speech probability the page received.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { requireData } from "../tools/train/data.ts";
import { summarize, type Summary } from "./stats.ts";

const root = resolve(import.meta.dirname, "..");
const CHROMIUM = "/usr/bin/chromium";
const TYPES: Record<string, string> = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".wasm": "application/wasm", ".onnx": "application/octet-stream", ".rnnb": "application/octet-stream",
};
/** The strict policy examples/vad is served with (its vite.config.js). */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:";

export type PageName = "rnn-wasm" | "vad-web";

export interface VadPageResult {
  page: PageName;
  /** Every fetched resource: path, bytes as served, bytes gzip -9. */
  resources: { path: string; bytes: number; gzip: number }[];
  bytes: number;
  gzip: number;
  firstFrameMs?: Summary;
  error?: string;
}

/** A static server of `dir` that records every path it served (worklet and worker scripts too, which pages do not report). */
function serve(dir: string, headers: Record<string, string>, served: Set<string>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(dir, path.endsWith("/") ? path + "index.html" : path);
    try {
      const body = readFileSync(file);
      served.add(path);
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store", ...headers });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok({ server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

/** The vad-web page: its documented script tags, started on load, first frame recorded. */
function vadWebSite(dir: string): void {
  const web = join(root, "node_modules/@ricky0123/vad-web/dist");
  const ort = join(root, "node_modules/onnxruntime-web/dist");
  for (const f of ["bundle.min.js", "vad.worklet.bundle.min.js", "silero_vad_v5.onnx"]) copyFileSync(join(web, f), join(dir, f));
  for (const f of ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]) copyFileSync(join(ort, f), join(dir, f));
  writeFileSync(join(dir, "index.html"), `<!doctype html><html><head><meta charset="utf-8"><title>vad-web</title>
<script src="ort.wasm.min.js"></script><script src="bundle.min.js"></script><script src="main.js"></script></head><body></body></html>`);
  writeFileSync(join(dir, "main.js"), `window.__first = null; window.__error = null;
vad.MicVAD.new({ model: "v5", baseAssetPath: "./", onnxWASMBasePath: "./", startOnLoad: true,
  onFrameProcessed: () => { if (window.__first === null) window.__first = performance.now(); } })
  .catch((e) => { window.__error = String(e); });`);
}

export async function benchVadPage(runs: number, log: (...a: unknown[]) => void): Promise<VadPageResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "rnnwasm-vad-page-"));
  const servers: Server[] = [];
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
      "--autoplay-policy=no-user-gesture-required", `--use-file-for-fake-audio-capture=${requireData("speech/silero-test-16k.wav", "VAD page speech")}`],
  });
  try {
    const ours = join(dir, "rnn-wasm");
    execFileSync(process.execPath, [join(root, "node_modules/vite/bin/vite.js"), "build", join(root, "examples/vad"), "--outDir", ours, "--emptyOutDir", "--logLevel", "warn"], { cwd: root });
    const theirs = join(dir, "vad-web");
    execFileSync("mkdir", ["-p", theirs]);
    vadWebSite(theirs);
    const served: Record<PageName, Set<string>> = { "rnn-wasm": new Set(), "vad-web": new Set() };
    type W = { __vad?: { firstFrameMs: number | null; error: string | null }; __first?: number | null; __error?: string | null };
    const sites: Record<PageName, { base: string; query: string; first: () => unknown }> = {
      "rnn-wasm": { ...(await serve(ours, { "Content-Security-Policy": CSP }, served["rnn-wasm"]).then((s) => (servers.push(s.server), s))), query: "/?autostart=worklet", first: () => (window as W).__vad?.firstFrameMs ?? (window as W).__vad?.error },
      "vad-web": { ...(await serve(theirs, {}, served["vad-web"]).then((s) => (servers.push(s.server), s))), query: "/", first: () => (window as W).__first ?? (window as W).__error },
    };
    const firsts: Record<PageName, number[]> = { "rnn-wasm": [], "vad-web": [] };
    const errors: Partial<Record<PageName, string>> = {};
    for (let r = 0; r < runs; r++) {
      for (const name of ["rnn-wasm", "vad-web"] as PageName[]) {
        const site = sites[name];
        const context = await browser.newContext();
        const page = await context.newPage();
        try {
          await page.goto(site.base + site.query, { timeout: 30_000 });
          // (a function, not a string: the strict CSP forbids evaluating strings in the page)
          const handle = await page.waitForFunction(site.first, undefined, { timeout: 60_000 });
          const v = await handle.jsonValue();
          if (typeof v === "number") firsts[name].push(v);
          else errors[name] = String(v);
        } catch (e) {
          errors[name] = (e as Error).message.split("\n")[0];
        }
        await context.close();
      }
    }
    const results = (["rnn-wasm", "vad-web"] as PageName[]).map((name): VadPageResult => {
      const folder = name === "rnn-wasm" ? ours : theirs;
      const resources = [...served[name]].sort().map((p) => {
        const body = readFileSync(join(folder, p.endsWith("/") ? p + "index.html" : p));
        return { path: p, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
      });
      return {
        page: name, resources,
        bytes: resources.reduce((n, x) => n + x.bytes, 0),
        gzip: resources.reduce((n, x) => n + x.gzip, 0),
        ...(firsts[name].length ? { firstFrameMs: summarize(firsts[name]) } : {}),
        ...(errors[name] ? { error: errors[name] } : {}),
      };
    });
    for (const x of results) log(`  ${x.page.padEnd(9)} ${x.resources.length} files, ${(x.bytes / 1024).toFixed(0)} KiB (${(x.gzip / 1024).toFixed(0)} KiB gzip); first frame ${x.firstFrameMs ? `${x.firstFrameMs.median.toFixed(0)} ms after navigation (${x.firstFrameMs.min.toFixed(0)}–${x.firstFrameMs.max.toFixed(0)}, ${x.firstFrameMs.n} runs)` : "–"}${x.error ? `; error: ${x.error}` : ""}`);
    return results;
  } finally {
    await browser.close();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
