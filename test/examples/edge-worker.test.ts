/**
 * examples/edge-worker in the real engines: the Worker bundled the way wrangler bundles it
 * (examples/edge-worker/workerd-local.mjs, from the packed package) and served by workerd on a
 * loopback port, and the Deno handler (deno.ts) served by Deno from the same packed package.
 * Every route's answers equal Node's for the same model, build and input; every malformed
 * request gets its 4xx JSON error; the stateless streaming pattern across requests equals
 * one local session; a short autocannon run of loadcheck.mjs sees no error.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the example, without type declarations
import { prepareWorkerd } from "../../examples/edge-worker/workerd-local.mjs";
import { LIMITS, sentimentLabels } from "../../examples/edge-worker/config.ts";
import type { Session, Tensor } from "../../src/index.ts";
import { ROOT, BIN, ServerProcess, cleanup, freePort, projectWithPackedPackage, resolveEntry, runProcess } from "../runtimes/harness.ts";
import { APPROX, EXACT_F32 } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { describeSeed, rngFor } from "../util/prng.ts";
import {
  GENERATE_MODEL, SENTIMENT_MODEL, STREAM_MODEL, MODELS_DIR, disposeNodeModels, fromBase64, nodeModel, nodeSentiment, request, sentences, stocktwitsFile, toBase64,
  type Answer, type Build,
} from "./shared.ts";

const EXAMPLE = join(ROOT, "examples/edge-worker");
const SOURCES = ["handler.ts", "config.ts", "worker.ts", "deno.ts", "wrangler.toml"];

interface Engine {
  name: "workerd" | "Deno";
  base: string;
  server: ServerProcess;
  /** The kernel build the engine runs (x-rnn-wasm-simd), learnt from its first answer. */
  build?: Build;
}

