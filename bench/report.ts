/** Renders bench results as a Markdown report and a hand-written SVG chart (log scales). */
import type { BenchResults, CellResult, Mode } from "./main.ts";
import type { SileroResult } from "./silero.ts";
import type { Summary } from "./stats.ts";

const MODE_TITLE: Record<Mode, string> = {
  step: "Streaming, batch 1: latency per step (µs, lower is better)",
  sequence: "Whole sequence, batch 1: latency per sequence (ms, lower is better)",
  batch32: "Batch 32: throughput (sequences/s, higher is better)",
  batch64: "Batch 64: throughput (sequences/s, higher is better)",
};

/** Three significant digits, no exponent for the ranges we print. */
export function sig(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return "0";
  return v.toPrecision(3);
}

const range = (s: Summary, f: (v: number) => number = (v) => v) => `${sig(f(s.median))} (${sig(f(s.min))}–${sig(f(s.max))})`;

function cellFigure(cell: CellResult, footnote: (text: string) => string): string {
  const twin = cell.variant === "tfjs-twin" ? " †" : "";
  switch (cell.status) {
    case "ok":
      if (!cell.perCall) return "–";
      if (cell.mode === "step") return range(cell.perCall, (v) => v * 1e6) + twin;
      if (cell.mode === "sequence") return range(cell.perCall, (v) => v * 1e3) + twin;
      return range(cell.throughput!) + twin;
    case "too-slow": {
      const v = cell.mode === "step" ? cell.perCall!.median * 1e6 : cell.mode === "sequence" ? cell.perCall!.median * 1e3 : cell.throughput!.median;
      return `≈${sig(v)} (1 call, too slow to repeat)${twin}`;
    }
    case "skipped":
      return `skipped${footnote(cell.detail ?? "")}`;
    case "disagrees":
      return `disagrees (max err ${cell.gate!.maxErr.toExponential(1)})`;
    case "unavailable":
      return `n/a${footnote(`${cell.engine}: ${cell.detail ?? ""}`)}`;
    case "failed":
      return `failed${footnote(`${cell.engine}: ${cell.detail ?? ""}`)}`;
  }
}

