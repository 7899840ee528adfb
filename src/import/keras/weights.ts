/**
 * Finds each layer's weights among the file's named weights, by layer name and role (the last
 * path component: kernel, recurrent_kernel, bias, embeddings, gamma, ...), and checks their
 * shapes and values before a translator uses them.
 */
import { RnnWasmError } from "../../errors.js";
import type { NamedWeight } from "../artifacts.js";
import type { LayerDef } from "./topology.js";

interface WeightEntry { path: string[]; role: string; w: NamedWeight }

export class WeightIndex {
  private entries: WeightEntry[];
  /** Entries by their first path component, and by every component but the role (one pass, so a lookup per layer stays linear overall). */
  private byFirst = new Map<string, WeightEntry[]>();
  private byAny = new Map<string, WeightEntry[]>();
  constructor(weights: NamedWeight[]) {
    const add = (m: Map<string, WeightEntry[]>, k: string, e: WeightEntry) => {
      const list = m.get(k);
      if (list) list.push(e);
      else m.set(k, [e]);
    };
    this.entries = weights.map((w) => {
      const path = w.name.replace(/:\d+$/, "").split("/");
      const e = { path, role: path[path.length - 1], w };
      if (path.length > 1) add(this.byFirst, path[0], e);
      for (const c of new Set(path.slice(0, -1))) add(this.byAny, c, e);
      return e;
    });
  }

  /** Weights belonging to `layer`: first path component equal to it, else any component. */
  forLayer(layer: string): WeightEntry[] {
    return this.byFirst.get(layer) ?? this.byAny.get(layer) ?? [];
  }

  names(): string[] {
    return this.entries.map((e) => e.w.name);
  }
}

export class LayerWeights {
  constructor(private layer: LayerDef, private entries: WeightEntry[], private all: WeightIndex) {}

  /** Restricts to one side of a Bidirectional wrapper. */
  side(prefix: "forward" | "backward"): LayerWeights {
    const sel = this.entries.filter((e) => e.path.slice(1, -1).some((c) => c.startsWith(prefix)));
    return new LayerWeights(this.layer, sel, this.all);
  }

  /** Restricts to a sublayer's weights (MultiHeadAttention's `query`, `key`, `value`, `attention_output`). */
  under(sublayer: string): LayerWeights {
    return new LayerWeights(this.layer, this.entries.filter((e) => e.path.slice(1, -1).includes(sublayer)), this.all);
  }

  has(role: string): boolean {
    return this.entries.some((e) => e.role === role);
  }

  get(role: string, expected: (number | null)[] | ((shape: number[]) => boolean), expectedText?: string): NamedWeight {
    const found = this.entries.filter((e) => e.role === role);
    const L = `layer ${this.layer.name} (${this.layer.className})`;
    if (found.length === 0) {
      const have = this.entries.map((e) => e.w.name);
      throw new RnnWasmError(
        "E_WEIGHTS",
        `${L} needs weight "${role}" but none was found; weights for this layer: [${have.join(", ") || "none"}]` +
          (have.length ? "" : `; all weights: [${this.all.names().slice(0, 20).join(", ")}${this.all.names().length > 20 ? ", ..." : ""}]`),
      );
    }
    if (found.length > 1) {
      throw new RnnWasmError("E_WEIGHTS", `${L}: weight "${role}" is ambiguous: [${found.map((e) => e.w.name).join(", ")}]`);
    }
    const w = found[0].w;
    const ok = typeof expected === "function"
      ? expected(w.shape)
      : w.shape.length === expected.length && expected.every((d, i) => d === null || d === w.shape[i]);
    if (!ok) {
      throw new RnnWasmError(
        "E_WEIGHTS",
        `${L}: weight ${w.name} has shape [${w.shape.join(", ")}], expected ${expectedText ?? `[${(expected as unknown[]).map((d) => d ?? "?").join(", ")}]`}`,
      );
    }
    const count = w.shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== count) {
      throw new RnnWasmError("E_WEIGHTS", `${L}: weight ${w.name} holds ${w.data.length} values, its shape [${w.shape.join(", ")}] needs ${count}`);
    }
    // a NaN or infinite weight (a diverged training run, a damaged file) would make every
    // output NaN without a word: refuse it here, where the layer and weight can be named
    for (let i = 0; i < count; i++) {
      if (!Number.isFinite(w.data[i])) {
        throw new RnnWasmError("E_WEIGHTS", `${L}: weight ${w.name} holds ${w.data[i]} at flat index ${i}; weights must be finite (did the training diverge?)`);
      }
    }
    return w;
  }
}

