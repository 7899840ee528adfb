/**
 * The replacement patterns a tokenizer applies before splitting words. A bundle carries them,
 * so they are untrusted code: V8's backtracking RegExp takes exponential time on `(a+)+$`, and
 * polynomial time on lookaheads over digit runs. They are matched here instead, in time linear
 * in the text (times the pattern's size), with JavaScript's syntax and semantics (the
 * `String.prototype.replace` result, without the u flag) for the subset that allows it:
 *
 *   literals and escapes (\d \w \s \D \W \S . \t \n \r \v \f \0 \xHH \uHHHH \cX, escaped
 *   punctuation), classes [...] [^...], groups (...) (?:...) (?<name>...), alternation,
 *   quantifiers * + ? {n} {n,} {n,m} (greedy or lazy), anchors ^ $ \b \B, lookaheads
 *   (?=...) (?!...); flags g, i, m, s.
 *
 * Refused (E_ARGUMENT from the tokenizer config): backreferences, lookbehind, the u/v/y/d
 * flags, `$n` group references in the replacement, and a quantifier over a subpattern able to
 * match the empty string (`(a*)*`, `(a|)?`), since that is where the search would need to
 * remember more than an instruction and a position.
 *
 * The search is a backtracking walk over a compiled program that remembers, for every
 * (instruction, position), whether it was proven to fail (the idea of RE2's BitState, kept
 * across search starts, since failing from a state does not depend on where the match began;
 * lookahead bodies also remember success). No pair is expanded twice, so a replace costs
 * O(text length x program size) whatever the pattern and text.
 */

/** Bounds on what a pattern may ask for (docs/bundle-format.md, "Limits"). */
export const PATTERN_LIMITS = { sourceChars: 4096, instructions: 4096, repeat: 1000 } as const;

class PatternError extends Error {}
const refuse = (msg: string): never => {
  throw new PatternError(msg);
};

// ---------------------------------------------------------------- character sets

/** A set of UTF-16 code units as sorted, disjoint, inclusive [lo, hi] ranges, with an ASCII bitmap. */
class CharSet {
  readonly ascii = new Uint32Array(4);
  constructor(readonly ranges: number[]) {
    for (let i = 0; i < ranges.length; i += 2) for (let c = ranges[i]; c <= Math.min(ranges[i + 1], 127); c++) this.ascii[c >> 5] |= 1 << (c & 31);
  }

  has(c: number): boolean {
    if (c < 128) return (this.ascii[c >> 5] & (1 << (c & 31))) !== 0;
    const r = this.ranges;
    for (let i = 0; i < r.length && r[i] <= c; i += 2) if (c <= r[i + 1]) return true;
    return false;
  }
}

/** Sorted, merged ranges. */
function normalise(ranges: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i], ranges[i + 1]]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    if (out.length && lo <= out[out.length - 1] + 1) out[out.length - 1] = Math.max(out[out.length - 1], hi);
    else out.push(lo, hi);
  }
  return out;
}

function invert(ranges: number[]): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    if (ranges[i] > next) out.push(next, ranges[i] - 1);
    next = ranges[i + 1] + 1;
  }
  if (next <= 0xffff) out.push(next, 0xffff);
  return out;
}

const DIGIT = [48, 57];
const WORD = [48, 57, 65, 90, 95, 95, 97, 122];
// WhiteSpace and LineTerminator, as \s matches them
const SPACE = normalise([9, 13, 32, 32, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff]);
const LINE_TERMINATORS = [10, 10, 13, 13, 0x2028, 0x2029]; // what "." does not match (without s)
const isLineTerminator = (c: number) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);

let canonical: Uint16Array | undefined;
/** Canonicalize(ch) of the RegExp spec without the u flag: the upper case, unless that is several units or leaves non-ASCII for ASCII. */
function canonicalTable(): Uint16Array {
  if (!canonical) {
    canonical = new Uint16Array(0x10000);
    for (let c = 0; c < 0x10000; c++) {
      const u = String.fromCharCode(c).toUpperCase();
      canonical[c] = u.length !== 1 || (c >= 128 && u.charCodeAt(0) < 128) ? c : u.charCodeAt(0);
    }
  }
  return canonical;
}

