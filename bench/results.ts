/**
 * What a benchmark run produces, as latest.json holds it: the types bench/main.ts fills and
 * bench/report.ts renders (neither imports the other for them).
 */
import type { ColdStartResult } from "./coldstart.ts";
import type { RnnWasmFrom } from "./engines/rnnwasm.ts";
import type { EngineId } from "./engines/types.ts";
import type { SileroResult } from "./silero.ts";
import type { VadPageResult } from "./vad-page.ts";
import type { VadStreamsResult } from "./vad-streams.ts";
import type { Summary } from "./stats.ts";

export type Mode = "step" | "sequence" | "batch32" | "batch64";
export const MODES: Mode[] = ["step", "sequence", "batch32", "batch64"];

/** What a run measures and how (command-line flags, bench/README.md). */
export interface Settings {
  quick: boolean;
  models: string[];
  modes: Mode[];
  engines: EngineId[];
  coldStart: boolean;
  memory: boolean;
  peak: boolean;
  rounds: number;
  runMs: number;
  warmupMs: number;
  firstWarmupMs: number;
  budgetMs: number;
  maxCallMs: number;
  coldRuns: number;
  coldModel: string;
  rnnWasmFrom: RnnWasmFrom;
  outDir: string;
  relaxedFlag: boolean;
  /** Silero VAD files timed per frame (bench/silero.ts). */
  silero: string[];
  /** Concurrent VAD streams served by one core (bench/vad-streams.ts). */
  vadStreams: number[];
  /** Page loads of each VAD page (bench/vad-page.ts); 0: none. */
  vadPage: number;
}

export interface CellResult {
  model: string;
  mode: Mode;
  engine: EngineId;
  status: "ok" | "too-slow" | "skipped" | "disagrees" | "unavailable" | "failed";
  detail?: string;
  /** Variant the engine ran: "keras" or "tfjs-twin" (GRU reset_after=false). */
  variant: string;
  gate?: { maxErr: number; reference: string; tolerance: string };
  /** Seconds per call. */
  perCall?: Summary;
  callsPerRound?: number;
  /** Sequences per second (sequence and batch modes) or steps per second (step). */
  throughput?: Summary;
  gmacs?: Summary;
  pctPeak?: number;
}

export interface RatioResult {
  model: string;
  mode: Mode;
  peer: EngineId;
  /** peer time / rnn-wasm time per round: > 1 means rnn-wasm is faster. */
  ratio: Summary;
  /** Which rnn-wasm engine the ratio is to, when not the default f32 one ("rnn-wasm-int8"). */
  ours?: EngineId;
}

export interface BenchResults {
  meta: {
    date: string;
    node: string;
    v8: string;
    cpu: string;
    cores: number;
    memoryBytes: number;
    platform: string;
    quick: boolean;
    settings: Omit<Settings, "outDir">;
    durationSeconds: number;
    notes: string[];
  };
  peak?: PeakResult;
  engines: { id: EngineId; label: string; available: boolean; reason?: string; notes: string[] }[];
  models: { id: string; title: string; seqLen: number; weightBytes: number; macsPerStep: number; macsPerSequence: number; formula: string; note?: string; tfjsTwin: boolean }[];
  cells: CellResult[];
  ratios: RatioResult[];
  coldStart: { engine: EngineId; model: string; runs: number; ok: boolean; error?: string; firstMs?: Summary; initMs?: Summary; loadMs?: Summary }[];
  memory: (ColdStartResult & { model: string })[];
  streamHow: Record<string, string>;
  silero?: SileroResult[];
  vadStreams?: VadStreamsResult;
  vadPage?: VadPageResult[];
}

export interface PeakResult {
  baseline?: { variants: Record<string, Summary>; best: string; gmacs: number };
  relaxed?: { variants: Record<string, Summary>; best: string; gmacs: number; flag: string } | { error: string };
  /**
   * GMAC/s every "% of peak" figure divides by: the fastest run of the best register-only
   * baseline SIMD128 loop. Load from other processes only slows a loop down, so the fastest
   * run is the closest to the machine's uncontended peak.
   */
  reference: number;
}
