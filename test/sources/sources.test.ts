/**
 * The one way in (src/sources): loadModel(path | URL), exportBundle(path) and the CLI read model
 * files through the same reader, with the same errors; shards only from the model's folder
 * (and origin), each read bounded by the bytes its manifest describes; devices, pipes and
 * directories refused before a byte is read. The reproducers of issue 15 items 2 and 3.
 */
import { createServer, type Server } from "node:http";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RnnWasmError } from "../../src/errors.ts";
import { exportBundle } from "../../src/export.ts";
import { loadModel } from "../../src/index.ts";
import { fetchBounded } from "../../src/sources/fetch.ts";
import { readModelFile } from "../../tools/cli/source.ts";
import { dataFile } from "../util/data.ts";
import { initTfjs, saveArtifacts } from "../util/tfjs.ts";

// the 2018 nietzsche char-LSTM (MIT, in the repository): two weight groups, one shard each
const REAL = join(dataFile("real-models/tfjs-nietzsche-lstm/model.json"), "..");
const SHARD = "group1-shard1of1"; // the Dense group, rewritten by the tests below
const OTHER = "group2-shard1of1"; // the LSTM group, left as it is
const SHARD_BYTES = readFileSync(join(REAL, SHARD)).length;
const realJson = JSON.parse(readFileSync(join(REAL, "model.json"), "utf8"));

let root: string;
/** A folder holding model.json (the first group's paths replaced by `paths`) and the real shards. */
function modelFolder(name: string, paths: string[], extra?: (dir: string) => void): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const f of [SHARD, OTHER]) copyFileSync(join(REAL, f), join(dir, f));
  const json = structuredClone(realJson);
  json.weightsManifest[0].paths = paths;
  writeFileSync(join(dir, "model.json"), JSON.stringify(json));
  extra?.(dir);
  return join(dir, "model.json");
}

/** The error of `run` (an RnnWasmError; anything else fails the test). */
async function errorOf(run: () => Promise<unknown>): Promise<RnnWasmError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof RnnWasmError) return e;
    throw e;
  }
  throw new Error("expected an error, the call succeeded");
}

