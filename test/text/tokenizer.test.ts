/**
 * The tokenizer (Keras Tokenizer + pad_sequences semantics) against an independent oracle:
 * test/text/keras_text_oracle.py, a dependency-free Python implementation of Keras' documented
 * behaviour, fitted on the UCI sentiment sentences (3000 real sentences, split on "\n" only:
 * the imdb file holds U+0085 characters that other line splitters would break on). Every
 * sentence is encoded under each setting and compared id by id; the tokens of every sequence
 * are decoded and compared. The Keras documents go in as `to_json()` text (word_index as a
 * JSON string) and as plain {word: index} maps with options. When /usr/bin/python3 has
 * Keras' own keras_preprocessing (Debian python3-keras-preprocessing), the oracle itself is
 * checked against it on the same requests.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { normalizeTokenizerConfig, Tokenizer, type TokenizerOptions } from "../../src/text/tokenizer.ts";
import { dataFile } from "../util/data.ts";
import { expectError } from "../util/errors.ts";
import { rngFor } from "../util/prng.ts";
import { initTfjs, randomizeWeights, saveArtifacts, type Artifacts } from "../util/tfjs.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ORACLE = join(HERE, "keras_text_oracle.py");

interface Setting {
  name: string;
  /** Keras Tokenizer keyword arguments. */
  fit: { num_words?: number; filters?: string; lower?: boolean; split?: string; char_level?: boolean; oov_token?: string };
  /** pad_sequences maxlen; absent: no padding (compare with texts_to_sequences). */
  maxlen?: number;
  padding?: "pre" | "post";
  truncating?: "pre" | "post";
}

const SETTINGS: Setting[] = [
  { name: "defaults", fit: {}, maxlen: 20 },
  { name: "lower off", fit: { lower: false }, maxlen: 20, padding: "post" },
  { name: "custom filters", fit: { filters: ".,!?\t\n" }, maxlen: 25, padding: "post", truncating: "post" },
  { name: "oov_token + num_words", fit: { oov_token: "<OOV>", num_words: 500 }, maxlen: 15, truncating: "post" },
  { name: "num_words without oov", fit: { num_words: 100 }, maxlen: 10, padding: "post" },
  { name: "split on ';'", fit: { split: ";", filters: " .,!?\"()" }, maxlen: 30, padding: "pre", truncating: "post" },
  { name: "char_level", fit: { char_level: true, oov_token: "\u2047", num_words: 40 }, maxlen: 80, truncating: "post" },
  { name: "char_level, lower off", fit: { char_level: true, lower: false }, maxlen: 50, padding: "post" },
  { name: "no padding", fit: { oov_token: "UNK", num_words: 1000 } },
];

interface OracleResult {
  to_json: string;
  word_index: Record<string, number>;
  sequences: number[][];
  padded: number[][] | null;
  texts_back: string[];
  tokens_back?: string[][];
}

let texts: string[];
let work: string;
let oracle: Record<string, OracleResult>;

/** `sentence<TAB>label` lines, split on "\n" only. */
function readCorpus(): string[] {
  const out: string[] = [];
  for (const f of ["amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"]) {
    for (const line of readFileSync(dataFile(`uci-sentiment/${f}`), "utf8").split("\n")) {
      if (line.length === 0) continue;
      const tab = line.lastIndexOf("\t");
      out.push(tab >= 0 ? line.slice(0, tab) : line);
    }
  }
  return out;
}

