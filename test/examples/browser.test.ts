/**
 * examples/browser in headless Chromium (Debian `chromium`, driven by playwright-core): the page
 * is built with Vite (the example's own vite.config.js), served by `vite preview` on a loopback
 * port, typed into key by key and clicked. After every keystroke the streamed score equals
 * Node's predict for the text typed so far; the generated words equal Node's greedy
 * continuation; a screenshot goes to test-output/ (not the repository).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, ServerProcess, cleanup, freePort, runProcess, scratchDir } from "../runtimes/harness.ts";
import { EXACT_F32 } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { describeSeed } from "../util/prng.ts";
import { GENERATE_MODEL, SENTIMENT_MODEL, disposeNodeModels, nodeModel, nodeSentiment, sentences, stocktwitsFile, type Build } from "./shared.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
const VITE = join(ROOT, "node_modules/vite/bin/vite.js");
const EXAMPLE = join(ROOT, "examples/browser");

interface LogEntry {
  text: string;
  score: number;
  stepped: number;
  reused: number;
}

describe("examples/browser in headless Chromium", () => {
  let outDir: string | undefined;
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base = "";
  let simd: Build;
  const problems: string[] = [];

  beforeAll(async () => {
    outDir = scratchDir("browser-example");
    const built = await runProcess(process.execPath, [VITE, "build", EXAMPLE, "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], { cwd: ROOT, timeoutMs: 90_000 });
    expect(built.code, `vite build failed:\n${built.stderr}\n${built.stdout}`).toBe(0);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      server = new ServerProcess(process.execPath, [VITE, "preview", EXAMPLE, "--outDir", outDir, "--host", "127.0.0.1", "--port", String(port), "--strictPort"], { cwd: ROOT });
      base = `http://127.0.0.1:${port}`;
      try {
        await server.waitForHttp(base + "/", 30_000);
        break;
      } catch (e) {
        await server.stop();
        if (attempt === 3 || !/in use/i.test(server.output)) throw e;
      }
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
    page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console.error: ${m.text()}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
    await page.goto(base + "/", { timeout: 30_000 });
    await page.waitForFunction(() => document.getElementById("status")?.dataset.ready !== "false", undefined, { timeout: 60_000 });
    const status = await page.locator("#status").evaluate((el) => ({ ready: el.dataset.ready, simd: el.dataset.simd, text: el.textContent }));
    expect(status.ready, `the page did not start: ${status.text}\n${problems.join("\n")}`).toBe("true");
    simd = status.simd as Build;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    disposeNodeModels();
    cleanup(outDir);
  });

  it("shows no score before a known word is typed", async () => {
    const shown = await page.locator("#score").evaluate((el) => ({ text: el.textContent, score: el.dataset.score, label: document.getElementById("label")?.textContent }));
    expect(shown).toEqual({ text: "–", score: "", label: "type a message" });
  });

  it("shows the kernel build Chromium runs: relaxed SIMD", async () => {
    expect(simd, "Chromium has validated relaxed SIMD since version 114").toBe("relaxed");
    expect(await page.locator("#status").textContent()).toContain("relaxed-SIMD build");
  });

  /** Every keystroke's score since `from` equals Node's predict for the text at that moment. */
  async function checkLog(from: number, context: string): Promise<LogEntry[]> {
    const log = (await page.evaluate(() => (window as unknown as { __sentimentLog: LogEntry[] }).__sentimentLog)).slice(from);
    for (const e of log) {
      const want = await nodeSentiment(e.text, simd);
      assertClose({ data: [e.score], shape: [1] }, { data: [want], shape: [1] }, EXACT_F32, `${context}: after typing ${JSON.stringify(e.text)}`);
    }
    return log;
  }

  it.skipIf(!stocktwitsFile)("updates the sentiment per keystroke through the streaming session, equal to Node's predict", async () => {
    const { texts, rng } = sentences("examples/browser/typing", 2);
    const seed = describeSeed(rng);
    const input = page.locator("#text");
    const model = await nodeModel(SENTIMENT_MODEL, simd);
    // an <input> holds one line: messages with line breaks are typed with spaces instead
    for (const text of [texts[0], texts[1], "$SPY breaking out, loading up on calls"].map((t) => t.replace(/\s+/g, " "))) {
      await input.fill("");
      const start = ((await page.evaluate(() => (window as unknown as { __sentimentLog: unknown[] }).__sentimentLog.length)) as number);
      await input.pressSequentially(text);
      const log = await checkLog(start, `typing [${seed}]`);
      expect(log.length, `one update per keystroke (character) of ${JSON.stringify(text)}; last: ${JSON.stringify(log.at(-1)?.text)}`).toBe([...text].length);
      expect(log.at(-1)!.text).toBe(text);
      // the page's own figures: the score shown and predict() over the padded sequence
      const shown = await page.locator("#score").evaluate((el) => ({ score: Number(el.dataset.score), text: el.dataset.text }));
      const predict = Number(await page.locator("#check").getAttribute("data-predict"));
      const want = await nodeSentiment(text, simd);
      expect(shown.text).toBe(text);
      assertClose({ data: [shown.score, predict], shape: [2] }, { data: [want, want], shape: [2] }, EXACT_F32, `${JSON.stringify(text)} [${seed}]`);
      // streaming, not re-running: all keystrokes together step fewer tokens than one full pass each
      const L = model.tokenizer!.encode("").length;
      const stepped = log.reduce((a, e) => a + e.stepped, 0);
      expect(stepped, `${JSON.stringify(text)}: tokens stepped over ${log.length} keystrokes`).toBeLessThan(log.length * L);
      expect(log.some((e) => e.stepped === 0), "keystrokes inside a word step nothing").toBe(true);
    }
    // edits: delete the last word, then insert words at the start
    const before = (await page.evaluate(() => (window as unknown as { __sentimentLog: unknown[] }).__sentimentLog.length)) as number;
    for (let i = 0; i < "calls".length; i++) await input.press("Backspace");
    await input.pressSequentially("puts");
    await input.press("Home");
    await input.pressSequentially("not ");
    const edits = await checkLog(before, "editing");
    expect(edits.at(-1)!.text).toBe("not $SPY breaking out, loading up on puts");
    expect(problems).toEqual([]);
  });

  it("continues the Aesop prompt word by word like Node's greedy generate, showing the time per word", async () => {
    const prompt = await page.locator("#prompt").inputValue();
    for (let i = 0; i < 5; i++) await page.locator("#next").click();
    await page.locator("#next10").click();
    const words = await page.locator("#continuation").getAttribute("data-words");
    const m = await nodeModel(GENERATE_MODEL, simd);
    expect(words).toBe(m.generate(prompt, { steps: 15 }));
    expect(await page.locator("#gen-info").textContent()).toMatch(/^Last word [\d.]+ (ms|µs), mean [\d.]+ (ms|µs) over 15 /);
    // start over: the same words again
    await page.locator("#restart").click();
    expect(await page.locator("#continuation").getAttribute("data-words")).toBe("");
    await page.locator("#next").click();
    expect(await page.locator("#continuation").getAttribute("data-words")).toBe(words!.split(" ")[0]);

    await page.locator("#text").fill("");
    await page.locator("#text").pressSequentially("$SPY breaking out, loading up on calls");
    await page.locator("#next10").click();
    mkdirSync(join(ROOT, "test-output"), { recursive: true });
    const shot = join(ROOT, "test-output", "browser-demo.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(await page.evaluate(() => crossOriginIsolated), "vite preview sends the isolation headers of vite.config.js").toBe(true);
    expect(await page.locator("#stream-info").textContent()).toMatch(/Mean [\d.]+ (µs|ms) per step over \d+ steps\.$/);
    const keystrokes = await page.evaluate(() => (window as unknown as { __sentimentLog: unknown[] }).__sentimentLog.length - 1);
    console.log(
      `[examples] browser demo (Chromium ${browser!.version()}, ${simd} build): screenshot ${shot}; ${keystrokes} keystrokes. ` +
        `${await page.locator("#stream-info").textContent()} ${await page.locator("#gen-info").textContent()}`,
    );
    expect(problems).toEqual([]);
  });
});