function table(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [`| ${header.map(esc).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const engines = r.engines.filter((e) => e.available).map((e) => e.id);
  const modes = [...new Set(r.cells.map((c) => c.mode))];
  out.push(`# rnn-wasm benchmark`);
  out.push("");
  out.push(`${r.meta.date} · ${r.meta.cpu} (${r.meta.cores} cores) · Node ${r.meta.node} (V8 ${r.meta.v8}) · ${r.meta.platform} · ${r.meta.quick ? "quick run" : "full run"} · ${sig(r.meta.durationSeconds)} s`);
  out.push("");
  out.push("Each figure: median over interleaved rounds (min–max), after warm-up; `n` rounds per figure is in latest.json. † = tfjs ran the GRU reset_after=false twin (same shapes and MACs; tfjs cannot run reset_after=true).");
  out.push("");
  for (const n of [...new Set(r.meta.notes)]) out.push(`- ${n}`);
  out.push("");
  out.push("## Engines");
  out.push("");
  out.push(table(["id", "engine", "status"], r.engines.map((e) => [e.id, e.label, e.available ? "ran" : `unavailable: ${e.reason}`])));
  out.push("");
  if (Object.keys(r.streamHow).length) {
    out.push("Streaming (one step, state carried):");
    out.push("");
    for (const [id, how] of Object.entries(r.streamHow)) out.push(`- ${id}: ${how}`);
    out.push("");
  }
  if (r.peak) {
    out.push("## Wasm SIMD peak (same engine)");
    out.push("");
    const rows: string[][] = [];
    for (const [k, v] of Object.entries(r.peak.baseline?.variants ?? {})) rows.push(["SIMD128 mul+add", k, range(v)]);
    if (r.peak.relaxed && "variants" in r.peak.relaxed) for (const [k, v] of Object.entries(r.peak.relaxed.variants)) rows.push([`relaxed_madd (${r.peak.relaxed.flag})`, k, range(v)]);
    out.push(table(["build", "loop", "GMAC/s"], rows));
    out.push("");
    out.push(`\`% of peak\` below divides by ${sig(r.peak.reference)} GMAC/s: the fastest run of the best register-only SIMD128 loop (other processes only slow a loop down, so the fastest run is closest to the uncontended peak; workload figures are medians under the same load, so a percentage above 100 means the peak run was itself slowed). regs-N: N independent accumulators; load-8: one 16 KB L1-resident weight load per multiply-add.`);
    if (r.peak.relaxed && "error" in r.peak.relaxed) out.push(`Relaxed SIMD: ${r.peak.relaxed.error}`);
    out.push("");
  }
  for (const mode of modes) {
    out.push(`## ${MODE_TITLE[mode]}`);
    out.push("");
    const notes: string[] = [];
    const footnote = (text: string) => {
      let i = notes.indexOf(text);
      if (i < 0) i = notes.push(text) - 1;
      return ` [${i + 1}]`;
    };
    const rows = r.models.map((m) => [m.id + (mode === "step" ? "" : ` (T=${m.seqLen})`), ...engines.map((e) => {
      const c = r.cells.find((x) => x.model === m.id && x.mode === mode && x.engine === e);
      return c ? cellFigure(c, footnote) : "–";
    })]);
    out.push(table(["model", ...engines], rows));
    out.push("");
    notes.forEach((n, i) => out.push(`[${i + 1}] ${n}  `));
    if (notes.length) out.push("");
  }
  // one table per rnn-wasm engine: the f32 default, and the int8 bundle when it ran
  for (const ours of ["rnn-wasm", "rnn-wasm-int8"]) {
    const mine = r.ratios.filter((x) => (x.ours ?? "rnn-wasm") === ours);
    if (!mine.length) continue;
    out.push(`## ${ours} speedup over each peer (peer time / ${ours} time, paired per round; > 1 = ${ours} faster)`);
    out.push("");
    // (int8 against f32 appears once, in the int8 table)
    const peers = engines.filter((e) => e !== ours && !(ours === "rnn-wasm" && e === "rnn-wasm-int8"));
    const rows: string[][] = [];
    for (const m of r.models) for (const mode of modes) {
      const cells = peers.map((p) => mine.find((x) => x.model === m.id && x.mode === mode && x.peer === p));
      if (cells.some(Boolean)) rows.push([m.id, mode, ...cells.map((c) => (c ? `${sig(c.ratio.median)}x (${sig(c.ratio.min)}–${sig(c.ratio.max)})` : "–"))]);
    }
    out.push(table(["model", "mode", ...peers.map((p) => `vs ${p}`)], rows));
    out.push("");
  }
  out.push("## Achieved GMAC/s (median) and % of the wasm SIMD peak");
  out.push("");
  const macRows: string[][] = [];
  for (const m of r.models) for (const mode of modes) {
    macRows.push([m.id, mode, ...engines.map((e) => {
      const c = r.cells.find((x) => x.model === m.id && x.mode === mode && x.engine === e);
      if (!c?.gmacs || (c.status !== "ok" && c.status !== "too-slow")) return "–";
      return `${sig(c.gmacs.median)}${c.pctPeak !== undefined ? ` (${sig(c.pctPeak)}%)` : ""}`;
    })]);
  }
  out.push(table(["model", "mode", ...engines], macRows));
  out.push("");
  out.push("Native engines (onnxruntime-node) are not bound by the wasm peak; their percentage only places them on the same scale.");
  out.push("");
  if (r.coldStart.length) {
    out.push(`## Cold start (fresh process: import + wasm/backend init + load model bytes + first predict), ${r.coldStart[0].model}`);
    out.push("");
    out.push(table(["engine", "total ms", "init ms", "load ms", "runs"], r.coldStart.map((c) => [
      c.engine, c.firstMs ? range(c.firstMs) : `failed: ${c.error}`, c.initMs ? range(c.initMs) : "–", c.loadMs ? range(c.loadMs) : "–", String(c.runs),
    ])));
    out.push("");
    out.push("Model bytes are read before the clock starts; Node's own startup is not included.");
    out.push("");
  }
  if (r.memory.length) {
    out.push("## Memory (reported, not asserted)");
    out.push("");
    out.push("RSS deltas in a fresh process: engine init = importing the package and starting its backend (wasm compiled lazily by onnxruntime-web lands in the model column); model = after load − after engine init; first predict = its growth; stream = opening a batch-1 stream and one step. RSS moves in pages and with the JS heap, so small deltas are noise.");
    const how = r.memory.find((m) => m.resident)?.resident?.how;
    if (how) out.push(`rnn-wasm's own figures, through its API: ${how}.`);
    out.push("");
    const mb = (v?: number) => (v === undefined ? "–" : `${(v / 1e6).toFixed(2)} MB`);
    out.push(table(["model", "engine", "engine init RSS Δ", "model RSS Δ", "first predict RSS Δ", "stream RSS Δ", "engine's own figure"], r.memory.map((m) => [
      m.model, m.engine, m.rss ? mb(m.rss.init - m.rss.start) : "–",
      m.rss ? mb(m.rss.load - m.rss.init) : `failed: ${m.error}`,
      m.rss ? mb(m.rss.first - m.rss.load) : "–",
      m.rss?.step !== undefined ? mb(m.rss.step - m.rss.first) : m.stepError ? `n/a: ${m.stepError}` : "–",
      m.resident ? `model ${mb(m.resident.model)}${m.resident.session !== undefined ? `, session ${m.resident.session} B` : ""}` : "–",
    ])));
    out.push("");
  }
  out.push("## Models and MAC counts");
  out.push("");
  out.push("MACs per batch row; LSTM 4u(in+u) and GRU 3u(in+u) per step, Dense in·out, embedding gathers 0; activations and bias adds not counted. A streaming step counts every layer once.");
  out.push("");
  out.push(table(["model", "f32 weights", "MACs/step", "MACs/sequence", "formula"], r.models.map((m) => [
    m.id, `${(m.weightBytes / 1e6).toFixed(2)} MB`, m.macsPerStep.toLocaleString("en-US"), m.macsPerSequence.toLocaleString("en-US"), m.formula,
  ])));
  out.push("");
  out.push("## Correctness gate (max abs error vs reference before timing)");
  out.push("");
  const gateRows: string[][] = [];
  for (const m of r.models) for (const mode of modes.filter((x) => x === "step" || x === "sequence")) {
    gateRows.push([m.id, mode, ...engines.map((e) => {
      const c = r.cells.find((x) => x.model === m.id && x.mode === mode && x.engine === e);
      if (!c?.gate) return c?.status === "unavailable" ? "n/a" : c?.status === "failed" ? "failed" : "–";
      return `${c.gate.maxErr.toExponential(1)}${c.status === "disagrees" ? " ✗" : ""}`;
    })]);
  }
  out.push(table(["model", "mode", ...engines], gateRows));
  out.push("");
  const refs = [...new Set(r.cells.map((c) => c.gate?.reference).filter(Boolean))];
  out.push(`References: ${refs.join("; ")}. Tolerance: ${r.cells.find((c) => c.gate)?.gate?.tolerance ?? "–"} (|err| ≤ 1e-4 + 1e-4·|ref|)` +
    `${r.cells.some((c) => c.engine === "rnn-wasm-int8") ? "; rnn-wasm-int8: GATE_INT8 (|err| ≤ 5e-2 + 5e-2·|ref|, the int8 quantisation bound)" : ""}.`);
  out.push("");
  if (r.silero?.length) out.push(renderSilero(r.silero));
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// SVG

const COLORS: Record<string, string> = {
  "rnn-wasm": "#d62728", "rnn-wasm-int8": "#ff7f0e", "ort-web": "#1f77b4", "tfjs-wasm": "#2ca02c", "tfjs-cpu": "#9467bd",
  "ort-node-1t": "#8c564b", "ort-node": "#e377c2", "tfjs-node": "#7f7f7f",
};

const LEGEND: Record<string, string> = {
  "rnn-wasm-int8": "rnn-wasm, int8 weights (--dtype int8)", "ort-web": "onnxruntime-web, wasm SIMD, 1 thread", "tfjs-wasm": "tfjs wasm backend, SIMD",
  "tfjs-cpu": "tfjs cpu backend", "ort-node-1t": "onnxruntime-node native, 1 thread",
  "ort-node": "onnxruntime-node native, default threads", "tfjs-node": "tfjs-node native",
};

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Bar { model: string; engine: string; value: number; approximate?: boolean }

/** 10^d as "0.01", "1", "1,000", "1e6". */
function tickLabel(d: number): string {
  if (d < 0) return (10 ** d).toFixed(-d);
  if (d <= 5) return (10 ** d).toLocaleString("en-US");
  return `1e${d}`;
}

function panel(x0: number, y0: number, width: number, title: string, unit: string, bars: Bar[], models: string[], engines: string[]): { svg: string; height: number } {
  const labelW = 95;
  const plotW = width - labelW - 40; // room for the value printed after the longest bar
  const barH = 8;
  const groupH = engines.length * barH + 10;
  const top = y0 + 38;
  const height = 38 + models.length * groupH + 34;
  const values = bars.map((b) => b.value).filter((v) => v > 0 && Number.isFinite(v));
  const parts: string[] = [];
  parts.push(`<text x="${x0}" y="${y0 + 14}" font-size="13" font-weight="bold">${xmlEscape(title)}</text>`);
  if (!values.length) {
    parts.push(`<text x="${x0}" y="${y0 + 40}" font-size="11">no data</text>`);
    return { svg: parts.join("\n"), height: 60 };
  }
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)) + 1e-9);
  const decades = Math.max(1, hi - lo);
  const xOf = (v: number) => x0 + labelW + ((Math.log10(v) - lo) / decades) * plotW;
  const bottom = top + models.length * groupH;
  for (let d = lo; d <= lo + decades; d++) {
    const x = xOf(10 ** d);
    parts.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#ccc" stroke-width="1"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${bottom + 13}" font-size="10" text-anchor="middle">${tickLabel(d)}</text>`);
    if (d < lo + decades) for (let k = 2; k < 10; k++) {
      const xm = xOf(k * 10 ** d);
      parts.push(`<line x1="${xm.toFixed(1)}" y1="${bottom - 3}" x2="${xm.toFixed(1)}" y2="${bottom}" stroke="#999" stroke-width="0.5"/>`);
    }
  }
  parts.push(`<text x="${x0 + labelW + plotW / 2}" y="${bottom + 28}" font-size="11" text-anchor="middle">${xmlEscape(unit)} (log scale)</text>`);
  models.forEach((m, i) => {
    const gy = top + i * groupH;
    parts.push(`<text x="${x0 + labelW - 6}" y="${gy + groupH / 2 + 3}" font-size="11" text-anchor="end">${xmlEscape(m)}</text>`);
    engines.forEach((e, j) => {
      const b = bars.find((x) => x.model === m && x.engine === e);
      if (!b || !(b.value > 0)) return;
      const y = gy + 4 + j * barH;
      const w = Math.max(1, xOf(b.value) - (x0 + labelW));
      const shown = `${b.approximate ? "≈" : ""}${sig(b.value)}`;
      parts.push(`<rect x="${x0 + labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH - 1}" fill="${COLORS[e] ?? "#333"}"${b.approximate ? ' fill-opacity="0.45"' : ""}><title>${xmlEscape(`${e} ${m}: ${shown} ${unit}`)}</title></rect>`);
      parts.push(`<text x="${(x0 + labelW + w + 3).toFixed(1)}" y="${y + barH - 1.5}" font-size="7.5" fill="#333">${xmlEscape(shown)}</text>`);
    });
  });
  parts.push(`<line x1="${x0 + labelW}" y1="${top - 4}" x2="${x0 + labelW}" y2="${bottom}" stroke="#333" stroke-width="1"/>`);
  return { svg: parts.join("\n"), height };
}