/** With the i flag a set matches every unit whose canonical form is some member's canonical form. */
function caseClosed(ranges: number[]): number[] {
  const canon = canonicalTable();
  const member = new Uint8Array(0x10000);
  for (let i = 0; i < ranges.length; i += 2) for (let c = ranges[i]; c <= ranges[i + 1]; c++) member[canon[c]] = 1;
  const out: number[] = [];
  for (let c = 0; c < 0x10000; c++) {
    if (!member[canon[c]]) continue;
    if (out.length && out[out.length - 1] === c - 1) out[out.length - 1] = c;
    else out.push(c, c);
  }
  return out;
}

// ---------------------------------------------------------------- parser

type Node =
  | { t: "set"; ranges: number[]; negate: boolean }
  | { t: "dot" }
  | { t: "seq"; items: Node[] }
  | { t: "alt"; alts: Node[] }
  | { t: "rep"; body: Node; min: number; max: number; greedy: boolean }
  | { t: "assert"; kind: number }
  | { t: "look"; negate: boolean; body: Node };

const BOL = 0;
const EOL = 1;
const WORD_BOUNDARY = 2;
const NOT_WORD_BOUNDARY = 3;

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** Parses a pattern's source into a tree; `groups` counts capturing groups, `named` says whether any has a name. */
function parse(src: string): { root: Node; groups: number; named: boolean } {
  let at = 0;
  let groups = 0;
  const names = new Set<string>();
  const peek = () => src[at];
  const atSet = (ranges: number[], negate = false): Node => ({ t: "set", ranges, negate });

  function alternation(depth: number): Node {
    if (depth > 64) refuse("groups nest deeper than 64 levels");
    const alts = [sequence(depth)];
    while (peek() === "|") {
      at++;
      alts.push(sequence(depth));
    }
    return alts.length === 1 ? alts[0] : { t: "alt", alts };
  }

  function sequence(depth: number): Node {
    const items: Node[] = [];
    for (let c = peek(); c !== undefined && c !== "|" && c !== ")"; c = peek()) items.push(quantified(atom(depth)));
    return { t: "seq", items };
  }

  function quantified(body: Node): Node {
    let min: number;
    let max: number;
    const c = peek();
    if (c === "*") [min, max] = [0, Infinity];
    else if (c === "+") [min, max] = [1, Infinity];
    else if (c === "?") [min, max] = [0, 1];
    else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(at));
      if (!m) return refuse(`a lone "{" at ${at} (escape it: \\{)`);
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      if (min > max) refuse(`numbers out of order in ${m[0]}`);
      if (min > PATTERN_LIMITS.repeat || (max !== Infinity && max > PATTERN_LIMITS.repeat)) refuse(`${m[0]} repeats more than ${PATTERN_LIMITS.repeat} times`);
      at += m[0].length - 1;
    } else return body;
    at++;
    const greedy = peek() !== "?";
    if (!greedy) at++;
    if (body.t === "assert" || body.t === "look") refuse("nothing to repeat: a quantifier after an assertion");
    // (JavaScript rejects an iteration that matched nothing, which would make the pair
    // (instruction, position) no longer enough to know what can follow)
    if (max > 0 && nullable(body)) refuse("a quantifier repeats a subpattern that can match the empty string");
    if ("*+?{".includes(peek() ?? "_")) refuse(`nothing to repeat at ${at}`);
    return { t: "rep", body, min, max, greedy };
  }

  function atom(depth: number): Node {
    const c = src[at++];
    switch (c) {
      case ".":
        return { t: "dot" };
      case "^":
        return { t: "assert", kind: BOL };
      case "$":
        return { t: "assert", kind: EOL };
      case "[":
        return charClass();
      case "(":
        return group(depth);
      case "\\": {
        const e = peek();
        if (e === "b" || e === "B") {
          at++;
          return { t: "assert", kind: e === "b" ? WORD_BOUNDARY : NOT_WORD_BOUNDARY };
        }
        const cls = classEscape();
        if (cls) return atSet(cls[0], cls[1]);
        const v = characterEscape(false);
        return atSet([v, v]);
      }
      case "*":
      case "+":
      case "?":
        return refuse(`nothing to repeat at ${at - 1}`);
      case "{":
      case "}":
      case "]":
        return refuse(`a lone ${JSON.stringify(c)} at ${at - 1} (escape it)`);
      default:
        return atSet([c.charCodeAt(0), c.charCodeAt(0)]);
    }
  }

  function group(depth: number): Node {
    let look: boolean | undefined;
    const head = src.slice(at, at + 3);
    if (head.startsWith("?:")) at += 2;
    else if (head.startsWith("?=") || head.startsWith("?!")) {
      look = head[1] === "!";
      at += 2;
    } else if (head === "?<=" || head === "?<!") refuse("lookbehind is not supported");
    else if (head[0] === "?") {
      const m = /^\?<([A-Za-z_$][\w$]*)>/.exec(src.slice(at));
      if (!m) return refuse(`unsupported group syntax at ${at - 1}`);
      if (names.has(m[1])) refuse(`duplicate group name ${m[1]}`);
      names.add(m[1]);
      at += m[0].length;
      groups++;
    } else groups++;
    const body = alternation(depth + 1);
    if (src[at++] !== ")") refuse("unterminated group");
    return look === undefined ? body : { t: "look", negate: look, body };
  }

  /** \d \D \w \W \s \S: [ranges, negated], or null when the escape is not one. */
  function classEscape(): [number[], boolean] | null {
    const c = peek();
    const base = c === "d" || c === "D" ? DIGIT : c === "w" || c === "W" ? WORD : c === "s" || c === "S" ? SPACE : null;
    if (!base) return null;
    at++;
    return [base, c === "D" || c === "W" || c === "S"];
  }

  /** The code unit of a character escape (after the backslash). */
  function characterEscape(inClass: boolean): number {
    const c = src[at++];
    if (c === undefined) return refuse("a pattern cannot end with a backslash");
    const simple = "tnvfr".indexOf(c);
    if (simple >= 0) return [9, 10, 11, 12, 13][simple];
    if (c === "b" && inClass) return 8;
    if (c === "0" && !isDigit(peek())) return 0;
    if (isDigit(c)) return refuse("backreferences (and octal escapes) are not supported");
    if (c === "x" || c === "u") {
      const n = c === "x" ? 2 : 4;
      const hex = src.slice(at, at + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) refuse(`\\${c} needs ${n} hex digits`);
      at += n;
      return parseInt(hex, 16);
    }
    if (c === "c") {
      const l = src[at++];
      if (!l || !/[A-Za-z]/.test(l)) refuse("\\c needs a letter");
      return l.charCodeAt(0) % 32;
    }
    if (/[A-Za-z0-9]/.test(c)) refuse(`unknown escape \\${c}`);
    return c.charCodeAt(0); // escaped punctuation stands for itself
  }

  function charClass(): Node {
    const negate = peek() === "^";
    if (negate) at++;
    const ranges: number[] = [];
    const one = (): number | number[] => {
      const c = src[at++];
      if (c === undefined) return refuse("unterminated character class");
      if (c !== "\\") return c.charCodeAt(0);
      const cls = classEscape();
      if (cls) return cls[1] ? invert(normalise(cls[0])) : cls[0];
      return characterEscape(true);
    };
    while (peek() !== "]") {
      const lo = one();
      if (peek() === "-" && src[at + 1] !== "]" && src[at + 1] !== undefined) {
        at++;
        const hi = one();
        if (typeof lo !== "number" || typeof hi !== "number") refuse("a class escape cannot bound a range");
        if ((lo as number) > (hi as number)) refuse("range out of order in character class");
        ranges.push(lo as number, hi as number);
      } else if (typeof lo === "number") ranges.push(lo, lo);
      else ranges.push(...lo);
    }
    at++;
    return atSet(ranges, negate);
  }

  const root = alternation(0);
  if (at < src.length) refuse(`unexpected ${JSON.stringify(src[at])} at ${at}`);
  return { root, groups, named: names.size > 0 };
}

