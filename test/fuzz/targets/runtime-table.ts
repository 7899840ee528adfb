/**
 * The runtime's hostile-input table: every public call given what a server could receive from
 * a client or a crafted file, each row with the one outcome it must have (a typed error of a
 * given code, or a result). After every row the oracle of the harness applies, and one more:
 * a failed call changes nothing, so each shared model still predicts what it did at the start
 * and a session created before still steps exactly like its twin.
 */
import { readFileSync } from "node:fs";
import { GruCell, LstmCell, loadModel, type Model, type Session } from "../../../src/index.ts";
import { codeOf, Defect, type FuzzTarget } from "../harness.ts";

interface Ctx {
  uci: Model; // Embedding(2001) -> LSTM(32) -> Dense: int32 ids [batch, 32], with a tokenizer
  sine: Model; // [T, 1] floats, a stateful LSTM
  aesop: Model; // next word over a 3-word window, generate()
  /** A session on uci and its twin, stepped in lockstep: they must stay equal. */
  session: Session;
  twin: Session;
  reference: { uci: number[]; sine: number[] };
}

type Row = [label: string, expect: string, call: (c: Ctx) => unknown];

/** predict with what a client could send, whatever its type. */
const predict = (m: Model, x: unknown) => m.predict(x as never);
const ids = (f: (i: number) => number) => Array.from({ length: 32 }, (_, i) => f(i));
const uciInput = (data: unknown) => ({ data, shape: [1, 32] }) as never;
const snapshotWith = (c: Ctx, edit: (payload: Float32Array) => void): Uint8Array => {
  const s = c.uci.createSession();
  s.step([5]);
  const snap = s.getState().slice();
  s.dispose();
  const payload = new Float32Array(snap.buffer, 24, (snap.length - 28) / 4);
  edit(payload);
  // a valid CRC-32 over the edited bytes (zlib's, independent of the runtime's)
  const crc = (globalThis as unknown as { __crc: (b: Uint8Array) => number }).__crc(snap.subarray(0, -4));
  new DataView(snap.buffer).setUint32(snap.length - 4, crc >>> 0, true);
  return snap;
};
const cyclic = (): unknown[] => {
  const a: unknown[] = [];
  a.push(a);
  return a;
};
const cellArgs = { units: 4, kernel: new Float32Array(3 * 16).fill(0.1), recurrentKernel: new Float32Array(4 * 16).fill(0.1) };

