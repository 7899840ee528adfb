/** `rnn-wasm inspect`: a Keras-style summary of any model file, as text or JSON. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { RnnWasmError } from "../../../src/errors.js";
import { loadArtifacts } from "../../../src/export.js";
import type { BundleDtype } from "../../../src/format/bundle.js";
import { readBundle } from "../../../src/format/reader.js";
import { normalizeTokenizerConfig, type TokenizerConfig } from "../../../src/text/tokenizer.js";
import { describeOnnx, type OnnxDescription } from "../../../src/import/onnx/describe.js";
import type { DeclaredDim } from "../../../src/import/onnx/proto.js";
import { UsageError, withSource } from "../errors.js";
import { dtypeOption, onnxBindings, onnxConstOption, onnxInputOption, onnxStateOption, type OnnxBindingFlags } from "../options.js";
import { bundleBytesOf, readBytes, readModelFile, type ModelFile } from "../source.js";
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

interface InspectFlags extends OnnxBindingFlags {
  json?: boolean;
  dtype?: BundleDtype;
}

const showDims = (dims: DeclaredDim[] | null) => (dims ? `[${dims.map((d) => d ?? "?").join(", ")}]` : "(no shape)");
const byCount = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
const countList = (counts: Record<string, number>) => byCount(counts).map(([k, n]) => `${k} ${n}`).join(", ") || "none";

/**
 * Whether an export failed only for want of a binding inspect can name (a dim to give with
 * --input, an If to fold with --const): inspect then answers the question it was asked (what
 * to bind) and exits 0.
 */
function needsBindings(d: OnnxDescription, e: RnnWasmError): boolean {
  return (e.code === "E_ARGUMENT" && /give (it|them) with --input|no declared shape/.test(e.message)) ||
    (/computed at run time/.test(e.message) && d.hints.constants.length > 0);
}

/** `inspect model.onnx`: the graph as declared, the bindings it needs, and the export with those given. */
async function inspectOnnx(model: string, o: InspectFlags): Promise<void> {
  const path = resolve(model);
  const bytes = await readBytes(path, "model file");
  const opts = { ...onnxBindings(o), sourceName: path };
  let d: OnnxDescription;
  try {
    d = describeOnnx(bytes, opts);
  } catch (e) {
    throw withSource(e, model);
  }
  const failed = "error" in d.exported ? d.exported.error : null;
  const m: ModelFile | null = "packed" in d.exported ? { kind: "onnx", path, packed: d.exported.packed } : null;
  const report = "report" in d.exported ? d.exported.report : null;
  const hintFlags = [
    ...d.hints.constants.map((h) => `--const ${h.input}=${h.comparedWith.length ? h.comparedWith.join("|") : "VALUE"}`),
    ...d.hints.state.map((h) => `--state ${h.input}=${h.output}`),
  ];
  const onnx = {
    irVersion: d.irVersion,
    opset: d.opset,
    producer: d.producer,
    graph: d.graphName,
    inputs: d.inputs.map((i) => ({ ...i, ...(i.binding === "constant" ? { value: opts.constants![i.name] } : i.binding === "state" ? { output: opts.state![i.name] } : {}) })),
    outputs: d.outputs,
    nodes: d.nodes,
    hints: d.hints,
    export: failed
      ? { ok: false, error: { code: failed.code, message: failed.message }, needsBindings: needsBindings(d, failed) }
      : { ok: true, folded: report!.folded, translated: report!.translated, batch: report!.batch, ...(report!.fixedBecause ? { fixedBecause: report!.fixedBecause } : {}) },
  };
  const w = Math.max(...d.inputs.map((i) => i.name.length), 4);
  const lines = [
    `ONNX model:   ${path} (IR ${d.irVersion}, opset ${d.opset}${d.producer ? `, exported by ${d.producer}` : ""}${d.graphName ? `, graph ${JSON.stringify(d.graphName)}` : ""})`,
    ...d.inputs.map((i, k) => `${k === 0 ? "Graph inputs: " : "              "}${i.name.padEnd(w)}  ${i.dtype.padEnd(8)} ${showDims(i.dims).padEnd(16)} ` +
      (i.binding === "constant" ? `constant ${JSON.stringify(opts.constants![i.name])} (--const)` : i.binding === "state" ? `state, next value ${opts.state![i.name]} (--state)` : "runtime input")),
    `Graph outputs: ${d.outputs.map((x) => `${x.name} ${x.dtype} ${showDims(x.dims)}`).join("; ")}`,
    `Nodes:        ${Object.values(d.nodes).reduce((a, b) => a + b, 0)} (branches included): ${countList(d.nodes)}`,
  ];
  if (hintFlags.length) {
    lines.push(`To bind:      ${hintFlags.join(" ")}`);
    for (const h of d.hints.constants) lines.push(`              ${h.input}: decides ${h.decides.join(", ")}${h.comparedWith.length ? ` (compared with ${h.comparedWith.join(", ")})` : ""}; fold it with --const`);
    for (const h of d.hints.state) lines.push(`              ${h.input}: ${h.output} looks like its next value; sessions carry it with --state`);
  }
  if (failed) {
    lines.push(`Export:       not as bound: ${failed.code}: ${failed.message}`);
  } else {
    lines.push(
      `Export:       ${report!.batch === "any" ? "any batch size" : `batch fixed at ${report!.batch} (${report!.fixedBecause})`}`,
      `Folded:       ${countList(report!.folded)} (computed at export)`,
      `Translated:   ${countList(report!.translated)} -> ${m!.packed.spec.ops.length} rnn-wasm ops`,
    );
  }
  if (m) await printSummary(m, o, o.json ? { onnx } : undefined, o.json ? undefined : lines);
  else if (o.json) process.stdout.write(JSON.stringify({ file: path, source: { format: "onnx" }, onnx }, null, 2) + "\n");
  else process.stdout.write(lines.join("\n") + "\n");
  if (failed && !needsBindings(d, failed)) throw withSource(failed, model);
}

