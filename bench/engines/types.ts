/**
 * The engine adapter contract. Every engine (rnn-wasm and each peer) loads a BenchModel from
 * the same weights and exposes the same three calls the harness times: predict a batch,
 * open a batch-1 stream, step it. Inputs and outputs are plain typed arrays, batch first;
 * converting them to and from the engine's tensors is part of every timed call, as it is for
 * a user.
 */
import type { BenchModel, InputTensor, ModelVariant } from "../models.ts";

export type EngineId = "rnn-wasm" | "rnn-wasm-int8" | "tfjs-cpu" | "tfjs-wasm" | "tfjs-node" | "ort-web" | "ort-node-1t" | "ort-node";

export interface Stream {
  /** One timestep x_t ([1, 1] tokens or [1, 1, F] features) -> head output at t. */
  step(x: InputTensor): Float32Array | Promise<Float32Array>;
  reset(): void;
  dispose(): void;
  /** How the engine carries state across calls, for the report. */
  readonly how: string;
}

export interface LoadedModel {
  /** Whole sequences -> head output [b, out] (row-major). */
  predict(x: InputTensor): Float32Array | Promise<Float32Array>;
  openStream(): Stream | Promise<Stream>;
  /** True when predict and step return values, not promises (the timer then does not await). */
  readonly sync: boolean;
  /** Called before each timed run, outside the timer (tfjs: switch to this engine's backend). */
  activate?(): Promise<void>;
  /** Resident bytes the engine reports through its own API, when it has one. */
  residentBytes?(): { model?: number; session?: number; how: string } | undefined;
  dispose(): void;
}

export interface Engine {
  id: EngineId;
  /** Package, version and settings as measured ("onnxruntime-web 1.30.0, wasm SIMD, 1 thread"). */
  label: string;
  notes: string[];
  /** The model variant this engine runs (tfjs engines run the GRU reset_after=false twin). */
  variant(model: BenchModel): ModelVariant;
  load(model: BenchModel): Promise<LoadedModel>;
  dispose(): Promise<void>;
}

export class EngineUnavailable extends Error {
  constructor(readonly engine: EngineId, reason: string) {
    super(reason);
    this.name = "EngineUnavailable";
  }
}
