/** Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum (masks ANDed, as Keras does). */
import { RnnWasmError } from "../../../errors.js";
import { type LayerContext, type LayerTranslator, unsupported } from "../context.js";

const MERGE_MODES = {
  Concatenate: "concat", Add: "add", Subtract: "sub", Multiply: "mul", Average: "avg", Maximum: "max", Minimum: "min",
} as const;

function merge(ctx: LayerContext): void {
  const { b, c, layer, where, outId, call } = ctx;
  if (call.inputs.length < 2) throw new RnnWasmError("E_MODEL_JSON", `${where} needs at least 2 inputs, received ${call.inputs.length}`);
  const shapes = call.inputs.map((i) => b.info(i).shape);
  const mode = MERGE_MODES[layer.className as keyof typeof MERGE_MODES];
  if (mode === "sub" && call.inputs.length !== 2) throw new RnnWasmError("E_MODEL_JSON", `${where} needs exactly 2 inputs`);
  if (mode === "concat") {
    const axis = typeof c.axis === "number" ? c.axis : -1;
    const rank = shapes[0].length;
    if (!(axis === -1 || axis === rank)) unsupported(layer, "axis", axis, "concatenation along the last axis only");
    for (const s of shapes) {
      if (s.length !== rank || s.slice(0, -1).some((d, i) => d !== shapes[0][i])) {
        throw new RnnWasmError("E_SHAPE", `${where}: inputs [${shapes.map((s2) => `[${s2.join(", ")}]`).join(", ")}] cannot be concatenated on the last axis`);
      }
    }
  } else {
    for (const s of shapes) {
      if (s.length !== shapes[0].length || s.some((d, i) => d !== shapes[0][i])) {
        throw new RnnWasmError("E_SHAPE", `${where}: input shapes must match, received ${shapes.map((s2) => `[${s2.join(", ")}]`).join(" and ")}`);
      }
    }
  }
  const masks = call.inputs.map((i) => b.info(i).mask).filter((m): m is string => !!m);
  let mask: string | undefined;
  const outs = [outId(0)];
  if (masks.length) {
    mask = `${outId(0)}/mask`;
    outs.push(mask);
  }
  b.emit({ op: "merge", layer: layer.name, inputs: call.inputs, outputs: outs, mode, axis: -1 });
  if (mask) {
    b.tensors[mask] = { shape: [shapes[0][0]] };
    b.tensors[outId(0)].mask = mask;
  }
}

export const mergeLayers: Record<string, LayerTranslator> = Object.fromEntries(Object.keys(MERGE_MODES).map((name) => [name, merge]));
