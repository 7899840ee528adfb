/**
 * A bounded load check of the edge example in workerd on loopback (autocannon): each route in
 * turn for a third of the duration; every answer must be a 2xx and no connection may fail.
 * Requests per second and latency percentiles are printed as one JSON line (and written to
 * --out when given: the saved run is bench/results/edge-loadcheck.json, replaced only on
 * purpose); nothing is asserted about time (the figures depend on the machine).
 *
 *   node loadcheck.mjs [--duration 20] [--connections 8] [--url http://127.0.0.1:8787] [--out report.json] [--mix]
 *
 * Without --url it starts the Worker in workerd itself (workerd-local.mjs) on a free port.
 * Exit code 0 when every request succeeded, 1 otherwise.
 *
 * --mix adds the hostile-load check: /predict alone for the duration, then /predict again
 * while half as many connections send malformed and hostile requests (bad JSON, oversized
 * bodies, fields of the wrong type, a snapshot with a NaN state, the 1000-character digit runs
 * that were slow in the StockTwits tokenizer); the well-formed requests' p99 under the mix
 * must stay within 1.5x of their p99 alone (exit code 1 otherwise), and the hostile requests
 * must all be answered (4xx or 2xx, no error or timeout).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as zlib from "node:zlib";
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
const mix = process.argv.includes("--mix");
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

/** One autocannon run: requests, latency percentiles and failures, in the report's form. */
async function cannon(opts) {
  const r = await autocannon({ method: "POST", headers: { "content-type": "application/json" }, timeout: 10, ...opts });
  const total = r.requests.total ?? 0;
  return {
    seconds: r.duration,
    requests: total,
    requestsPerSecond: Math.round((total / r.duration) * 10) / 10,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: r.statusCodeStats,
  };
}

/** Requests a client could send to hurt the service (each answered 2xx or 4xx). */
function hostileRequests(state) {
  // a snapshot of the /step model whose state is NaN, its CRC recomputed
  const snap = Buffer.from(state, "base64");
  new Float32Array(snap.buffer, snap.byteOffset + 24, (snap.length - 28) / 4).fill(NaN);
  snap.writeUInt32LE(zlib.crc32(snap.subarray(0, -4)) >>> 0, snap.length - 4);
  const json = (path, body) => ({ method: "POST", path, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return [
    json("/predict", { text: "1".repeat(999) + "k" }),
    json("/predict", { text: "9".repeat(999) + "%" }),
    json("/predict", { text: "$" + "1.".repeat(499) }),
    json("/predict", { text: "a".repeat(999) + "!" }),
    json("/predict", { text: 12 }),
    { method: "POST", path: "/predict", headers: { "content-type": "application/json" }, body: "{" },
    { method: "POST", path: "/predict", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "x".repeat(20_000) }) },
    json("/step", { state: snap.toString("base64"), input: 0.5 }),
    json("/step", { input: "0.5" }),
    json("/generate", { prompt: "had a general", steps: 1e9 }),
  ];
}

/** p99 of well-formed /predict requests alone, then beside hostile ones. */
async function mixCheck(state, seconds) {
  const valid = { url: base + "/predict", body: JSON.stringify({ text: "$SPY breaking out, loading up on calls" }), connections, duration: seconds };
  const alone = await cannon(valid);
  const [beside, hostileLoad] = await Promise.all([
    cannon(valid),
    cannon({ url: base, requests: hostileRequests(state), connections: Math.max(1, Math.floor(connections / 2)), duration: seconds }),
  ]);
  const ratio = Math.round((beside.latencyMs.p99 / alone.latencyMs.p99) * 100) / 100;
  const ok = ratio <= 1.5 && !alone.errors && !alone.non2xx && !beside.errors && !beside.non2xx && !hostileLoad.errors && !hostileLoad.timeouts && hostileLoad.requests > 0;
  console.error(`/predict p99 alone ${alone.latencyMs.p99} ms, beside hostile requests ${beside.latencyMs.p99} ms (x${ratio}, limit 1.5); hostile: ${hostileLoad.requests} answered, ${hostileLoad.errors} errors, ${hostileLoad.timeouts} timeouts`);
  return { seconds, alone, beside, hostile: hostileLoad, p99Ratio: ratio, limit: 1.5, ok };
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
    const { statusCodes, ...r } = await cannon({ url: base + p.route, body: JSON.stringify(p.body), connections, duration: seconds });
    routes[p.route] = { body: p.body.state ? { ...p.body, state: `(${p.body.state.length} base64 chars)` } : p.body, ...r };
    if (r.errors || r.timeouts || r.non2xx || r.requests === 0) ok = false;
    console.error(`${p.route}: ${r.requestsPerSecond} req/s, p99 ${r.latencyMs.p99} ms, ${r.errors} errors, ${r.non2xx} non-2xx`);
  }
  let hostile;
  if (mix) {
    hostile = await mixCheck(warm.json.state, seconds * 2);
    if (!hostile.ok) ok = false;
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
    ...(hostile ? { hostile } : {}),
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