function runOracle(python: string, impl: "oracle" | "keras"): Record<string, OracleResult> {
  const src = join(work, "request.json");
  const dst = join(work, `${impl}.json`);
  writeFileSync(src, JSON.stringify({ texts, settings: SETTINGS }));
  const r = spawnSync(python, [ORACLE, impl, src, dst], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${python} ${ORACLE} ${impl} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(readFileSync(dst, "utf8"));
}

function optionsOf(s: Setting): TokenizerOptions {
  return { maxLen: s.maxlen ?? null, padding: s.padding ?? "pre", truncating: s.truncating ?? "pre" };
}

/** The same settings as the Keras document says them, for a plain {word: index} map. */
function plainOptionsOf(s: Setting): TokenizerOptions {
  return {
    ...optionsOf(s),
    numWords: s.fit.num_words ?? null,
    filters: s.fit.filters,
    lower: s.fit.lower,
    split: s.fit.split,
    charLevel: s.fit.char_level,
    oovToken: s.fit.oov_token ?? null,
  };
}

beforeAll(() => {
  texts = readCorpus();
  work = mkdtempSync(join(tmpdir(), "rnnwasm-text-"));
  oracle = runOracle("python3", "oracle");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the corpus", () => {
  it("3000 UCI sentences, U+0085 kept inside its sentence", () => {
    expect(texts).toHaveLength(3000);
    expect(texts.filter((t) => t.includes("\u0085")).length).toBeGreaterThan(0);
    expect(texts.every((t) => !t.includes("\n"))).toBe(true);
  });
});

describe.each(SETTINGS)("$name: encode = texts_to_sequences + pad_sequences, decode = sequences_to_texts", (s) => {
  const mismatches = (tok: Tokenizer, want: number[][]): string[] => {
    const bad: string[] = [];
    texts.forEach((t, i) => {
      const got = Array.from(tok.encode(t));
      if (got.length !== want[i].length || got.some((v, k) => v !== want[i][k])) {
        if (bad.length < 5) bad.push(`text ${i} ${JSON.stringify(t)}: [${got}] vs Keras [${want[i]}]`);
      }
    });
    return bad;
  };

  it("from the to_json() text (word_index as a JSON string)", () => {
    const o = oracle[s.name];
    expect(typeof JSON.parse(o.to_json).config.word_index).toBe("string");
    const tok = new Tokenizer(normalizeTokenizerConfig(o.to_json, optionsOf(s)));
    const want = o.padded ?? o.sequences;
    if (s.maxlen !== undefined) expect(want.every((r) => r.length === s.maxlen)).toBe(true);
    expect(mismatches(tok, want)).toEqual([]);
    // the sequences are not all trivially short or all cut: the setting exercises both sides
    if (s.maxlen !== undefined) {
      expect(o.sequences.some((q) => q.length > s.maxlen!)).toBe(true);
      expect(o.sequences.some((q) => q.length < s.maxlen!)).toBe(true);
    }
  });

  it("from a plain {word: index} map with the options spelled out", () => {
    const o = oracle[s.name];
    const tok = new Tokenizer(normalizeTokenizerConfig(o.word_index, plainOptionsOf(s)));
    expect(mismatches(tok, o.padded ?? o.sequences)).toEqual([]);
  });

  it("decode: the tokens of every unpadded sequence, and the joined text for words", () => {
    const o = oracle[s.name];
    const tok = new Tokenizer(normalizeTokenizerConfig(o.to_json, optionsOf(s)));
    const bad: string[] = [];
    o.sequences.forEach((q, i) => {
      const tokens = tok.tokens(q);
      const want = o.tokens_back![i];
      if (tokens.length !== want.length || tokens.some((w, k) => w !== want[k])) bad.push(`sequence ${i}: ${JSON.stringify(tokens)} vs ${JSON.stringify(want)}`);
      // Keras joins with " " even for characters; decode joins characters with "" so that it inverts encode
      const text = tok.decode(q);
      if (text !== (s.fit.char_level ? want.join("") : o.texts_back[i])) bad.push(`sequence ${i}: decode ${JSON.stringify(text)}`);
    });
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

describe("decode inverts encode on in-vocabulary text", () => {
  it("words: decode(encode(t)) is t as Keras splits it (lower-cased, filtered, single spaces)", () => {
    const o = oracle["defaults"];
    const tok = new Tokenizer(normalizeTokenizerConfig(o.to_json, { maxLen: 200 }));
    texts.forEach((t, i) => expect(tok.decode(tok.encode(t)), `text ${i}`).toBe(o.texts_back[i]));
    // and the padding (leading zeros up to 200) is skipped, not turned into words
    expect(tok.encode(texts[0]).filter((v) => v === 0).length).toBeGreaterThan(100);
  });

  it("characters, case kept, no cap: decode(encode(t)) === t exactly", () => {
    const o = oracle["char_level, lower off"];
    const tok = new Tokenizer(normalizeTokenizerConfig(o.to_json, { maxLen: 1000 }));
    texts.forEach((t, i) => expect(tok.decode(tok.encode(t)), `text ${i}`).toBe(t));
  });
});

describe("the tokenizer travels inside a bundle", () => {
  // a text model with a fixed input length of 100 ids, as Keras' IMDB examples build it
  let textModel: Artifacts;
  beforeAll(async () => {
    const tf = await initTfjs();
    const m = tf.sequential();
    m.add(tf.layers.embedding({ inputDim: 1000, outputDim: 8, inputLength: 100 }));
    m.add(tf.layers.lstm({ units: 4 }));
    m.add(tf.layers.dense({ units: 1, activation: "sigmoid" }));
    randomizeWeights(m, rngFor("text/tokenizer-bundle"));
    textModel = await saveArtifacts(m);
    m.dispose();
  });

  it("exported with the Keras document and options, model.tokenizer encodes like Keras", async () => {
    const s = SETTINGS.find((x) => x.name === "oov_token + num_words")!;
    const o = oracle[s.name];
    // the string Tokenizer.to_json() returned, as it is (JSON text, not a path)
    const bytes = await exportBundle(textModel, { tokenizer: o.to_json, tokenizerOptions: { maxLen: s.maxlen, truncating: s.truncating } });
    const m = await loadModel(bytes);
    try {
      expect(m.tokenizer).toBeDefined();
      expect(m.tokenizer!.vocabSize).toBe(500);
      texts.forEach((t, i) => expect(Array.from(m.tokenizer!.encode(t)), `text ${i}`).toEqual(o.padded![i]));
    } finally {
      m.dispose();
    }
  });

  it("without --max-len the model's fixed input length pads", async () => {
    const o = oracle["defaults"];
    // the document parsed (its word_index stays a JSON string inside, as Keras writes it)
    const m = await loadModel(await exportBundle(textModel, { tokenizer: JSON.parse(o.to_json) }));
    try {
      const ids = m.tokenizer!.encode(texts[5]);
      expect(ids.length).toBe(100);
      expect(Array.from(ids.slice(100 - o.sequences[5].length))).toEqual(o.sequences[5]);
    } finally {
      m.dispose();
    }
  });
});

describe("bad configs are E_ARGUMENT", () => {
  const bad: [string, unknown, TokenizerOptions?][] = [
    ["not an object", 42],
    ["a JSON string that is not JSON", "{word_index: "],
    ["an array", [["the", 1]]],
    ["an empty map", {}],
    ["a negative index", { the: 1, cat: -2 }],
    ["a fractional index", { the: 1.5 }],
    ["a string index", { the: "1" }],
    ["a Keras document without word_index", { class_name: "Tokenizer", config: { num_words: null } }],
    ["a Keras word_index that is not JSON", { class_name: "Tokenizer", config: { word_index: "{not json" } }],
    ["padding 'middle'", { the: 1 }, { padding: "middle" as "pre" }],
    ["truncating 'both'", { the: 1 }, { truncating: "both" as "pre" }],
    ["maxLen 0", { the: 1 }, { maxLen: 0 }],
    ["maxLen 2.5", { the: 1 }, { maxLen: 2.5 }],
    ["num_words -3", { the: 1 }, { numWords: -3 }],
    ["an empty split", { the: 1 }, { split: "" }],
    ["filters not a string", { the: 1 }, { filters: 5 as unknown as string }],
    ["a replacement that is not a regular expression", { the: 1 }, { replacements: [{ pattern: "(", replacement: "" }] }],
  ];
  it.each(bad)("%s", async (_what, doc, opts) => {
    await expectError(() => new Tokenizer(normalizeTokenizerConfig(doc, opts)), "E_ARGUMENT", { prefix: "tokenizer" });
  });

  it("encode of a non-string and decode of ids outside the vocabulary", () => {
    const tok = new Tokenizer(normalizeTokenizerConfig({ the: 1, cat: 2 }, { maxLen: 3 }));
    expect(() => tok.encode(5 as unknown as string)).toThrow(expect.objectContaining({ code: "E_ARGUMENT" }));
    expect(() => tok.decode([1, 3])).toThrow(expect.objectContaining({ code: "E_TOKEN_RANGE" }));
    expect(() => tok.decode([1, -1])).toThrow(expect.objectContaining({ code: "E_TOKEN_RANGE" }));
    expect(tok.decode([0, 1, 2])).toBe("the cat");
  });
});

const kerasPython = "/usr/bin/python3";
const hasKeras = spawnSync(kerasPython, ["-c", "import keras_preprocessing, numpy"], { encoding: "utf8" }).status === 0;

describe.runIf(hasKeras)("the oracle agrees with Keras' own keras_preprocessing", () => {
  it("word_index, sequences, padded sequences and texts back, for every setting", () => {
    const keras = runOracle(kerasPython, "keras");
    for (const s of SETTINGS) {
      const k = keras[s.name];
      const o = oracle[s.name];
      expect(o.word_index, s.name).toEqual(k.word_index);
      expect(o.sequences, s.name).toEqual(k.sequences);
      expect(o.padded, s.name).toEqual(k.padded);
      expect(o.texts_back, s.name).toEqual(k.texts_back);
      const oc = JSON.parse(o.to_json).config;
      const kc = JSON.parse(k.to_json).config;
      for (const key of ["num_words", "filters", "lower", "split", "char_level", "oov_token", "document_count"]) expect(oc[key], `${s.name} ${key}`).toEqual(kc[key]);
      expect(JSON.parse(oc.word_index)).toEqual(JSON.parse(kc.word_index));
      expect(JSON.parse(oc.word_counts)).toEqual(JSON.parse(kc.word_counts));
    }
  });
});
