/**
 * Hostile model configs (issue 15 items 6, 12, 13, 14), through every way a config comes in:
 * tfjs artifacts in memory (loadModel and exportBundle), a model.json file, and the standalone
 * cells. Each is refused at load with a typed error naming what is wrong; a config listed
 * backwards loads in time linear in its size.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RnnWasmError } from "../../src/errors.ts";
import { exportBundle } from "../../src/export.ts";
import { buildModel } from "../../src/import/keras/build.ts";
import { importTfjs } from "../../src/import/tfjs.ts";
import { LstmCell, loadModel } from "../../src/index.ts";
import { type Artifacts, initTfjs, saveArtifacts } from "../util/tfjs.ts";
import { doublingRatio } from "../util/timing.ts";

let lstm: Artifacts; // Input [null, 5, 3] -> LSTM(4) -> Dense(2)

beforeAll(async () => {
  const tf = await initTfjs();
  lstm = await saveArtifacts(
    tf.sequential({ layers: [tf.layers.lstm({ name: "lstm", units: 4, inputShape: [5, 3] }), tf.layers.dense({ name: "dense", units: 2 })] }),
  );
});

/** A copy of the LSTM model's artifacts with its layer configs edited. */
function edited(edit: (layers: Record<string, any>[]) => void): Artifacts {
  const modelJson = structuredClone(lstm.modelJson);
  const topo = modelJson.modelTopology as { config: { layers: Record<string, any>[] } };
  edit(topo.config.layers);
  return { modelJson, weights: lstm.weights };
}

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "loaded";
  } catch (e) {
    if (e instanceof RnnWasmError) return `${e.code}: ${e.message}`;
    throw e; // a TypeError or RangeError is the defect these tests look for
  }
}

/** Every entry point that takes a config, asked the same. */
async function everyEntry(art: Artifacts): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "rnnwasm-config-"));
  const json = JSON.stringify(art.modelJson);
  writeFileSync(join(dir, "model.json"), json);
  writeFileSync(join(dir, art.modelJson.weightsManifest[0].paths[0]), new Uint8Array(art.weights as ArrayBuffer));
  return [
    await codeOf(() => loadModel(art).then((m) => m.dispose())),
    await codeOf(() => exportBundle(art)),
    await codeOf(() => loadModel(join(dir, "model.json")).then((m) => m.dispose())),
  ];
}

describe("deep nesting (item 6)", () => {
  it("a 50,000-deep recurrent_activation is E_MODEL_JSON, in memory and from a file", async () => {
    const deep = JSON.parse(`${"[".repeat(50_000)}"sigmoid"${"]".repeat(50_000)}`);
    const art = edited((layers) => (layers[0].config.recurrent_activation = deep));
    // (JSON.stringify of the config would overflow the stack itself: the file is written by hand)
    const dir = mkdtempSync(join(tmpdir(), "rnnwasm-deep-"));
    const text = JSON.stringify(edited((layers) => (layers[0].config.recurrent_activation = "DEEP")).modelJson).replace('"DEEP"', `${"[".repeat(50_000)}"sigmoid"${"]".repeat(50_000)}`);
    writeFileSync(join(dir, "model.json"), text);
    writeFileSync(join(dir, art.modelJson.weightsManifest[0].paths[0]), new Uint8Array(art.weights as ArrayBuffer));
    for (const outcome of [await codeOf(() => loadModel(art)), await codeOf(() => exportBundle(art)), await codeOf(() => loadModel(join(dir, "model.json")))]) {
      expect(outcome).toMatch(/^E_MODEL_JSON: .*nests deeper than 256 levels/);
    }
  });

  it("a cyclic object, a symbol, a function or a bigint in memory is E_MODEL_JSON, not a TypeError", async () => {
    const cyclic = edited((layers) => (layers[0].config.self = layers[0]));
    expect(await codeOf(() => loadModel(cyclic))).toMatch(/^E_MODEL_JSON: .*(nests deeper|cyclic)/);
    for (const v of [Symbol("x"), () => 1, 10n]) {
      expect(await codeOf(() => loadModel(edited((layers) => (layers[0].config.activation = v))))).toMatch(/^E_MODEL_JSON: .*which JSON cannot/);
    }
  });

  it("a detached weights buffer is E_WEIGHTS", async () => {
    const buf = (lstm.weights as ArrayBuffer).slice(0);
    structuredClone(buf, { transfer: [buf] });
    expect(await codeOf(() => loadModel({ modelJson: lstm.modelJson, weights: buf }))).toMatch(/^E_WEIGHTS: .*detached/);
  });
});

