/**
 * The .h5 / .keras fuzzer: our own Keras fixtures (HDF5 files and .keras zip archives) with a
 * few bytes changed, a run overwritten, or the file cut, exported through the public path
 * (exportBundle of a file, whose Keras reader runs in a worker ended at a deadline). h5wasm
 * can loop forever on one changed byte, so E_TIMEOUT is a correct outcome here: what must
 * never happen is a caller that waits past the deadline, a crash, or an untyped error. A file
 * that still exports must load and work (probe.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportBundle } from "../../../src/export.ts";
import { loadModel } from "../../../src/index.ts";
import type { FuzzTarget } from "../harness.ts";
import { probeModel } from "../probe.ts";

const FIXTURES = new URL("../../fixtures/keras/", import.meta.url);
/** The reader's deadline in these cases (the watchdog allows well beyond it). */
const DEADLINE_MS = 1500;

export const target: FuzzTarget<{ name: string; bytes: Uint8Array; what: string[] }, { files: [string, Uint8Array][]; dir: string }> = {
  name: "keras-file",
  codes: ["E_HDF5", "E_TIMEOUT", "E_MODEL_JSON", "E_WEIGHTS", "E_UNSUPPORTED_LAYER", "E_UNSUPPORTED_OPTION", "E_SHAPE"],
  caseTimeoutMs: 30_000,
  async setup() {
    const files = readdirSync(FIXTURES).filter((f) => /\.(h5|keras)$/.test(f)).sort().map((f) => [f, new Uint8Array(readFileSync(new URL(f, FIXTURES)))] as [string, Uint8Array]);
    return { files, dir: mkdtempSync(join(tmpdir(), "rnnwasm-fuzz-keras-")) };
  },
  make(rng, _i, { files }) {
    const [name, base] = files[rng.int(0, files.length)];
    const bytes = base.slice();
    const what: string[] = [];
    const kind = rng.int(0, 10);
    if (kind < 7) {
      for (let k = rng.int(1, 5); k > 0; k--) {
        const at = rng.int(0, bytes.length);
        bytes[at] = rng.next() < 0.5 ? bytes[at] ^ (1 << rng.int(0, 8)) : rng.int(0, 256);
        what.push(`byte ${at}`);
      }
    } else if (kind < 9) {
      const at = rng.int(0, bytes.length);
      const n = Math.min(rng.int(1, 64), bytes.length - at);
      bytes.fill(rng.next() < 0.5 ? 0 : 0xff, at, at + n);
      what.push(`${n} bytes at ${at} overwritten`);
    } else {
      const at = rng.int(1, bytes.length);
      what.push(`cut at ${at}`);
      return { name, bytes: bytes.subarray(0, at), what };
    }
    return { name, bytes, what };
  },
  async run({ name, bytes }, { dir }) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    try {
      const model = await loadModel(await exportBundle(path, { timeoutMs: DEADLINE_MS }));
      try {
        return probeModel(model);
      } finally {
        model.dispose();
      }
    } finally {
      rmSync(path, { force: true });
    }
  },
};
