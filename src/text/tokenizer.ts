/**
 * Keras Tokenizer + pad_sequences semantics, with the vocabulary travelling inside the bundle.
 * `normalizeTokenizerConfig` accepts what users have — a Keras `Tokenizer.to_json()` document
 * or a plain {word: index} map — and produces the compact config the bundle stores.
 *
 * encode(text) = pad_sequences(texts_to_sequences([text]), maxlen, padding, truncating)[0],
 * after optional pattern replacements (e.g. the StockTwits pipeline's "$SPY" -> "xxticker"),
 * matched in linear time (pattern.ts: a bundle's patterns are untrusted).
 * decode(ids) = sequences_to_texts, except that padding ids (0, when no word has id 0) are
 * skipped rather than turned into the OOV token as Keras would.
 */
import { RnnWasmError } from "../errors.js";
import { compilePattern, type LinearPattern } from "./pattern.js";

/** encode() pads or cuts to at most this many ids (a bundle could ask for gigabytes otherwise). */
export const MAX_SEQUENCE_TOKENS = 1 << 16;
/** At most this many replacement rules (the shipped StockTwits pipeline has ten). */
export const MAX_REPLACEMENTS = 256;

export const KERAS_DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

export interface Replacement {
  pattern: string;
  flags?: string;
  replacement: string;
}

export interface TokenizerConfig {
  /** Words by id: vocab[id] is the word for id (holes are ""), index 0 is padding. */
  vocab: string[];
  numWords: number | null;
  filters: string;
  lower: boolean;
  split: string;
  charLevel: boolean;
  oovToken: string | null;
  maxLen: number | null;
  padding: "pre" | "post";
  truncating: "pre" | "post";
  replacements: Replacement[];
}

export interface TokenizerOptions {
  maxLen?: number | null;
  padding?: "pre" | "post";
  truncating?: "pre" | "post";
  lower?: boolean;
  filters?: string;
  split?: string;
  charLevel?: boolean;
  oovToken?: string | null;
  numWords?: number | null;
  replacements?: Replacement[];
}

type Json = Record<string, unknown>;

function parseMaybeJson(v: unknown, what: string): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new RnnWasmError("E_ARGUMENT", `tokenizer: ${what} is a string but not JSON`);
  }
}

function bad(msg: string): never {
  throw new RnnWasmError("E_ARGUMENT", `tokenizer: ${msg}`);
}

/**
 * Accepts a Keras Tokenizer.to_json() document (object or JSON text), our own stored config,
 * or a plain {word: index} map; options override what the document says.
 */
export function normalizeTokenizerConfig(input: unknown, options: TokenizerOptions = {}): TokenizerConfig {
  const doc = parseMaybeJson(input, "document");
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) bad("expected a JSON object");
  const d = doc as Json;
  // already normalised (e.g. read back from a bundle)
  if (Array.isArray(d.vocab) && typeof d.padding === "string") {
    return checked({ ...(d as unknown as TokenizerConfig), ...defined(options) });
  }
  const ext = (typeof d.rnnwasm === "object" && d.rnnwasm !== null ? d.rnnwasm : {}) as Json;
  let cfg: Json;
  let wordIndex: Record<string, unknown>;
  if (d.class_name === "Tokenizer" || typeof d.config === "object") {
    cfg = (d.config ?? {}) as Json;
    wordIndex = parseMaybeJson(cfg.word_index, "word_index") as Record<string, unknown>;
    if (typeof wordIndex !== "object" || wordIndex === null) bad("Keras tokenizer config has no word_index");
  } else if (typeof d.word_index === "object" || typeof d.word_index === "string") {
    cfg = d;
    wordIndex = parseMaybeJson(d.word_index, "word_index") as Record<string, unknown>;
  } else {
    cfg = {};
    wordIndex = Object.fromEntries(Object.entries(d).filter(([k]) => k !== "rnnwasm"));
  }
  const vocab: string[] = [];
  let count = 0;
  for (const [word, idx] of Object.entries(wordIndex)) {
    if (!Number.isInteger(idx) || (idx as number) < 0 || (idx as number) > 10_000_000) bad(`word ${JSON.stringify(word)} has index ${JSON.stringify(idx)}; indices must be non-negative integers`);
    const i = idx as number;
    // Keras' word_index keeps every word ever seen; the first one wins for a repeated index
    if (vocab[i] === undefined || vocab[i] === "") vocab[i] = word;
    count++;
  }
  if (count === 0) bad("the vocabulary is empty");
  for (let i = 0; i < vocab.length; i++) if (vocab[i] === undefined) vocab[i] = "";
  const pick = <T>(key: string, camel: string, fallback: T): T => {
    const o = (options as Record<string, unknown>)[camel];
    if (o !== undefined) return o as T;
    if (ext[camel] !== undefined) return ext[camel] as T;
    if (ext[key] !== undefined) return ext[key] as T;
    if (cfg[key] !== undefined) return cfg[key] as T;
    return fallback;
  };
  return checked({
    vocab,
    numWords: pick<number | null>("num_words", "numWords", null),
    filters: pick("filters", "filters", KERAS_DEFAULT_FILTERS),
    lower: pick("lower", "lower", true),
    split: pick("split", "split", " "),
    charLevel: pick("char_level", "charLevel", false),
    oovToken: pick<string | null>("oov_token", "oovToken", null),
    maxLen: pick<number | null>("max_len", "maxLen", null),
    padding: pick("padding", "padding", "pre"),
    truncating: pick("truncating", "truncating", "pre"),
    replacements: pick<Replacement[]>("replacements", "replacements", []),
  });
}

