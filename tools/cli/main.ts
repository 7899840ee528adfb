/**
 * The rnn-wasm command line (bin "rnn-wasm", built to dist/cli.js):
 *
 *   rnn-wasm export  <model.json|model.h5|model.keras> -o out.rnnb [--dtype f32|f16|int8] [--tokenizer vocab.json] ...
 *   rnn-wasm upgrade <old.rnnb> [-o new.rnnb]
 *   rnn-wasm inspect <model.rnnb|model.json|model.h5|model.keras> [--json]
 *   rnn-wasm predict <model> (--input JSON | --input-file f.json | --text "...")
 *   rnn-wasm bench   <model> [--json out.json]
 *   rnn-wasm train   <task> -o dir
 *
 * Exit codes: 0 ok, 1 runtime error, 2 usage error. Errors are one line on stderr
 * (`rnn-wasm: E_CODE: message`); RNN_WASM_DEBUG=1 adds the stack.
 */
import { rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, join, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { RnnWasmError } from "../../src/errors.js";
import { exportBundle } from "../../src/export.js";
import { FORMAT_VERSION, type BundleDtype } from "../../src/format/bundle.js";
import { readBundle } from "../../src/format/reader.js";
import { upgradeBundle, type Upgraded } from "../../src/format/upgrade.js";
import { loadModel } from "../../src/index.js";
import { normalizeTokenizerConfig, type TokenizerConfig, type TokenizerOptions } from "../../src/text/tokenizer.js";
import { benchModel, formatBench } from "./bench.js";
import { useKernelFiles } from "./kernels.js";
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, reportError, UsageError, withSource } from "./errors.js";
import { bundleBytesOf, readBytes, readJson, readModelFile, sourceWeightBytes, type ModelFile } from "./source.js";
import { formatBytes, formatShape, formatTable, summarize, thousands } from "./summary.js";
import { loadTrainer } from "./train.js";

const VERSION = "0.2.0";
/** Above this much weight data an interactive export shows a progress bar. */
const PROGRESS_MIN_BYTES = 1 << 20;

function positiveInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return Number(v);
  };
}

function nonNegativeInt(v: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new InvalidArgumentError("must be a non-negative integer");
  return Number(v);
}

const hex32 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

// ------------------------------------------------------------------ export

interface ExportFlags {
  out: string;
  dtype: BundleDtype;
  tokenizer?: string;
  maxLen?: number;
  padding?: "pre" | "post";
  truncating?: "pre" | "post";
  normalize?: string;
  metadata?: string;
  progress?: boolean;
  quiet?: boolean;
}

