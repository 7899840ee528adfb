/** `rnn-wasm inspect`: a Keras-style summary of any model file, as text or JSON. */
import type { Command } from "commander";
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

async function run(model: string, o: { json?: boolean; dtype?: BundleDtype }): Promise<void> {
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

export function register(program: Command): void {
  program
    .command("inspect")
    .description("print a model's layers, output shapes, parameter counts, sizes, checksum and metadata")
    .argument("<model>", "model.rnnb, model.json, model.h5 or model.keras")
    .option("--json", "print the summary as JSON")
    .addOption(dtypeOption("for a source model: the bundle dtype to size (default f32)"))
    .action((model: string, o: { json?: boolean; dtype?: BundleDtype }) => run(model, o));
}