/** Starts a server on a free port; retries with another port if one was taken meanwhile. */
async function startOnFreePort(name: string, start: (port: number) => Promise<ServerProcess>): Promise<{ server: ServerProcess; base: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = await start(port);
    const base = `http://127.0.0.1:${port}`;
    try {
      await server.waitForHttp(`${base}/`, 30_000);
      return { server, base };
    } catch (e) {
      await server.stop();
      if (attempt === 3 || !/address already in use|EADDRINUSE|AddrInUse/i.test(server.output)) throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
}

function expectError(a: Answer, status: number, code: string, context: string): void {
  expect(a.status, `${context}: status (body ${a.text})`).toBe(status);
  expect(a.headers.get("content-type"), `${context}: content-type`).toMatch(/^application\/json/);
  const err = (a.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  expect(err?.code, `${context}: error code (body ${a.text})`).toBe(code);
  expect(typeof err?.message === "string" && err.message.length > 10, `${context}: a message saying what is wrong (body ${a.text})`).toBe(true);
}

describe("examples/edge-worker in workerd and Deno", () => {
  let dir: string | undefined;
  const engines: Engine[] = [];
  let foreignSnapshot = "";
  let damagedSnapshot = "";

  beforeAll(async () => {
    dir = projectWithPackedPackage("edge-example").dir;
    // the repository's layout in miniature: the example next to a models/ folder
    const ex = join(dir, "examples/edge-worker");
    mkdirSync(ex, { recursive: true });
    for (const f of SOURCES) copyFileSync(join(EXAMPLE, f), join(ex, f));
    mkdirSync(join(dir, "models"));
    for (const m of [SENTIMENT_MODEL, GENERATE_MODEL, STREAM_MODEL]) copyFileSync(join(MODELS_DIR, m), join(dir, "models", m));
    expect(await resolveEntry(dir, ["workerd", "worker", "browser"])).toBe(join(dir, "node_modules/rnn-wasm/dist/workerd.js"));

    const workerd = startOnFreePort("workerd", async (port) => {
      const out = join(dir!, `out-${port}`);
      const { command, args, wasmModules } = await prepareWorkerd({ exampleDir: ex, outDir: out, port, packageFrom: dir });
      // only the workerd entry imports the kernel builds as wasm modules
      expect(wasmModules).toEqual(["rnn-relaxed.wasm", "rnn-simd.wasm"]);
      return new ServerProcess(command, args, { cwd: out });
    });
    const deno = startOnFreePort("Deno", async (port) =>
      new ServerProcess(
        BIN("deno"),
        ["run", "--quiet", "--no-prompt", "--node-modules-dir=manual", `--allow-read=${dir}`, "--allow-net=127.0.0.1", "--allow-env=PORT", "deno.ts"],
        { cwd: ex, env: { ...process.env, PORT: String(port), DENO_DIR: join(dir!, ".deno-cache"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } },
      ),
    );
    const started = await Promise.allSettled([workerd, deno]);
    started.forEach((s, i) => {
      if (s.status === "fulfilled") engines.push({ name: i === 0 ? "workerd" : "Deno", ...s.value });
    });
    for (const s of started) if (s.status === "rejected") throw s.reason;

    // snapshots the /step route must refuse: one of the sentiment model, one with a flipped byte
    const other = (await nodeModel(SENTIMENT_MODEL, "baseline")).createSession();
    other.step([1]);
    foreignSnapshot = toBase64(other.getState());
    other.dispose();
    const sine = (await nodeModel(STREAM_MODEL, "baseline")).createSession();
    sine.step([[0.5]]);
    const bytes = sine.getState();
    bytes[30] ^= 0x40;
    damagedSnapshot = toBase64(bytes);
    sine.dispose();
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.server.stop()));
    disposeNodeModels();
    cleanup(dir);
  });

  const engine = (name: Engine["name"]) => {
    const e = engines.find((x) => x.name === name);
    if (!e) throw new Error(`${name} did not start`);
    return e;
  };

  /** POSTs JSON, expects 200, records the engine's build. */
  async function ok(e: Engine, path: string, body: unknown): Promise<Record<string, unknown>> {
    const a = await request(e.base + path, { json: body });
    expect(a.status, `${e.name} ${path} ${JSON.stringify(body).slice(0, 200)}: ${a.text}\n${e.server.output.slice(-2000)}`).toBe(200);
    const simd = a.headers.get("x-rnn-wasm-simd") as Build | null;
    expect(["relaxed", "baseline"]).toContain(simd);
    e.build ??= simd!;
    expect(simd, `${e.name}: one build per isolate`).toBe(e.build);
    return a.json as Record<string, unknown>;
  }

  describe.each(["workerd", "Deno"] as const)("%s", (name) => {
    it("GET / names the models of examples/edge-worker/config.ts", async () => {
      const a = await request(engine(name).base + "/");
      expect(a.status).toBe(200);
      expect((a.json as { models: unknown }).models).toEqual({ predict: SENTIMENT_MODEL, generate: GENERATE_MODEL, step: STREAM_MODEL });
    });

    it.skipIf(!stocktwitsFile)("POST /predict gives Node's score and label for real messages and sentences", async () => {
      const e = engine(name);
      const { texts, rng } = sentences(`examples/edge/${name}/predict`, 8);
      for (const text of texts) {
        const got = (await ok(e, "/predict", { text })) as { score: number; label: string };
        const want = await nodeSentiment(text, e.build!);
        assertClose({ data: [got.score], shape: [1] }, { data: [want], shape: [1] }, EXACT_F32, `${name} /predict ${JSON.stringify(text)} [${describeSeed(rng)}]`);
        const labels = sentimentLabels((await nodeModel(SENTIMENT_MODEL, e.build!)).metadata);
        expect(got.label).toBe(want >= 0.5 ? labels[1] : labels[0]);
      }
    });

    it("POST /generate continues like Node's generate, greedy and seeded sampling", async () => {
      const e = engine(name);
      const cases = [
        { prompt: "had a general", steps: 20 },
        { prompt: "a young mouse", steps: 12 },
        { prompt: "had a general", steps: 15, temperature: 0.8, topK: 5, seed: 7 },
        { prompt: "Some said this, and some said that", steps: LIMITS.steps, temperature: 1.5, seed: 123456789 },
      ];
      for (const c of cases) {
        const got = (await ok(e, "/generate", c)) as { text: string };
        const m = await nodeModel(GENERATE_MODEL, e.build!);
        const { prompt, ...opts } = c;
        expect(got.text, `${name} /generate ${JSON.stringify(c)}`).toBe(m.generate(prompt, opts));
        expect(got.text.split(" ")).toHaveLength(c.steps);
      }
    });

    it("POST /step carries the session in the snapshot: request after request equals one local session", async () => {
      const e = engine(name);
      const rng = rngFor(`examples/edge/${name}/step`);
      const xs = Array.from({ length: 40 }, () => rng.uniform(-1, 1));
      await ok(e, "/step", { input: 0 }); // learns the engine's build
      const local: Session = (await nodeModel(STREAM_MODEL, e.build!)).createSession();
      let state: string | undefined;
      const got: number[] = [];
      const want: number[] = [];
      for (const x of xs) {
        const r = (await ok(e, "/step", state === undefined ? { input: x } : { state, input: x })) as { output: number; state: string };
        got.push(r.output);
        want.push((local.step([[x]]) as Tensor).data[0]);
        state = r.state;
      }
      // several values in one request: the same as stepping them one by one
      const chunk = xs.slice(0, 10).map((x) => -x);
      const r = (await ok(e, "/step", { state, input: chunk })) as { output: number[]; state: string };
      got.push(...r.output);
      for (const x of chunk) want.push((local.step([[x]]) as Tensor).data[0]);
      assertClose({ data: got, shape: [got.length] }, { data: want, shape: [want.length] }, EXACT_F32, `${name} /step stream [${describeSeed(rng)}]`);
      // the engine's snapshot is the local session's state: Node continues from it
      const after = local.getState();
      const resumed = (await nodeModel(STREAM_MODEL, e.build!)).createSession();
      resumed.setState(fromBase64(r.state));
      expect(fromBase64(r.state).length).toBe(after.length);
      const next = (await ok(e, "/step", { state: r.state, input: 0.3 })) as { output: number };
      assertClose({ data: [next.output], shape: [1] }, { data: (resumed.step([[0.3]]) as Tensor).data, shape: [1] }, EXACT_F32, `${name} /step after a Node restore`);
      // no state: a fresh session
      const fresh = (await nodeModel(STREAM_MODEL, e.build!)).createSession();
      const first = (await ok(e, "/step", { input: xs[0] })) as { output: number };
      assertClose({ data: [first.output], shape: [1] }, { data: (fresh.step([[xs[0]]]) as Tensor).data, shape: [1] }, EXACT_F32, `${name} /step without state`);
      for (const s of [local, resumed, fresh]) s.dispose();
    });

    it("answers every malformed request with a 4xx JSON error and keeps serving", async () => {
      const e = engine(name);
      const url = (p: string) => e.base + p;
      const post = (p: string, body: unknown) => request(url(p), { json: body });
      const raw = (p: string, body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }) =>
        request(url(p), { method: "POST", body, headers, duplex: "half" } as RequestInit);
      const big = "x".repeat(LIMITS.bodyBytes + 100);
      const chunked = () =>
        new ReadableStream<Uint8Array>({
          start(c) {
            const part = new TextEncoder().encode(`{"text": "${"y".repeat(4096)}`);
            for (let i = 0; i < 5; i++) c.enqueue(part);
            c.close();
          },
        });
      const cases: [string, () => Promise<Answer>, number, string][] = [
        ["unknown route", () => post("/nope", { text: "a" }), 404, "E_NOT_FOUND"],
        ["GET on a POST route", () => request(url("/predict")), 405, "E_METHOD"],
        ["text/plain body", () => raw("/predict", JSON.stringify({ text: "a" }), { "content-type": "text/plain" }), 415, "E_CONTENT_TYPE"],
        ["no content type", () => raw("/predict", new Blob([JSON.stringify({ text: "a" })]), {}), 415, "E_CONTENT_TYPE"],
        ["broken JSON", () => raw("/predict", '{"text": "a"'), 400, "E_BAD_JSON"],
        ["empty body", () => raw("/predict", ""), 400, "E_BAD_JSON"],
        ["JSON array", () => raw("/predict", "[1, 2]"), 400, "E_BAD_JSON"],
        ["invalid UTF-8", () => raw("/predict", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400, "E_BAD_JSON"],
        ["body over the limit (content-length)", () => post("/predict", { text: big }), 413, "E_TOO_LARGE"],
        ["body over the limit (chunked, no length)", () => raw("/predict", chunked()), 413, "E_TOO_LARGE"],
        ["/predict without text", () => post("/predict", { txt: "a" }), 400, "E_FIELD"],
        ["/predict text not a string", () => post("/predict", { text: 42 }), 400, "E_FIELD"],
        ["/predict empty text", () => post("/predict", { text: "   " }), 400, "E_RANGE"],
        ["/predict text too long", () => post("/predict", { text: "good ".repeat(LIMITS.textChars / 5 + 1) }), 400, "E_RANGE"],
        ["/generate without steps", () => post("/generate", { prompt: "had a general" }), 400, "E_FIELD"],
        ["/generate steps as a string", () => post("/generate", { prompt: "had a general", steps: "5" }), 400, "E_FIELD"],
        ["/generate steps 0", () => post("/generate", { prompt: "had a general", steps: 0 }), 400, "E_RANGE"],
        ["/generate steps over the limit", () => post("/generate", { prompt: "had a general", steps: LIMITS.steps + 1 }), 400, "E_RANGE"],
        ["/generate fractional steps", () => post("/generate", { prompt: "had a general", steps: 2.5 }), 400, "E_RANGE"],
        ["/generate negative temperature", () => post("/generate", { prompt: "had a general", steps: 3, temperature: -1 }), 400, "E_RANGE"],
        ["/generate seed out of range", () => post("/generate", { prompt: "had a general", steps: 3, temperature: 1, seed: -3 }), 400, "E_RANGE"],
        ["/generate prompt too long", () => post("/generate", { prompt: "cat ".repeat(LIMITS.promptChars), steps: 3 }), 400, "E_RANGE"],
        ["/generate prompt shorter than the model's window", () => post("/generate", { prompt: "the mice", steps: 3 }), 400, "E_ARGUMENT"],
        ["/generate prompt without a known word", () => post("/generate", { prompt: "zyzzyva qwxv", steps: 3 }), 400, "E_ARGUMENT"],
        ["/step without input", () => post("/step", {}), 400, "E_FIELD"],
        ["/step input a string", () => post("/step", { input: "0.5" }), 400, "E_FIELD"],
        ["/step input with a string inside", () => post("/step", { input: [0.1, "x"] }), 400, "E_FIELD"],
        ["/step empty input", () => post("/step", { input: [] }), 400, "E_RANGE"],
        ["/step too many inputs", () => post("/step", { input: new Array(LIMITS.stepInputs + 1).fill(0) }), 400, "E_RANGE"],
        ["/step state not a string", () => post("/step", { input: 0.1, state: 12 }), 400, "E_FIELD"],
        ["/step state not base64", () => post("/step", { input: 0.1, state: "not base64!" }), 400, "E_STATE_CORRUPT"],
        ["/step damaged snapshot", () => post("/step", { input: 0.1, state: damagedSnapshot }), 400, "E_STATE_CORRUPT"],
        ["/step snapshot of another model", () => post("/step", { input: 0.1, state: foreignSnapshot }), 409, "E_STATE_MISMATCH"],
      ];
      const text = "the food was great";
      const before = (await ok(e, "/predict", { text })) as { score: number };
      for (const [what, send, status, code] of cases) expectError(await send(), status, code, `${name}: ${what}`);
      // the isolate is undisturbed: same answers as before, streaming still works
      expect(await ok(e, "/predict", { text })).toEqual(before);
      expect(((await ok(e, "/step", { input: 0.1 })) as { state: string }).state.length).toBeGreaterThan(0);
      expect(e.server.exited, `${name} must still run`).toBeNull();
    });

    it("answers a CORS preflight", async () => {
      const a = await request(engine(name).base + "/predict", { method: "OPTIONS", headers: { origin: "http://example.test", "access-control-request-method": "POST" } });
      expect(a.status).toBe(204);
      expect(a.headers.get("access-control-allow-origin")).toBe("*");
      expect(a.headers.get("access-control-allow-methods")).toContain("POST");
    });
  });

  it("a snapshot taken in workerd continues in Deno (portable session state)", async () => {
    const w = engine("workerd");
    const d = engine("Deno");
    const rng = rngFor("examples/edge/cross-engine");
    const xs = Array.from({ length: 12 }, () => rng.uniform(-1, 1));
    const a = (await ok(w, "/step", { input: xs.slice(0, 6) })) as { state: string };
    const b = (await ok(d, "/step", { state: a.state, input: xs.slice(6) })) as { output: number[] };
    const whole = (await ok(w, "/step", { input: xs })) as { output: number[] };
    const tol = w.build === d.build ? EXACT_F32 : APPROX; // the relaxed build fuses multiply-adds
    assertClose({ data: b.output, shape: [6] }, { data: whole.output.slice(6), shape: [6] }, tol, `workerd -> Deno [${describeSeed(rng)}]`);
  });

  it("loadcheck.mjs: a short autocannon run against workerd sees no error and no non-2xx, and writes no file unless told", async () => {
    const e = engine("workerd");
    const saved = readFileSync(join(ROOT, "bench/results/edge-loadcheck.json"), "utf8");
    const r = await runProcess(process.execPath, [join(EXAMPLE, "loadcheck.mjs"), "--url", e.base, "--duration", "5", "--connections", "4"], {
      cwd: ROOT,
      timeoutMs: 60_000,
    });
    expect(r.code, `loadcheck exited with ${r.code}\n${r.stderr}\n${r.stdout}`).toBe(0);
    expect(readFileSync(join(ROOT, "bench/results/edge-loadcheck.json"), "utf8"), "the saved run stays as it was").toBe(saved);
    const report = JSON.parse(r.stdout.trim().split("\n").pop()!) as { ok: boolean; routes: Record<string, { requests: number; errors: number; timeouts: number; non2xx: number; requestsPerSecond: number; latencyMs: { p99: number } }> };
    expect(Object.keys(report.routes)).toEqual(["/predict", "/step", "/generate"]);
    for (const [route, s] of Object.entries(report.routes)) {
      expect({ route, errors: s.errors, timeouts: s.timeouts, non2xx: s.non2xx }).toEqual({ route, errors: 0, timeouts: 0, non2xx: 0 });
      expect(s.requests, route).toBeGreaterThan(0);
    }
    expect(report.ok).toBe(true);
    console.log(`[examples] edge loadcheck (workerd, ${e.build}): ${Object.entries(report.routes).map(([k, s]) => `${k} ${s.requestsPerSecond} req/s p99 ${s.latencyMs.p99} ms`).join(", ")}`);
  });
});