describe("prototype keys as names (item 12)", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])("activation %j is E_UNSUPPORTED_OPTION everywhere", async (name) => {
    for (const key of ["activation", "recurrent_activation"]) {
      const outcomes = await everyEntry(edited((layers) => (layers[0].config[key] = name)));
      for (const o of outcomes) expect(o).toMatch(new RegExp(`^E_UNSUPPORTED_OPTION: .*activation "${name}" is not supported`));
    }
    const dense = await everyEntry(edited((layers) => (layers[1].config.activation = name)));
    for (const o of dense) expect(o).toMatch(/^E_UNSUPPORTED_OPTION: /);
  });

  it.each(["__proto__", "constructor", "toString"])("class_name %j is E_UNSUPPORTED_LAYER, also inside a Bidirectional", async (name) => {
    for (const o of await everyEntry(edited((layers) => (layers[1].class_name = name)))) expect(o).toMatch(/^E_UNSUPPORTED_LAYER: /);
    const wrapped = edited((layers) => {
      layers[0] = { class_name: "Bidirectional", config: { name: "bidi", layer: { class_name: name, config: { ...layers[0].config } }, batch_input_shape: [null, 5, 3] } };
    });
    expect(await codeOf(() => loadModel(wrapped))).toMatch(/^E_UNSUPPORTED_LAYER: /);
  });

  it("LstmCell.create and GruCell with a prototype key as activation", async () => {
    const args = { units: 2, kernel: new Float32Array(3 * 8), recurrentKernel: new Float32Array(2 * 8) };
    for (const name of ["__proto__", "constructor"]) {
      expect(await codeOf(() => LstmCell.create({ ...args, activation: name }))).toMatch(/^E_UNSUPPORTED_OPTION: /);
      expect(await codeOf(() => LstmCell.create({ ...args, recurrentActivation: name }))).toMatch(/^E_UNSUPPORTED_OPTION: /);
    }
  });
});

describe("invalid input dimensions (item 13)", () => {
  it.each([-5, 0, 0.1, 1.5, 2 ** 31])("batch_input_shape [null, %d, 3] is refused at load, naming the layer", async (d) => {
    for (const o of await everyEntry(edited((layers) => (layers[0].config.batch_input_shape = [null, d, 3])))) {
      expect(o).toMatch(new RegExp(`^E_MODEL_JSON: .*layer lstm: input dimension ${d} is not a positive integer`));
    }
  });

  it("a batch size of 0 or 1.5 too; null stays 'any size'", async () => {
    expect(await codeOf(() => loadModel(edited((layers) => (layers[0].config.batch_input_shape = [0, 5, 3]))))).toMatch(/^E_MODEL_JSON: .*input dimension 0/);
    expect(await codeOf(() => loadModel(edited((layers) => (layers[0].config.batch_input_shape = [1.5, 5, 3]))))).toMatch(/^E_MODEL_JSON: .*input dimension 1.5/);
    const m = await loadModel(edited((layers) => (layers[0].config.batch_input_shape = [null, null, 3])));
    expect(m.inputs[0].shape).toEqual([null, null, 3]);
    m.dispose();
  });
});

describe("load time is linear in the config (item 14)", () => {
  /** A Functional chain Input -> n Activation layers, listed in reverse order (each layer before its input's producer). */
  function reversedChain(n: number): { modelJson: Record<string, unknown>; weights: ArrayBuffer } {
    const layers: Record<string, unknown>[] = [{ class_name: "InputLayer", name: "in", config: { name: "in", batch_input_shape: [null, 4], dtype: "float32" }, inbound_nodes: [] }];
    for (let i = 1; i <= n; i++) {
      const prev = i === 1 ? "in" : `a${i - 1}`;
      layers.push({ class_name: "Activation", name: `a${i}`, config: { name: `a${i}`, activation: "relu" }, inbound_nodes: [[[prev, 0, 0, {}]]] });
    }
    const topology = { class_name: "Functional", config: { name: "chain", layers: [layers[0], ...layers.slice(1).reverse()], input_layers: [["in", 0, 0]], output_layers: [[`a${n}`, 0, 0]] }, keras_version: "tfjs-layers 4.22.0" };
    return { modelJson: { modelTopology: { model_config: topology }, weightsManifest: [{ paths: [], weights: [] }] }, weights: new ArrayBuffer(0) };
  }

  it("a chain listed backwards: twice the layers, at most 2.5x the time", () => {
    const r = doublingRatio((n) => {
      const art = reversedChain(n);
      return () => buildModel(importTfjs(art.modelJson, art.weights, "chain"));
    }, 2000, 7);
    expect(r.ratio, String(r)).toBeLessThanOrEqual(2.5);
  });

  it("20,000 layers (the issue's 5.7 s) load and run", async () => {
    const m = await loadModel(reversedChain(20_000));
    const y = m.predict({ data: new Float32Array([-1, 2, -3, 4]), shape: [1, 4] }) as { data: Float32Array };
    expect(Array.from(y.data)).toEqual([0, 2, 0, 4]);
    m.dispose();
  });
});

describe("weights that overflow float32 (item 15)", () => {
  it("finite weights of 3.4e38 are refused at export (E_WEIGHTS naming the largest weight), not shipped to answer NaN", async () => {
    const art = structuredClone(lstm);
    art.weights = new Float32Array((art.weights as ArrayBuffer).byteLength / 4).fill(3.4e38).buffer; // finite, every one
    await expect(exportBundle(art)).rejects.toMatchObject({ code: "E_WEIGHTS", message: expect.stringMatching(/is (NaN|Infinity|-Infinity) on a probe input: the weights overflow float32 \(largest weight .*: 3\.\d+e\+38\)/) });
    // the same model with its own weights exports
    expect((await exportBundle(lstm)).length).toBeGreaterThan(100);
  });
});