function nullable(n: Node): boolean {
  switch (n.t) {
    case "set":
    case "dot":
      return false;
    case "seq":
      return n.items.every(nullable);
    case "alt":
      return n.alts.some(nullable);
    case "rep":
      return n.min === 0 || nullable(n.body);
    default:
      return true;
  }
}

// ---------------------------------------------------------------- program

const CHAR = 0;
const SPLIT = 1; // try a, then b
const JMP = 2;
const ASSERT = 3;
const LOOK = 4; // a: look id; passes when the body at looks[a] matches (b = 0) or does not (b = 1)
const MATCH = 5;

class Program {
  op: number[] = [];
  a: number[] = [];
  b: number[] = [];
  sets: CharSet[] = [];
  /** Entry of each lookahead body. */
  looks: number[] = [];
  /** The search's frames, reused from one replace to the next (replace is synchronous). */
  stack = new Int32Array(3 * 64);
  private pendingLooks: [number, Node][] = [];

  constructor(private readonly ignoreCase: boolean, private readonly dotAll: boolean) {}

  emit(op: number, a = 0, b = 0): number {
    if (this.op.length >= PATTERN_LIMITS.instructions) refuse(`the pattern compiles to more than ${PATTERN_LIMITS.instructions} instructions`);
    this.op.push(op);
    this.a.push(a);
    this.b.push(b);
    return this.op.length - 1;
  }