interface Bar {
  start(total: number, value: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

function progressBar(): Bar {
  // cli-progress ships no types; required at run time (the CLI build keeps packages external)
  const cliProgress = createRequire(import.meta.url)("cli-progress") as {
    SingleBar: new (opts: Record<string, unknown>, preset: unknown) => Bar;
    Presets: Record<string, unknown>;
  };
  return new cliProgress.SingleBar(
    {
      format: "exporting |{bar}| {percentage}% | {value}/{total} sections | {name}",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 200,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** Written next to the target and renamed, so a failed write never leaves half a bundle. */
async function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const out = resolve(file);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new RnnWasmError("E_IO", `cannot write ${file}: ${code === "ENOENT" ? "no such directory" : code === "EACCES" ? "permission denied" : (e as Error).message}`, { cause: e });
  }
}

// ------------------------------------------------------------------ upgrade

async function cmdUpgrade(model: string, o: { out?: string; quiet?: boolean }): Promise<void> {
  const bytes = await readBytes(model, "bundle");
  let up: Upgraded;
  try {
    up = upgradeBundle(bytes);
  } catch (e) {
    throw withSource(e, model);
  }
  const out = o.out ?? model;
  if (up.bytes !== bytes || out !== model) await writeAtomic(out, up.bytes);
  if (!o.quiet) {
    process.stdout.write(up.from === FORMAT_VERSION
      ? `${model}: already format ${FORMAT_VERSION}${out !== model ? `, copied to ${out}` : ""}\n`
      : `${out}: format ${up.from} -> ${FORMAT_VERSION}, ${up.converted.length} recurrent kernel(s) reordered, ${thousands(up.bytes.length)} bytes\n`);
  }
}

// ------------------------------------------------------------------ export

async function cmdExport(model: string, o: ExportFlags): Promise<void> {
  if (!o.tokenizer && (o.maxLen !== undefined || o.padding !== undefined || o.truncating !== undefined)) {
    throw new UsageError("--max-len, --padding and --truncating apply to a tokenizer: add --tokenizer vocab.json");
  }
  const inPath = resolve(model);
  const weightBytes = await sourceWeightBytes(inPath);
  const tokenizerOptions: TokenizerOptions = {};
  if (o.maxLen !== undefined) tokenizerOptions.maxLen = o.maxLen;
  if (o.padding !== undefined) tokenizerOptions.padding = o.padding;
  if (o.truncating !== undefined) tokenizerOptions.truncating = o.truncating;
  let tokenizer: unknown;
  if (o.tokenizer) {
    tokenizer = await readJson(resolve(o.tokenizer), "tokenizer file");
    try {
      normalizeTokenizerConfig(tokenizer, tokenizerOptions); // report a bad vocabulary before the model import
    } catch (e) {
      throw withSource(e, o.tokenizer);
    }
  }
  const normalize = o.normalize ? await readJson(resolve(o.normalize), "normalisation statistics file") : undefined;
  let metadata: Record<string, unknown> | undefined;
  if (o.metadata) {
    const m = await readJson(resolve(o.metadata), "metadata file");
    if (typeof m !== "object" || m === null || Array.isArray(m)) throw new RnnWasmError("E_ARGUMENT", `metadata file ${o.metadata} must hold a JSON object`);
    metadata = m as Record<string, unknown>;
  }

  const showBar = o.progress ?? (process.stderr.isTTY === true && weightBytes > PROGRESS_MIN_BYTES);
  let bar: Bar | null = null;
  let bytes: Uint8Array;
  try {
    if (showBar) process.stderr.write(`importing ${model} (${formatBytes(weightBytes)} of weights)\n`);
    bytes = await exportBundle(inPath, {
      dtype: o.dtype,
      tokenizer,
      tokenizerOptions,
      normalize,
      metadata,
      onProgress: showBar
        ? (done, total, name) => {
            if (!bar) {
              bar = progressBar();
              bar.start(total, 0, { name: "" });
            }
            bar.update(done, { name });
          }
        : undefined,
    });
  } catch (e) {
    const msg = e instanceof RnnWasmError ? e.message : "";
    if (o.normalize && /^normalisation/.test(msg)) throw withSource(e, o.normalize);
    if (o.tokenizer && /^tokenizer/.test(msg)) throw withSource(e, o.tokenizer);
    throw withSource(e, model);
  } finally {
    (bar as Bar | null)?.stop();
  }
  await writeAtomic(o.out, bytes);
  if (!o.quiet) {
    const read = readBundle(bytes);
    const s = summarize(read.packed.spec);
    process.stdout.write(`${o.out}: ${thousands(bytes.length)} bytes, ${o.dtype}, ${thousands(s.totalParams)} params, ${s.layers.length} layers, CRC-32 ${hex32(read.checksum)}\n`);
  }
}

// ------------------------------------------------------------------ inspect

function tokenizerSummary(raw: unknown): Record<string, unknown> | null {
  if (raw === undefined) return null;
  const c: TokenizerConfig = normalizeTokenizerConfig(raw);
  const words = c.vocab.filter((w) => w !== "").length;
  return {
    words,
    vocabSize: c.numWords !== null ? Math.min(c.numWords, c.vocab.length) : c.vocab.length,
    numWords: c.numWords,
    maxLen: c.maxLen,
    padding: c.padding,
    truncating: c.truncating,
    oovToken: c.oovToken,
    lower: c.lower,
    charLevel: c.charLevel,
    split: c.split,
    filters: c.filters,
    replacements: c.replacements.length,
  };
}

function describeMetadata(meta: Record<string, unknown>): string[] {
  return Object.entries(meta).map(([k, v]) => {
    if (k === "normalization" && typeof v === "object" && v !== null && Array.isArray((v as { mean?: unknown }).mean)) {
      return `${k}: mean/std over ${(v as { mean: unknown[] }).mean.length} features`;
    }
    const text = JSON.stringify(v) ?? String(v);
    return `${k}: ${text.length > 70 ? `${text.slice(0, 67)}...` : text}`;
  });
}

async function cmdInspect(model: string, o: { json?: boolean; dtype?: BundleDtype }): Promise<void> {
  const m: ModelFile = await readModelFile(model);
  if (m.kind === "bundle" && o.dtype !== undefined) throw new UsageError("--dtype applies to model.json/.h5/.keras sources; a bundle's dtype is fixed at export");
  const dtype: BundleDtype = m.kind === "bundle" ? m.header.dtype : o.dtype ?? "f32";
  const bytes = bundleBytesOf(m, dtype);
  const checksum = m.kind === "bundle" ? m.checksum : new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(bytes.length - 4, true);
  const spec = m.packed.spec;
  const summary = summarize(spec);
  // stored weight bytes (int8 bundles: the int8 matrices and their f32 scales)
  const weightBytes = (m.kind === "bundle" ? m.header : readBundle(bytes).header).sections.reduce((a, s) => a + s.bytes, 0);
  const metadata = m.kind === "bundle" ? m.header.metadata ?? {} : {};
  const tokenizer = m.kind === "bundle" ? tokenizerSummary(m.header.tokenizer) : null;
  const inputs = spec.inputs.map((i) => ({ name: i.name, shape: [null, ...i.shape], dtype: i.dtype }));
  const outputs = spec.outputs.map((o2) => ({ name: o2.name, shape: [null, ...spec.tensors[o2.tensor].shape] }));
  const source = { format: m.kind, ...spec.source };
  if (o.json) {
    const doc = {
      file: m.path,
      name: spec.name,
      source,
      layers: summary.layers.map((l) => ({ name: l.name, type: l.type, outputShapes: l.outputShapes, params: l.params, nonTrainableParams: l.nonTrainable })),
      totalParams: summary.totalParams,
      trainableParams: summary.trainableParams,
      nonTrainableParams: summary.nonTrainableParams,
      weightBytes,
      bundleBytes: bytes.length,
      dtype,
      checksum: hex32(checksum),
      inputs,
      outputs,
      metadata,
      tokenizer,
      ...(m.kind === "bundle" ? { generator: m.header.generator, formatVersion: m.header.version } : {}),
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
    return;
  }
  const origin = `${spec.source.origin}${spec.source.kerasVersion ? ` ${spec.source.kerasVersion}` : ""}`;
  const lines = [
    formatTable(summary),
    `File:         ${m.path} (${m.kind === "bundle" ? `rnnb v${m.header.version}, written by ${m.header.generator}` : `${m.kind} source`}; from ${origin} ${spec.source.className})`,
    `Inputs:       ${inputs.map((i) => `${i.name} ${formatShape(i.shape)} ${i.dtype}`).join("; ")}`,
    `Outputs:      ${outputs.map((x) => `${x.name} ${formatShape(x.shape)}`).join("; ")}`,
    `Weight bytes: ${formatBytes(weightBytes)} (${dtype}, packed for the kernels)`,
    `Bundle bytes: ${formatBytes(bytes.length)}${m.kind === "bundle" ? "" : ` (as exported with --dtype ${dtype})`}`,
    `Dtype:        ${dtype}`,
    `Checksum:     ${hex32(checksum)} (CRC-32 of the bundle)`,
  ];
  const metaLines = describeMetadata(metadata);
  lines.push(`Metadata:     ${metaLines.length ? metaLines.join("\n              ") : "none"}`);
  if (tokenizer) {
    const t = tokenizer;
    lines.push(
      `Tokenizer:    ${thousands(t.words as number)} words (ids < ${t.vocabSize}), ${t.charLevel ? "characters" : "words"}, max length ${t.maxLen ?? "none"}, ` +
        `padding ${t.padding}, truncating ${t.truncating}, oov ${t.oovToken === null ? "none" : JSON.stringify(t.oovToken)}, lower ${t.lower}`,
    );
  } else {
    lines.push("Tokenizer:    none");
  }
  process.stdout.write(lines.join("\n") + "\n");
}

// ------------------------------------------------------------------ predict

async function loadAnyModel(model: string) {
  const m = await readModelFile(model);
  try {
    return await loadModel(bundleBytesOf(m, "f32"));
  } catch (e) {
    throw withSource(e, model);
  }
}

function isTensorLike(v: unknown): v is { data: unknown; shape: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "data" in v && "shape" in v;
}

/** JSON input -> what Model.predict takes; an object keyed by input name for several inputs. */
function inputsFromJson(doc: unknown, inputNames: string[]): unknown {
  if (typeof doc === "object" && doc !== null && !Array.isArray(doc) && !isTensorLike(doc)) {
    const keys = Object.keys(doc);
    const missing = inputNames.filter((n) => !(n in doc));
    if (missing.length) {
      throw new RnnWasmError("E_ARGUMENT", `input JSON is an object, so its keys must name the model inputs (${inputNames.join(", ")}); missing ${missing.join(", ")}, found ${keys.join(", ") || "none"}`);
    }
    return inputNames.map((n) => toTensor((doc as Record<string, unknown>)[n]));
  }
  if (Array.isArray(doc) && doc.length > 0 && doc.every(isTensorLike)) return doc;
  return doc;
}

function toTensor(v: unknown): unknown {
  if (isTensorLike(v) || !Array.isArray(v)) return v;
  // nested arrays -> {data, shape}, so a list of inputs is unambiguous
  const shape: number[] = [];
  let cur: unknown = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return { data: (v as unknown[]).flat(Infinity), shape };
}

/** A flat tensor as nested arrays (batch first), like tfjs arraySync(). */
function nested(data: ArrayLike<number>, shape: number[]): unknown {
  if (shape.length === 0) return data[0];
  const build = (offset: number, d: number): unknown => {
    if (d === shape.length - 1) return Array.from({ length: shape[d] }, (_, i) => data[offset + i]);
    const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[d] }, (_, i) => build(offset + i * stride, d + 1));
  };
  return build(0, 0);
}

async function cmdPredict(model: string, o: { input?: string; inputFile?: string; text?: string }): Promise<void> {
  const given = [o.input, o.inputFile, o.text].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError(given === 0 ? "give the input: --input JSON, --input-file f.json or --text \"...\"" : "give only one of --input, --input-file and --text");
  let doc: unknown;
  if (o.input !== undefined) {
    try {
      doc = JSON.parse(o.input);
    } catch (e) {
      throw new UsageError(`--input is not valid JSON: ${(e as Error).message}`);
    }
  } else if (o.inputFile !== undefined) {
    doc = await readJson(resolve(o.inputFile), "input file");
  }
  const m = await loadAnyModel(model);
  try {
    let x: unknown;
    if (o.text !== undefined) {
      if (!m.tokenizer) {
        throw new RnnWasmError("E_ARGUMENT", `${model} carries no tokenizer, so --text cannot be encoded; export it with --tokenizer vocab.json, or pass ids with --input`);
      }
      const ids = m.tokenizer.encode(o.text);
      x = { data: ids, shape: [1, ids.length] };
    } else {
      x = inputsFromJson(doc, m.inputs.map((i) => i.name));
    }
    const y = m.predict(x);
    const ys = Array.isArray(y) ? y : [y];
    const out = ys.map((t) => nested(t.data, t.shape));
    process.stdout.write(JSON.stringify(Array.isArray(y) ? out : out[0]) + "\n");
  } finally {
    m.dispose();
  }
}

// ------------------------------------------------------------------ bench

async function cmdBench(model: string, o: { json?: string; repeats: number; batch: number; time: number; seed: number }): Promise<void> {
  const m = await readModelFile(model);
  const r = await benchModel(basename(model), bundleBytesOf(m, "f32"), o);
  process.stdout.write(formatBench(r) + "\n");
  if (o.json) {
    try {
      await writeFile(resolve(o.json), JSON.stringify(r, null, 2) + "\n");
    } catch (e) {
      throw new RnnWasmError("E_IO", `cannot write ${o.json}: ${(e as Error).message}`, { cause: e });
    }
  }
}

// ------------------------------------------------------------------ train

async function cmdTrain(task: string, o: { out: string; epochs?: number; slice?: number; seed?: number; batchSize?: number; quiet?: boolean; export: boolean }): Promise<void> {
  const trainer = await loadTrainer();
  if (trainer.TASKS && !trainer.TASKS.includes(task)) throw new UsageError(`unknown task "${task}" (expected one of ${trainer.TASKS.join(", ")})`);
  const r = await trainer.train(task, { outDir: resolve(o.out), epochs: o.epochs, slice: o.slice, seed: o.seed, batchSize: o.batchSize, quiet: o.quiet });
  let bundle: string | undefined;
  if (o.export) {
    bundle = join(r.modelDir, "model.rnnb");
    const bytes = await exportBundle(join(r.modelDir, "model.json"), { tokenizer: r.tokenizerPath });
    await writeFile(bundle, bytes);
  }
  process.stdout.write(JSON.stringify({ task, modelDir: r.modelDir, bundle, tokenizer: r.tokenizerPath, backend: r.backend, metrics: r.metrics }, null, 1) + "\n");
}

// ------------------------------------------------------------------ program

export function buildProgram(): Command {
  const program = new Command()
    .name("rnn-wasm")
    .description("Export, inspect and run LSTM/GRU models trained in TensorFlow.js or Keras (.rnnb bundles for rnn-wasm).")
    .version(VERSION, "-V, --version")
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(true);

  program
    .command("export")
    .description("convert a tfjs model.json or a Keras .h5/.keras file into one .rnnb bundle")
    .argument("<model>", "model.json (tfjs LayersModel, shards beside it), model.h5 or model.keras")
    .requiredOption("-o, --out <file>", "the bundle to write (.rnnb)")
    .addOption(
      new Option("--dtype <dtype>", "weight storage: f32, f16 (half the size; matrices widened to f32 on load, embedding tables kept as halves), or int8 (weight matrices int8 with per-column scales, ~4x smaller; int8 kernels)")
        .choices(["f32", "f16", "int8"]).default("f32"),
    )
    .option("--tokenizer <file>", "vocabulary to embed: Keras Tokenizer.to_json() or a plain {word: index} map")
    .option("--max-len <n>", "tokenizer: pad/truncate every text to n ids (default: the model's input length)", positiveInt("--max-len"))
    .addOption(new Option("--padding <side>", "tokenizer: where pad_sequences adds zeros").choices(["pre", "post"]))
    .addOption(new Option("--truncating <side>", "tokenizer: which end of a long text is cut").choices(["pre", "post"]))
    .option("--normalize <file>", "per-feature normalisation statistics {\"mean\": [...], \"std\": [...]} (exposed as model.metadata.normalization)")
    .option("--metadata <file>", "a JSON object stored as model.metadata (labels, training figures, ...)")
    .option("--progress", "always show the progress bar (default: on a terminal, for models over 1 MiB)")
    .option("--no-progress", "never show the progress bar")
    .option("-q, --quiet", "print nothing on success")
    .action((model: string, o: ExportFlags) => cmdExport(model, o));

  program
    .command("upgrade")
    .description("convert a bundle written by an older rnn-wasm to the current format (same predictions)")
    .argument("<model>", "the .rnnb bundle")
    .option("-o, --out <file>", "write the converted bundle here (default: replace the input)")
    .option("-q, --quiet", "print nothing on success")
    .action((model: string, o: { out?: string; quiet?: boolean }) => cmdUpgrade(model, o));

  program
    .command("inspect")
    .description("print a model's layers, output shapes, parameter counts, sizes, checksum and metadata")
    .argument("<model>", "model.rnnb, model.json, model.h5 or model.keras")
    .option("--json", "print the summary as JSON")
    .addOption(new Option("--dtype <dtype>", "for a source model: the bundle dtype to size (default f32)").choices(["f32", "f16", "int8"]))
    .action((model: string, o: { json?: boolean; dtype?: BundleDtype }) => cmdInspect(model, o));

  program
    .command("predict")
    .description("run a model on one input and print its output tensor(s) as JSON (nested arrays, batch first)")
    .argument("<model>", "model.rnnb, model.json, model.h5 or model.keras")
    .option("--input <json>", "the input as JSON: nested arrays [batch, time, features] (ids [batch, time]), {\"data\": [...], \"shape\": [...]}, or {\"<input name>\": ...} for several inputs")
    .option("--input-file <file>", "the same JSON, from a file")
    .option("--text <text>", "a text, encoded by the tokenizer the bundle carries")
    .action((model: string, o: { input?: string; inputFile?: string; text?: string }) => cmdPredict(model, o));

  program
    .command("bench")
    .description("time loading, predict and a one-timestep call of a model on this machine (medians of repeats)")
    .argument("<model>", "model.rnnb, model.json, model.h5 or model.keras")
    .option("--json <file>", "also write the figures to a JSON file")
    .option("--repeats <n>", "timed repeats of each call", positiveInt("--repeats"), 30)
    .option("--batch <n>", "batch size of the input", positiveInt("--batch"), 1)
    .option("--time <n>", "sequence length when the model's is not fixed", positiveInt("--time"), 32)
    .option("--seed <n>", "seed of the random input", nonNegativeInt, 1)
    .action((model: string, o: { json?: string; repeats: number; batch: number; time: number; seed: number }) => cmdBench(model, o));

  program
    .command("train")
    .description("train a seed task (sentiment, uci-sentiment, gru-sentiment, next-word, sine) with tfjs, then export model.rnnb")
    .argument("<task>", "the seed task")
    .requiredOption("-o, --out <dir>", "output folder (model.json, weights.bin, tokenizer.json, meta.json, model.rnnb)")
    .option("--epochs <n>", "epochs (default per task)", positiveInt("--epochs"))
    .option("--slice <n>", "train on the first n examples only", positiveInt("--slice"))
    .option("--seed <n>", "random seed", nonNegativeInt)
    .option("--batch-size <n>", "batch size (default per task)", positiveInt("--batch-size"))
    .option("--no-export", "do not write model.rnnb after training")
    .option("-q, --quiet", "no progress output while training")
    .action((task: string, o: { out: string; epochs?: number; slice?: number; seed?: number; batchSize?: number; quiet?: boolean; export: boolean }) => cmdTrain(task, o));

  return program;
}

/** Runs the CLI on `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    process.stderr.write("rnn-wasm: E_USAGE: missing command (export, upgrade, inspect, predict, bench, train); see rnn-wasm --help\n");
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return EXIT_OK;
      const cmd = argv.find((a) => !a.startsWith("-"));
      const known = program.commands.some((c) => c.name() === cmd);
      const hint = known ? `see rnn-wasm ${cmd} --help` : "see rnn-wasm --help";
      process.stderr.write(`rnn-wasm: E_USAGE: ${err.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim()} (${hint})\n`);
      return EXIT_USAGE;
    }
    return reportError(err);
  }
}

useKernelFiles();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => process.exit(reportError(err) || EXIT_RUNTIME),
);
