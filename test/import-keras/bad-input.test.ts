/**
 * Damaged and wrong inputs: each gets one RnnWasmError with a stable code and a message that
 * names the file; nothing is printed, no file is left in h5wasm's in-memory file system, and
 * h5wasm keeps working afterwards.
 */
import { strToU8, zipSync } from "fflate";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { RnnWasmError } from "../../src/errors.js";
import { importKeras3, importKerasFile, importKerasH5 } from "../../src/import/keras/index.js";
import { expectError as expectCodedError } from "../util/errors.ts";
import { fixture, h5wasmRootEntries, haveRealH5, realH5, withRawH5 } from "./helpers.js";
import { seededRandom } from "./reference-keras.js";
import { kerasFixtures, writeFixture } from "../fixtures/keras/make-fixtures.js";
import { unzipSync } from "fflate";

const SEED = 424242;
const GOOD_H5 = "legacy_keras3.h5"; // a committed fixture, so these tests never skip
const GOOD_KERAS = "sequential_tfjs_compatible.keras";

function randomBytes(seed: number, n: number, prefix: number[] = []): Uint8Array {
  const rand = seededRandom(seed);
  const out = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  out.set(prefix.slice(0, n));
  return out;
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

let entriesBefore: string[];

beforeAll(async () => {
  entriesBefore = await h5wasmRootEntries();
});

async function expectError(
  run: () => Promise<unknown>,
  code: RnnWasmError["code"],
  label: string,
  pattern?: RegExp,
): Promise<RnnWasmError> {
  const e = await expectCodedError(run, code, { prefix: label, message: pattern });
  expect(e.message).not.toMatch(/HDF5-DIAG|#\d{3}:/); // HDF5's raw error stack stays out
  return e as RnnWasmError;
}

describe("unreadable files -> E_HDF5", () => {
  const good = fixture(GOOD_H5);
  const cuts = [0, 7, 8, 96, 512, 2048, Math.floor(good.length / 2), good.length - 1];

  it.each(cuts)("an .h5 truncated to %i bytes", async (n) => {
    await expectError(() => importKerasFile(good.subarray(0, n), "cut.h5"), "E_HDF5", "cut.h5");
  });

  it.each([1, 100, 4096])(`%i random bytes (seed ${SEED})`, async (n) => {
    await expectError(() => importKerasFile(randomBytes(SEED + n, n), "noise.bin"), "E_HDF5", "noise.bin");
  });

  it(`random bytes behind an HDF5 signature (seed ${SEED})`, async () => {
    await expectError(() => importKerasFile(randomBytes(SEED, 4096, HDF5_MAGIC), "fake.h5"), "E_HDF5", "fake.h5", /not a readable HDF5 file/);
  });

  it(`random bytes behind a zip signature (seed ${SEED})`, async () => {
    await expectError(() => importKerasFile(randomBytes(SEED, 4096, ZIP_MAGIC), "fake.keras"), "E_HDF5", "fake.keras", /zip/);
  });

  it("a .keras truncated mid-archive", async () => {
    const archive = fixture(GOOD_KERAS);
    await expectError(() => importKeras3(archive.subarray(0, archive.length - 100), "cut.keras"), "E_HDF5", "cut.keras");
  });

  it("a .keras whose model.weights.h5 is not HDF5", async () => {
    const members = unzipSync(fixture(GOOD_KERAS));
    const bad = zipSync({ ...members, "model.weights.h5": randomBytes(SEED, 2000) }, { level: 0 });
    await expectError(() => importKerasFile(bad, "m.keras"), "E_HDF5", "m.keras", /model\.weights\.h5: not a readable HDF5 file/);
  });
});

describe("missing or malformed model config -> E_MODEL_JSON", () => {
  it("a zip without config.json", async () => {
    const zip = zipSync({ "notes.txt": strToU8("hello") });
    await expectError(() => importKerasFile(zip, "notes.keras"), "E_MODEL_JSON", "notes.keras", /config\.json/);
  });

  it("a .keras whose config.json is not JSON", async () => {
    const members = unzipSync(fixture(GOOD_KERAS));
    const bad = zipSync({ ...members, "config.json": strToU8("{\"class_name\": \"Sequ") }, { level: 0 });
    await expectError(() => importKerasFile(bad, "m.keras"), "E_MODEL_JSON", "m.keras", /not valid JSON/);
  });

  it("an HDF5 file that is no Keras model (no model_config)", async () => {
    const { bytes } = await withRawH5(null, (f) => {
      f.create_dataset({ name: "measurements", data: new Float32Array([1, 2, 3]) });
    });
    await expectError(() => importKerasH5(bytes, "data.h5"), "E_MODEL_JSON", "data.h5", /no model_config/);
  });

  it("an .h5 whose model_config is not JSON", async () => {
    const { bytes } = await withRawH5(null, (f) => {
      f.create_attribute("model_config", "{not json", [], "S9");
    });
    await expectError(() => importKerasH5(bytes, "m.h5"), "E_MODEL_JSON", "m.h5", /not valid JSON/);
  });

  it("a Keras 1 file", async () => {
    const { bytes } = await withRawH5(null, (f) => {
      f.create_attribute("keras_version", "1.2.2", [], "S5");
      f.create_attribute("model_config", "{\"class_name\": \"Sequential\", \"config\": []}", [], "S43");
    });
    await expectError(() => importKerasH5(bytes, "old.h5"), "E_MODEL_JSON", "old.h5", /Keras 1/);
  });
});

describe("missing or mismatched weights -> E_WEIGHTS", () => {
  it("a .keras without model.weights.h5", async () => {
    const members = unzipSync(fixture(GOOD_KERAS));
    const bad = zipSync({ "metadata.json": members["metadata.json"]!, "config.json": members["config.json"]! });
    await expectError(() => importKerasFile(bad, "m.keras"), "E_WEIGHTS", "m.keras", /model\.weights\.h5/);
  });

  it("an .h5 whose weight_names lists a dataset that is not there", async () => {
    const config = JSON.stringify({ class_name: "Sequential", config: { name: "s", layers: [{ class_name: "Dense", config: { name: "dense", units: 1 } }] } });
    const { bytes } = await withRawH5(null, (f) => {
      f.create_attribute("keras_version", "2.4.0", [], "S5");
      f.create_attribute("model_config", config, [], `S${config.length}`);
      f.create_group("model_weights");
      const mw = f.get("model_weights") as InstanceType<typeof import("h5wasm").Group>;
      mw.create_attribute("layer_names", ["dense"], [1], "S5");
      mw.create_group("dense");
      (mw.get("dense") as InstanceType<typeof import("h5wasm").Group>).create_attribute("weight_names", ["dense/kernel:0"], [1], "S14");
    });
    await expectError(() => importKerasH5(bytes, "m.h5"), "E_WEIGHTS", "m.h5", /dense\/kernel:0 of layer dense is missing/);
  });

  it("a Keras 3 store with fewer variables than the layer has roles", async () => {
    // the fixture as make-fixtures.ts writes it, minus the GRU cell's recurrent kernel and bias
    const fx = kerasFixtures().find((f) => f.file === GOOD_KERAS)!;
    const bad = await writeFixture({ ...fx, variables: fx.variables.filter((v) => !/^layers\/gru\/cell\/vars\/[12]$/.test(v.path)) });
    await expectError(() => importKerasFile(bad, "m.keras"), "E_WEIGHTS", "m.keras", /layer gru \(GRU\) has 1 variables at layers\/gru\/cell\/vars, expected 3/);
  });

  it("a Keras 3 store without the group of a layer that has variables", async () => {
    const fx = kerasFixtures().find((f) => f.file === GOOD_KERAS)!;
    const bad = await writeFixture({
      ...fx,
      groups: fx.groups.filter((g) => !g.startsWith("layers/conv1d")),
      variables: fx.variables.filter((v) => !v.path.startsWith("layers/conv1d/")),
    });
    await expectError(() => importKerasFile(bad, "m.keras"), "E_WEIGHTS", "m.keras", /layer conv1d \(Conv1D\) has 0 variables at layers\/conv1d\/vars, expected 2/);
  });
});

describe("after all of the above", () => {
  it("left no file in h5wasm's file system", async () => {
    expect(await h5wasmRootEntries()).toEqual(entriesBefore);
  });

  it("printed nothing: HDF5's error stack does not reach stderr (checked in a real process)", () => {
    const probe = fileURLToPath(new URL("./stderr-probe.ts", import.meta.url));
    const run = spawnSync(process.execPath, ["--import", "tsx", probe], { encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(["E_HDF5", "E_HDF5", "ok"]);
    expect(run.stderr).toBe("");
  });

  it("still imports good files", async () => {
    expect((await importKerasFile(fixture(GOOD_H5), GOOD_H5)).weights).toHaveLength(5);
    expect((await importKerasFile(fixture(GOOD_KERAS), GOOD_KERAS)).weights).toHaveLength(18);
    if (haveRealH5) {
      expect((await importKerasFile(realH5("keras224_imdb_lstm.h5"), "keras224_imdb_lstm.h5")).weights).toHaveLength(6);
    }
  });
});
