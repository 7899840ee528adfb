/**
 * The state a Keras layer translator works with: the spec being built, the file's weights, and
 * the version-dependent semantics of whoever wrote the model (tfjs, Keras 2, Keras 3), plus the
 * small config readers every translator shares.
 */
import { RnnWasmError } from "../../errors.js";
import type { ModelArtifacts } from "../artifacts.js";
import { SpecBuilder } from "../spec-builder.js";
import { activationCode, activationName } from "./activations.js";
import { tensorId, type Json, type LayerCall, type LayerDef } from "./topology.js";
import { LayerWeights, WeightIndex } from "./weights.js";

export class KerasBuilder extends SpecBuilder {
  readonly keras3: boolean;
  readonly recurrentDefault: string;
  /**
   * Where tfjs-layers and Keras differ (masked GlobalAveragePooling1D, Bidirectional outputs
   * at masked steps), follow the framework that wrote the model: models saved by tfjs
   * (keras_version "tfjs-layers x") get tfjs' behaviour, Keras-written ones (also when
   * converted to tfjs) Keras' behaviour, i.e. what the model did when it was trained.
   */
  readonly tfjsSemantics: boolean;

  /** [major, minor] of the Keras that wrote the model ([0, 0] for tfjs or when unknown). */
  readonly kerasRelease: [number, number];

  constructor(art: ModelArtifacts, private index: WeightIndex) {
    super();
    const v = art.kerasVersion ?? "";
    const release = /^(\d+)\.(\d+)/.exec(v);
    this.kerasRelease = release ? [Number(release[1]), Number(release[2])] : [0, 0];
    this.keras3 = art.origin === "keras3" || /^3\./.test(v);
    // Keras <= 2.2 and tfjs default LSTM/GRU recurrent_activation to hard_sigmoid; tf.keras
    // 2.3+ and Keras 3 to sigmoid. Only used when a config omits the key.
    const m = /^2\.(\d+)/.exec(v);
    this.recurrentDefault = this.keras3 || (m && Number(m[1]) >= 3) ? "sigmoid" : "hard_sigmoid";
    this.tfjsSemantics = /^tfjs/i.test(v) || (art.origin === "tfjs" && v === "");
  }

  weightsOf(layer: LayerDef): LayerWeights {
    return new LayerWeights(layer, this.index.forLayer(layer.name), this.index);
  }

  /** Whether the model was written by Keras `major.minor` or later. */
  kerasAtLeast(major: number, minor: number): boolean {
    const [a, b] = this.kerasRelease;
    return a > major || (a === major && b >= minor);
  }

  act(value: unknown, where: string, fallback = "linear"): number {
    return activationCode(activationName(value === undefined ? fallback : value, where), this.keras3);
  }
}

/** One layer call being translated. */
export interface LayerContext {
  b: KerasBuilder;
  call: LayerCall;
  layer: LayerDef;
  /** The layer's config. */
  c: Json;
  /** The call's first input. */
  x: string;
  /** `layer (Class)`, for messages. */
  where: string;
  /** Output `k` of this call. */
  outId(k: number): string;
  /** The model's input tensors (Embedding reads token ids from one of them). */
  graphInputs: Set<string>;
  /** Translates another layer in this call's place (wrappers: TimeDistributed). */
  translate(call: LayerCall): void;
}

/** Translates one layer class: emits ops into `ctx.b`, or aliases its outputs. */
export type LayerTranslator = (ctx: LayerContext) => void;

export function contextFor(b: KerasBuilder, call: LayerCall, graphInputs: Set<string>, translate: (call: LayerCall) => void): LayerContext {
  const { layer } = call;
  return {
    b, call, layer, graphInputs, translate,
    c: layer.config,
    x: call.inputs[0],
    where: `layer ${layer.name} (${layer.className})`,
    outId: (k) => tensorId(layer.name, call.node, k, call.scope),
  };
}

export function num(config: Json, key: string, fallback?: number): number {
  const v = config[key];
  if (Array.isArray(v) && typeof v[0] === "number") return v[0];
  if (typeof v === "number") return v;
  if (fallback !== undefined) return fallback;
  throw new RnnWasmError("E_MODEL_JSON", `layer ${String(config.name)}: option ${key} is missing`);
}

export function bool(config: Json, key: string, fallback: boolean): boolean {
  const v = config[key];
  return typeof v === "boolean" ? v : fallback;
}

export function unsupported(layer: LayerDef, option: string, value: unknown, why = ""): never {
  throw new RnnWasmError(
    "E_UNSUPPORTED_OPTION",
    `layer ${layer.name} (${layer.className}): ${option}=${JSON.stringify(value)} is not supported${why ? ` (${why})` : ""}`,
  );
}

export function featureDim(b: SpecBuilder, layer: LayerDef, input: string, rank?: number): number {
  const shape = b.info(input).shape;
  if (rank !== undefined && shape.length !== rank) {
    throw new RnnWasmError(
      "E_SHAPE",
      `layer ${layer.name} (${layer.className}) expects input of rank ${rank + 1} (with batch), received shape [batch, ${shape.map((d) => d ?? "?").join(", ")}]`,
    );
  }
  const f = shape[shape.length - 1];
  if (typeof f !== "number") {
    throw new RnnWasmError("E_SHAPE", `layer ${layer.name} (${layer.className}): the feature axis of its input must be known, got [${shape.join(", ")}]`);
  }
  return f;
}

export function requireNoMask(b: SpecBuilder, layer: LayerDef, inputs: string[]): void {
  for (const i of inputs) {
    if (b.info(i).mask) {
      throw new RnnWasmError(
        "E_UNSUPPORTED_OPTION",
        `layer ${layer.name} (${layer.className}) does not support masking, but its input carries a mask (as in Keras and tfjs, which reject this model)`,
      );
    }
  }
}

export function checkPositiveTime(b: SpecBuilder, layer: LayerDef, out: string): void {
  const T = b.info(out).shape[0];
  if (typeof T === "number" && T < 1) {
    throw new RnnWasmError("E_SHAPE", `layer ${layer.name} (${layer.className}) would produce ${T} timesteps from its input`);
  }
}

/** A keyword argument of a layer call as the config records it (tensors as `{__input__: i}`); undefined when absent. */
export function callArg(call: LayerCall, name: string): unknown {
  return call.kwargs[name];
}

/** The tensor id a call argument stands for, or undefined when it is not a tensor. */
export function tensorOf(call: LayerCall, v: unknown): string | undefined {
  const i = typeof v === "object" && v !== null ? (v as { __input__?: unknown }).__input__ : undefined;
  return typeof i === "number" ? call.inputs[i] : undefined;
}

/**
 * A layer that does not support masking (Keras: the mask stops there, silently in tf.keras 2,
 * with a warning in Keras 3). tfjs refuses such a model, so a model written by tfjs cannot
 * have one: say so rather than guess.
 */
export function dropsMask(b: KerasBuilder, layer: LayerDef, inputs: string[]): void {
  if (b.tfjsSemantics) requireNoMask(b, layer, inputs);
}
