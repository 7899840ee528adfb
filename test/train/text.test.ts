/**
 * The text pipeline against Keras: ids computed by keras_preprocessing's Tokenizer and
 * pad_sequences after the seed's own Python preprocessing (fixtures/make_tokenizer_fixture.py
 * wrote fixtures/tokenizer-reference.json), on real texts: the UCI sentences and Aesop (in the
 * repository) and the StockTwits messages (outside it: skipped where no data folder holds them).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseCsv, parseCsvRecords } from "../../tools/train/csv.js";
import { nextWordPipeline, NEXT_WORD_DATA } from "../../tools/train/tasks/next-word.js";
import { loadStockTwits, loadUci, STOCKTWITS_DATA, STOCKTWITS_SPEC, UCI_SPEC } from "../../tools/train/tasks/sentiment.js";
import { TextPipeline, textToWordSequence, KERAS_DEFAULT_FILTERS } from "../../tools/train/text.js";
import { dataFile, optionalData } from "../util/data.ts";

const stocktwits = optionalData(STOCKTWITS_DATA, "the StockTwits tokenizer tests (test/train/text)");

const ref = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures/tokenizer-reference.json"), "utf8"));

describe("CSV parser", () => {
  it("reads quoted commas, doubled quotes, quoted newlines and CRLF", () => {
    const rows = parseCsv('a,b,c\r\n1,"x, y","say ""hi"""\n2,"line1\nline2",\n');
    expect(rows).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", 'say "hi"'],
      ["2", "line1\nline2", ""],
    ]);
  });
  it("rejects a file that ends inside quotes", () => {
    expect(() => parseCsv('a,"b\n')).toThrow(/inside a quoted field/);
  });
  it("reads header-named records", () => {
    expect(parseCsvRecords("h1,h2\nx,y\n")).toEqual([{ h1: "x", h2: "y" }]);
  });
  it.skipIf(!stocktwits)("reads all StockTwits records, as Python's csv module counts them", async () => {
    const recs = await loadStockTwits();
    expect(recs.length).toBe(ref.stocktwits.csvRecords);
  });
});

describe("Keras text_to_word_sequence", () => {
  it("maps filter characters to the split character and drops empty words", () => {
    expect(textToWordSequence("Hello, World!\tagain", KERAS_DEFAULT_FILTERS, true, " ")).toEqual(["hello", "world", "again"]);
    expect(textToWordSequence("keep , punctuation .", "", true, " ")).toEqual(["keep", ",", "punctuation", "."]);
  });
});

describe("tokenizer pipeline equals Keras on real data", () => {
  it.skipIf(!stocktwits)("StockTwits: seed preprocessing + Tokenizer + pad_sequences", async () => {
    const recs = await loadStockTwits();
    const r = ref.stocktwits;
    const texts: string[] = r.rows.map((i: number) => recs[i].text);
    const p = new TextPipeline({ ...STOCKTWITS_SPEC.pipeline, maxLen: r.maxLen, numWords: r.numWords, indexFrom: 1 }).fit(texts);
    expect(Object.fromEntries(p.wordIndex)).toEqual(r.wordIndex);
    const ids = texts.map((t) => Array.from(p.encode(t)));
    ids.forEach((row, k) => expect(row, `row ${r.rows[k]}: ${JSON.stringify(texts[k])}`).toEqual(r.ids[k]));
  });

  it("UCI sentences (including the U+0085 lines of the imdb file)", async () => {
    const recs = await loadUci();
    const r = ref.uci;
    const files = ["amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"];
    const texts: string[] = r.records.map(([f, k]: [string, number]) => recs[files.indexOf(f) * 1000 + k].text);
    expect(texts.filter((t) => t.includes("\u0085")).length).toBeGreaterThan(0);
    const p = new TextPipeline({ ...UCI_SPEC.pipeline, maxLen: r.maxLen, numWords: r.numWords, indexFrom: 1 }).fit(texts);
    expect(Object.fromEntries(p.wordIndex)).toEqual(r.wordIndex);
    texts.forEach((t, k) => expect(Array.from(p.encode(t)), t).toEqual(r.ids[k]));
  });

  it("Aesop: the seed's frequency dictionary, ids from 0", () => {
    const text = readFileSync(dataFile(NEXT_WORD_DATA), "utf8");
    const p = nextWordPipeline().fit([text]);
    expect(Object.fromEntries(p.wordIndex)).toEqual(ref.aesop.dictionary);
    expect(p.sequence(text)).toEqual(ref.aesop.ids);
    expect(p.vocabSize).toBe(112);
  });
});

describe("tokenizer.json", () => {
  it.skipIf(!stocktwits)("is Keras Tokenizer.to_json() form with string-encoded maps, and reloads to the same encoder", async () => {
    const recs = (await loadStockTwits()).slice(0, 500);
    const p = new TextPipeline({ ...STOCKTWITS_SPEC.pipeline, indexFrom: 1 }).fit(recs.map((r) => r.text));
    const json = JSON.parse(JSON.stringify(p.toKerasJson())) as { class_name: string; config: Record<string, unknown>; rnnwasm: Record<string, unknown> };
    expect(json.class_name).toBe("Tokenizer");
    for (const k of ["word_index", "index_word", "word_counts", "word_docs", "index_docs"]) expect(typeof json.config[k]).toBe("string");
    expect(json.config.split).toBe(" ");
    expect(json.rnnwasm.maxLen).toBe(32);
    // The runtime's recipe: apply the replacements as written, then Keras' steps.
    const rules = json.rnnwasm.replacements as { pattern: string; flags: string; replacement: string }[];
    const wordIndex = JSON.parse(json.config.word_index as string) as Record<string, number>;
    const indexWord = JSON.parse(json.config.index_word as string) as Record<string, string>;
    for (const [w, id] of Object.entries(wordIndex)) expect(indexWord[String(id)]).toBe(w);
    const again = TextPipeline.fromKerasJson(json);
    for (const r of recs.slice(0, 50)) {
      let t = r.text;
      for (const rule of rules) t = t.replace(new RegExp(rule.pattern, rule.flags), rule.replacement);
      const words = textToWordSequence(t, json.config.filters as string, json.config.lower as boolean, " ");
      const ids = words.map((w) => wordIndex[w]).filter((id) => id !== undefined && id < (json.config.num_words as number));
      const padded = [...new Array(Math.max(0, 32 - ids.length)).fill(0), ...ids.slice(-32)];
      expect(Array.from(again.encode(r.text))).toEqual(padded);
      expect(Array.from(p.encode(r.text))).toEqual(padded);
    }
  });
});