function defined(o: TokenizerOptions): Partial<TokenizerConfig> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<TokenizerConfig>;
}

function checked(c: TokenizerConfig): TokenizerConfig {
  if (c.numWords !== null && !(Number.isInteger(c.numWords) && c.numWords > 0)) bad(`num_words must be a positive integer or null, received ${JSON.stringify(c.numWords)}`);
  if (c.maxLen !== null && !(Number.isInteger(c.maxLen) && c.maxLen > 0 && c.maxLen <= MAX_SEQUENCE_TOKENS)) {
    bad(`maxLen must be a positive integer up to ${MAX_SEQUENCE_TOKENS} or null, received ${JSON.stringify(c.maxLen)}`);
  }
  if (c.padding !== "pre" && c.padding !== "post") bad(`padding must be "pre" or "post", received ${JSON.stringify(c.padding)}`);
  if (c.truncating !== "pre" && c.truncating !== "post") bad(`truncating must be "pre" or "post", received ${JSON.stringify(c.truncating)}`);
  if (typeof c.filters !== "string" || typeof c.split !== "string" || typeof c.lower !== "boolean" || typeof c.charLevel !== "boolean") bad("filters/split must be strings and lower/char_level booleans");
  if (c.split.length === 0) bad("split must not be empty");
  if (c.oovToken !== null && typeof c.oovToken !== "string") bad("oov_token must be a string or null");
  if (!Array.isArray(c.replacements)) bad("replacements must be a list");
  if (c.replacements.length > MAX_REPLACEMENTS) bad(`more than ${MAX_REPLACEMENTS} replacements`);
  for (const r of c.replacements) {
    if (typeof r !== "object" || r === null || typeof r.pattern !== "string" || typeof r.replacement !== "string") bad("each replacement needs pattern and replacement strings");
    try {
      compilePattern(r.pattern, r.flags ?? "g").checkReplacement(r.replacement);
    } catch (e) {
      bad(`replacement ${(e as Error).message}`);
    }
  }
  if (!Array.isArray(c.vocab) || !c.vocab.every((w) => typeof w === "string")) bad("vocab must be a list of strings");
  return c;
}

export class Tokenizer {
  readonly config: TokenizerConfig;
  private readonly index = new Map<string, number>();
  private readonly filterSet: Set<string>;
  private readonly patterns: { pattern: LinearPattern; replacement: string }[];
  private readonly oovIndex: number | undefined;

  constructor(config: TokenizerConfig, modelLength: number | null = null) {
    this.config = checked({ ...config, maxLen: config.maxLen ?? modelLength });
    this.config.vocab.forEach((w, i) => {
      if (w !== "" && !this.index.has(w)) this.index.set(w, i);
    });
    this.filterSet = new Set(Array.from(this.config.filters));
    this.patterns = this.config.replacements.map((r) => ({ pattern: compilePattern(r.pattern, r.flags ?? "g"), replacement: r.replacement }));
    this.oovIndex = this.config.oovToken !== null ? this.index.get(this.config.oovToken) : undefined;
  }