async function run(model: string, o: InspectFlags): Promise<void> {
  const bindings = o.input || o.const || o.state;
  if (/\.onnx$/i.test(model)) return inspectOnnx(model, o);
  if (bindings) throw new UsageError("--input, --const and --state bind ONNX graphs; this model is not an .onnx file");
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
  await printSummary(m, o);
}

/** The summary of a model as rnn-wasm runs it; `extraJson` joins the JSON document, `before` precedes the text. */
async function printSummary(m: ModelFile, o: InspectFlags, extraJson?: Record<string, unknown>, before?: string[]): Promise<void> {
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
      ...extraJson,
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
    return;
  }
  const origin = `${spec.source.origin}${spec.source.kerasVersion ? ` ${spec.source.kerasVersion}` : ""}`;
  const lines = [
    ...(before ? [...before, ""] : []),
    formatTable(summary),
    `File:         ${m.path} (${m.kind === "bundle" ? `rnnb v${m.header.version}, written by ${m.header.generator}` : `${m.kind} source`}; from ${origin} ${spec.source.className})`,
    `Inputs:       ${inputs.map((i) => `${i.name} ${formatShape(i.shape)} ${i.dtype}`).join("; ")}`,
    `Outputs:      ${outputs.map((x) => `${x.name} ${formatShape(x.shape)}`).join("; ")}`,
    ...(spec.states?.length ? [`States:       ${spec.states.map((st) => `${st.name} ${formatShape([null, ...spec.tensors[st.input].shape])} (sessions carry it)`).join("; ")}`] : []),
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
    .description("print a model's layers, output shapes, parameter counts, sizes, checksum and metadata (ONNX: also the declared inputs, the bindings it needs, what folded)")
    .argument("<model>", "model.rnnb, model.json, model.h5, model.keras or model.onnx")
    .option("--json", "print the summary as JSON")
    .addOption(dtypeOption("for a source model: the bundle dtype to size (default f32)"))
    .addOption(onnxInputOption())
    .addOption(onnxConstOption())
    .addOption(onnxStateOption())
    .action((model: string, o: InspectFlags) => run(model, o));
}
