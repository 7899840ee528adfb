/**
 * A bounded load check of the edge example in workerd on loopback (autocannon): each route in
 * turn for a third of the duration; every answer must be a 2xx and no connection may fail.
 * Requests per second and latency percentiles are printed as one JSON line (and written to
 * --out when given: the saved run is bench/results/edge-loadcheck.json, replaced only on
 * purpose); nothing is asserted about time (the figures depend on the machine).
 *
 *   node loadcheck.mjs [--duration 20] [--connections 8] [--url http://127.0.0.1:8787] [--out report.json]
 *
 * Without --url it starts the Worker in workerd itself (workerd-local.mjs) on a free port.
 * Exit code 0 when every request succeeded, 1 otherwise.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { startWorkerd } from "./workerd-local.mjs";

const require = createRequire(import.meta.url);
const autocannon = require("autocannon");

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const duration = Number(option("duration", "20"));
const connections = Number(option("connections", "8"));
const outOption = option("out");
const out = outOption && resolve(outOption);
if (!(duration > 0) || !(connections > 0)) throw new Error("--duration and --connections must be positive numbers");

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function post(url, body) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`warm-up ${url} answered ${res.status}: ${text}`);
  return { json: JSON.parse(text), simd: res.headers.get("x-rnn-wasm-simd") };
}

let server;
let base = option("url");
if (!base) {
  server = await startWorkerd({ port: await freePort() });
  base = server.url;
}

try {
  // warm-up: loads every model once (first-request cost is not part of the figures) and
  // takes a real snapshot so /step exercises restore + step + snapshot
  const warm = await post(`${base}/step`, { input: 0.25 });
  await post(`${base}/predict`, { text: "warm up" });
  await post(`${base}/generate`, { prompt: "had a general", steps: 1 });

  const phases = [
    { route: "/predict", body: { text: "$SPY breaking out, loading up on calls" } },
    { route: "/step", body: { state: warm.json.state, input: 0.5 } },
    { route: "/generate", body: { prompt: "had a general", steps: 5 } },
  ];
  const seconds = Math.max(1, Math.round(duration / phases.length));
  const routes = {};
  let ok = true;
  for (const p of phases) {
    const r = await autocannon({
      url: base + p.route,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(p.body),
      connections,
      duration: seconds,
      timeout: 10,
    });
    const total = r.requests.total ?? 0;
    routes[p.route] = {
      body: p.body.state ? { ...p.body, state: `(${p.body.state.length} base64 chars)` } : p.body,
      seconds: r.duration,
      requests: total,
      requestsPerSecond: Math.round((total / r.duration) * 10) / 10,
      latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
    };
    if (r.errors || r.timeouts || r.non2xx || total === 0) ok = false;
    console.error(`${p.route}: ${routes[p.route].requestsPerSecond} req/s, p99 ${r.latency.p99} ms, ${r.errors} errors, ${r.non2xx} non-2xx`);
  }
  const report = {
    what: "autocannon against the rnn-wasm edge example in workerd on loopback",
    date: new Date().toISOString(),
    target: server ? `workerd ${require("workerd").version} (workerd-local.mjs)` : base,
    simd: warm.simd,
    node: process.version,
    autocannon: require("autocannon/package.json").version,
    connections,
    ok,
    routes,
  };
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
  }
  console.log(JSON.stringify(report));
  process.exitCode = ok ? 0 : 1;
} finally {
  await server?.stop();
}
