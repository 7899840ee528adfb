/**
 * The command-line contract of the built bin: --help on every command (exit 0, stdout), usage
 * errors (exit 2), runtime errors (exit 1) as one line `rnn-wasm: E_CODE: message` on stderr
 * naming the file or layer, no stack trace unless RNN_WASM_DEBUG=1.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strFromU8, strToU8, unzipSync, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initTfjs, type Tf } from "../util/tfjs.ts";
import { CLI, ensureCliBuilt, errorLine, realKerasDir, ROOT, runCli, saveModel, tempDir } from "./helpers.ts";

let tf: Tf;
let dir: string;
let modelJson: string;
let bundle: string;

beforeAll(async () => {
  ensureCliBuilt();
  tf = await initTfjs();
  dir = tempDir("usage");
  const m = tf.sequential({ layers: [tf.layers.lstm({ name: "lstm", units: 3, inputShape: [null, 2] }), tf.layers.dense({ name: "dense", units: 1 })] });
  modelJson = await saveModel(m, join(dir, "small"));
  bundle = join(dir, "small.rnnb");
  const r = runCli(["export", modelJson, "-o", bundle]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--help and --version", () => {
  it("the bin starts with a node shebang", () => {
    expect(readFileSync(CLI, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  });

  it("rnn-wasm --help lists every command", () => {
    const r = runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^Usage: rnn-wasm \[options\] \[command\]/);
    for (const c of ["export", "inspect", "predict", "bench", "train"]) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  });

  it.each([
    ["export", ["-o, --out <file>", "--dtype <dtype>", "--tokenizer <file>", "--max-len <n>", "--padding <side>", "--truncating <side>", "--normalize <file>", "--metadata <file>"]],
    ["inspect", ["--json"]],
    ["predict", ["--input <json>", "--input-file <file>", "--text <text>"]],
    ["bench", ["--json <file>", "--repeats <n>"]],
    ["train", ["-o, --out <dir>", "--epochs <n>"]],
  ])("rnn-wasm %s --help (and help %s)", (cmd, opts) => {
    for (const args of [[cmd, "--help"], ["help", cmd]]) {
      const r = runCli(args);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(new RegExp(`^Usage: rnn-wasm ${cmd} \\[options\\] <(model|task)>`));
      for (const o of opts) expect(r.stdout).toContain(o);
    }
  });

  it("--version prints the package version (rnn-wasm-tools', the same as rnn-wasm's)", () => {
    const r = runCli(["--version"]);
    expect(r.code).toBe(0);
    const version = (f: string) => JSON.parse(readFileSync(join(ROOT, f), "utf8")).version;
    expect(r.stdout.trim()).toBe(version("tools/package.json"));
    expect(version("tools/package.json")).toBe(version("package.json"));
  });
});

describe("usage errors: exit 2, one line", () => {
  const cases: [string, () => string[], RegExp][] = [
    ["no command", () => [], /^rnn-wasm: E_USAGE: missing command/],
    ["unknown command", () => ["convert", "x"], /^rnn-wasm: E_USAGE: unknown command 'convert'/],
    ["unknown option", () => ["inspect", bundle, "--verbose"], /^rnn-wasm: E_USAGE: unknown option '--verbose' \(see rnn-wasm inspect --help\)$/],
    ["export without -o", () => ["export", modelJson], /^rnn-wasm: E_USAGE: required option '-o, --out <file>' not specified/],
    ["export without a model", () => ["export", "-o", "x.rnnb"], /^rnn-wasm: E_USAGE: missing required argument 'model'/],
    ["export --dtype int4", () => ["export", modelJson, "-o", "x.rnnb", "--dtype", "int4"], /^rnn-wasm: E_USAGE: option '--dtype <dtype>' argument 'int4' is invalid\. Allowed choices are f32, f16, int8\./],
    ["export --max-len abc", () => ["export", modelJson, "-o", "x.rnnb", "--tokenizer", "v.json", "--max-len", "abc"], /--max-len must be a positive integer/],
    ["export --max-len 0", () => ["export", modelJson, "-o", "x.rnnb", "--tokenizer", "v.json", "--max-len", "0"], /--max-len must be a positive integer/],
    ["export --padding middle", () => ["export", modelJson, "-o", "x.rnnb", "--tokenizer", "v.json", "--padding", "middle"], /Allowed choices are pre, post/],
    ["export --max-len without --tokenizer", () => ["export", modelJson, "-o", "x.rnnb", "--max-len", "5"], /^rnn-wasm: E_USAGE: --max-len, --padding, --truncating and --char-level apply to a tokenizer/],
    ["two model arguments", () => ["inspect", bundle, bundle], /^rnn-wasm: E_USAGE: too many arguments/],
    ["inspect --dtype on a bundle", () => ["inspect", bundle, "--dtype", "f16"], /^rnn-wasm: E_USAGE: --dtype applies to model\.json/],
    ["predict without input", () => ["predict", bundle], /^rnn-wasm: E_USAGE: give the input: --input JSON, --input-file f\.json or --text/],
    ["predict with two inputs", () => ["predict", bundle, "--input", "[[[1,2]]]", "--text", "hi"], /^rnn-wasm: E_USAGE: give only one of --input, --input-file and --text$/],
    ["predict --input that is not JSON", () => ["predict", bundle, "--input", "[[1,2"], /^rnn-wasm: E_USAGE: --input is not valid JSON/],
    ["bench --repeats -3", () => ["bench", bundle, "--repeats", "-3"], /^rnn-wasm: E_USAGE: /],
    ["train without -o", () => ["train", "sine"], /^rnn-wasm: E_USAGE: required option '-o, --out <dir>' not specified/],
  ];
  it.each(cases)("%s", (_name, args, line) => {
    const r = runCli(args());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe("");
    expect(errorLine(r)).toMatch(line);
  });
});

describe("runtime errors: exit 1, one line naming the file or layer", () => {
  it("missing model file, for every command", () => {
    const missing = join(dir, "nope", "model.h5");
    for (const args of [["export", missing, "-o", join(dir, "x.rnnb")], ["inspect", missing], ["predict", missing, "--input", "[[1]]"], ["bench", missing]]) {
      const r = runCli(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(errorLine(r)).toBe(`rnn-wasm: E_IO: cannot read model file ${missing}: no such file`);
    }
  });

  it("a model file that is a directory", () => {
    const r = runCli(["inspect", dir]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe(`rnn-wasm: E_IO: cannot read model file ${dir}: it is a directory`);
  });

  it("model.json whose weight shard is missing names the shard", () => {
    const d = join(dir, "noshard");
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "model.json"), readFileSync(modelJson));
    const r = runCli(["export", join(d, "model.json"), "-o", join(d, "x.rnnb")]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(new RegExp(`^rnn-wasm: E_IO: cannot read weight shard ${join(d, "weights.bin").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
  });

  it("missing --tokenizer / --normalize / --metadata / --input-file files are named", () => {
    const cases: [string[], string][] = [
      [["export", modelJson, "-o", join(dir, "x.rnnb"), "--tokenizer", join(dir, "vocab-missing.json")], `cannot read tokenizer file ${join(dir, "vocab-missing.json")}: no such file`],
      [["export", modelJson, "-o", join(dir, "x.rnnb"), "--normalize", join(dir, "stats-missing.json")], `cannot read normalisation statistics file ${join(dir, "stats-missing.json")}: no such file`],
      [["export", modelJson, "-o", join(dir, "x.rnnb"), "--metadata", join(dir, "meta-missing.json")], `cannot read metadata file ${join(dir, "meta-missing.json")}: no such file`],
      [["predict", bundle, "--input-file", join(dir, "in-missing.json")], `cannot read input file ${join(dir, "in-missing.json")}: no such file`],
    ];
    for (const [args, msg] of cases) {
      const r = runCli(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(errorLine(r)).toBe(`rnn-wasm: E_IO: ${msg}`);
    }
    expect(existsSync(join(dir, "x.rnnb"))).toBe(false);
  });

  it("an output path in a missing directory: E_IO, no partial file left", () => {
    const out = join(dir, "no-such-dir", "x.rnnb");
    const r = runCli(["export", modelJson, "-o", out]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^rnn-wasm: E_IO: cannot write .*no-such-dir\/x\.rnnb: no such directory$/);
    expect(readdirSync(dir).some((f) => f.includes(".tmp"))).toBe(false);
  });

  it("a file that is neither a bundle, model.json nor a Keras file: E_HDF5 naming the file", () => {
    const junk = join(dir, "junk.h5");
    writeFileSync(junk, "this is not a model");
    const r = runCli(["inspect", junk]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(new RegExp(`^rnn-wasm: E_HDF5: .*junk\\.h5: not a Keras file`));
  });

  it("an unsupported layer in a tfjs model: E_UNSUPPORTED_LAYER naming the layer and the file", async () => {
    const m = tf.sequential({ layers: [tf.layers.thresholdedReLU({ name: "thresholded_me", inputShape: [4, 3] }), tf.layers.lstm({ name: "lstm", units: 2 })] });
    const p = await saveModel(m, join(dir, "unsupported-tfjs"));
    const r = runCli(["export", p, "-o", join(dir, "u.rnnb")]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^rnn-wasm: E_UNSUPPORTED_LAYER: .*model\.json: layer thresholded_me has class ThresholdedReLU, which rnn-wasm does not support/);
    expect(existsSync(join(dir, "u.rnnb"))).toBe(false);
  });

  it("an unsupported layer in a Keras 3 .keras file: names the layer and the file", () => {
    // a real-layout .keras fixture with a layer rnn-wasm cannot run inserted after its InputLayer
    const files = unzipSync(readFileSync(join(ROOT, "test/fixtures/keras/sequential_tfjs_compatible.keras")));
    const cfg = JSON.parse(strFromU8(files["config.json"]));
    cfg.config.layers.splice(1, 0, { module: "keras.layers", class_name: "ConvLSTM1D", config: { name: "convlstm_me", filters: 2, kernel_size: [1], trainable: true, dtype: "float32" }, registered_name: null });
    files["config.json"] = strToU8(JSON.stringify(cfg));
    const p = join(dir, "unsupported.keras");
    writeFileSync(p, zipSync(files));
    for (const args of [["export", p, "-o", join(dir, "u.rnnb")], ["inspect", p]]) {
      const r = runCli(args);
      expect(r.code).toBe(1);
      expect(errorLine(r)).toBe(`rnn-wasm: E_UNSUPPORTED_LAYER: ${p}: layer convlstm_me has class ConvLSTM1D, which rnn-wasm does not support (see the README for the supported layers)`);
    }
  });

  it("a tokenizer with a bad config: E_ARGUMENT naming the tokenizer file", () => {
    const v = join(dir, "bad-vocab.json");
    writeFileSync(v, JSON.stringify({ the: 1, cat: -2 }));
    const r = runCli(["export", modelJson, "-o", join(dir, "x.rnnb"), "--tokenizer", v]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe(`rnn-wasm: E_ARGUMENT: ${v}: tokenizer: word "cat" has index -2; indices must be non-negative integers`);
  });

  it("normalisation statistics that do not match the model's features: names the file", () => {
    const s = join(dir, "stats.json");
    writeFileSync(s, JSON.stringify({ mean: [0, 1, 2], std: [1, 1, 1] }));
    const r = runCli(["export", modelJson, "-o", join(dir, "x.rnnb"), "--normalize", s]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toBe(`rnn-wasm: E_ARGUMENT: ${s}: normalisation statistics have 3 features, the model input has 2`);
  });

  it("predict --text on a bundle without a tokenizer", () => {
    const r = runCli(["predict", bundle, "--text", "hello"]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^rnn-wasm: E_ARGUMENT: .*small\.rnnb carries no tokenizer/);
  });

  it("predict with an input of the wrong shape: E_SHAPE from the library", () => {
    const r = runCli(["predict", bundle, "--input", "[[1, 2, 3]]"]);
    expect(r.code).toBe(1);
    expect(errorLine(r)).toMatch(/^rnn-wasm: E_SHAPE: input .*expected shape \[batch, time, 2\], received \[1, 3\]/);
  });

  it("RNN_WASM_DEBUG=1 adds the stack trace", () => {
    const missing = join(dir, "missing.rnnb");
    const quiet = runCli(["inspect", missing]);
    expect(quiet.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    const loud = runCli(["inspect", missing], { env: { RNN_WASM_DEBUG: "1" } });
    expect(loud.code).toBe(1);
    expect(loud.stderr.split("\n")[0]).toBe(quiet.stderr.split("\n")[0]);
    expect(loud.stderr).toMatch(/\n\s+at .*cli\.js:\d+:\d+/);
  });
});

const kerasDir = realKerasDir("the real Keras files through the CLI (test/cli/usage)");
describe.skipIf(!kerasDir)("the real Keras files import through the CLI", () => {
  it.each(["keras224_imdb_lstm.h5", "keras224_imdb_gru_reset_after_false.h5", "tfkeras_imdb_lstm.h5"])("%s: predict on the .h5 equals predict on its exported bundle", (f) => {
    const h5 = join(kerasDir!, f);
    const out = join(dir, f.replace(/\.h5$/, ".rnnb"));
    const e = runCli(["export", h5, "-o", out]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(new RegExp(`^${out.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: [\\d,]+ bytes, f32, [\\d,]+ params, 3 layers, CRC-32 [0-9a-f]{8}\n$`));
    // IMDB ids as the models were trained on: 1 = start, 2 = OOV, words from 3, pre-padded to 100
    const ids = [Array.from({ length: 100 }, (_, i) => (i < 40 ? 0 : i === 40 ? 1 : 3 + ((i * 37) % 990))), Array.from({ length: 100 }, (_, i) => 2 + (i % 5))];
    const fromBundle = runCli(["predict", out, "--input", JSON.stringify(ids)]);
    const fromH5 = runCli(["predict", h5, "--input", JSON.stringify(ids)]);
    expect(fromBundle.code, fromBundle.stderr).toBe(0);
    expect(fromH5.code, fromH5.stderr).toBe(0);
    const y = JSON.parse(fromBundle.stdout) as number[][];
    expect(y.map((r) => r.length)).toEqual([1, 1]);
    expect(fromH5.stdout).toBe(fromBundle.stdout);
  });
});