/** The three entry points that take a path, each asked the same. */
const readers: [string, (path: string, trust?: boolean) => Promise<unknown>][] = [
  ["loadModel", (p, trust) => loadModel(p, { trustShardPaths: trust }).then((m) => m.dispose())],
  ["exportBundle", (p, trust) => exportBundle(p, { trustShardPaths: trust })],
  ["the CLI's reader", (p) => readModelFile(p)],
];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "rnnwasm-sources-"));
  writeFileSync(join(root, "outside.bin"), new Uint8Array(SHARD_BYTES + 1234));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("shards stay inside the model's folder (item 3)", () => {
  it.each(readers)("%s refuses ../outside.bin, an absolute path and a symlink leading out, without reading them", async (name, read) => {
    const cases = [
      modelFolder(`${name}/up`, ["../../outside.bin"]),
      modelFolder(`${name}/absolute`, [join(root, "outside.bin")]),
      modelFolder(`${name}/link`, ["link.bin"], (dir) => symlinkSync(join(root, "outside.bin"), join(dir, "link.bin"))),
    ];
    for (const path of cases) {
      const e = await errorOf(() => read(path));
      expect(e.code, e.message).toBe("E_MODEL_JSON");
      expect(e.message).toMatch(/is outside the model's folder/);
      // nothing about the other file leaks: not its size, not its content
      expect(e.message).not.toMatch(new RegExp(`${SHARD_BYTES + 1234}`));
    }
  });

  it("a subfolder of the model's folder is inside; the real model loads from its folder", async () => {
    const path = modelFolder("sub", ["weights/part.bin"], (dir) => {
      mkdirSync(join(dir, "weights"));
      copyFileSync(join(REAL, SHARD), join(dir, "weights/part.bin"));
    });
    const a = await loadModel(path);
    const b = await loadModel(join(REAL, "model.json"));
    const x = { data: new Float32Array(40 * 57).map((_, i) => Number(i % 57 === i % 7)), shape: [1, 40, 57] };
    expect(Array.from((a.predict(x) as { data: Float32Array }).data)).toEqual(Array.from((b.predict(x) as { data: Float32Array }).data));
    a.dispose();
    b.dispose();
  });

  it("a symlinked model.json (content-addressed caches) reads the shards beside its target", async () => {
    const dir = join(root, "cache");
    mkdirSync(join(dir, "snapshot"), { recursive: true });
    const blob = modelFolder("cache/blobs", [SHARD]);
    symlinkSync(blob, join(dir, "snapshot/model.json"));
    for (const f of [SHARD, OTHER]) symlinkSync(join(dir, "blobs", f), join(dir, "snapshot", f));
    const m = await loadModel(join(dir, "snapshot/model.json"));
    expect(m.outputs[0].shape).toEqual([null, 57]);
    m.dispose();
  });

  it("trustShardPaths: true reads a path outside (a model.json the caller wrote)", async () => {
    const dir = join(root, "trusted");
    mkdirSync(dir);
    copyFileSync(join(REAL, SHARD), join(root, "shared.bin"));
    copyFileSync(join(REAL, OTHER), join(dir, OTHER));
    const json = structuredClone(realJson);
    json.weightsManifest[0].paths = ["../shared.bin"];
    writeFileSync(join(dir, "model.json"), JSON.stringify(json));
    expect((await errorOf(() => loadModel(join(dir, "model.json")))).code).toBe("E_MODEL_JSON");
    const m = await loadModel(join(dir, "model.json"), { trustShardPaths: true });
    m.dispose();
  });
});

describe("shard reads are bounded by the manifest (item 2)", () => {
  it.each(readers.slice(0, 2))("%s refuses /dev/zero as a shard before reading it, even when trusted", async (name, read) => {
    const path = modelFolder(`${name}/zero`, ["/dev/zero"]);
    const before = process.memoryUsage().arrayBuffers;
    const e = await errorOf(() => read(path, true));
    expect(e.code).toBe("E_IO");
    expect(e.message).toMatch(/cannot read weight shard \/dev\/zero: not a regular file/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  it("a shard larger than its group's bytes is refused by its size (a sparse 4 GiB file is not read)", async () => {
    const path = modelFolder("huge", ["huge.bin"], (dir) => {
      writeFileSync(join(dir, "huge.bin"), "");
      truncateSync(join(dir, "huge.bin"), 2 ** 32);
    });
    const before = process.memoryUsage().arrayBuffers;
    const e = await errorOf(() => loadModel(path));
    expect(e.code).toBe("E_WEIGHTS");
    expect(e.message).toMatch(new RegExp(`huge\\.bin is ${2 ** 32} bytes, more than the ${SHARD_BYTES} it may hold`));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  it("two shards in one group share its bytes: the second may hold only what the first left", async () => {
    const path = modelFolder("two", [SHARD, "again.bin"], (dir) => copyFileSync(join(REAL, SHARD), join(dir, "again.bin")));
    const e = await errorOf(() => loadModel(path));
    expect(e.code).toBe("E_WEIGHTS");
    expect(e.message).toMatch(/again\.bin is \d+ bytes, more than the 0 it may hold/);
  });

  it("a manifest declaring more than 2 GiB is refused before any shard is read", async () => {
    const dir = join(root, "declared");
    mkdirSync(dir);
    copyFileSync(join(REAL, OTHER), join(dir, OTHER));
    const json = structuredClone(realJson);
    json.weightsManifest[0].weights[0].shape = [2 ** 20, 2 ** 10];
    writeFileSync(join(dir, "model.json"), JSON.stringify(json));
    const e = await errorOf(() => loadModel(join(dir, "model.json")));
    expect(e.code).toBe("E_WEIGHTS");
    expect(e.message).toMatch(/more than 2147483648 bytes of weights/);
  });

  it("the model file itself: a device or a directory is refused by what it is", async () => {
    for (const [, read] of readers) {
      expect((await errorOf(() => read("/dev/zero"))).message).toMatch(/cannot read model file \/dev\/zero: not a regular file/);
      expect((await errorOf(() => read(root))).message).toMatch(/: it is a directory$/);
    }
  });
});

describe("one reader, one wording", () => {
  it.each([
    ["a missing file", () => join(root, "nope.rnnb"), "E_IO", /^cannot read model file .*nope\.rnnb: no such file$/],
    ["a missing model.json", () => join(root, "nope.json"), "E_IO", /^cannot read model\.json .*nope\.json: no such file$/],
    ["a model.json that is not JSON", () => (writeFileSync(join(root, "bad.json"), "{nope"), join(root, "bad.json")), "E_MODEL_JSON", /^model\.json .*bad\.json is not valid JSON/],
    ["a missing shard", () => modelFolder("noshard", ["missing.bin"]), "E_IO", /^cannot read weight shard .*missing\.bin: no such file \(listed in .*model\.json\)$/],
  ] as const)("%s: the same code and message from every entry point", async (_, make, code, message) => {
    const path = make();
    for (const [name, read] of readers) {
      const e = await errorOf(() => read(path));
      expect(e.code, name).toBe(code);
      // the CLI prefixes the file when the message does not name it; the rest is the same
      expect(e.message, name).toMatch(message);
    }
  });

  it("a Keras file given to loadModel says to export it", async () => {
    const e = await errorOf(() => loadModel(new URL("../fixtures/keras/float16_dense.h5", import.meta.url).pathname));
    expect(e.code).toBe("E_ARGUMENT");
    expect(e.message).toMatch(/is a Keras file; export it to a bundle first/);
  });
});

describe("URLs: the same rules over fetch", () => {
  let server: Server;
  let base: string;
  const shard = readFileSync(join(REAL, SHARD));
  const other = readFileSync(join(REAL, OTHER));
  const json = (paths: string[]) => {
    const j = structuredClone(realJson);
    j.weightsManifest[0].paths = paths;
    return JSON.stringify(j);
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? "";
      if (url === "/m/ok/model.json") return res.end(json([SHARD]));
      if (url === "/m/up/model.json") return res.end(json(["../secret.bin"]));
      if (url === "/m/other/model.json") return res.end(json(["http://127.0.0.2:1/x.bin"]));
      if (url === "/m/escaped/model.json") return res.end(json(["%2e%2e/secret.bin"]));
      if (url === "/m/endless/model.json") return res.end(json(["endless.bin"]));
      if (url.endsWith(`/${SHARD}`)) return res.end(shard);
      if (url.endsWith(`/${OTHER}`)) return res.end(other);
      if (url === "/m/endless/endless.bin" || url === "/endless.rnnb") {
        // a body that never ends: only the reader's bound stops it
        const chunk = new Uint8Array(1 << 16);
        const pump = () => {
          while (res.write(chunk));
          res.once("drain", pump);
        };
        res.on("close", () => res.removeAllListeners("drain"));
        return pump();
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("a model.json and its shard load from its folder", async () => {
    const m = await loadModel(`${base}/m/ok/model.json`);
    expect(m.outputs[0].shape).toEqual([null, 57]);
    m.dispose();
  });

  it.each(["up", "other", "escaped"])("a shard outside the model's folder or origin (%s) is refused, never fetched", async (name) => {
    const e = await errorOf(() => loadModel(`${base}/m/${name}/model.json`));
    expect(e.code).toBe("E_MODEL_JSON");
    expect(e.message).toMatch(/is outside the model's folder/);
  });

  it("an endless shard stops at its group's bytes", async () => {
    const e = await errorOf(() => loadModel(`${base}/m/endless/model.json`));
    expect(e.code).toBe("E_WEIGHTS");
    expect(e.message).toMatch(new RegExp(`endless\\.bin holds more than the ${SHARD_BYTES} bytes it may`));
  });

  it("an endless body stops at the bound the caller gives (a bundle's is 2 GiB)", async () => {
    const e = await errorOf(() => fetchBounded(new URL(`${base}/endless.rnnb`), "model", 1 << 20));
    expect(e.code).toBe("E_IO");
    expect(e.message).toMatch(/holds more than the 1048576 bytes it may/);
  });
});

describe("the generation chunk is handed to the models that need it", () => {
  it("generate() on a model that reads no tokens says so, whatever loaded before", async () => {
    const tokens = await loadModel(new URL("../../models/aesop-next-word.rnnb", import.meta.url));
    const tf = await initTfjs();
    // three features in, two scores out: not a token model
    const features = await loadModel(await saveArtifacts(tf.sequential({ layers: [tf.layers.lstm({ units: 2, inputShape: [null, 3] })] })));
    const e = await errorOf(async () => features.generate([1, 2], { steps: 1 }));
    expect(e.code).toBe("E_ARGUMENT");
    expect(e.message).toMatch(/does not read token sequences/);
    expect(typeof tokens.generate("had a general", { steps: 2 })).toBe("string");
    tokens.dispose();
    features.dispose();
  });
});
