/** Standalone LstmCell / GruCell against tfjs' cells and the float64 recurrence reference. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { GruCell, LstmCell, ready } from "../../src/index.ts";
import { recurrence } from "../reference/recurrent.ts";
import { sigmoid } from "../reference/activations.ts";
import { APPROX, KERNEL_F64 } from "../tolerance.ts";
import { assertClose } from "../util/compare.ts";
import { rngFor } from "../util/prng.ts";
import { codeOf } from "../util/errors.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await ready();
});

describe.each([1, 5, 9])("cells with %i units", (u) => {
  const inDim = 3;
  const B = 2;

  it("LstmCell.call matches tfjs LSTMCell over several steps", async () => {
    const rng = rngFor(`lstm cell ${u}`);
    const kernel = rng.float32Array(inDim * 4 * u, (r) => r.uniform(-0.8, 0.8));
    const rec = rng.float32Array(u * 4 * u, (r) => r.uniform(-0.8, 0.8));
    const bias = rng.float32Array(4 * u, (r) => r.nonZero(0.05, 0.5));
    const cell = await LstmCell.create({ units: u, kernel, recurrentKernel: rec, bias });
    const tfCell = tf.layers.lstmCell({ units: u, recurrentActivation: "sigmoid" });
    tfCell.build([B, inDim]);
    tfCell.setWeights([tf.tensor(kernel, [inDim, 4 * u]), tf.tensor(rec, [u, 4 * u]), tf.tensor(bias, [4 * u])]);
    let state = [{ data: new Float32Array(B * u), shape: [B, u] }, { data: new Float32Array(B * u), shape: [B, u] }];
    let tfState = [tf.zeros([B, u]), tf.zeros([B, u])];
    for (let t = 0; t < 4; t++) {
      const x = rng.float32Array(B * inDim, (r) => r.uniform(-1, 1));
      const [out, next] = cell.call({ data: x, shape: [B, inDim] }, state);
      const tfOut = tfCell.call([tf.tensor(x, [B, inDim]), ...tfState], {}) as tf.Tensor[];
      assertClose(out, { data: tfOut[0].dataSync(), shape: [B, u] }, APPROX, `LstmCell step ${t} h`);
      assertClose(next[1], { data: tfOut[2].dataSync(), shape: [B, u] }, APPROX, `LstmCell step ${t} c`);
      state = next as typeof state;
      tfState = [tfOut[1], tfOut[2]];
    }
  });

  it.each([true, false])("GruCell (reset_after=%s) matches the float64 Keras equations", async (resetAfter) => {
    const rng = rngFor(`gru cell ${u} ${resetAfter}`);
    const kernel = rng.float32Array(inDim * 3 * u, (r) => r.uniform(-0.8, 0.8));
    const rec = rng.float32Array(u * 3 * u, (r) => r.uniform(-0.8, 0.8));
    const bias = rng.float32Array((resetAfter ? 2 : 1) * 3 * u, (r) => r.nonZero(0.05, 0.5));
    const cell = await GruCell.create({ units: u, kernel, recurrentKernel: rec, bias, resetAfter });
    const h0 = rng.float32Array(B * u, (r) => r.uniform(-1, 1));
    const x = rng.float32Array(B * inDim, (r) => r.uniform(-1, 1));
    const [out] = cell.call({ data: x, shape: [B, inDim] }, [{ data: h0, shape: [B, u] }]);
    const ref = recurrence(
      { cell: "gru", units: u, kernel, recurrentKernel: rec, bias, resetAfter, gate: sigmoid, candidate: Math.tanh },
      { x, B, T: 1, initialStates: [h0] },
    );
    assertClose(out, { data: ref.states[0], shape: [B, u] }, KERNEL_F64, `GruCell reset_after=${resetAfter}`);
  });
});

it("cells reject wrong shapes and batch mismatches with typed errors", async () => {
  const cell = await LstmCell.create({ units: 2, kernel: new Float32Array(3 * 8), recurrentKernel: new Float32Array(2 * 8), bias: new Float32Array(8) });
  const code = codeOf;
  const z = (b: number, n: number) => ({ data: new Float32Array(b * n), shape: [b, n] });
  expect(code(() => cell.call(z(1, 4), [z(1, 2), z(1, 2)]))).toBe("E_SHAPE");
  expect(code(() => cell.call(z(2, 3), [z(1, 2), z(1, 2)]))).toBe("E_SHAPE");
  expect(code(() => cell.call(z(1, 3), [z(1, 2)]))).toBe("E_SHAPE");
  expect(code(() => new LstmCell({ units: 2, kernel: new Float32Array(7), recurrentKernel: new Float32Array(16) }))).toBe("E_SHAPE");
  expect(code(() => cell.call({ data: Float32Array.of(NaN, 0, 0), shape: [1, 3] }, [z(1, 2), z(1, 2)]))).toBe("E_VALUE");
  const [h] = cell.call(z(1, 3), [z(1, 2), z(1, 2)]);
  expect(h.shape).toEqual([1, 2]);
});
