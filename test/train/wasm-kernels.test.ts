/**
 * The kernels the training tool registers for the tfjs wasm backend, against the tfjs cpu
 * backend on the same seeded inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as tfTypes from "@tensorflow/tfjs";
import { initTrainingBackend, type Tf } from "../../tools/train/backend.js";
import { makeRng } from "../../tools/train/loop.js";
import { TRANSPOSE_B_MIN_ROWS } from "../../tools/train/wasm-kernels.js";
import { expectClose, GRADIENT_ABS, GRADIENT_REL, MATMUL_ABS, MATMUL_REL, SEGMENT_SUM_ABS, SEGMENT_SUM_REL } from "./tolerances.js";

const SEED = Number(process.env.TEST_SEED ?? 20240611);
let tf: Tf;

beforeAll(async () => {
  const b = await initTrainingBackend({ preferNode: false });
  tf = b.tf;
  expect(b.name).toBe("wasm");
  expect(b.extraKernels).toContain("UnsortedSegmentSum");
});
afterAll(async () => {
  await tf.setBackend("wasm");
});

function randoms(n: number, rng: () => number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng());
}

/** Runs f on the given backend with plain-array inputs; returns the result's values. */
async function on(backend: "wasm" | "cpu", f: () => tfTypes.Tensor): Promise<Float32Array | Int32Array> {
  await tf.setBackend(backend);
  const t = f();
  const v = (await t.data()) as Float32Array | Int32Array;
  t.dispose();
  return v;
}

describe(`UnsortedSegmentSum on wasm vs cpu (seed ${SEED})`, () => {
  const cases: { name: string; xShape: number[]; idsShape: number[]; numSegments: number; dtype: "float32" | "int32"; idRange: [number, number] }[] = [
    { name: "1-D x", xShape: [7], idsShape: [7], numSegments: 4, dtype: "float32", idRange: [0, 4] },
    { name: "embedding-gradient shape", xShape: [96, 300], idsShape: [96], numSegments: 50, dtype: "float32", idRange: [0, 50] },
    { name: "3-D x, 2-D ids", xShape: [3, 5, 4], idsShape: [3, 5], numSegments: 6, dtype: "float32", idRange: [0, 6] },
    { name: "ids out of range are dropped", xShape: [20, 3], idsShape: [20], numSegments: 5, dtype: "float32", idRange: [-2, 8] },
    { name: "int32 values", xShape: [12, 2], idsShape: [12], numSegments: 3, dtype: "int32", idRange: [0, 3] },
    { name: "more segments than ids", xShape: [2, 2], idsShape: [2], numSegments: 9, dtype: "float32", idRange: [0, 9] },
  ];
  it.each(cases)("$name", async (c) => {
    const rng = makeRng(SEED + c.xShape.reduce((a, b) => a * 31 + b, 7));
    const size = c.xShape.reduce((a, b) => a * b, 1);
    const idsSize = c.idsShape.reduce((a, b) => a * b, 1);
    const xv = c.dtype === "int32" ? Int32Array.from(randoms(size, rng, -50, 50), Math.round) : randoms(size, rng);
    const ids = Int32Array.from({ length: idsSize }, () => c.idRange[0] + Math.floor(rng() * (c.idRange[1] - c.idRange[0])));
    const run = () => {
      const segmentIds: tfTypes.Tensor = tf.tensor(ids, c.idsShape, "int32");
      return tf.unsortedSegmentSum(tf.tensor(xv, c.xShape, c.dtype), segmentIds as tfTypes.Tensor1D, c.numSegments);
    };
    // The cpu kernel broadcasts multi-dimensional ids wrongly (it throws for [3,5] ids on
    // [3,5,4] x); TensorFlow's definition sums over the flattened leading dimensions, so the
    // reference for those cases is the cpu kernel on the flattened equivalent.
    const flatShape: number[] = [idsSize, ...c.xShape.slice(c.idsShape.length)];
    const reference = () => tf.unsortedSegmentSum(tf.tensor(xv, flatShape, c.dtype), tf.tensor1d(ids, "int32"), c.numSegments);
    const wasm = await on("wasm", run);
    const cpu = await on("cpu", reference);
    expectClose(wasm, cpu, SEGMENT_SUM_ABS, SEGMENT_SUM_REL, `seed ${SEED}, ${c.name}`);
    // Not vacuous: some segment received a value.
    expect(Array.from(cpu).some((v) => v !== 0)).toBe(true);
  });

  it("gives the Embedding layer's gradient on wasm as on cpu", async () => {
    const rng = makeRng(SEED + 1);
    const table = randoms(20 * 6, rng);
    const ids = Int32Array.from({ length: 4 * 5 }, () => Math.floor(rng() * 20));
    const dy = randoms(4 * 5 * 6, rng);
    const run = () => {
      const g = tf.grad((t: tfTypes.Tensor) => tf.gather(t, tf.tensor2d(ids, [4, 5], "int32")).mul(tf.tensor3d(dy, [4, 5, 6])).sum());
      return g(tf.tensor2d(table, [20, 6]));
    };
    expectClose(await on("wasm", run), await on("cpu", run), SEGMENT_SUM_ABS, SEGMENT_SUM_REL, `seed ${SEED}, gather gradient`);
  });
});

