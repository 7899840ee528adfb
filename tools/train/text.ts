/**
 * The text pipeline of the training tasks, written literally as the runtime will replay it:
 *
 *   replacements (patterns in JS regex syntax, in order) -> Keras text_to_word_sequence (lower,
 *   filters -> split char, split, drop empty) -> index (Keras Tokenizer.texts_to_sequences)
 *   -> pad_sequences
 *
 * `tokenizer.json` is Keras `Tokenizer.to_json()` plus an `rnnwasm` object holding the
 * replacements, maxLen and padding, so training and inference agree by construction.
 */
import { compilePattern, type LinearPattern } from "../../src/text/pattern.js";

export interface Replacement {
  /** Pattern in JavaScript RegExp syntax, of the linear-time subset src/text/pattern.ts matches. */
  pattern: string;
  flags: string;
  replacement: string;
  /** Why the rule exists (kept in tokenizer.json for readers; the runtime ignores it). */
  note?: string;
}

export interface TextPipelineConfig {
  replacements: Replacement[];
  /** Keras Tokenizer `filters`: every character in it becomes the split character. */
  filters: string;
  lower: boolean;
  split: string;
  maxLen: number;
  padding: "pre" | "post";
  truncating: "pre" | "post";
  /** Keras `num_words`: only ids < numWords are kept (null: all). */
  numWords: number | null;
  /** First id of the vocabulary: 1 in Keras; 0 for the next-word seed's dictionary. */
  indexFrom: 0 | 1;
}

/** Keras' default Tokenizer filters (keras.preprocessing.text.Tokenizer). */
export const KERAS_DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

/** Collapses every run of whitespace (also \r, \v, \f, U+0085 NEL and U+00A0) to one space. */
export const WHITESPACE_RULE: Replacement = {
  pattern: "[\\s\\u0085]+",
  flags: "g",
  replacement: " ",
  note: "whitespace runs (incl. \\r, U+0085, U+00A0) -> one space",
};

/** Compiled once per rule object. */
const compiled = new WeakMap<Replacement, LinearPattern>();

/** The rules in order, matched by the runtime tokenizer's own engine (src/text/pattern.ts), so training and inference agree by construction. */
export function applyReplacements(text: string, rules: readonly Replacement[]): string {
  let out = text;
  for (const r of rules) {
    let p = compiled.get(r);
    if (!p) compiled.set(r, (p = compilePattern(r.pattern, r.flags)));
    out = p.replace(out, r.replacement);
  }
  return out;
}

/** Keras text_to_word_sequence. */
export function textToWordSequence(text: string, filters: string, lower: boolean, split: string): string[] {
  let t = lower ? text.toLowerCase() : text;
  if (filters.length > 0) {
    const set = new Set(filters);
    let mapped = "";
    for (const ch of t) mapped += set.has(ch) ? split : ch;
    t = mapped;
  }
  return t.split(split).filter((w) => w.length > 0);
}

export class TextPipeline {
  readonly config: TextPipelineConfig;
  /** word -> id, ids from config.indexFrom, by descending count, ties by first occurrence. */
  wordIndex = new Map<string, number>();
  /** Counts over the fitted texts (Keras word_counts; document counts in wordDocs). */
  wordCounts = new Map<string, number>();
  wordDocs = new Map<string, number>();
  documentCount = 0;

  constructor(config: TextPipelineConfig) {
    this.config = config;
  }

  words(text: string): string[] {
    const c = this.config;
    return textToWordSequence(applyReplacements(text, c.replacements), c.filters, c.lower, c.split);
  }

  /**
   * Keras Tokenizer.fit_on_texts: counts words, then orders them by count, descending, with a
   * stable sort, so words of equal count keep the order of their first occurrence (Python 3.7+
   * dicts keep insertion order; Counter.most_common breaks ties the same way).
   */
  fit(texts: Iterable<string>): this {
    for (const text of texts) {
      this.documentCount++;
      const ws = this.words(text);
      for (const w of ws) this.wordCounts.set(w, (this.wordCounts.get(w) ?? 0) + 1);
      for (const w of new Set(ws)) this.wordDocs.set(w, (this.wordDocs.get(w) ?? 0) + 1);
    }
    const sorted = [...this.wordCounts.entries()]
      .map(([w, n], order) => ({ w, n, order }))
      .sort((a, b) => b.n - a.n || a.order - b.order);
    this.wordIndex = new Map(sorted.map((e, k) => [e.w, k + this.config.indexFrom]));
    return this;
  }

  /** Vocabulary size as the Embedding layer sees it: the largest id kept + 1. */
  get vocabSize(): number {
    const largest = this.wordIndex.size - 1 + this.config.indexFrom;
    const n = this.config.numWords;
    return n == null ? largest + 1 : Math.min(n, largest + 1);
  }

  /** Keras texts_to_sequences for one text (no OOV token: unknown or rare words are dropped). */
  sequence(text: string): number[] {
    const n = this.config.numWords;
    const out: number[] = [];
    for (const w of this.words(text)) {
      const id = this.wordIndex.get(w);
      if (id === undefined) continue;
      if (n != null && id >= n) continue;
      out.push(id);
    }
    return out;
  }

  /** Keras pad_sequences for one sequence (value 0). */
  pad(seq: readonly number[]): Int32Array {
    const { maxLen, padding, truncating } = this.config;
    const out = new Int32Array(maxLen);
    const kept = seq.length <= maxLen ? seq : truncating === "pre" ? seq.slice(seq.length - maxLen) : seq.slice(0, maxLen);
    const offset = padding === "pre" ? maxLen - kept.length : 0;
    for (let i = 0; i < kept.length; i++) out[offset + i] = kept[i];
    return out;
  }

