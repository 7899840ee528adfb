/// <reference types="vite/client" />
/**
 * The browser demo: sentiment per keystroke through a streaming session, and the Aesop
 * next-word model continuing a prompt one word per click, with the time each step takes and
 * the kernel build the browser runs. "rnn-wasm" resolves through the package's "browser"
 * condition; its entry fetches the kernel .wasm files next to itself (Vite emits them as assets).
 */
import { engineHasRelaxedSimd, loadModel, type Model, type Tensor } from "rnn-wasm";
import { GENERATE_MODEL, SENTIMENT_MODEL, sentimentLabels } from "../../edge-worker/config.ts";
import { StreamingSentiment } from "./sentiment-stream.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
/** The bundles are served from the site root (vite.config.js: publicDir = the models folder). */
const modelUrl = (name: string) => new URL(import.meta.env.BASE_URL + name, location.href);
const ms = (t: number) => (t < 1 ? `${(t * 1000).toFixed(0)} µs` : t < 100 ? `${t.toFixed(2)} ms` : `${t.toFixed(0)} ms`);

function setupSentiment(model: Model): void {
  const stream = new StreamingSentiment(model);
  const input = $<HTMLInputElement>("text");
  const log: { text: string; score: number; stepped: number; reused: number }[] = [];
  (window as unknown as { __sentimentLog: typeof log }).__sentimentLog = log;
  const labels = sentimentLabels(model.metadata);
  // browsers round performance.now() (100 µs unless the page is cross-origin isolated, as
  // vite.config.js arranges): the mean over all steps so far is the figure worth showing
  let steps = 0;
  let stepMs = 0;
  const show = () => {
    const text = input.value;
    const u = stream.update(text);
    steps += u.stepped;
    stepMs += u.stepMs;
    log.push({ text, score: u.score, stepped: u.stepped, reused: u.reused });
    // no word of the vocabulary yet (an empty box, or only unknown words): the model would score
    // a sequence of padding alone, which says nothing about the text, so no score is shown
    const ids = model.tokenizer!.encode(text);
    const known = ids.some((id) => id !== 0);
    const score = $("score");
    score.dataset.score = known ? String(u.score) : "";
    score.dataset.text = text;
    score.textContent = known ? u.score.toFixed(3) : "–";
    $("label").textContent = known ? (u.score >= 0.5 ? labels[1] : labels[0]) : "type a message";
    $("bar").style.visibility = known ? "visible" : "hidden";
    $("bar").style.left = `calc(${(u.score * 100).toFixed(1)}% - 2px)`;
    const edit = u.stepped === 0 ? `No token changed: nothing stepped` : `Stepped ${u.stepped} token${u.stepped > 1 ? "s" : ""}, restored ${u.reused} from a snapshot`;
    $("stream-info").textContent = `${edit}. Mean ${ms(stepMs / Math.max(1, steps))} per step over ${steps} steps${crossOriginIsolated ? "" : " (coarse timer)"}.`;
    // the same text through predict() over the whole padded sequence: the streamed score equals it
    const full = (model.predict({ data: ids, shape: [1, ids.length] }) as Tensor).data[0];
    $("check").dataset.predict = String(full);
    const diff = Math.abs(full - u.score);
    $("check").textContent = `predict() over all ${ids.length} padded tokens: ${full.toFixed(6)} (${diff === 0 ? "the streamed score is identical" : `|streamed − predict| = ${diff.toExponential(1)}`}).`;
  };
  input.addEventListener("input", show);
  input.disabled = false;
  show();
}

function setupGeneration(model: Model): void {
  const tok = model.tokenizer!;
  const promptInput = $<HTMLInputElement>("prompt");
  const words: string[] = [];
  const times: number[] = [];
  let ids: number[] = [];
  const render = () => {
    $("prompt-echo").textContent = promptInput.value;
    $("continuation").textContent = words.join(" ");
    $("continuation").dataset.words = words.join(" ");
    const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
    $("gen-info").textContent = times.length ? `Last word ${ms(times[times.length - 1])}, mean ${ms(mean)} over ${times.length} (one predict over a 3-word window each).` : "";
  };
  const restart = () => {
    ids = tok.sequence(promptInput.value);
    words.length = 0;
    times.length = 0;
    render();
  };
  const next = (n: number) => {
    try {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const [id] = model.generate(ids, { steps: 1 }) as number[]; // greedy: the most likely word
        times.push(performance.now() - t0);
        ids.push(id);
        words.push(tok.decode([id]));
      }
      render();
    } catch (e) {
      // e.g. a prompt with fewer known words than the model's 3-word window
      $("gen-info").textContent = `${(e as { code?: string }).code ?? "Error"}: ${(e as Error).message}`;
    }
  };
  $("next").addEventListener("click", () => next(1));
  $("next10").addEventListener("click", () => next(10));
  $("restart").addEventListener("click", restart);
  promptInput.addEventListener("change", restart);
  for (const id of ["prompt", "next", "next10", "restart"]) $<HTMLInputElement | HTMLButtonElement>(id).disabled = false;
  restart();
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const [sentiment, generator] = await Promise.all([loadModel(modelUrl(SENTIMENT_MODEL)), loadModel(modelUrl(GENERATE_MODEL))]);
  const loadMs = performance.now() - t0;
  setupSentiment(sentiment);
  setupGeneration(generator);
  const simd = sentiment.simd;
  const status = $("status");
  status.dataset.simd = simd;
  status.dataset.ready = "true";
  status.textContent =
    simd === "relaxed"
      ? `Kernels: relaxed-SIMD build (fused multiply-add), which this browser validates. Models loaded in ${ms(loadMs)}.`
      : `Kernels: baseline SIMD128 build${engineHasRelaxedSimd() ? "" : " (this browser does not validate relaxed SIMD)"}. Models loaded in ${ms(loadMs)}.`;
  $("sentiment-model").textContent = SENTIMENT_MODEL.replace(/\.rnnb$/, "");
  $("about").textContent = `Models: ${SENTIMENT_MODEL}, ${GENERATE_MODEL}. Everything runs in this tab: no server beyond the static files.`;
}

main().catch((e: Error & { code?: string }) => {
  const status = $("status");
  status.dataset.ready = "error";
  status.textContent = `Could not start: ${e.code ? e.code + ": " : ""}${e.message}`;
});
