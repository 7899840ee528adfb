/** `rnn-wasm inspect`: a Keras-style summary of any model file, as text or JSON. */
import type { Command } from "commander";
import { RnnWasmError } from "../../../src/errors.js";
import { loadArtifacts } from "../../../src/export.js";
import type { BundleDtype } from "../../../src/format/bundle.js";
import { readBundle } from "../../../src/format/reader.js";
import { normalizeTokenizerConfig, type TokenizerConfig } from "../../../src/text/tokenizer.js";
import { UsageError } from "../errors.js";
import { dtypeOption } from "../options.js";
import { bundleBytesOf, readModelFile, type ModelFile } from "../source.js";
import { formatBytes, formatShape, formatTable, hex32, summarize, thousands } from "../summary.js";

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

/**
 * The layers of a source model rnn-wasm cannot run, as its file lists them: name, class and
 * parameter count (the weights under the layer's name), the unsupported one marked. Printed
 * before the error, so `inspect` still shows what the model is.
 */
async function unsupportedSummary(model: string, err: RnnWasmError, json: boolean | undefined): Promise<void> {
  const artifacts = await loadArtifacts(model);
  const config = artifacts.topology.config as { layers?: unknown[]; name?: string } | unknown[];
  const entries = (Array.isArray(config) ? config : config?.layers ?? []) as { class_name?: string; name?: string; config?: { name?: string } }[];
  const params = new Map<string, number>();
  for (const w of artifacts.weights) {
    const layer = w.name.split("/")[0];
    params.set(layer, (params.get(layer) ?? 0) + w.shape.reduce((a, b) => a * b, 1));
  }
  const layers = entries.map((e) => {
    const name = e.name ?? e.config?.name ?? "?";
    return { name, type: e.class_name ?? "?", params: params.get(name) ?? 0, unsupported: err.message.includes(`layer ${name}`) || err.message.includes(`${name} (`) };
  });
  if (json) {
    process.stdout.write(JSON.stringify({ file: model, source: { format: artifacts.origin, kerasVersion: artifacts.kerasVersion }, layers, error: { code: err.code, message: err.message } }, null, 2) + "\n");
    return;
  }
  const w0 = Math.max(12, ...layers.map((l) => l.name.length + l.type.length + 3)) + 3;
  const lines = [`Model: ${JSON.stringify(Array.isArray(config) ? "" : config?.name ?? "")} (${artifacts.origin} source; rnn-wasm cannot run it: ${err.code})`, `${"Layer (type)".padEnd(w0)}${"Param #".padStart(12)}`];
  for (const l of layers) lines.push(`${`${l.name} (${l.type})`.padEnd(w0)}${thousands(l.params).padStart(12)}${l.unsupported ? "   <- unsupported" : ""}`);
  lines.push(`Total params: ${thousands(layers.reduce((a, l) => a + l.params, 0))}`);
  process.stdout.write(lines.join("\n") + "\n");
}

async function run(model: string, o: { json?: boolean; dtype?: BundleDtype }): Promise<void> {
  let m: ModelFile;
  try {
    m = await readModelFile(model);
  } catch (e) {
    // a model with a layer or option rnn-wasm lacks: still show its layers, then the error
    if (e instanceof RnnWasmError && (e.code === "E_UNSUPPORTED_LAYER" || e.code === "E_UNSUPPORTED_OPTION") && !/\.rnnb$/i.test(model)) {
      await unsupportedSummary(model, e, o.json).catch(() => {});
    }
    throw e;
  }
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

export function register(program: Command): void {
  program
    .command("inspect")
    .description("print a model's layers, output shapes, parameter counts, sizes, checksum and metadata")
    .argument("<model>", "model.rnnb, model.json, model.h5 or model.keras")
    .option("--json", "print the summary as JSON")
    .addOption(dtypeOption("for a source model: the bundle dtype to size (default f32)"))
    .action((model: string, o: { json?: boolean; dtype?: BundleDtype }) => run(model, o));
}