export function renderSvg(r: BenchResults): string {
  const engines = r.engines.filter((e) => e.available).map((e) => e.id);
  const ok = (c: CellResult) => (c.status === "ok" || c.status === "too-slow") && c.perCall;
  const stepBars = r.cells.filter((c) => c.mode === "step" && ok(c)).map((c) => ({ model: c.model, engine: c.engine, value: c.perCall!.median * 1e6, approximate: c.status === "too-slow" }));
  const throughputMode: Mode = (["batch64", "batch32", "sequence"] as Mode[]).find((m) => r.cells.some((c) => c.mode === m && ok(c))) ?? "batch64";
  const tpBars = r.cells.filter((c) => c.mode === throughputMode && ok(c)).map((c) => ({ model: c.model, engine: c.engine, value: c.throughput!.median, approximate: c.status === "too-slow" }));
  const models = r.models.map((m) => m.id);
  const width = 1100;
  const left = panel(10, 30, 540, "Streaming step, batch 1: latency per step (lower is better)", "µs per step", stepBars, models, engines);
  const tpTitle = throughputMode === "sequence" ? "Sequence T, batch 1: throughput (higher is better)" : `Batch ${throughputMode.slice(5)}: throughput (higher is better)`;
  const right = panel(560, 30, 530, tpTitle, "sequences per second", tpBars, models, engines);
  const legendY = 30 + Math.max(left.height, right.height) + 8;
  const legend = engines.map((e, i) => {
    const x = 10 + (i % 4) * 270;
    const y = legendY + Math.floor(i / 4) * 16;
    return `<rect x="${x}" y="${y}" width="10" height="10" fill="${COLORS[e] ?? "#333"}"/><text x="${x + 14}" y="${y + 9}" font-size="10">${xmlEscape(`${e}${LEGEND[e] ? ` (${LEGEND[e]})` : ""}`)}</text>`;
  }).join("\n");
  const height = legendY + Math.ceil(engines.length / 4) * 16 + 24;
  const twins = r.models.filter((m) => m.tfjsTwin).map((m) => m.id);
  const caption = `${r.meta.date.slice(0, 10)} · ${r.meta.cpu} · Node ${r.meta.node} · medians; faded bars: one call only (too slow to repeat)${twins.length ? `; tfjs bars of ${twins.join(", ")}: reset_after=false twin` : ""}; shared machine, indicative`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="18" font-size="14" font-weight="bold">rnn-wasm vs peers</text>
${left.svg}
${right.svg}
${legend}
<text x="10" y="${height - 8}" font-size="10" fill="#555">${xmlEscape(caption)}</text>
</svg>
`;
}

/** The Silero VAD section: per-frame latency and ratios, first frame, export and bytes. */
function renderSilero(results: SileroResult[]): string {
  const out: string[] = ["", "## Silero VAD (ONNX) per frame", ""];
  out.push("One 32 ms frame at 16 kHz (512 samples + 64 of context), batch 1, the model's state carried from frame to frame; rnn-wasm runs the .onnx exported to a bundle (`--input input=1x576 --const sr=16000 --state state=stateN`), the onnxruntime engines the .onnx itself. Gate: every frame of a 2.5 s recording of real speech against onnxruntime-node, within 1e-4. Ratios: the peer's time over rnn-wasm's, per round.");
  out.push("");
  const rows = results.flatMap((m) => m.perFrame.map((f) => {
    const gate = m.gate.find((g) => g.engine === f.engine)!;
    const first = m.firstFrame.find((x) => x.engine === f.engine);
    return [m.model, f.engine, range(f.us), f.ratio ? `${sig(f.ratio.median)}x` : "–", first?.fromLoadMs ? range(first.fromLoadMs) : first?.error ?? "–", first?.totalMs ? range(first.totalMs) : "–", `${gate.maxErr.toExponential(1)}${gate.ok ? "" : " (disagrees)"}`];
  }));
  out.push(table(["model", "engine", "µs / frame", "peer / rnn-wasm", "first frame after load (ms)", "with import (ms)", "max |p − ort-node|"], rows));
  out.push("");
  out.push(table(["model", ".onnx bytes", "bundle bytes (gzip)", "export (ms)"], results.map((m) => [m.model, m.onnxBytes.toLocaleString("en-US"), `${m.bundleBytes.toLocaleString("en-US")} (${m.bundleGzipBytes.toLocaleString("en-US")})`, range(m.exportMs)])));
  out.push("");
  return out.join("\n");
}
