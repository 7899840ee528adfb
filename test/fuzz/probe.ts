/**
 * What every model-making fuzzer does with a model that loaded: the runtime must work on it
 * or refuse with a typed error, call by call. predict on inputs of the declared shapes gives
 * outputs of the declared shapes; a session's run equals predict bit for bit and a restored
 * snapshot continues exactly; the tokenizer stays within its bounds on hostile text; nothing
 * traps (E_WASM). Returns a label of what worked; throws a Defect for a wrong answer.
 */
import type { Model } from "../../src/index.ts";
import { codeOf, Defect } from "./harness.ts";

type Tensor = { data: Float32Array | Int32Array; shape: number[] };

/** Runs `fn`; a typed refusal other than a trap comes back as its code. */
function attempt<T>(fn: () => T): T | { refused: string } {
  try {
    return fn();
  } catch (e) {
    const code = codeOf(e);
    if (code === null || code === "E_WASM") throw e;
    return { refused: code };
  }
}
const refusedWith = (v: unknown): string | null => (typeof v === "object" && v !== null && "refused" in v ? (v as { refused: string }).refused : null);

const HOSTILE_TEXTS = ["", "1".repeat(3000) + "k", "a".repeat(2000) + "!", "$SPY 12.5% 20k https://x.co/" + "x".repeat(500), " \t\n\u0085".repeat(300), "é🚀".repeat(200), "\u0000\uffff\ud800"];

export function probeModel(model: Model): string {
  const spec = model.spec;
  const T = 3;
  const inputs: Tensor[] = [];
  for (const inp of spec.inputs) {
    const shape = [1, ...inp.shape.map((d) => d ?? T)];
    const n = shape.reduce((a, b) => a * b, 1);
    if (!(n <= 1 << 20)) return "loaded (inputs too large to probe)";
    if (inp.dtype === "int32") {
      const limits = spec.ops.filter((op) => op.op === "embedding" && op.inputs[0] === inp.tensor).map((op) => (op as { inputDim: number }).inputDim);
      const limit = Math.max(1, Math.min(...limits, 2 ** 31));
      inputs.push({ data: Int32Array.from({ length: n }, (_, i) => (i * 7919) % limit), shape });
    } else inputs.push({ data: Float32Array.from({ length: n }, (_, i) => Math.sin(1 + i * 0.7)), shape });
  }
  const x = inputs.length === 1 ? inputs[0] : inputs;
  const labels: string[] = [];
  model.resetStates();
  const y = attempt(() => model.predict(x) as Tensor | Tensor[]);
  const refused = refusedWith(y);
  if (refused) labels.push(`predict ${refused}`);
  else {
    const outs = Array.isArray(y) ? (y as Tensor[]) : [y as Tensor];
    if (outs.length !== model.outputs.length) throw new Defect(`predict gave ${outs.length} outputs, the model declares ${model.outputs.length}`);
    outs.forEach((o, k) => {
      const declared = model.outputs[k].shape;
      const ok = o.shape.length === declared.length && declared.every((d, j) => d === null || j === 0 || d === o.shape[j]) && o.data.length === o.shape.reduce((a, b) => a * b, 1);
      if (!ok) throw new Defect(`output ${k} has shape [${o.shape}] (${o.data.length} values), the model declares [${declared}]`);
    });
    labels.push("predicts");
    const session = attempt(() => model.createSession());
    if (!refusedWith(session)) {
      const s = session as ReturnType<Model["createSession"]>;
      const run = attempt(() => s.run(x as Tensor) as Tensor | Tensor[]);
      if (!refusedWith(run)) {
        const a = (Array.isArray(run) ? run : [run]) as Tensor[];
        a.forEach((o, k) => {
          const p = outs[k];
          if (o.data.length !== p.data.length || o.data.some((v, j) => !Object.is(v, p.data[j]))) throw new Defect(`session.run differs from predict at output ${k}: ${Array.from(o.data.slice(0, 4))} vs ${Array.from(p.data.slice(0, 4))}`);
        });
        // a snapshot restored in a new session continues exactly as the original
        const snap = s.getState();
        const twin = model.createSession();
        twin.setState(snap);
        const step = inputs.map((t) => ({ data: t.data.slice(0, t.data.length / t.shape[1]), shape: [1, ...t.shape.slice(2)] }));
        const next = attempt(() => s.step(step.length === 1 ? step[0] : step) as Tensor | Tensor[]);
        const next2 = attempt(() => twin.step(step.length === 1 ? step[0] : step) as Tensor | Tensor[]);
        if (JSON.stringify(Array.from(((Array.isArray(next) ? next[0] : next) as Tensor)?.data ?? [])) !== JSON.stringify(Array.from(((Array.isArray(next2) ? next2[0] : next2) as Tensor)?.data ?? []))) {
          throw new Defect("a restored snapshot steps differently from the session it came from");
        }
        labels.push("streams");
        twin.dispose();
      }
      s.dispose();
    }
  }
  const tok = model.tokenizer;
  if (tok) {
    for (const text of HOSTILE_TEXTS) {
      const ids = attempt(() => tok.encode(text));
      if (refusedWith(ids)) continue;
      const arr = ids as Int32Array;
      if (arr.length > 65536) throw new Defect(`encode returned ${arr.length} ids`);
      attempt(() => tok.decode(arr));
    }
    labels.push("tokenizes");
  }
  return labels.join(", ");
}