describe(`BatchMatMul replacement (transposes first) on wasm vs cpu (seed ${SEED})`, () => {
  const shapes: { name: string; a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [];
  for (const rows of [1, TRANSPOSE_B_MIN_ROWS - 1, TRANSPOSE_B_MIN_ROWS, 37]) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const k = 23;
      const n = 19;
      shapes.push({ name: `${rows} rows, tA=${tA}, tB=${tB}`, a: tA ? [k, rows] : [rows, k], b: tB ? [n, k] : [k, n], tA, tB });
    }
  }
  shapes.push({ name: "batched 3-D, tA", a: [3, 11, 7], b: [3, 11, 5], tA: true, tB: false });
  shapes.push({ name: "batched 3-D, tB, 20 rows", a: [2, 20, 9], b: [2, 6, 9], tA: false, tB: true });
  shapes.push({ name: "broadcast batch, tA and tB", a: [1, 8, 17], b: [4, 5, 8], tA: true, tB: true });
  it.each(shapes)("$name", async (c) => {
    const rng = makeRng(SEED + c.a.concat(c.b).reduce((x, y) => x * 17 + y, 3) + (c.tA ? 1 : 0) + (c.tB ? 2 : 0));
    const av = randoms(c.a.reduce((x, y) => x * y, 1), rng);
    const bv = randoms(c.b.reduce((x, y) => x * y, 1), rng);
    const run = () => tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.tA, c.tB);
    expectClose(await on("wasm", run), await on("cpu", run), MATMUL_ABS, MATMUL_REL, `seed ${SEED}, ${c.name}`);
  });

  it("leaks no tensors or heap data", async () => {
    await tf.setBackend("wasm");
    const a = tf.randomNormal([40, 30], 0, 1, "float32", SEED);
    const b = tf.randomNormal([50, 40], 0, 1, "float32", SEED + 1);
    const before = tf.memory().numTensors;
    const dataBefore = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    tf.matMul(a, b, true, true).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataBefore);
    tf.dispose([a, b]);
  });
});

describe(`a training step of an Embedding -> LSTM model, wasm vs cpu (seed ${SEED})`, () => {
  it("gives the same gradients", async () => {
    const rng = makeRng(SEED + 2);
    const ids = Int32Array.from({ length: 24 * 6 }, () => Math.floor(rng() * 30));
    const ys = Float32Array.from({ length: 24 }, () => (rng() < 0.5 ? 0 : 1));
    const grads = async (backend: "wasm" | "cpu") => {
      await tf.setBackend(backend);
      const m = tf.sequential();
      m.add(tf.layers.embedding({ inputDim: 30, outputDim: 8, inputLength: 6, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: SEED }) }));
      m.add(tf.layers.lstm({ units: 20, recurrentActivation: "sigmoid", kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: SEED + 2 }) }));
      m.add(tf.layers.dense({ units: 1, activation: "sigmoid", kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 3 }) }));
      const x = tf.tensor2d(ids, [24, 6], "int32");
      const y = tf.tensor2d(ys, [24, 1]);
      const { grads: g } = tf.variableGrads(() => tf.losses.logLoss(y, m.apply(x) as tfTypes.Tensor) as tfTypes.Scalar);
      const out = m.trainableWeights.map((w) => Array.from(g[w.originalName].dataSync()));
      tf.dispose(Object.values(g));
      m.dispose();
      return out;
    };
    const w = await grads("wasm");
    const c = await grads("cpu");
    expect(w.length).toBe(c.length);
    w.forEach((gw, i) => expectClose(gw, c[i], GRADIENT_ABS, GRADIENT_REL, `seed ${SEED}, weight ${i}`));
  });
});

