/**
 * onnxruntime peers on the ONNX models bench/onnx.ts generates from the same weights:
 * - ort-web: onnxruntime-web, wasm execution provider (SIMD build), numThreads = 1, loaded in
 *   Node from node_modules (its "node" export).
 * - ort-node-1t: onnxruntime-node native CPU provider, intraOpNumThreads = 1, interOp 1.
 * - ort-node: onnxruntime-node with default session options (its own thread pool).
 *
 * Streaming: a separate one-timestep graph with initial_h / initial_c inputs per layer; each
 * step feeds the Y_h / Y_c outputs of the previous one back. The timed call goes through the
 * public `InferenceSession.run`, which in onnxruntime-node includes a setImmediate hop.
 */
import type * as OrtCommon from "onnxruntime-common";
import type { BenchModel, InputTensor, ModelVariant } from "../models.ts";
import { exportOnnx, type OnnxModel } from "../onnx.ts";
import type { Engine, EngineId, LoadedModel, Stream } from "./types.ts";

type OrtModule = {
  InferenceSession: typeof OrtCommon.InferenceSession;
  Tensor: typeof OrtCommon.Tensor;
  env: OrtCommon.Env;
};

const onnxCache = new WeakMap<ModelVariant, { sequence?: OnnxModel; step?: OnnxModel }>();

/** The ONNX graphs for a model variant, generated once per process. */
export function onnxFor(model: BenchModel, variant: ModelVariant, kind: "sequence" | "step"): OnnxModel {
  let entry = onnxCache.get(variant);
  if (!entry) onnxCache.set(variant, (entry = {}));
  return (entry[kind] ??= exportOnnx(model.def, variant, { withState: kind === "step" }));
}

/** Hand in graphs generated elsewhere (the cold-start child reads them from disk). */
export function primeOnnx(variant: ModelVariant, kind: "sequence" | "step", graph: OnnxModel): void {
  let entry = onnxCache.get(variant);
  if (!entry) onnxCache.set(variant, (entry = {}));
  entry[kind] = graph;
}

function tensor(ort: OrtModule, x: InputTensor): OrtCommon.Tensor {
  return new ort.Tensor(x.data instanceof Int32Array ? "int32" : "float32", x.data, x.shape);
}

export async function createOrtEngine(id: Extract<EngineId, "ort-web" | "ort-node-1t" | "ort-node">): Promise<Engine> {
  const web = id === "ort-web";
  const ort = (await import(web ? "onnxruntime-web" : "onnxruntime-node")) as unknown as OrtModule;
  const version = (ort.env.versions as Record<string, string>)[web ? "web" : "node"] ?? "?";
  let options: OrtCommon.InferenceSession.SessionOptions;
  let label: string;
  if (web) {
    ort.env.wasm.numThreads = 1;
    options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    label = `onnxruntime-web ${version} (wasm EP, SIMD, numThreads=1)`;
  } else if (id === "ort-node-1t") {
    options = { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" };
    label = `onnxruntime-node ${version} (native CPU, intraOpNumThreads=1)`;
  } else {
    options = { executionProviders: ["cpu"] };
    label = `onnxruntime-node ${version} (native CPU, default threads)`;
  }
  const notes = web ? [] : [`${id}: onnxruntime-node's InferenceSession.run resolves through setImmediate; that hop is in every timed call.`];

  return {
    id,
    label,
    notes,
    variant: (model) => model.main,
    async load(model: BenchModel): Promise<LoadedModel> {
      const sequenceGraph = onnxFor(model, model.main, "sequence");
      const session = await ort.InferenceSession.create(sequenceGraph.bytes, options);
      let stepSession: OrtCommon.InferenceSession | undefined;
      let stepGraph: OnnxModel | undefined;
      return {
        sync: false,
        async predict(x) {
          const out = await session.run({ [sequenceGraph.inputName]: tensor(ort, x) });
          return out[sequenceGraph.outputName].data as Float32Array;
        },
        async openStream(): Promise<Stream> {
          stepGraph ??= onnxFor(model, model.main, "step");
          stepSession ??= await ort.InferenceSession.create(stepGraph.bytes, options);
          const graph = stepGraph;
          const s = stepSession;
          const zeros = () => {
            const feeds: Record<string, OrtCommon.Tensor> = {};
            for (const st of graph.states) for (const name of st.inputs) feeds[name] = new ort.Tensor("float32", new Float32Array(st.units), [1, 1, st.units]);
            return feeds;
          };
          let state = zeros();
          return {
            how: "one-timestep ONNX graph; initial_h/initial_c fed from the previous Y_h/Y_c",
            async step(x) {
              const out = await s.run({ ...state, [graph.inputName]: tensor(ort, x) });
              const next: Record<string, OrtCommon.Tensor> = {};
              for (const name of Object.keys(state)) next[name] = out[`${name}_out`];
              state = next;
              return out[graph.outputName].data as Float32Array;
            },
            reset() {
              state = zeros();
            },
            dispose() {},
          };
        },
        dispose() {
          void session.release();
          void stepSession?.release();
        },
      };
    },
    async dispose() {},
  };
}
