/**
 * ONNX export of a benchmark model (opset 17) from the same weights the tfjs artifacts carry,
 * written with onnx-proto (protobufjs). test/bench/onnx.test.ts checks every generated model on
 * onnxruntime-node against tfjs (cpu) or the float64 reference: that test is what proves this
 * translation.
 *
 * Translation (Keras -> ONNX):
 * - LSTM: Keras kernel [in, 4u] in gate order i,f,c,o -> W [1, 4u, in] in ONNX order i,o,f,c;
 *   recurrent kernel likewise -> R [1, 4u, u]; B [1, 8u] = Wb (the Keras bias) then Rb (zeros).
 * - GRU: both use z,r,h, so W/R are the transposed kernels. reset_after=true ->
 *   linear_before_reset=1, Keras bias[0] -> Wb, bias[1] -> Rb; reset_after=false ->
 *   linear_before_reset=0, bias -> Wb, zeros -> Rb.
 * - Activations: ONNX defaults (f=Sigmoid, g=h=Tanh) equal Keras recurrent_activation=sigmoid,
 *   activation=tanh; anything else is refused rather than translated approximately.
 * - Embedding -> Gather; Dense -> Gemm (or MatMul+Add on a time axis); Sigmoid / Softmax.
 * - Layout: ONNX RNNs take [seq, batch, feature]; onnxruntime does not run layout=1, so the
 *   input is transposed once (tokens [b,T] -> [T,b] before the Gather, so no float transpose).
 *
 * `withState` builds the streaming graph: per recurrent layer, initial_h (and initial_c) inputs
 * `state_<layer>_h` / `state_<layer>_c` [1, b, u], and outputs `<same>_out` from Y_h / Y_c.
 */
import onnxProto from "onnx-proto";
import type { LayerDef, ModelDef, ModelVariant, NamedWeight } from "./models.ts";

const { onnx } = onnxProto;

export const ONNX_OPSET = 17;
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const ATTR_INT = 2;

export interface OnnxStateName {
  layer: string;
  /** Input names, [h] or [h, c]; the matching outputs are `${name}_out`. */
  inputs: string[];
  units: number;
}

export interface OnnxModel {
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
  states: OnnxStateName[];
}

interface GraphBuilder {
  nodes: onnxProto.onnx.INodeProto[];
  initializers: onnxProto.onnx.ITensorProto[];
  inputs: onnxProto.onnx.IValueInfoProto[];
  outputs: onnxProto.onnx.IValueInfoProto[];
  counter: number;
}

function floatTensor(name: string, dims: number[], data: Float32Array): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

function int64Tensor(name: string, values: number[]): onnxProto.onnx.ITensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) };
}

/** A shared int64 [axis] initialiser for Squeeze (opset 13+ takes axes as an input). */
function axes(g: GraphBuilder, axis: number): string {
  const name = `axes_${axis}`;
  if (!g.initializers.some((t) => t.name === name)) g.initializers.push(int64Tensor(name, [axis]));
  return name;
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function intAttr(name: string, i: number): onnxProto.onnx.IAttributeProto {
  return { name, type: ATTR_INT, i };
}

function intsAttr(name: string, ints: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: 7, ints };
}

function node(g: GraphBuilder, opType: string, inputs: string[], outputs: string[] | number, attribute: onnxProto.onnx.IAttributeProto[] = []): string[] {
  const names = typeof outputs === "number" ? Array.from({ length: outputs }, (_, i) => `${opType.toLowerCase()}_${g.counter}_${i}`) : outputs;
  g.nodes.push({ opType, input: inputs, output: names, name: `${opType}_${g.counter++}`, attribute });
  return names;
}

/** Transposed [in, gates*u] Keras matrix -> [1, gates*u, in], gate blocks reordered. */
function gateMajor(w: NamedWeight, units: number, order: number[]): Float32Array {
  const [rows, cols] = w.shape;
  const out = new Float32Array(rows * cols);
  order.forEach((kerasGate, onnxGate) => {
    for (let j = 0; j < units; j++) {
      const srcCol = kerasGate * units + j;
      const dstRow = onnxGate * units + j;
      for (let k = 0; k < rows; k++) out[dstRow * rows + k] = w.data[k * cols + srcCol];
    }
  });
  return out;
}

function reorderVector(v: Float32Array, units: number, order: number[]): Float32Array {
  const out = new Float32Array(order.length * units);
  order.forEach((kerasGate, onnxGate) => out.set(v.subarray(kerasGate * units, (kerasGate + 1) * units), onnxGate * units));
  return out;
}

/** ONNX LSTM gate o-th position -> Keras gate index: ONNX i,o,f,c from Keras i,f,c,o. */
const LSTM_ORDER = [0, 3, 1, 2];
const GRU_ORDER = [0, 1, 2];

function layerInputSize(def: ModelDef, layers: LayerDef[], index: number): number {
  let size = def.input.kind === "features" ? def.input.features : 0;
  for (let i = 0; i < index; i++) {
    const l = layers[i];
    size = l.kind === "embedding" ? l.dim : l.units;
  }
  return size;
}

