/**
 * examples/vad in headless Chromium (Debian `chromium`, playwright-core), built by Vite and
 * served by `vite preview` with the strict Content-Security-Policy of its config, a fake
 * microphone playing 20 s of real speech (--use-file-for-fake-audio-capture):
 *
 * - the model in the audio thread and in a worker: the probabilities and segments the page got
 *   equal Node's (rnn-wasm/vad) on exactly the audio the page's VAD received (it hands every
 *   sample to the page with captureAudio), and the screenshot goes to test-output/;
 * - a WAV through the file input (the same worklet host in an OfflineAudioContext) equals Node's
 *   detectSpeech on the same file;
 * - no CSP violation, no console error; the host fetched nothing (the page fetched the kernels and
 *   the model once each);
 * - 100 start/destroy cycles leave the renderer's memory where it was (a leaked model would add
 *   megabytes per cycle).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type Model } from "../../src/index.ts";
import { createVad, detectSpeech } from "../../src/vad/index.ts";
import { decodeWav } from "../../tools/audio/wav.ts";
import { VAD_PROB } from "../tolerance.ts";
import { cleanup, ROOT, runProcess, scratchDir, serveOnFreePort, ServerProcess } from "../runtimes/harness.ts";
import { dataFile } from "../util/data.ts";

const CHROMIUM = "/usr/bin/chromium";
const VITE = join(ROOT, "node_modules/vite/bin/vite.js");
const EXAMPLE = join(ROOT, "examples/vad");
/** The fake microphone's recording: 20 s of aepyx (real speech) at 16 kHz. */
const SECONDS = 20;

interface PageRun {
  sampleRate: number;
  audio: number[][];
  probabilities: number[];
  segments: { start: number; end: number; startSample: number; endSample: number }[];
  gaps: number;
  firstFrameMs: number | null;
  error: string | null;
}

