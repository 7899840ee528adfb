/**
 * tfjs peers: @tensorflow/tfjs with the cpu backend, @tensorflow/tfjs-backend-wasm (XNNPACK,
 * SIMD) and @tensorflow/tfjs-node when it can be imported. All share one tfjs engine, so each
 * model is loaded while its backend is active (its weights then live in that backend) and the
 * harness calls `activate()` before each timed run; no tensor moves between backends.
 *
 * Streaming: a stateful twin (batchInputShape [1, 1, ...], stateful: true, same weights) called
 * with one timestep per predict; tfjs keeps the state between calls and resetStates() clears it.
 * That is what a tfjs user does to stream.
 *
 * GRU reset_after=true cannot run in tfjs; these engines run the reset_after=false twin.
 */
import type * as TF from "@tensorflow/tfjs";
import { buildTfjsLayers, tfjsVariant, type BenchModel, type InputTensor } from "../models.ts";
import { EngineUnavailable, type Engine, type EngineId, type LoadedModel, type Stream } from "./types.ts";

type Backend = "cpu" | "wasm" | "tensorflow";

let tfModule: typeof TF | undefined;
async function loadTf(): Promise<typeof TF> {
  tfModule ??= await import("@tensorflow/tfjs");
  return tfModule;
}

async function switchTo(tf: typeof TF, backend: Backend): Promise<void> {
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`tfjs backend ${backend} failed to initialise`);
  }
}

function toTensor(tf: typeof TF, x: InputTensor): TF.Tensor {
  return tf.tensor(x.data, x.shape, x.data instanceof Int32Array ? "int32" : "float32");
}

function run(tf: typeof TF, backend: Backend, model: TF.LayersModel, x: InputTensor): Float32Array {
  if (tf.getBackend() !== backend) throw new Error(`tfjs ${backend} model called while ${tf.getBackend()} is active`);
  const input = toTensor(tf, x);
  const output = model.predict(input) as TF.Tensor;
  const data = output.dataSync() as Float32Array;
  input.dispose();
  output.dispose();
  return data;
}

export async function createTfjsEngine(id: Extract<EngineId, "tfjs-cpu" | "tfjs-wasm" | "tfjs-node">): Promise<Engine> {
  const backend: Backend = id === "tfjs-cpu" ? "cpu" : id === "tfjs-wasm" ? "wasm" : "tensorflow";
  const notes: string[] = [];
  if (backend === "tensorflow") {
    try {
      await import("@tensorflow/tfjs-node" as string);
    } catch (e) {
      throw new EngineUnavailable(id, `@tensorflow/tfjs-node cannot be imported (${(e as Error).message.split("\n")[0]})`);
    }
  }
  const tf = await loadTf();
  if (backend === "wasm") await import("@tensorflow/tfjs-backend-wasm");
  await switchTo(tf, backend);
  await tf.ready();
  let label = `@tensorflow/tfjs ${tf.version.tfjs} (${backend} backend)`;
  if (backend === "wasm") {
    const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
    const threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");
    label = `@tensorflow/tfjs-backend-wasm ${tf.version.tfjs} (XNNPACK, ${simd ? "SIMD" : "no SIMD"}, ${threads ? "multithreaded build" : "1 thread"})`;
    notes.push(`tfjs-wasm: SIMD ${simd ? "on" : "off"}; multithreaded build ${threads ? "used" : "not available in Node, single thread"}.`);
  }

  const engine: Engine = {
    id,
    label,
    notes,
    variant: tfjsVariant,
    async load(model: BenchModel): Promise<LoadedModel> {
      await switchTo(tf, backend);
      const variant = tfjsVariant(model);
      const { modelJson, weights } = variant.artifacts;
      const layersModel = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights as TF.io.WeightsManifestEntry[],
        weightData: weights,
      }));
      let statefulTwin: TF.Sequential | undefined;
      return {
        sync: true,
        activate: () => switchTo(tf, backend),
        predict: (x) => run(tf, backend, layersModel, x),
        openStream(): Stream {
          if (!statefulTwin) {
            statefulTwin = buildTfjsLayers(tf, model.def, variant.layers, { stateful: true });
            statefulTwin.setWeights(layersModel.getWeights());
          }
          const twin = statefulTwin;
          twin.resetStates();
          return {
            how: "stateful twin model (batch 1, 1 timestep, stateful: true), one predict per step",
            step: (x) => run(tf, backend, twin, x),
            reset: () => twin.resetStates(),
            dispose: () => twin.resetStates(),
          };
        },
        dispose() {
          statefulTwin?.dispose();
          layersModel.dispose();
        },
      };
    },
    async dispose() {},
  };
  return engine;
}
