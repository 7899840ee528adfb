/**
 * What the example tests share: the demo models named by examples/edge-worker/config.ts, Node's
 * answers for them (the repository's loadModel, the build an engine reports), real sentences
 * drawn with a seeded generator, and a small HTTP client.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseCsvRecords } from "../../tools/train/csv.ts";
import { GENERATE_MODEL, SENTIMENT_MODEL, STREAM_MODEL } from "../../examples/edge-worker/config.ts";
import { loadModel, type Model, type Tensor } from "../../src/index.ts";
import { ROOT } from "../runtimes/harness.ts";
import { rngFor, type Rng } from "../util/prng.ts";
import { STOCKTWITS_DATA, UCI_DIR } from "../../tools/train/tasks/sentiment.ts";
import { dataFile, optionalData } from "../util/data.ts";

export { GENERATE_MODEL, SENTIMENT_MODEL, STREAM_MODEL };
export const MODELS_DIR = join(ROOT, "models");
export const modelBytes = (name: string) => new Uint8Array(readFileSync(join(MODELS_DIR, name)));

export type Build = "relaxed" | "baseline";

const cache = new Map<string, Promise<Model>>();

/** The repository's model `name` on Node, with the given kernel build. */
export function nodeModel(name: string, simd: Build): Promise<Model> {
  const key = `${name}/${simd}`;
  if (!cache.has(key)) cache.set(key, loadModel(modelBytes(name), { simd }));
  return cache.get(key)!;
}

export function disposeNodeModels(): void {
  for (const p of cache.values()) void p.then((m) => m.dispose());
  cache.clear();
}

/** Node's /predict answer: P(positive) of the padded token ids, as the model was trained. */
export async function nodeSentiment(text: string, simd: Build): Promise<number> {
  const m = await nodeModel(SENTIMENT_MODEL, simd);
  const ids = m.tokenizer!.encode(text);
  return (m.predict({ data: ids, shape: [1, ids.length] }) as Tensor).data[0];
}

let corpus: { uci: string[]; stocktwits: string[] } | undefined;

/** The StockTwits messages (outside the repository): null where no data folder holds them, and the tests that type them skip. */
export const stocktwitsFile = optionalData(STOCKTWITS_DATA, "the example tests that send real StockTwits messages (test/examples)");

/** The real texts: UCI review sentences and StockTwits $SPY messages. */
function realTexts(): { uci: string[]; stocktwits: string[] } {
  corpus ??= {
    uci: ["amazon_cells", "imdb", "yelp"].flatMap((f) =>
      readFileSync(dataFile(`${UCI_DIR}/${f}_labelled.txt`), "utf8")
        .split("\n")
        .map((l) => l.split("\t")[0].trim())
        .filter((l) => l.length > 0),
    ),
    stocktwits: parseCsvRecords(gunzipSync(readFileSync(stocktwitsFile!)).toString("utf8"))
      .map((r) => r.message)
      .filter((m) => typeof m === "string" && m.trim().length > 0 && m.length <= 1000),
  };
  return corpus;
}

/**
 * `n` real texts (half StockTwits messages, half UCI review sentences) drawn with the generator
 * of `label`, plus awkward hand-written ones (punctuation only, non-ASCII, > 32 words).
 */
export function sentences(label: string, n: number): { texts: string[]; rng: Rng } {
  const rng = rngFor(label);
  const { uci, stocktwits } = realTexts();
  const texts = Array.from({ length: n }, (_, i) => (i % 2 ? uci[rng.int(0, uci.length)] : stocktwits[rng.int(0, stocktwits.length)]));
  texts.push(
    "!!! ... ???",
    "Ünïcödé café – naïve 😀 but $SPY looks great",
    Array.from({ length: 40 }, (_, i) => (i % 2 ? "great" : "terrible")).join(" "),
  );
  return { texts, rng };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** One HTTP request with a time limit; the body parsed as JSON when it is JSON. */
export async function request(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const { json, ...rest } = init;
  const opts: RequestInit = { signal: AbortSignal.timeout(30_000), ...rest };
  if (json !== undefined) {
    opts.method ??= "POST";
    opts.headers = { "content-type": "application/json", ...(rest.headers as Record<string, string> | undefined) };
    opts.body = JSON.stringify(json);
  }
  const res = await fetch(url, opts);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: parsed };
}

export const toBase64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
export const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