  /**
   * Memo slot of each instruction, or -1. Only entries and instructions reached from two or
   * more places need one: any other pair is reached only through its single predecessor pair,
   * so it is expanded no more often than that one.
   */
  slot: Int32Array = new Int32Array(0);
  slots = 0;

  compile(root: Node): void {
    this.node(root);
    this.emit(MATCH);
    // lookahead bodies after the main program, each ending in its own MATCH
    for (let i = 0; i < this.pendingLooks.length; i++) {
      const [id, body] = this.pendingLooks[i];
      this.looks[id] = this.op.length;
      this.node(body);
      this.emit(MATCH);
    }
    const into = new Uint8Array(this.op.length + 1);
    for (const entry of [0, ...this.looks]) into[entry] = 2;
    this.op.forEach((op, pc) => {
      if (op === SPLIT) into[this.b[pc]]++;
      if (op === SPLIT || op === JMP) into[this.a[pc]]++;
      else if (op !== MATCH) into[pc + 1]++;
    });
    this.slot = Int32Array.from(this.op, (_, pc) => (into[pc] >= 2 ? this.slots++ : -1));
    this.first = this.firstUnits();
  }

  /** The code units a match can start with, or null when a match can be empty (then every position is a candidate). */
  first: CharSet | null = null;

  private firstUnits(): CharSet | null {
    const ranges: number[] = [];
    const seen = new Set<number>();
    const todo = [0];
    while (todo.length) {
      const pc = todo.pop()!;
      if (seen.has(pc)) continue;
      seen.add(pc);
      const op = this.op[pc];
      if (op === MATCH) return null;
      if (op === CHAR) ranges.push(...this.sets[this.a[pc]].ranges);
      else if (op === SPLIT) todo.push(this.a[pc], this.b[pc]);
      else if (op === JMP) todo.push(this.a[pc]);
      else todo.push(pc + 1); // assertions consume nothing: what follows them starts the match
    }
    return new CharSet(normalise(ranges));
  }

  private node(n: Node): void {
    switch (n.t) {
      case "dot":
        this.sets.push(new CharSet(this.dotAll ? [0, 0xffff] : invert(LINE_TERMINATORS)));
        this.emit(CHAR, this.sets.length - 1);
        return;
      case "set": {
        let r = normalise(n.ranges);
        if (this.ignoreCase) r = caseClosed(r);
        if (n.negate) r = invert(r);
        this.sets.push(new CharSet(r));
        this.emit(CHAR, this.sets.length - 1);
        return;
      }
      case "seq":
        n.items.forEach((i) => this.node(i));
        return;
      case "alt": {
        const jumps: number[] = [];
        n.alts.forEach((alt, k) => {
          const split = k < n.alts.length - 1 ? this.emit(SPLIT) : -1;
          if (split >= 0) this.a[split] = split + 1;
          this.node(alt);
          if (split >= 0) {
            jumps.push(this.emit(JMP));
            this.b[split] = this.op.length;
          }
        });
        for (const j of jumps) this.a[j] = this.op.length;
        return;
      }
      case "rep": {
        for (let i = 0; i < n.min; i++) this.node(n.body);
        if (n.max === Infinity) {
          const split = this.emit(SPLIT);
          this.node(n.body);
          this.emit(JMP, split);
          this.branch(split, split + 1, this.op.length, n.greedy);
        } else {
          const splits: number[] = [];
          for (let i = n.min; i < n.max; i++) {
            splits.push(this.emit(SPLIT));
            this.node(n.body);
          }
          for (const s of splits) this.branch(s, s + 1, this.op.length, n.greedy);
        }
        return;
      }
      case "assert":
        this.emit(ASSERT, n.kind);
        return;
      case "look": {
        const id = this.pendingLooks.length;
        this.pendingLooks.push([id, n.body]);
        this.emit(LOOK, id, n.negate ? 1 : 0);
        return;
      }
    }
  }