export const TABLE: Row[] = [
  // item 8: ids past int32 wrap no more
  ["predict: plain ids with 2^32", "E_TOKEN_RANGE", (c) => predict(c.uci, uciInput(ids((i) => (i === 31 ? 2 ** 32 : 1))))],
  ["predict: Float32Array ids with 2^32", "E_TOKEN_RANGE", (c) => predict(c.uci, uciInput(Float32Array.from(ids((i) => (i === 31 ? 2 ** 32 : 1)))))],
  ["predict: Float64Array ids with -2^32", "E_TOKEN_RANGE", (c) => predict(c.uci, uciInput(Float64Array.from(ids((i) => (i === 0 ? -(2 ** 32) : 1)))))],
  ["predict: Float64Array ids with 2^31", "E_TOKEN_RANGE", (c) => predict(c.uci, uciInput(Float64Array.from(ids((i) => (i === 3 ? 2 ** 31 : 1)))))],
  ["predict: ids of 1.5 truncate as in tfjs", "ok", (c) => predict(c.uci, uciInput(ids(() => 1.5)))],
  ["predict: an id of NaN", "E_TOKEN_RANGE", (c) => predict(c.uci, uciInput(ids((i) => (i ? 1 : NaN))))],
  ["predict: an id of -1", "E_TOKEN_RANGE", (c) => predict(c.uci, uciInput(Int32Array.from(ids((i) => (i ? 1 : -1)))))],
  ["predict: an id past the vocabulary", "E_TOKEN_RANGE", (c) => predict(c.uci, uciInput(Int32Array.from(ids(() => 2001))))],
  ["session.step: Float64Array [2^32]", "E_TOKEN_RANGE", (c) => c.uci.createSession().step({ data: Float64Array.from([2 ** 32]), shape: [1] } as never)],
  ["session.step: a number 2^32", "E_TOKEN_RANGE", (c) => c.uci.createSession().step(2 ** 32)],
  // item 15: types
  ["predict: string ids", "E_DTYPE", (c) => predict(c.uci, uciInput(ids(() => "1" as unknown as number)))],
  ["predict: string values", "E_DTYPE", (c) => predict(c.sine, { data: ["0.5"], shape: [1, 1, 1] })],
  ["predict: null", "E_DTYPE", (c) => predict(c.uci, null)],
  ["predict: a symbol", "E_DTYPE", (c) => predict(c.uci, Symbol("x"))],
  ["predict: an array that contains itself", "E_SHAPE", (c) => predict(c.uci, cyclic())],
  ["predict: a DataView", "E_DTYPE", (c) => predict(c.uci, { data: new DataView(new ArrayBuffer(128)), shape: [1, 32] })],
  ["predict: a BigInt64Array", "E_DTYPE", (c) => predict(c.uci, { data: new BigInt64Array(32), shape: [1, 32] })],
  ["predict: a shape that does not match the data", "E_SHAPE", (c) => predict(c.uci, { data: new Int32Array(32), shape: [1, 2 ** 31] })],
  ["predict: negative and fractional dims", "E_SHAPE", (c) => predict(c.uci, { data: new Int32Array(32), shape: [-1, -32] })],
  ["predict: a detached buffer", "E_SHAPE", (c) => {
    const d = new Int32Array(32);
    structuredClone(d.buffer, { transfer: [d.buffer] });
    return predict(c.uci, { data: d, shape: [1, 32] });
  }],
  ["predict: NaN features", "E_VALUE", (c) => predict(c.sine, { data: new Float32Array([NaN]), shape: [1, 1, 1] })],
  ["session.step(0.5) on a [T, 1] model", "ok", (c) => c.sine.createSession().step(0.5)],
  ["session.step(NaN)", "E_VALUE", (c) => c.sine.createSession().step(NaN)],
  ["session.step with two values on a [T, 1] model", "E_SHAPE", (c) => c.sine.createSession().step([0.5, 0.25])],
  ["session.step: rank 5", "E_SHAPE", (c) => c.sine.createSession().step({ data: new Float32Array(1), shape: [1, 1, 1, 1, 1] })],
  ["createSession: batch 2^31", "E_ARGUMENT", (c) => c.uci.createSession({ batchSize: 2 ** 31 })],
  ["createSession: batch 1.5", "E_ARGUMENT", (c) => c.uci.createSession({ batchSize: 1.5 })],
  ["createSession: null options", "E_ARGUMENT", (c) => c.uci.createSession(null as never)],
  // item 9: snapshots are checked like inputs
  ["setState: NaN state (CRC recomputed)", "E_STATE_CORRUPT", (c) => c.session.setState(snapshotWith(c, (p) => p.fill(NaN)))],
  ["setState: an infinite state value (CRC recomputed)", "E_STATE_CORRUPT", (c) => c.session.setState(snapshotWith(c, (p) => (p[3] = Infinity)))],
  ["setState: a finite edited state (CRC recomputed) is accepted", "ok", (c) => c.uci.createSession().setState(snapshotWith(c, (p) => (p[0] = 0.5)))],
  ["setState: truncated", "E_STATE_CORRUPT", (c) => c.session.setState(c.twin.getState().subarray(0, 40))],
  ["setState: a snapshot of another model", "E_STATE_MISMATCH", (c) => c.session.setState(c.sine.createSession().getState())],
  ["setState: not bytes", "E_STATE_CORRUPT", (c) => c.session.setState("abc" as never)],
  // item 15: tokenizer and generation
  ["tokenizer.decode(null)", "E_ARGUMENT", (c) => c.uci.tokenizer!.decode(null as never)],
  ["tokenizer.decode of an object claiming 2^32 ids", "E_TOKEN_RANGE", (c) => c.uci.tokenizer!.decode({ length: 2 ** 32 } as never)],
  ["tokenizer.decode([2^32])", "E_TOKEN_RANGE", (c) => c.uci.tokenizer!.decode([2 ** 32])],
  ["tokenizer.encode(null)", "E_ARGUMENT", (c) => c.uci.tokenizer!.encode(null as never)],
  ["tokenizer.encode of 100,000 characters", "ok", (c) => {
    const ids = c.uci.tokenizer!.encode("the battery lasts ".repeat(5600));
    if (ids.length !== 32) throw new Defect(`encode gave ${ids.length} ids, the model reads 32`);
  }],
  ["generate: 10^6 steps", "E_ARGUMENT", (c) => c.aesop.generate("had a general", { steps: 1e6 })],
  ["generate: 10,001 steps", "E_ARGUMENT", (c) => c.aesop.generate("had a general", { steps: 10_001 })],
  ["generate: a prompt claiming 2^32 ids", "E_ARGUMENT", (c) => c.aesop.generate({ length: 2 ** 32 } as never, { steps: 1 })],
  ["generate: a prompt id of 2^32", "E_TOKEN_RANGE", (c) => c.aesop.generate([1, 2, 2 ** 32], { steps: 1 })],
  ["generate: temperature NaN", "E_ARGUMENT", (c) => c.aesop.generate("had a general", { steps: 1, temperature: NaN })],
  ["generate: no options", "E_ARGUMENT", (c) => c.aesop.generate("had a general", null as never)],
  ["generate on a model that reads no tokens", "E_ARGUMENT", (c) => c.sine.generate([1], { steps: 1 })],
  // loading
  ["loadModel(null)", "E_ARGUMENT", () => loadModel(null as never)],
  ["loadModel(a symbol)", "E_ARGUMENT", () => loadModel(Symbol("m") as never)],
  ["loadModel: options.simd 'fast'", "E_ARGUMENT", () => loadModel(new Uint8Array(16), { simd: "fast" as never })],
  ["loadModel: a cyclic model.json", "E_MODEL_JSON", () => {
    const modelJson: Record<string, unknown> = {};
    modelJson.modelTopology = modelJson;
    return loadModel({ modelJson, weights: [] });
  }],
  ["loadModel: a symbol in model.json", "E_MODEL_JSON", () => loadModel({ modelJson: { modelTopology: { class_name: Symbol("x") } }, weights: [] })],
  ["loadModel: a detached weights buffer", "E_WEIGHTS", () => {
    const b = new ArrayBuffer(8);
    structuredClone(b, { transfer: [b] });
    return loadModel({ modelJson: { modelTopology: { class_name: "Sequential", config: { layers: [] } }, weightsManifest: [] }, weights: b });
  }],
  // standalone cells
  ["LstmCell.create: activation __proto__", "E_UNSUPPORTED_OPTION", () => LstmCell.create({ ...cellArgs, activation: "__proto__" })],
  ["GruCell.create: recurrentActivation constructor", "E_UNSUPPORTED_OPTION", () => GruCell.create({ units: 4, kernel: new Float32Array(3 * 12), recurrentKernel: new Float32Array(4 * 12), recurrentActivation: "constructor" })],
  ["LstmCell.create: units -1", "E_ARGUMENT", () => LstmCell.create({ ...cellArgs, units: -1 })],
  ["LstmCell.call: NaN input", "E_VALUE", async () => (await LstmCell.create(cellArgs)).call([[NaN, 0, 0]], [[[0, 0, 0, 0]], [[0, 0, 0, 0]]])],
  ["LstmCell.call after dispose", "E_DISPOSED", async () => {
    const cell = await LstmCell.create(cellArgs);
    cell.dispose();
    return cell.call([[0, 0, 0]], [[[0, 0, 0, 0]], [[0, 0, 0, 0]]]);
  }],
  ["a disposed model", "E_DISPOSED", async (c) => {
    const m = await loadModel(readFileSync(new URL("../../../models/sine.rnnb", import.meta.url)));
    m.dispose();
    return predict(m, { data: new Float32Array(1), shape: [1, 1, 1] });
  }],
];

