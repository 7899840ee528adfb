/**
 * The tokenizer's pattern engine (src/text/pattern.ts) against V8's RegExp as the oracle:
 * `String.prototype.replace` results over seeded random patterns of the supported subset and
 * random texts (short enough that V8's backtracking stays fast), the StockTwits rules over
 * the whole StockTwits corpus, and the refusals.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compilePattern, PATTERN_LIMITS } from "../../src/text/pattern.ts";
import { parseCsv } from "../../tools/train/csv.ts";
import { STOCKTWITS_REPLACEMENTS, WHITESPACE_RULE } from "../../tools/train/text.ts";
import { optionalData } from "../util/data.ts";
import { describeSeed, type Rng, rngFor } from "../util/prng.ts";

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[r.int(0, xs.length)];

let groupNames = 0;
/** A random pattern of the supported syntax (it may still be refused: a repeated nullable subpattern). */
function randomPattern(r: Rng, depth = 0): string {
  const atoms = ["a", "b", "1", "\\.", "\\$", " ", "k", "%", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S", ".", "[ab]", "[^a]", "[a-c1]", "[\\d.]", "[^\\s]", "\\x61", "\\u0062", "\\n", "\\b", "\\B", "^", "$"];
  const n = r.int(1, 4);
  let out = "";
  for (let i = 0; i < n; i++) {
    let atom = pick(r, atoms);
    if (depth < 3 && r.next() < 0.3) {
      const open = pick(r, ["(", "(?:", "(?=", "(?!", `(?<g${++groupNames}>`]);
      const body = r.next() < 0.4 ? `${randomPattern(r, depth + 1)}|${randomPattern(r, depth + 1)}` : randomPattern(r, depth + 1);
      atom = `${open}${body})`;
    }
    const quantifiable = !["\\b", "\\B", "^", "$"].includes(atom) && !atom.startsWith("(?=") && !atom.startsWith("(?!");
    if (quantifiable && r.next() < 0.45) atom += pick(r, ["*", "+", "?", "{2}", "{1,}", "{0,2}", "{1,3}"]) + (r.next() < 0.3 ? "?" : "");
    out += atom;
  }
  return out;
}

const randomText = (r: Rng) => Array.from({ length: r.int(0, 22) }, () => pick(r, ["a", "a", "b", "1", "2", " ", ".", "$", "%", "k", "K", "\n", "_", "é"])).join("");

describe("the same results as V8's RegExp", () => {
  it("seeded random patterns and texts: replace() equal, string for string", () => {
    const r = rngFor("pattern-vs-v8");
    let compared = 0;
    let refused = 0;
    for (let k = 0; k < 3000; k++) {
      const source = randomPattern(r);
      const flags = pick(r, ["g", "gi", "gm", "gs", "", "gim"]);
      let pattern;
      try {
        pattern = compilePattern(source, flags);
      } catch (e) {
        expect((e as Error).message, `${source} refused: ${describeSeed(r)}`).toMatch(/can match the empty string|nothing to repeat/);
        refused++;
        continue;
      }
      const re = new RegExp(source, flags);
      for (let t = 0; t < 4; t++) {
        const text = randomText(r);
        const replacement = pick(r, ["-", "", "<$&>", "[$`|$']", "$$"]);
        expect(pattern.replace(text, replacement), `/${source}/${flags} on ${JSON.stringify(text)}; ${describeSeed(r)}`).toBe(text.replace(re, replacement));
        compared++;
      }
    }
    expect(refused).toBeLessThan(1000); // most random patterns are in the language
    expect(compared).toBeGreaterThan(8000);
  });

  it("the semantics V8 has and a naive engine gets wrong", () => {
    const cases: [string, string, string, string][] = [
      ["a*", "g", "baaac", "-"], // empty matches, also right after a match
      ["a*?", "g", "aaa", "-"],
      ["(a|ab)(c|bcd)", "g", "abcd", "X"], // priority order, not the longest match
      ["s", "gi", "x\u017fS", "-"], // U+017F's upper case is ASCII: no match without u
      ["k", "gi", "K\u212ak", "-"],
      ["^a", "gm", "ab\nab\r\na", "-"],
      ["\\bfoo\\b", "g", "foo food foo_ foo.", "X"],
      ["x(?!y)", "", "xyxz", "X"], // without g: the first match only
      ["[^]", "g", "ab", "X"],
      ["[]", "g", "ab", "X"],
      ["a", "g", "a$1b", "$1"], // no groups: "$1" is literal
    ];
    for (const [source, flags, text, rep] of cases) expect(compilePattern(source, flags).replace(text, rep), `/${source}/${flags}`).toBe(text.replace(new RegExp(source, flags), rep));
  });

  const stocktwits = optionalData("stocktwits/StockTwits_SPY_Sentiment_2017.gz", "the pattern engine over the StockTwits corpus");
  it.skipIf(!stocktwits)("the StockTwits and whitespace rules over all 96,967 StockTwits messages", () => {
    const csv = gunzipSync(readFileSync(stocktwits!)).toString("utf8");
    const messages = parseCsv(csv).slice(1).map((row) => row[1]);
    expect(messages.length).toBe(96967);
    const rules = [...STOCKTWITS_REPLACEMENTS, WHITESPACE_RULE].map((x) => [compilePattern(x.pattern, x.flags), new RegExp(x.pattern, x.flags), x.replacement] as const);
    let differ = 0;
    for (const m of messages) {
      let ours = m;
      let v8 = m;
      for (const [p, re, rep] of rules) {
        ours = p.replace(ours, rep);
        v8 = v8.replace(re, rep);
      }
      if (ours !== v8) differ++;
    }
    expect(differ).toBe(0);
  });
});

describe("refused: what would need more than an instruction and a position to remember", () => {
  it.each([
    ["(a)\\1", /backreferences/],
    ["(?<=a)b", /lookbehind/],
    ["(a*)*", /empty string/],
    ["(a|)+", /empty string/],
    ["(?:\\b)+", /empty string|nothing to repeat/],
    ["a**", /nothing to repeat/],
    ["a{", /lone "\{"/],
    ["\\p{L}", /unknown escape/],
    ["a{1001}", /repeats more than 1000 times/],
    ["(?:a{1000}){1000}", /more than 4096 instructions/],
    ["(?<n>a)(?<n>b)", /duplicate group name/],
    ["[b-a]", /out of order/],
    ["(", /unterminated group/],
  ])("%s", (source, why) => {
    expect(() => compilePattern(source, "g")).toThrow(why);
  });

  it("a source over the length limit; flags other than g, i, m, s; group references in the replacement", () => {
    expect(() => compilePattern("x".repeat(PATTERN_LIMITS.sourceChars + 1), "g")).toThrow(/longer than 4096 characters/);
    for (const f of ["u", "v", "y", "d", "gg", "x"]) expect(() => compilePattern("a", f)).toThrow(/only g, i, m and s/);
    expect(() => compilePattern("(a)", "g").checkReplacement("$1")).toThrow(/refers to a group/);
    expect(() => compilePattern("(?<n>a)", "g").checkReplacement("$<n>")).toThrow(/refers to a group/);
    expect(() => compilePattern("a", "g").checkReplacement("$1 $& $$")).not.toThrow();
  });
});