describe("examples/vad in headless Chromium", () => {
  let outDir: string | undefined;
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let base = "";
  let wav = "";
  let model: Model;
  const problems: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    outDir = scratchDir("vad-example");
    wav = join(outDir, "speech.wav");
    execFileSync("ffmpeg", ["-v", "error", "-y", "-ss", "10", "-t", String(SECONDS), "-i", dataFile("speech/aepyx_8k.wav"), "-ar", "16000", "-ac", "1", "-c:a", "pcm_s16le", wav]);
    const site = join(outDir, "site");
    const built = await runProcess(process.execPath, [VITE, "build", EXAMPLE, "--outDir", site, "--emptyOutDir", "--logLevel", "warn"], { cwd: ROOT, timeoutMs: 120_000 });
    expect(built.code, `vite build failed:\n${built.stderr}\n${built.stdout}`).toBe(0);
    ({ server, base } = await serveOnFreePort((port) => new ServerProcess(process.execPath, [VITE, "preview", EXAMPLE, "--outDir", site, "--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: ROOT }), 30_000));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
        `--use-file-for-fake-audio-capture=${wav}%noloop`, "--js-flags=--expose-gc",
      ],
    });
    model = await loadModel(new Uint8Array(readFileSync(join(ROOT, "models/silero-vad-v5-16k.rnnb"))));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    model?.dispose();
    cleanup(outDir);
  });

  async function open(query: string): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1260, height: 760 } });
    // CSP violations are events in the page: record them before any script runs
    await page.addInitScript(() => {
      (window as unknown as { __csp: string[] }).__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective}: ${e.blockedURI}`));
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console.error: ${m.text()}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("request", (r) => requests.push(new URL(r.url()).pathname));
    const res = await page.goto(`${base}/${query}`, { timeout: 30_000 });
    expect(res!.headers()["content-security-policy"]).toContain("script-src 'self' 'wasm-unsafe-eval'");
    await page.waitForFunction(() => (window as unknown as { __vad?: { ready: boolean; error: string | null } }).__vad?.ready || (window as unknown as { __vad?: { error: string | null } }).__vad?.error, undefined, { timeout: 60_000 });
    return page;
  }

  const read = (page: Page): Promise<PageRun> =>
    page.evaluate(() => {
      const v = (window as unknown as { __vad: PageRun & { audio: Float32Array[] } }).__vad;
      return { ...v, audio: v.audio.map((a) => Array.from(a)) };
    });

  /** Node on the chunks the page's VAD received, pushed with the same boundaries. */
  function nodeOn(run: PageRun) {
    const vad = createVad(model, { sampleRate: run.sampleRate });
    const probs: number[] = [];
    const segments: (PageRun["segments"][number] & { frames: number })[] = [];
    for (const chunk of run.audio) {
      const u = vad.push(Float32Array.from(chunk));
      probs.push(...u.probabilities);
      for (const e of u.events) if (e.type === "segment") segments.push({ start: e.start, end: e.end, startSample: e.startSample, endSample: e.endSample, frames: probs.length });
    }
    vad.dispose();
    return { probs, segments };
  }

  it.each(["worklet", "worker"])("microphone, model in the %s: the page's probabilities and segments = Node's on the same audio", async (host) => {
    const page = await open(`?autostart=${host}&keep=1`);
    await page.waitForFunction((s) => {
      const v = (window as unknown as { __vad: { probabilities: number[]; error: string | null } }).__vad;
      return v.error || v.probabilities.length * 512 >= s * 16000;
    }, SECONDS + 0.5, { timeout: (SECONDS + 30) * 1000, polling: 250 });
    // stop first: nothing arrives afterwards, so what was read is one consistent prefix
    await page.evaluate(() => (window as unknown as { __vadStop(): Promise<void> }).__vadStop());
    if (host === "worklet") {
      mkdirSync(join(ROOT, "test-output"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "test-output", "vad-demo.png"), fullPage: true });
    }
    const run = await read(page);
    expect(run.error).toBeNull();
    const node = nodeOn(run);
    const n = run.probabilities.length;
    expect(n).toBeGreaterThan((SECONDS * 16000) / 512 - 1);
    expect(node.probs.length).toBeGreaterThanOrEqual(n);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(run.probabilities[i] - node.probs[i]));
    // the same kernels in both engines: equal but for float rounding of the engines' math
    expect(worst).toBeLessThanOrEqual(1e-6);
    const nodeSegments = node.segments.filter((s) => s.frames <= n).map(({ frames, ...s }) => (void frames, s));
    expect(run.segments.length).toBeGreaterThanOrEqual(3);
    expect(run.segments).toEqual(nodeSegments);
    const received = run.audio.reduce((k, a) => k + a.length, 0) / run.sampleRate;
    console.log(`[vad] Chromium ${browser!.version()}, model in the ${host}: ${run.sampleRate} Hz microphone, ${received.toFixed(1)} s received (${run.gaps} samples lost, zero-filled), ${n} frames, ${run.segments.length} segments = Node's, max |Δp| ${worst.toExponential(1)}; first frame ${run.firstFrameMs?.toFixed(0)} ms after navigation`);
    const csp = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
    expect(csp).toEqual([]);
    await page.close();
  }, 120_000);

  it("pause stops the frames, resume continues them", async () => {
    const page = await open("?autostart=worklet");
    const frames = () => page.evaluate(() => (window as unknown as { __vad: { probabilities: number[] } }).__vad.probabilities.length);
    await page.waitForFunction(() => (window as unknown as { __vad: { probabilities: number[] } }).__vad.probabilities.length > 10, undefined, { timeout: 30_000 });
    await page.click("#pause");
    await page.waitForTimeout(300); // results already in flight
    const paused = await frames();
    await page.waitForTimeout(1000);
    expect(await frames()).toBe(paused);
    await page.click("#pause"); // now "Resume"
    await page.waitForFunction((n) => (window as unknown as { __vad: { probabilities: number[] } }).__vad.probabilities.length > n + 10, paused, { timeout: 30_000 });
    await page.evaluate(() => (window as unknown as { __vadStop(): Promise<void> }).__vadStop());
    await page.close();
  }, 60_000);

  it("a WAV through the file input (the same worklet host, offline) = Node's detectSpeech on the file", async () => {
    const page = await open("?keep=1");
    await page.setInputFiles("#file", wav);
    await page.waitForFunction(() => document.getElementById("status")?.dataset.file === "done" || (window as unknown as { __vad: { error: string | null } }).__vad.error, undefined, { timeout: 60_000 });
    const run = await read(page);
    expect(run.error).toBeNull();
    const audio = decodeWav(readFileSync(wav));
    // Chromium's decoder scales 16-bit PCM asymmetrically (x/32767 above zero, x/32768 below;
    // media::AudioBus), Node's reader and silero's torchaudio by 1/32768: compare exactly on
    // the samples the page's VAD received, and with Node's own decoding within VAD_PROB
    const received = Float32Array.from(run.audio.flat());
    expect(received.length).toBe(audio.samples.length);
    const onReceived = detectSpeech(model, received, { sampleRate: audio.sampleRate });
    const onFile = detectSpeech(model, audio.samples, { sampleRate: audio.sampleRate });
    const worst = (want: Float32Array) => {
      expect(run.probabilities.length).toBe(want.length);
      return want.reduce((w, p, i) => Math.max(w, Math.abs(p - run.probabilities[i])), 0);
    };
    const plain = (d: typeof onFile) => d.segments.map(({ start, end, startSample, endSample }) => ({ start, end, startSample, endSample }));
    expect(worst(onReceived.probabilities)).toBeLessThanOrEqual(1e-6);
    expect(run.segments).toEqual(plain(onReceived));
    expect(worst(onFile.probabilities)).toBeLessThanOrEqual(VAD_PROB.abs);
    expect(run.segments).toEqual(plain(onFile));
    console.log(`[vad] file input: ${run.segments.length} segments = Node's on the received samples (max |Δp| ${worst(onReceived.probabilities).toExponential(1)}) and on Node's decoding of the file (max |Δp| ${worst(onFile.probabilities).toExponential(1)}: Chromium's 1/32767 scaling of positive samples)`);
    await page.close();
  }, 120_000);

  it("100 start/destroy cycles do not grow the renderer's memory", async () => {
    const page = await open("");
    const cdp = await browser!.newBrowserCDPSession();
    const rendererRss = async () => {
      const { processInfo } = (await cdp.send("SystemInfo.getProcessInfo")) as { processInfo: { type: string; id: number }[] };
      let kb = 0;
      for (const p of processInfo.filter((x) => x.type === "renderer")) {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.id}/status`, "utf8"));
        kb += m ? Number(m[1]) : 0;
      }
      return kb / 1024;
    };
    const settle = async () => {
      await page.evaluate(() => (globalThis as unknown as { gc(): void }).gc());
      await page.waitForTimeout(500);
      await page.evaluate(() => (globalThis as unknown as { gc(): void }).gc());
      const heap = await page.evaluate(() => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize / 2 ** 20);
      return { rss: await rendererRss(), heap };
    };
    const cycles = (n: number, host: string) => page.evaluate(([k, h]) => (window as unknown as { __vadCycle(n: number, h: string): Promise<void> }).__vadCycle(k as number, h as string), [n, host] as const);
    // warm-up, then two halves: a leak grows both halves alike; allocator growth levels off
    await cycles(10, "worklet");
    const start = await settle();
    await cycles(25, "worklet");
    await cycles(25, "worker");
    const half = await settle();
    await cycles(25, "worklet");
    await cycles(25, "worker");
    const end = await settle();
    console.log(`[vad] 100 start/destroy cycles: renderer RSS ${start.rss.toFixed(1)} -> ${half.rss.toFixed(1)} -> ${end.rss.toFixed(1)} MiB, JS heap ${start.heap.toFixed(1)} -> ${half.heap.toFixed(1)} -> ${end.heap.toFixed(1)} MiB`);
    // one model instance holds ~1 MB of weights plus its kernel memory (several MB): leaking one
    // per cycle would add 100+ MB, 50+ MB in each half
    expect(end.rss - start.rss).toBeLessThan(40);
    expect(end.rss - half.rss).toBeLessThan(20);
    expect(end.heap - start.heap).toBeLessThan(5);
    await page.close();
  }, 300_000);

  it("no page error, console error or failed request; the kernels and the model were fetched once, by the page", () => {
    expect(problems).toEqual([]);
    const count = (re: RegExp) => requests.filter((p) => re.test(p)).length;
    // five page loads: each fetched the model and one kernel build once; the hosts fetched nothing
    expect(count(/silero-vad-v5-16k\.rnnb$/)).toBe(5);
    expect(count(/rnn-(relaxed|simd)-.*\.wasm$/)).toBe(5);
    expect(requests.every((p) => /^\/($|assets\/|silero-vad-v5-16k\.rnnb$|favicon)/.test(p) || p === "/speech.wav")).toBe(true);
  });
});