  encode(text: string): Int32Array {
    return this.pad(this.sequence(text));
  }

  /**
   * Keras `Tokenizer.to_json()` (its maps are JSON strings inside the JSON) plus `rnnwasm`.
   * Only words with id < num_words are written: Keras drops the others in
   * texts_to_sequences anyway, so a Tokenizer loaded from this file encodes identically
   * and the vocabulary that travels with the model stays small.
   */
  toKerasJson(extra: Record<string, unknown> = {}): object {
    const c = this.config;
    const keep = (id: number) => c.numWords == null || id < c.numWords;
    const wordIndex: Record<string, number> = {};
    const indexWord: Record<string, string> = {};
    const wordCounts: Record<string, number> = {};
    const wordDocs: Record<string, number> = {};
    const indexDocs: Record<string, number> = {};
    for (const [w, id] of this.wordIndex) {
      if (!keep(id)) continue;
      wordIndex[w] = id;
      indexWord[String(id)] = w;
    }
    for (const [w, n] of this.wordCounts) {
      const id = this.wordIndex.get(w)!;
      if (!keep(id)) continue;
      wordCounts[w] = n;
      const docs = this.wordDocs.get(w) ?? 0;
      wordDocs[w] = docs;
      indexDocs[String(id)] = docs;
    }
    return {
      class_name: "Tokenizer",
      config: {
        num_words: c.numWords,
        filters: c.filters,
        lower: c.lower,
        split: c.split,
        char_level: false,
        oov_token: null,
        document_count: this.documentCount,
        word_counts: JSON.stringify(wordCounts),
        word_docs: JSON.stringify(wordDocs),
        index_docs: JSON.stringify(indexDocs),
        index_word: JSON.stringify(indexWord),
        word_index: JSON.stringify(wordIndex),
      },
      rnnwasm: {
        replacements: c.replacements,
        maxLen: c.maxLen,
        padding: c.padding,
        truncating: c.truncating,
        indexFrom: c.indexFrom,
        padValue: 0,
        ...extra,
      },
    };
  }

  /** Rebuilds a pipeline from `toKerasJson()` output (used by tests and resume). */
  static fromKerasJson(json: {
    config: Record<string, unknown>;
    rnnwasm: Record<string, unknown>;
  }): TextPipeline {
    const k = json.config;
    const r = json.rnnwasm;
    const p = new TextPipeline({
      replacements: r.replacements as Replacement[],
      filters: k.filters as string,
      lower: k.lower as boolean,
      split: k.split as string,
      maxLen: r.maxLen as number,
      padding: r.padding as "pre" | "post",
      truncating: r.truncating as "pre" | "post",
      numWords: (k.num_words as number | null) ?? null,
      indexFrom: (r.indexFrom as 0 | 1) ?? 1,
    });
    const wi = JSON.parse(k.word_index as string) as Record<string, number>;
    p.wordIndex = new Map(Object.entries(wi));
    p.wordCounts = new Map(Object.entries(JSON.parse(k.word_counts as string) as Record<string, number>));
    p.wordDocs = new Map(Object.entries(JSON.parse(k.word_docs as string) as Record<string, number>));
    p.documentCount = k.document_count as number;
    return p;
  }

  decode(ids: ArrayLike<number>): string {
    const inv = new Map<number, string>();
    for (const [w, id] of this.wordIndex) inv.set(id, w);
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const w = inv.get(ids[i]);
      if (w !== undefined) words.push(w);
    }
    return words.join(" ");
  }
}

/**
 * The StockTwits rules of the seed (GarrettHoffman/lstm-oreilly, `preprocess_ST_message`),
 * in its order: tickers, users, links, prices, numbers to placeholders, then HTML entities,
 * non-ASCII characters and ASCII punctuation removed. Placeholders are plain lowercase words
 * so Keras filters keep them. The seed lower-cases first; here lower-casing is Keras' step,
 * after the rules, so the rules spell out both cases (http/HTTP) instead of relying on it.
 * The seed's price and number rules are the same regexes.
 */
export const STOCKTWITS_REPLACEMENTS: Replacement[] = [
  { pattern: "\\$[a-zA-Z]+", flags: "g", replacement: " xxticker ", note: "$tickers" },
  { pattern: "@\\w+", flags: "g", replacement: " xxuser ", note: "@users" },
  { pattern: "[hH][tT][tT][pP][sS]?:\\/\\/\\S+", flags: "g", replacement: " xxurl ", note: "links" },
  {
    pattern: "\\$(?!\\d*\\.?\\d+%)\\d*\\.?\\d+|(?!\\d*\\.?\\d+%)\\d*\\.?\\d+\\$",
    flags: "g",
    replacement: " xxprice ",
    note: "prices with a $ sign before or after (not percentages)",
  },
  {
    pattern: "(?!\\d*\\.?\\d+%)(?!\\d*\\.?\\d+k)\\d*\\.?\\d+",
    flags: "g",
    replacement: " xxnum ",
    note: "other numbers (not percentages or 20k-style amounts)",
  },
  { pattern: "[-+]?[0-9]+", flags: "g", replacement: " xxnum ", note: "remaining digit runs" },
  { pattern: "&\\w+", flags: "g", replacement: "", note: "HTML entities (&amp)" },
  { pattern: "[^\\x00-\\x7f]", flags: "g", replacement: "", note: "non-ASCII characters (emoji)" },
  {
    pattern: "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]",
    flags: "g",
    replacement: "",
    note: "ASCII punctuation removed without a space, as the seed does (don't -> dont)",
  },
  WHITESPACE_RULE,
];
