/**
 * What every importer builds: the model spec's ops in order, its tensors with their shapes
 * (computed by src/model/shapes.ts as each op is added) and its packed weights. Importers
 * translate their format's layers or nodes into calls on a SpecBuilder; they never lay out
 * memory or run anything.
 */
import { RnnWasmError } from "../errors.js";
import { opOutputShapes } from "../model/shapes.js";
import type { Op, TensorInfo, WeightSpec } from "../model/spec.js";

export class SpecBuilder {
  ops: Op[] = [];
  /** No prototype: tensor ids come from the model file and may be any string. */
  tensors: Record<string, TensorInfo> = Object.create(null);
  weights: WeightSpec[] = [];
  data = new Map<string, Float32Array>();
  private aliases = new Map<string, string>();

  /** The tensor an id stands for after aliasing (layers that pass their input through). */
  resolve(id: string): string {
    let cur = id;
    for (let guard = 0; this.aliases.has(cur) && guard < 10000; guard++) cur = this.aliases.get(cur)!;
    return cur;
  }

  info(id: string): TensorInfo {
    const t = this.tensors[this.resolve(id)];
    if (!t) throw new RnnWasmError("E_MODEL_JSON", `tensor ${id} is used before it is produced`);
    return t;
  }

  has(id: string): boolean {
    return this.tensors[this.resolve(id)] !== undefined;
  }

  alias(out: string, input: string): void {
    this.aliases.set(out, this.resolve(input));
  }

  /** Adds a packed weight once (a second call with the same name returns the first). */
  addWeight(name: string, layout: string, data: Float32Array, sourceShape: number[], params: number): string {
    if (!this.data.has(name)) {
      this.weights.push({ name, layout, length: data.length, sourceShape, params });
      this.data.set(name, data);
    }
    return name;
  }

  /** Appends `op`, computing its output shapes; returns the output ids. */
  emit(op: Op, mask?: string): string[] {
    op.inputs = op.inputs.map((i) => this.resolve(i));
    let shapes: ReturnType<typeof opOutputShapes>;
    try {
      shapes = opOutputShapes(op, op.inputs.map((i) => this.info(i).shape));
    } catch (e) {
      if (!(e instanceof RnnWasmError) || e.message.startsWith("layer ")) throw e;
      throw new RnnWasmError(e.code, `layer ${op.layer}: ${e.message}`, { cause: e });
    }
    op.outputs.forEach((o, k) => {
      this.tensors[o] = { shape: shapes[k] };
    });
    if (mask) this.tensors[op.outputs[0]].mask = mask;
    this.ops.push(op);
    return op.outputs;
  }
}
