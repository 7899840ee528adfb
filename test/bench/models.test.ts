/**
 * Benchmark models: the analytic MAC counts agree with the weight shapes the builder actually
 * produced, weights are deterministic and shared between the Keras variant and the tfjs twin,
 * and biases are non-zero (a dropped bias would otherwise go unnoticed by the parity checks).
 */
import { describe, expect, it } from "vitest";
import { MODEL_DEFS, macsPerSequence, modelDef } from "../../bench/models.ts";
import { buildBenchModel } from "../../bench/build.ts";
import { benchModel } from "./helpers.ts";

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe.each(MODEL_DEFS.map((d) => d.id))("model %s", (id) => {
  it("MACs per step and per sequence match the kernel shapes", async () => {
    const model = await benchModel(id);
    // Independent count: every kernel and recurrent-kernel element is one MAC per step of its
    // layer; a Dense after a layer returning its last output runs once per sequence.
    let perStepRecurrent = 0;
    let head = 0;
    for (const w of model.main.weights) {
      const layer = model.def.layers.find((l) => w.name.startsWith(`${l.name}/`))!;
      if (w.name.endsWith("/kernel") || w.name.endsWith("/recurrent_kernel")) {
        if (layer.kind === "dense") head += count(w.shape);
        else perStepRecurrent += count(w.shape);
      }
    }
    const T = model.def.seqLen;
    expect(macsPerSequence(model.def, 1)).toBe(perStepRecurrent + head);
    expect(macsPerSequence(model.def, T)).toBe(T * perStepRecurrent + head);
  });

  it("weights are seeded, biases non-zero, twin shares the kernels", async () => {
    const a = await benchModel(id);
    const b = await buildBenchModel(modelDef(id));
    // Buffer.compare: vitest's toEqual walks 13 MB typed arrays element by element, far too slowly.
    expect(Buffer.compare(Buffer.from(b.main.artifacts.weights), Buffer.from(a.main.artifacts.weights))).toBe(0);
    for (const w of a.main.weights.filter((x) => x.name.endsWith("/bias"))) {
      expect(w.data.every((v) => v !== 0), `${w.name} has a zero`).toBe(true);
    }
    const bytes = a.main.weights.reduce((s, w) => s + w.data.byteLength, 0);
    expect(a.main.artifacts.weights.byteLength).toBe(bytes);
    if (a.tfjsTwin) {
      for (const w of a.tfjsTwin.weights) {
        const k = a.main.weights.find((x) => x.name === w.name)!;
        if (w.name.endsWith("/bias") && k.shape.length === 2) {
          expect(k.shape).toEqual([2, w.shape[0]]);
          expect(Buffer.compare(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength), Buffer.from(k.data.buffer, k.data.byteOffset, w.data.byteLength))).toBe(0);
        } else {
          expect(w.data).toBe(k.data);
        }
      }
      const gru = a.main.artifacts.modelJson.modelTopology.config.layers.filter((l) => l.class_name === "GRU");
      expect(gru.length).toBeGreaterThan(0);
      for (const l of gru) expect(l.config.reset_after).toBe(true);
      for (const l of a.tfjsTwin.artifacts.modelJson.modelTopology.config.layers.filter((x) => x.class_name === "GRU")) expect(l.config.reset_after).toBe(false);
    }
  });
});
