/** `rnn-wasm export`: a tfjs model.json or a Keras .h5/.keras file -> one .rnnb bundle. */
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, resolve } from "node:path";
import { type Command, Option } from "commander";
import { RnnWasmError } from "../../../src/errors.js";
import { exportBundle, type ExportOptions } from "../../../src/export.js";
import type { BundleDtype } from "../../../src/format/bundle.js";
import { readBundle } from "../../../src/format/reader.js";
import { normalizeTokenizerConfig, type TokenizerOptions } from "../../../src/text/tokenizer.js";
import { UsageError, withSource } from "../errors.js";
import { writeAtomic } from "../files.js";
import { collect, dtypeOption, parseConst, parseDims, positiveInt } from "../options.js";
import { readBytes, readJson } from "../source.js";
import { formatBytes, hex32, summarize, thousands } from "../summary.js";

/** Above this much weight data an interactive export shows a progress bar. */
const PROGRESS_MIN_BYTES = 1 << 20;

interface ExportFlags {
  out: string;
  dtype: BundleDtype;
  tokenizer?: string;
  maxLen?: number;
  padding?: "pre" | "post";
  truncating?: "pre" | "post";
  charLevel?: boolean;
  normalize?: string;
  metadata?: string;
  progress?: boolean;
  quiet?: boolean;
  input?: [string, string][];
  const?: [string, string][];
  state?: [string, string][];
}

/** Bytes of weight data a source holds (file sizes), to decide on a progress bar. */
async function sourceWeightBytes(path: string): Promise<number> {
  const bytes = await readBytes(path, "model file");
  if (extname(path).toLowerCase() !== ".json") return bytes.length;
  let total = 0;
  try {
    const mj = JSON.parse(new TextDecoder().decode(bytes)) as { weightsManifest?: { paths?: string[] }[] };
    for (const g of mj.weightsManifest ?? []) for (const p of g.paths ?? []) total += statSync(resolve(path, "..", p), { throwIfNoEntry: false })?.size ?? 0;
  } catch {
    // the importer reports a malformed model.json with its own message
  }
  return total;
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

/** --input / --const / --state as exportBundle's ONNX options (only when given). */
function onnxBindings(o: ExportFlags): Pick<ExportOptions, "inputs" | "constants" | "state"> {
  const out: Pick<ExportOptions, "inputs" | "constants" | "state"> = {};
  if (o.input) out.inputs = Object.fromEntries(o.input.map(([n, v]) => [n, parseDims(n, v)]));
  if (o.const) out.constants = Object.fromEntries(o.const.map(([n, v]) => [n, parseConst(n, v)]));
  if (o.state) out.state = Object.fromEntries(o.state);
  return out;
}

async function run(model: string, o: ExportFlags): Promise<void> {
  if (!o.tokenizer && (o.maxLen !== undefined || o.padding !== undefined || o.truncating !== undefined || o.charLevel !== undefined)) {
    throw new UsageError("--max-len, --padding, --truncating and --char-level apply to a tokenizer: add --tokenizer vocab.json");
  }
  const inPath = resolve(model);
  const weightBytes = await sourceWeightBytes(inPath);
  const tokenizerOptions: TokenizerOptions = {};
  if (o.maxLen !== undefined) tokenizerOptions.maxLen = o.maxLen;
  if (o.padding !== undefined) tokenizerOptions.padding = o.padding;
  if (o.truncating !== undefined) tokenizerOptions.truncating = o.truncating;
  if (o.charLevel !== undefined) tokenizerOptions.charLevel = o.charLevel;
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
      ...onnxBindings(o),
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

export function register(program: Command): void {
  program
    .command("export")
    .description("convert a tfjs model.json, a Keras .h5/.keras file or an ONNX model into one .rnnb bundle")
    .argument("<model>", "model.json (tfjs LayersModel, shards beside it), model.h5, model.keras or model.onnx")
    .requiredOption("-o, --out <file>", "the bundle to write (.rnnb)")
    .addOption(
      dtypeOption("weight storage: f32, f16 (half the size; matrices widened to f32 on load, embedding tables kept as halves), or int8 (weight matrices int8 with per-column scales, ~4x smaller; int8 kernels)")
        .default("f32"),
    )
    .option("--tokenizer <file>", "vocabulary to embed: Keras Tokenizer.to_json() or a plain {word: index} map")
    .option("--max-len <n>", "tokenizer: pad/truncate every text to n ids (default: the model's input length)", positiveInt("--max-len"))
    .addOption(new Option("--padding <side>", "tokenizer: where pad_sequences adds zeros").choices(["pre", "post"]))
    .addOption(new Option("--truncating <side>", "tokenizer: which end of a long text is cut").choices(["pre", "post"]))
    .option("--char-level", "tokenizer: one token per character (Keras char_level=True), for a plain {\"c\": index} map")
    .option("--normalize <file>", "per-feature normalisation statistics {\"mean\": [...], \"std\": [...]} (exposed as model.metadata.normalization)")
    .option("--metadata <file>", "a JSON object stored as model.metadata (labels, training figures, ...)")
    .option("--input <NAME=D1xD2x...>", "ONNX: the shape of a graph input (repeat per input; ? keeps a dim as declared; the batch dim's value is an example: any batch runs)", collect("--input"))
    .option("--const <NAME=VALUE>", "ONNX: fold a graph input to a constant, e.g. --const sr=16000 (repeat per input)", collect("--const"))
    .option("--state <IN=OUT>", "ONNX: a recurrent state pair: the graph reads IN and writes its next value to OUT; sessions carry it (repeat per pair)", collect("--state"))
    .option("--progress", "always show the progress bar (default: on a terminal, for models over 1 MiB)")
    .option("--no-progress", "never show the progress bar")
    .option("-q, --quiet", "print nothing on success")
    .action((model: string, o: ExportFlags) => run(model, o));
}