  /** Number of ids the vocabulary can produce (num_words when it caps the vocabulary). */
  get vocabSize(): number {
    const n = this.config.vocab.length;
    return this.config.numWords !== null ? Math.min(this.config.numWords, n) : n;
  }

  /** Keras text_to_word_sequence (or characters for char_level), after the replacements. */
  words(text: string): string[] {
    if (typeof text !== "string") throw new RnnWasmError("E_ARGUMENT", `tokenizer.encode expects a string, received ${text === null ? "null" : typeof text}`);
    let t = text;
    for (const r of this.patterns) t = r.pattern.replace(t, r.replacement);
    const c = this.config;
    if (c.lower) t = t.toLowerCase();
    if (c.charLevel) return Array.from(t);
    // each filter character becomes the split string (by code point, as Keras iterates)
    const parts: string[] = [];
    let from = 0;
    for (let i = 0; i < t.length; ) {
      const n = t.codePointAt(i)! > 0xffff ? 2 : 1;
      if (this.filterSet.has(n === 1 ? t[i] : t.slice(i, i + 2))) {
        parts.push(t.slice(from, i), c.split);
        from = i + n;
      }
      i += n;
    }
    parts.push(t.slice(from));
    return parts.join("").split(c.split).filter((w) => w.length > 0);
  }

  /** Keras texts_to_sequences for one text (no padding). */
  sequence(text: string): number[] {
    const out: number[] = [];
    const nw = this.config.numWords;
    for (const w of this.words(text)) {
      const i = this.index.get(w);
      if (i !== undefined) {
        if (nw !== null && i >= nw) {
          if (this.oovIndex !== undefined) out.push(this.oovIndex);
        } else out.push(i);
      } else if (this.oovIndex !== undefined) out.push(this.oovIndex);
    }
    return out;
  }

  /** texts_to_sequences + pad_sequences(maxlen, padding, truncating, value=0). */
  encode(text: string): Int32Array {
    const seq = this.sequence(text);
    const L = this.config.maxLen;
    if (L === null) return Int32Array.from(seq);
    const kept = seq.length <= L ? seq : this.config.truncating === "pre" ? seq.slice(seq.length - L) : seq.slice(0, L);
    const out = new Int32Array(L);
    if (this.config.padding === "pre") out.set(kept, L - kept.length);
    else out.set(kept, 0);
    return out;
  }

  /** sequences_to_texts for one sequence; padding (0) is skipped. */
  decode(ids: ArrayLike<number>): string {
    return this.tokens(ids).join(this.config.charLevel ? "" : " ");
  }

  /** The token of each non-padding id (OOV token for ids past num_words, as Keras). */
  tokens(ids: ArrayLike<number>): string[] {
    if (typeof (ids as { length?: unknown } | null)?.length !== "number") throw new RnnWasmError("E_ARGUMENT", `tokenizer.decode expects an array of ids, received ${ids === null ? "null" : typeof ids}`);
    const out: string[] = [];
    const nw = this.config.numWords;
    for (let k = 0; k < ids.length; k++) {
      const i = ids[k];
      if (i === 0 && this.config.vocab[0] === "") continue; // padding, unless id 0 is a word
      if (!Number.isInteger(i) || i < 0 || i >= this.config.vocab.length) {
        throw new RnnWasmError("E_TOKEN_RANGE", `tokenizer.decode: id ${i} at position ${k} is outside the vocabulary [0, ${this.config.vocab.length - 1}]`);
      }
      const w = this.config.vocab[i];
      if (nw !== null && i >= nw) {
        if (this.config.oovToken !== null) out.push(this.config.oovToken);
      } else if (w !== "") out.push(w);
      else if (this.config.oovToken !== null) out.push(this.config.oovToken);
    }
    return out;
  }

  /** Id of a token, or undefined. */
  id(token: string): number | undefined {
    return this.index.get(token);
  }
}
