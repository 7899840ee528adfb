/**
 * Every tokenizer path is linear in the text length (issue 15 items 4 and 5), tested as
 * ratios: twice the text may take at most 2.5x the CPU time (test/util/timing.ts). Hostile texts: the digit runs that made the shipped
 * StockTwits rules take 16.8 s for 3000 characters, the `(a+)+$` of a crafted bundle, long
 * runs of whitespace, punctuation, "$", "@", URLs and non-ASCII characters.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readBundle } from "../../src/format/reader.ts";
import { loadModel } from "../../src/index.ts";
import { Tokenizer, normalizeTokenizerConfig, type TokenizerConfig } from "../../src/text/tokenizer.ts";
import { withHeader } from "../format/craft.ts";
import { doublingRatio } from "../util/timing.ts";

const STOCKTWITS = new URL("../../models/stocktwits-sentiment.rnnb", import.meta.url);
const stocktwits = readBundle(readFileSync(STOCKTWITS)).header.tokenizer as TokenizerConfig;

/** Fastest of `runs` wall-clock timings of fn, in ms. */
function fastest(fn: () => void, runs = 7): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const hostile: [string, (n: number) => string][] = [
  ["digit runs ending in k (the StockTwits number rule)", (n) => "1".repeat(n) + "k"],
  ["digit runs ending in %", (n) => "9".repeat(n) + "%"],
  ["a decimal point in a digit run", (n) => `${"2".repeat(n / 2)}.${"3".repeat(n / 2)}k`],
  ["$ then digits", (n) => "$" + "7".repeat(n)],
  ["repeated $ signs", (n) => "$".repeat(n)],
  ["@ then word characters", (n) => "@" + "w".repeat(n)],
  ["an endless URL", (n) => "https://" + "x".repeat(n)],
  ["many short URLs", (n) => "http://a ".repeat(n / 9)],
  ["whitespace runs", (n) => " \t\n\u0085".repeat(n / 4) + "x"],
  ["punctuation", (n) => "!?.,;:".repeat(n / 6)],
  ["emoji and accents", (n) => "é🚀".repeat(n / 3)],
  ["a real message repeated", (n) => "$SPY 12.5% up, $AAPL @trader https://t.co/x 20k calls &amp; 3.14 ".repeat(n / 64)],
];

describe("the shipped StockTwits tokenizer is linear on hostile texts", () => {
  const tok = new Tokenizer(stocktwits, 32);
  it.each(hostile)("encode: %s", (_, make) => {
    const r = doublingRatio((n) => {
      const text = make(n);
      return () => tok.encode(text);
    }, 4000);
    expect(r.ratio, String(r)).toBeLessThanOrEqual(2.5);
  });

  it("the reproducer: 999 ones and a k encodes in well under the 0.54 s it took", () => {
    const ms = fastest(() => tok.encode("1".repeat(999) + "k"), 3);
    // (an absolute bound this loose only catches the quadratic behaviour coming back)
    expect(ms).toBeLessThan(100);
  });
});

describe("every tokenizer path", () => {
  const tok = new Tokenizer(stocktwits, 32);
  const text = (n: number) => "$SPY 12.5% up, $AAPL @trader https://t.co/x 20k calls &amp; 3.14 ".repeat(n / 64);
  const paths: [string, (n: number) => () => void][] = [
    ["words", (n) => ((t) => () => tok.words(t))(text(n))],
    ["sequence", (n) => ((t) => () => tok.sequence(t))(text(n))],
    ["encode", (n) => ((t) => () => tok.encode(t))(text(n))],
    ["decode", (n) => ((ids) => () => tok.decode(ids))(Array.from({ length: n }, (_, i) => 1 + (i % 9999)))],
    ["tokens", (n) => ((ids) => () => tok.tokens(ids))(Array.from({ length: n }, (_, i) => 1 + (i % 9999)))],
    ["char-level encode", (n) => ((t, c) => () => c.encode(t))(text(n), new Tokenizer(normalizeTokenizerConfig({ a: 1, b: 2 }, { charLevel: true, maxLen: 100 })))],
  ];
  it.each(paths)("%s", (_, work) => {
    const r = doublingRatio(work, 4000);
    expect(r.ratio, String(r)).toBeLessThanOrEqual(2.5);
  });
});

describe("a crafted bundle's patterns (valid CRC) cannot hang encode", () => {
  const uci = readFileSync(new URL("../../models/uci-sentiment.rnnb", import.meta.url));
  const withReplacements = (replacements: unknown[]) => withHeader(uci, (h) => (h.tokenizer.replacements = replacements));

  it("(a+)+$ on 'a' x 36 + '!': the reproducer, linear at any length, the text V8 gives", async () => {
    const m = await loadModel(withReplacements([{ pattern: "(a+)+$", flags: "g", replacement: "x" }]));
    const tok = m.tokenizer!;
    expect(tok.words("a".repeat(36) + "!")).toEqual(["a".repeat(36)]); // no match: the text is unchanged
    expect(tok.words("a".repeat(5))).toEqual(["a".repeat(5).replace(/(a+)+$/g, "x")]);
    const r = doublingRatio((n) => ((t) => () => tok.encode(t))("a".repeat(n) + "!"), 2000);
    expect(r.ratio, String(r)).toBeLessThanOrEqual(2.5);
    m.dispose();
  });

  it.each([
    ["a backreference", { pattern: "(a)\\1", flags: "g", replacement: "" }, /backreferences/],
    ["lookbehind", { pattern: "(?<=a)b", flags: "g", replacement: "" }, /lookbehind/],
    ["a repeated empty match", { pattern: "(a*)*b", flags: "g", replacement: "" }, /empty string/],
    ["the u flag", { pattern: "a", flags: "gu", replacement: "" }, /only g, i, m and s/],
    ["a group reference", { pattern: "(a)", flags: "g", replacement: "$1" }, /refers to a group/],
  ])("%s is E_BUNDLE_CORRUPT naming the pattern", async (_, rule, why) => {
    await expect(loadModel(withReplacements([rule]))).rejects.toMatchObject({ code: "E_BUNDLE_CORRUPT", message: expect.stringMatching(why) });
  });

  it("maxLen = 2^31 - 1 is refused (encode would have returned 8 GiB)", async () => {
    const bad = withHeader(uci, (h) => (h.tokenizer.maxLen = 2 ** 31 - 1));
    await expect(loadModel(bad)).rejects.toMatchObject({ code: "E_BUNDLE_CORRUPT", message: expect.stringMatching(/maxLen must be a positive integer up to 65536/) });
  });
});