describe(`Slice, Unpack and SplitV replacements (heap views) on wasm vs cpu (seed ${SEED})`, () => {
  const sliceCases: { name: string; shape: number[]; begin: number[]; size: number[] }[] = [
    { name: "1-D middle", shape: [10], begin: [3], size: [4] },
    { name: "2-D column block", shape: [6, 7], begin: [1, 2], size: [4, 3] },
    { name: "3-D time step (LSTM unstack)", shape: [5, 8, 6], begin: [0, 3, 0], size: [5, 1, 6] },
    { name: "3-D inner box", shape: [4, 5, 6], begin: [1, 1, 2], size: [2, 3, 3] },
    { name: "4-D with -1 size", shape: [2, 3, 4, 5], begin: [1, 0, 1, 2], size: [-1, 2, -1, 2] },
    { name: "5-D", shape: [2, 2, 3, 2, 3], begin: [0, 1, 1, 0, 1], size: [2, 1, 2, 2, 2] },
    { name: "whole tensor", shape: [3, 4], begin: [0, 0], size: [3, 4] },
    { name: "empty", shape: [3, 4], begin: [1, 1], size: [0, 2] },
  ];
  it.each(sliceCases)("slice $name", async (c) => {
    const rng = makeRng(SEED + c.shape.reduce((a, b) => a * 13 + b, 5));
    const xv = randoms(c.shape.reduce((a, b) => a * b, 1), rng);
    const run = () => tf.slice(tf.tensor(xv, c.shape), c.begin, c.size);
    const w = await on("wasm", run);
    const cpu = await on("cpu", run);
    expect(Array.from(w)).toEqual(Array.from(cpu));
  });

  it("slices int32 and bool tensors", async () => {
    const iv = Int32Array.from({ length: 24 }, (_, i) => i * 3 - 7);
    const runI = () => tf.slice(tf.tensor3d(iv, [2, 3, 4], "int32"), [0, 1, 1], [2, 2, 2]);
    expect(Array.from(await on("wasm", runI))).toEqual(Array.from(await on("cpu", runI)));
    const runB = () => tf.slice(tf.tensor2d(Int32Array.from({ length: 12 }, (_, i) => i % 3), [3, 4], "int32").greater(0), [1, 0], [2, 3]);
    expect(Array.from(await on("wasm", runB))).toEqual(Array.from(await on("cpu", runB)));
  });

  it.each([0, 1, 2, -1])("unstack along axis %i", async (axis) => {
    const rng = makeRng(SEED + 100 + axis);
    const xv = randoms(3 * 4 * 5, rng);
    const run = () => tf.stack(tf.unstack(tf.tensor3d(xv, [3, 4, 5]), axis).map((t, i) => t.mul(i + 1)), 0);
    expect(Array.from(await on("wasm", run))).toEqual(Array.from(await on("cpu", run)));
  });

  it.each([
    { sizes: 4, axis: 1 },
    { sizes: [2, 5, 1], axis: 2 },
    { sizes: [1, -1], axis: 0 },
  ])("split $sizes along axis $axis", async (c) => {
    const rng = makeRng(SEED + 200 + c.axis);
    const xv = randoms(4 * 8 * 8, rng);
    const run = () => tf.concat(tf.split(tf.tensor3d(xv, [4, 8, 8]), c.sizes, c.axis).map((t, i) => t.add(i * 10)), c.axis);
    expect(Array.from(await on("wasm", run))).toEqual(Array.from(await on("cpu", run)));
  });

  it("leaves no tensors behind and keeps the input intact", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor3d(Float32Array.from({ length: 60 }, (_, i) => i), [3, 4, 5]);
    const before = tf.memory().numTensors;
    const parts = tf.unstack(x, 1);
    expect(tf.memory().numTensors).toBe(before + 4);
    tf.dispose(parts);
    tf.split(x, [1, 4], 2).forEach((t) => t.dispose());
    tf.slice(x, [0, 1, 1], [2, 2, 2]).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(x.dataSync())).toEqual(Array.from({ length: 60 }, (_, i) => i));
    x.dispose();
  });
});