  private branch(split: number, body: number, exit: number, greedy: boolean): void {
    this.a[split] = greedy ? body : exit;
    this.b[split] = greedy ? exit : body;
  }
}

// ---------------------------------------------------------------- search

const UNKNOWN = 0;
const ACTIVE = 1;
const FAILED = 2;
const SUCCEEDED = 3;

/** One search over one text: the memo of (instruction, position) pairs, and of each lookahead per position. */
class Search {
  private readonly n: number;
  private readonly width: number;
  private readonly memo: Uint8Array;
  private readonly lookMemo: Uint8Array;
  /** Frames of the walk, three numbers each: instruction, position, stage (0 new, 1 first branch taken, 2 done). */
  private stack: Int32Array;

  constructor(private readonly p: Program, private readonly text: string, private readonly multiline: boolean) {
    this.stack = p.stack;
    this.n = text.length;
    this.width = this.n + 1;
    this.memo = new Uint8Array(p.slots * this.width);
    this.lookMemo = new Uint8Array(p.looks.length * this.width);
  }

  /** The end of the first match (in priority order) starting at `start`, or -1. */
  matchAt(start: number): number {
    return this.run(0, start, false, 0);
  }

  private holds(kind: number, i: number): boolean {
    const t = this.text;
    if (kind === BOL) return i === 0 || (this.multiline && isLineTerminator(t.charCodeAt(i - 1)));
    if (kind === EOL) return i === this.n || (this.multiline && isLineTerminator(t.charCodeAt(i)));
    const boundary = (i > 0 && isWordChar(t.charCodeAt(i - 1))) !== (i < this.n && isWordChar(t.charCodeAt(i)));
    return kind === WORD_BOUNDARY ? boundary : !boundary;
  }

  /** Whether lookahead `id`'s body matches at `i` (its frames go above `base`). */
  private look(id: number, i: number, base: number): boolean {
    const k = id * this.width + i;
    if (!this.lookMemo[k]) this.lookMemo[k] = this.run(this.p.looks[id], i, true, base) >= 0 ? 1 : 2;
    return this.lookMemo[k] === 1;
  }

  private push(top: number, pc: number, i: number): number {
    if (top + 3 > this.stack.length) {
      const grown = new Int32Array(this.stack.length * 2);
      grown.set(this.stack);
      this.stack = this.p.stack = grown; // kept for the next search
    }
    this.stack[top] = pc;
    this.stack[top + 1] = i;
    this.stack[top + 2] = 0;
    return top + 3;
  }