export function exportOnnx(def: ModelDef, variant: ModelVariant, opts: { withState?: boolean } = {}): OnnxModel {
  const withState = opts.withState === true;
  const layers = variant.layers;
  const byName = new Map(variant.weights.map((w) => [w.name, w]));
  const get = (name: string) => {
    const w = byName.get(name);
    if (!w) throw new Error(`onnx export ${def.id}: missing weight ${name}`);
    return w;
  };
  const g: GraphBuilder = { nodes: [], initializers: [], inputs: [], outputs: [], counter: 0 };
  const states: OnnxStateName[] = [];
  const inputName = "input";
  const outputName = "output";
  const time = withState ? 1 : "time";

  let current: string;
  // Whether `current` is [T, b, f] (time-major) or [b, f].
  let timeMajor = true;
  if (def.input.kind === "tokens") {
    g.inputs.push(valueInfo(inputName, INT32, ["batch", time]));
    [current] = node(g, "Transpose", [inputName], 1, [intsAttr("perm", [1, 0])]);
  } else {
    g.inputs.push(valueInfo(inputName, FLOAT, ["batch", time, def.input.features]));
    [current] = node(g, "Transpose", [inputName], 1, [intsAttr("perm", [1, 0, 2])]);
  }

  layers.forEach((layer, li) => {
    const inSize = layerInputSize(def, layers, li);
    if (layer.kind === "embedding") {
      const table = get(`${layer.name}/embeddings`);
      g.initializers.push(floatTensor(`${layer.name}.embeddings`, table.shape, table.data));
      [current] = node(g, "Gather", [`${layer.name}.embeddings`, current], 1, [intAttr("axis", 0)]);
      return;
    }
    if (layer.kind === "dense") {
      const kernel = get(`${layer.name}/kernel`);
      const bias = get(`${layer.name}/bias`);
      g.initializers.push(floatTensor(`${layer.name}.kernel`, kernel.shape, kernel.data), floatTensor(`${layer.name}.bias`, bias.shape, bias.data));
      if (timeMajor) {
        const [mm] = node(g, "MatMul", [current, `${layer.name}.kernel`], 1);
        [current] = node(g, "Add", [mm, `${layer.name}.bias`], 1);
      } else {
        [current] = node(g, "Gemm", [current, `${layer.name}.kernel`, `${layer.name}.bias`], 1);
      }
      if (layer.activation === "sigmoid") [current] = node(g, "Sigmoid", [current], 1);
      else if (layer.activation === "softmax") [current] = node(g, "Softmax", [current], 1, [intAttr("axis", -1)]);
      else if (layer.activation === "tanh") [current] = node(g, "Tanh", [current], 1);
      else if (layer.activation !== "linear") throw new Error(`onnx export ${def.id}: Dense activation ${layer.activation} not translated`);
      return;
    }
    if (!timeMajor) throw new Error(`onnx export ${def.id}: ${layer.name} follows a layer that returned only its last output`);
    const u = layer.units;
    const gates = layer.kind === "lstm" ? 4 : 3;
    const order = layer.kind === "lstm" ? LSTM_ORDER : GRU_ORDER;
    const kernel = get(`${layer.name}/kernel`);
    const recurrent = get(`${layer.name}/recurrent_kernel`);
    const bias = get(`${layer.name}/bias`);
    const wb = new Float32Array(2 * gates * u);
    const resetAfter = layer.kind === "gru" && layer.resetAfter;
    if (resetAfter) {
      wb.set(reorderVector(bias.data.subarray(0, gates * u), u, order), 0);
      wb.set(reorderVector(bias.data.subarray(gates * u, 2 * gates * u), u, order), gates * u);
    } else {
      wb.set(reorderVector(bias.data, u, order), 0);
    }
    const p = layer.name;
    g.initializers.push(
      floatTensor(`${p}.W`, [1, gates * u, inSize], gateMajor(kernel, u, order)),
      floatTensor(`${p}.R`, [1, gates * u, u], gateMajor(recurrent, u, order)),
      floatTensor(`${p}.B`, [1, 2 * gates * u], wb),
    );
    const inputs = [current, `${p}.W`, `${p}.R`, `${p}.B`];
    const stateNames: string[] = [];
    if (withState) {
      stateNames.push(`state_${p}_h`);
      if (layer.kind === "lstm") stateNames.push(`state_${p}_c`);
      for (const s of stateNames) g.inputs.push(valueInfo(s, FLOAT, [1, "batch", u]));
      inputs.push("", stateNames[0]); // sequence_lens omitted
      if (layer.kind === "lstm") inputs.push(stateNames[1]);
      states.push({ layer: p, inputs: stateNames, units: u });
    }
    const outNames = [`${p}.Y`, withState ? `${stateNames[0]}_out` : `${p}.Y_h`];
    if (layer.kind === "lstm") outNames.push(withState ? `${stateNames[1]}_out` : `${p}.Y_c`);
    const attrs = [intAttr("hidden_size", u)];
    if (layer.kind === "gru") attrs.push(intAttr("linear_before_reset", resetAfter ? 1 : 0));
    node(g, layer.kind === "lstm" ? "LSTM" : "GRU", inputs, outNames, attrs);
    if (withState) for (const s of stateNames) g.outputs.push(valueInfo(`${s}_out`, FLOAT, [1, "batch", u]));
    if (layer.returnSequences) {
      // Y is [T, num_directions=1, b, u]
      [current] = node(g, "Squeeze", [`${p}.Y`, axes(g, 1)], 1);
    } else if (withState) {
      // One step: the last output is the new h, [1, b, u] -> [b, u]
      [current] = node(g, "Squeeze", [`${stateNames[0]}_out`, axes(g, 0)], 1);
      timeMajor = false;
    } else {
      [current] = node(g, "Squeeze", [`${p}.Y_h`, axes(g, 0)], 1);
      timeMajor = false;
    }
  });
  if (timeMajor) {
    // The model returns a sequence: back to batch-first [b, T, f].
    [current] = node(g, "Transpose", [current], 1, [intsAttr("perm", [1, 0, 2])]);
  }
  node(g, "Identity", [current], [outputName]);
  g.outputs.unshift({ name: outputName, type: { tensorType: { elemType: FLOAT } } });

  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: "rnn-wasm bench",
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    graph: { name: def.id, node: g.nodes, initializer: g.initializers, input: g.inputs, output: g.outputs },
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  return { bytes, inputName, outputName, states };
}
