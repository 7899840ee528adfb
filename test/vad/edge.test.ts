/**
 * POST /vad of examples/edge-worker in workerd (bundled as wrangler bundles it, from the packed
 * package) and in Deno: a stream served across requests by a stateless handler, its state
 * travelling with the caller, reports what one local stream reports on the whole recording;
 * malformed requests get their 4xx JSON errors.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the example, without type declarations
import { prepareWorkerd } from "../../examples/edge-worker/workerd-local.mjs";
import { LIMITS, VAD_MODEL } from "../../examples/edge-worker/config.ts";
import { loadModel, type Model } from "../../src/index.ts";
import { createVad, type VadEvent, type VadOptions } from "../../src/vad/index.ts";
import { exportSileroVad } from "../../src/export.ts";
import { BIN, ROOT, ServerProcess, cleanup, projectWithPackedPackage, serveOnFreePort } from "../runtimes/harness.ts";
import { fromBase64, request, toBase64 } from "../examples/shared.ts";
import { sileroOnnx, speechAudio } from "./audio.ts";

const EXAMPLE = join(ROOT, "examples/edge-worker");
const SOURCES = ["handler.ts", "config.ts", "worker.ts", "deno.ts", "wrangler.toml"];

const pcm16 = (x: Float32Array) => {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] * 32768)));
  return out;
};
const b64 = (a: Int16Array | Float32Array) => toBase64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe.each(["workerd", "Deno"])("POST /vad in %s", (engine) => {
  let dir: string | undefined;
  let server: ServerProcess | undefined;
  let base = "";
  let model: Model;

  beforeAll(async () => {
    dir = projectWithPackedPackage(`vad-edge-${engine}`).dir;
    const ex = join(dir, "examples/edge-worker");
    mkdirSync(ex, { recursive: true });
    for (const f of SOURCES) copyFileSync(join(EXAMPLE, f), join(ex, f));
    mkdirSync(join(dir, "models"));
    copyFileSync(join(ROOT, "models", VAD_MODEL), join(dir, "models", VAD_MODEL));
    const started = await serveOnFreePort(async (port) => {
      if (engine === "workerd") {
        const out = join(dir!, `out-${port}`);
        const { command, args } = await prepareWorkerd({ exampleDir: ex, outDir: out, port, packageFrom: dir });
        return new ServerProcess(command, args, { cwd: out });
      }
      return new ServerProcess(
        BIN("deno"),
        ["run", "--quiet", "--no-prompt", "--node-modules-dir=manual", `--allow-read=${dir}`, "--allow-net=127.0.0.1", "--allow-env=PORT", "deno.ts"],
        { cwd: ex, env: { ...process.env, PORT: String(port), DENO_DIR: join(dir!, ".deno-cache"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } },
      );
    });
    server = started.server;
    base = started.base;
    model = await loadModel(new Uint8Array(readFileSync(join(ROOT, "models", VAD_MODEL))));
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    model?.dispose();
    cleanup(dir);
  });

  async function post(body: unknown) {
    const a = await request(`${base}/vad`, { json: body });
    return a;
  }

  it.each<{ rate: number; options: VadOptions }>([
    { rate: 16000, options: {} },
    { rate: 8000, options: { threshold: 0.6, minSilenceMs: 250, speechPadMs: 60 } },
    { rate: 16000, options: { rules: "vad-web" } },
  ])("a stream across requests (%j) = one local stream on the whole recording", async ({ rate, options }) => {
    const audio = pcm16(speechAudio("speech/aepyx_8k.wav", rate).subarray(rate * 30, rate * 60));
    const local = createVad(model, { sampleRate: rate, ...options });
    const want = local.push(audio);
    const last = local.end();
    local.dispose();
    const wantProbs = [...want.probabilities, ...last.probabilities];
    const wantEvents = JSON.parse(JSON.stringify([...want.events, ...last.events])) as VadEvent[];
    const probs: number[] = [];
    const events: VadEvent[] = [];
    let state: string | undefined;
    let requests = 0;
    for (let at = 0, k = 0; at < audio.length; k++) {
      const n = Math.round(rate * [0.25, 1.7, 0.9, 2.3, 0.03][k % 5]);
      const chunk = audio.subarray(at, at + n);
      at += n;
      const end = at >= audio.length;
      const a = await post(state === undefined ? { audio: b64(chunk), sampleRate: rate, options, end } : { audio: b64(chunk), state, end });
      expect(a.status, a.text).toBe(200);
      const r = a.json as { probabilities: number[]; firstFrame: number; events: VadEvent[]; state: string | null };
      expect(r.firstFrame).toBe(probs.length);
      probs.push(...r.probabilities);
      events.push(...r.events);
      state = r.state ?? undefined;
      expect(r.state === null).toBe(end);
      requests++;
    }
    expect(probs.length).toBe(wantProbs.length);
    const worst = probs.reduce((w, p, i) => Math.max(w, Math.abs(p - wantProbs[i])), 0);
    expect(worst).toBeLessThanOrEqual(1e-6); // the same kernels: float rounding at most
    expect(events).toEqual(wantEvents);
    expect(events.filter((e) => e.type === "segment").length).toBeGreaterThan(0);
    console.log(`[vad] ${engine} /vad: ${requests} requests, ${probs.length} frames, ${events.length} events = one local stream (max |Δp| ${worst.toExponential(1)})`);
  }, 120_000);

  it("refuses malformed requests with a 4xx JSON error", async () => {
    const audio = pcm16(speechAudio("speech/silero-test-16k.wav", 16000)).subarray(0, 8000);
    const first = await post({ audio: b64(audio) });
    expect(first.status).toBe(200);
    const state = (first.json as { state: string }).state;
    const damaged = fromBase64(state);
    damaged[40] ^= 1;
    const legacy = await loadModel(await exportSileroVad(sileroOnnx("silero_vad_v6"), { sampleRate: 16000, name: "silero_vad_v6.onnx" }));
    const other = createVad(legacy);
    other.push(new Float32Array(4000));
    const foreign = toBase64(other.snapshot());
    other.dispose();
    legacy.dispose();
    const nan = new Float32Array(1000);
    nan[7] = NaN;
    const cases: [unknown, number, string][] = [
      [{}, 400, "E_FIELD"],
      [{ audio: "not base64!" }, 400, "E_FIELD"],
      [{ audio: toBase64(new Uint8Array(3)) }, 400, "E_FIELD"],
      [{ audio: b64(audio), encoding: "mulaw" }, 400, "E_FIELD"],
      [{ audio: b64(nan), encoding: "f32le" }, 400, "E_VALUE"],
      [{ audio: b64(audio), state: toBase64(damaged) }, 400, "E_STATE_CORRUPT"],
      [{ audio: b64(audio), state: foreign }, 409, "E_STATE_MISMATCH"],
      [{ audio: b64(audio), state, options: { threshold: 0.7 } }, 400, "E_FIELD"],
      [{ audio: b64(audio), options: { modelInfo: { sampleRate: 8000 } } }, 400, "E_FIELD"],
      [{ audio: b64(audio), options: { threshold: 7 } }, 400, "E_ARGUMENT"],
      [{ audio: b64(audio), sampleRate: 7000 }, 400, "E_RANGE"],
      [{ audio: b64(new Int16Array(8000 * (LIMITS.vadSeconds + 1))), sampleRate: 8000 }, 400, "E_RANGE"],
    ];
    for (const [body, status, code] of cases) {
      const a = await post(body);
      expect(a.status, `${JSON.stringify(body).slice(0, 120)}: ${a.text}`).toBe(status);
      expect((a.json as { error: { code: string } }).error.code, a.text).toBe(code);
    }
    const huge = await request(`${base}/vad`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ audio: "A".repeat(LIMITS.vadBodyBytes) }) });
    expect(huge.status).toBe(413);
    // the service keeps serving
    expect((await post({ audio: b64(audio) })).status).toBe(200);
  }, 120_000);
});