  /**
   * Depth-first from (entry, start), alternatives in priority order; the frames on the stack
   * are always the current path. A memoised pair whose every continuation failed is FAILED
   * for good; on success the path's pairs become SUCCEEDED in a lookahead body (any path
   * will do there) and UNKNOWN again in the main program (a later search may pass them on
   * its way to another match).
   */
  private run(entry: number, start: number, existential: boolean, base: number): number {
    const { op, a, b, sets, slot } = this.p;
    const memo = this.memo;
    const w = this.width;
    let top = this.push(base, entry, start);
    let result = -1;
    while (top > base) {
      const s = this.stack;
      const f = top - 3;
      const pc = s[f];
      const i = s[f + 1];
      const m = slot[pc] >= 0 ? slot[pc] * w + i : -1;
      if (s[f + 2] === 0) {
        if (m >= 0) {
          const seen = memo[m];
          if (seen === SUCCEEDED) {
            result = i; // (only lookahead bodies are ever marked so)
            break;
          }
          if (seen !== UNKNOWN) {
            top = f; // failed before (ACTIVE cannot recur: the program has no empty loops)
            continue;
          }
          memo[m] = ACTIVE;
        }
        s[f + 2] = op[pc] === SPLIT ? 1 : 2;
        switch (op[pc]) {
          case MATCH:
            result = i;
            break;
          case CHAR:
            if (i < this.n && sets[a[pc]].has(this.text.charCodeAt(i))) top = this.push(top, pc + 1, i + 1);
            continue;
          case SPLIT:
          case JMP:
            top = this.push(top, a[pc], i);
            continue;
          case ASSERT:
            if (this.holds(a[pc], i)) top = this.push(top, pc + 1, i);
            continue;
          case LOOK:
            if (this.look(a[pc], i, top) !== (b[pc] === 1)) top = this.push(top, pc + 1, i);
            continue;
        }
        break; // MATCH
      }
      if (s[f + 2] === 1) {
        s[f + 2] = 2;
        top = this.push(top, b[pc], i);
        continue;
      }
      if (m >= 0) memo[m] = FAILED;
      top = f;
    }
    // the frames left are the path that matched
    for (let f = base; f < top; f += 3) {
      const k = slot[this.stack[f]];
      if (k >= 0) memo[k * w + this.stack[f + 1]] = existential ? SUCCEEDED : UNKNOWN;
    }
    return result;
  }
}

// ---------------------------------------------------------------- the pattern

/** A compiled replacement pattern; `replace` equals `text.replace(new RegExp(source, flags), replacement)`. */
export class LinearPattern {
  private readonly program: Program;
  private readonly global: boolean;
  private readonly multiline: boolean;
  private readonly groups: number;
  private readonly named: boolean;

  constructor(readonly source: string, readonly flags = "g") {
    if (typeof source !== "string" || typeof flags !== "string") refuse("pattern and flags must be strings");
    if (source.length > PATTERN_LIMITS.sourceChars) refuse(`the pattern is longer than ${PATTERN_LIMITS.sourceChars} characters`);
    if (!/^[gims]*$/.test(flags) || new Set(flags).size !== flags.length) refuse(`flags ${JSON.stringify(flags)}: only g, i, m and s are supported, each once`);
    const { root, groups, named } = parse(source);
    this.groups = groups;
    this.named = named;
    this.global = flags.includes("g");
    this.multiline = flags.includes("m");
    this.program = new Program(flags.includes("i"), flags.includes("s"));
    this.program.compile(root);
  }

  /** Checks a replacement string: `$$ $& $\` $'` are supported, references to groups are not. */
  checkReplacement(replacement: string): void {
    if ((this.groups > 0 && /\$\d/.test(replacement)) || (this.named && replacement.includes("$<"))) {
      refuse(`replacement ${JSON.stringify(replacement)} refers to a group; captures are not supported`);
    }
  }

  replace(text: string, replacement: string): string {
    const first = this.program.first;
    let search: Search | undefined;
    const out: string[] = [];
    let copied = 0;
    for (let start = 0; start <= text.length; ) {
      // a match that cannot be empty starts on one of its first units: skip to the next one
      if (first) {
        while (start < text.length && !first.has(text.charCodeAt(start))) start++;
        if (start === text.length) break;
      }
      search ??= new Search(this.program, text, this.multiline);
      const end = search.matchAt(start);
      if (end < 0) {
        start++;
        continue;
      }
      out.push(text.slice(copied, start), substitute(replacement, text, start, end));
      copied = end;
      if (!this.global) break;
      start = end === start ? end + 1 : end;
    }
    if (!out.length) return text;
    out.push(text.slice(copied));
    return out.join("");
  }
}

/** GetSubstitution for the forms that need no captures. */
function substitute(r: string, text: string, start: number, end: number): string {
  if (!r.includes("$")) return r;
  return r.replace(/\$([$&`'])/g, (_, c: string) => (c === "$" ? "$" : c === "&" ? text.slice(start, end) : c === "`" ? text.slice(0, start) : text.slice(end)));
}

/** A pattern, or the reason it is refused. */
export function compilePattern(source: string, flags?: string): LinearPattern {
  try {
    return new LinearPattern(source, flags);
  } catch (e) {
    if (e instanceof PatternError) throw new Error(`pattern ${JSON.stringify(String(source).slice(0, 80))}: ${e.message}`);
    throw e;
  }
}
