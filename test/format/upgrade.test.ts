/**
 * Format 1 -> 2 (`rnn-wasm upgrade`, src/format/upgrade.ts). Format 1 stored LSTM and GRU
 * recurrent kernels with their gates interleaved per k ([tile][k][gate][8]; int8: per k-pair);
 * format 2 stores panels ([tile][gate][k][8]). A format-1 bundle is made here from a fresh export by the
 * inverse reordering, written independently of upgrade.ts (it walks the old layout's formula),
 * then: the runtime refuses it with E_BUNDLE_VERSION, and upgrading it gives back the format-2
 * export byte for byte, for f32, f16 and int8 weights.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../src/export.ts";
import { FORMAT_VERSION, OLDEST_FORMAT } from "../../src/format/bundle.ts";
import { readBundle } from "../../src/format/reader.ts";
import { upgradeBundle } from "../../src/format/upgrade.ts";
import { loadModel, RnnWasmError } from "../../src/index.ts";
import { artifactsOf, randomizeWeights } from "../session/helpers.ts";
import { parityCases } from "../util/cases.ts";
import { copyArtifacts, prepareCase } from "../util/harness.ts";
import { rngFor } from "../util/prng.ts";
import { fixCrc, headerOf, withU32 } from "./craft.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/**
 * The format-1 bundle of the same model: recurrent sections back to the old order, gates
 * interleaved per k (LSTM: 4 gates; GRU reset_after: 3; GRU reset_after=false: its z, r block).
 */
function toFormat1(v2: Uint8Array): Uint8Array {
  const { header } = headerOf(v2);
  const out = withU32(v2, 4, 1);
  // the header's version: same length, "version":2 -> "version":1
  const text = new TextDecoder().decode(out.subarray(12, 12 + new DataView(out.buffer).getUint32(8, true)));
  const patched = text.replace('"version":2', '"version":1');
  expect(patched).not.toBe(text);
  out.set(new TextEncoder().encode(patched), 12);
  for (const op of header.model.ops) {
    if (op.op !== "rnn" || op.cell === "simple_rnn") continue;
    const G = op.cell === "lstm" ? 4 : op.resetAfter ? 3 : 2;
    const s = header.sections.find((x: { name: string }) => x.name === op.weights.recurrentKernel);
    const u = op.units;
    const tiles = Math.ceil(u / 8);
    // bytes of one 8-column row and k count: f32 4 bytes x u k, f16 2 x u, int8 16-byte units
    // of 8 columns x 2 k over ceil(u/2) k-pairs
    const [unit, K] = s.dtype === "i8" ? [16, Math.ceil(u / 2)] : [8 * (s.dtype === "f16" ? 2 : 4), u];
    const src = v2.slice(s.offset, s.offset + tiles * G * K * unit);
    for (let t = 0; t < tiles; t++) {
      for (let g = 0; g < G; g++) {
        for (let k = 0; k < K; k++) {
          const panels = ((t * G + g) * K + k) * unit; // format 2: [tile][gate][k]
          const interleaved = ((t * K + k) * G + g) * unit; // format 1: [tile][k][gate]
          out.set(src.subarray(panels, panels + unit), s.offset + interleaved);
        }
      }
    }
  }
  return fixCrc(out);
}

/** LSTM(13) -> LSTM(8) -> Dense(2): odd units (a partial tile, an odd k for int8 pairs). */
async function model(): Promise<{ modelJson: object; weights: ArrayBuffer }> {
  const m = tf.sequential({
    layers: [
      tf.layers.lstm({ units: 13, returnSequences: true, inputShape: [null, 5] }),
      tf.layers.lstm({ units: 8 }),
      tf.layers.dense({ units: 2 }),
    ],
  });
  randomizeWeights(m, rngFor("upgrade lstm stack"));
  return artifactsOf(m);
}

describe("rnn-wasm upgrade: format 1 -> 2", () => {
  for (const dtype of ["f32", "f16", "int8"] as const) {
    it(`${dtype}: the runtime refuses format 1 by name; upgrading it gives the format-2 export byte for byte`, async () => {
      const v2 = await exportBundle(await model(), { dtype });
      const v1 = toFormat1(v2);
      expect(v1).not.toEqual(v2);
      await expect(loadModel(v1)).rejects.toSatisfy((e: unknown) =>
        e instanceof RnnWasmError && e.code === "E_BUNDLE_VERSION" && /rnn-wasm upgrade/.test(e.message));
      const up = upgradeBundle(v1);
      expect(up.from).toBe(1);
      const lstmKernels = readBundle(v2).packed.spec.ops.flatMap((op) => (op.op === "rnn" && op.cell === "lstm" ? [op.weights.recurrentKernel] : []));
      expect(lstmKernels).toHaveLength(2);
      expect(up.converted).toEqual(lstmKernels);
      expect(Buffer.from(up.bytes).equals(Buffer.from(v2))).toBe(true);
      const x = { data: Float32Array.from({ length: 2 * 6 * 5 }, (_, i) => Math.sin(i)), shape: [2, 6, 5] };
      const a = (await loadModel(up.bytes)).predict(x) as { data: Float32Array };
      const b = (await loadModel(v2)).predict(x) as { data: Float32Array };
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
    });
  }

  it("a current bundle comes back unchanged; a corrupt or future one keeps the reader's error", async () => {
    const v2 = await exportBundle(await model());
    const same = upgradeBundle(v2);
    // a Keras LSTM needs nothing format 3 added: it is written as format 2 (rnn-wasm 0.2 reads it)
    expect(same.from).toBe(OLDEST_FORMAT);
    expect(same.bytes).toBe(v2);
    expect(same.converted).toEqual([]);
    expect(() => upgradeBundle(withU32(v2, 4, FORMAT_VERSION + 1))).toThrow(new RegExp(`format ${FORMAT_VERSION + 1} is newer`));
    const broken = toFormat1(v2);
    broken[broken.length - 9] ^= 1; // a weight byte: the checksum no longer matches
    expect(() => upgradeBundle(broken)).toThrow(/checksum mismatch/);
    expect(readBundle(upgradeBundle(toFormat1(v2)).bytes).header.version).toBe(OLDEST_FORMAT);
  });

  // every recurrent layer kind and option of the parity matrix: LSTM, GRU with and without
  // reset_after (Keras-style files tfjs cannot run included), SimpleRNN, Bidirectional, sizes
  // across tile edges
  const recurrent = parityCases().filter((c) => /LSTM|GRU|SimpleRNN|Bidirectional/i.test(c.id));
  it.each(recurrent.map((c) => [c.id, c] as const))("%s: format 1 upgrades back to the export byte for byte (f32, int8)", async (_, c) => {
    const p = await prepareCase(c);
    for (const dtype of ["f32", "int8"] as const) {
      const v2 = await exportBundle(copyArtifacts(p.artifacts), { dtype });
      const up = upgradeBundle(toFormat1(v2));
      expect(Buffer.from(up.bytes).equals(Buffer.from(v2)), `${c.id} ${dtype}`).toBe(true);
    }
  });
});
