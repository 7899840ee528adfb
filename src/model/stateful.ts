/**
 * State of layers imported with stateful: true (tfjs semantics: h and c carried from one
 * predict to the next until resetStates()). Few models have them, so this is a chunk that
 * loadModel hands to the models that do (src/index.ts), like the generation chunk.
 */
import { fail } from "../errors.js";
import type { KernelInstance } from "../wasm/kernels.js";
import type { StateProvider, StateSlot } from "./executor.js";
import { padTo8 } from "./layout.js";
import type { ModelSpec } from "./spec.js";

export class StatefulLayers implements StateProvider {
  /** h and c rows of each stateful layer (by op index), one block each; tied to the first batch size seen. */
  private slots = new Map<number, StateSlot & { bytes: number }>();

  constructor(private readonly kernels: KernelInstance, private readonly spec: ModelSpec) {}

  slot(idx: number, op: { stateful: boolean; units: number }, batch: number): StateSlot | null {
    if (!op.stateful) return null;
    let s = this.slots.get(idx);
    if (s && s.batch !== batch) fail("E_SHAPE", `model ${this.spec.name}: stateful layers hold batch ${s.batch}, not ${batch} (resetStates() first)`);
    if (!s) {
      const bytes = batch * padTo8(op.units) * 4;
      const h = this.kernels.alloc(2 * bytes, "stateful layer state");
      this.slots.set(idx, (s = { batch, h, c: h + bytes, bytes: 2 * bytes }));
    }
    return s;
  }

  /** Zeroes every stateful layer's state (tfjs model.resetStates()). */
  reset(): void {
    for (const s of this.slots.values()) this.kernels.release(s.h, s.bytes);
    this.slots.clear();
  }
}