const flat = (y: unknown): number[] => Array.from(((Array.isArray(y) ? y[0] : y) as { data: Float32Array }).data);
const probeUci = (m: Model) => flat(m.predict(uciInput(Int32Array.from(ids((i) => (i * 37) % 2001)))));
const probeSine = (m: Model) => {
  m.resetStates();
  return flat(m.predict({ data: Float32Array.from([0.1, 0.2, 0.3]), shape: [1, 3, 1] }));
};

export const target: FuzzTarget<Row, Ctx> = {
  name: "runtime-table",
  codes: [], // every row checks its own expected code
  async setup() {
    const zlib = await import("node:zlib");
    (globalThis as unknown as { __crc: unknown }).__crc = (zlib as unknown as { crc32: (b: Uint8Array) => number }).crc32;
    const bundle = (f: string) => readFileSync(new URL(`../../../models/${f}`, import.meta.url));
    const [uci, sine, aesop] = await Promise.all([loadModel(bundle("uci-sentiment.rnnb")), loadModel(bundle("sine.rnnb")), loadModel(bundle("aesop-next-word.rnnb"))]);
    const session = uci.createSession();
    const twin = uci.createSession();
    return { uci, sine, aesop, session, twin, reference: { uci: probeUci(uci), sine: probeSine(sine) } };
  },
  make: (_rng, i) => TABLE[i % TABLE.length],
  async run([label, expect, call], c) {
    let outcome = "ok";
    try {
      await call(c);
    } catch (e) {
      const code = codeOf(e);
      if (code === null || e instanceof Defect) throw e;
      outcome = code;
    }
    if (outcome !== expect) throw new Defect(`${label}: expected ${expect}, got ${outcome}`);
    // a failed (or successful) hostile call changed nothing around it
    if (JSON.stringify(probeUci(c.uci)) !== JSON.stringify(c.reference.uci)) throw new Defect(`${label}: the shared uci model predicts differently after it`);
    if (JSON.stringify(probeSine(c.sine)) !== JSON.stringify(c.reference.sine)) throw new Defect(`${label}: the shared sine model predicts differently after it`);
    const step = [7];
    if (JSON.stringify(flat(c.session.step(step))) !== JSON.stringify(flat(c.twin.step(step)))) throw new Defect(`${label}: a session stepped differently from its twin after it`);
    return outcome;
  },
};
