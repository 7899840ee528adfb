/**
 * Run by bad-input.test.ts in a child process (vitest captures console output in-process,
 * so only a real process shows what a user would see on stderr): imports damaged files and
 * prints the error codes as JSON on stdout. Anything on stderr is a leak (e.g. HDF5's error
 * stack, which h5wasm prints by default).
 */
import { readFileSync } from "node:fs";
import { importKerasFile } from "../../src/import/keras/index.ts";

const good = new Uint8Array(readFileSync(new URL("../fixtures/keras/legacy_keras3.h5", import.meta.url)));
const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff);
noise.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
const codes: string[] = [];
for (const [name, bytes] of [
  ["truncated.h5", good.subarray(0, good.length >> 1)],
  ["noise.h5", noise],
] as const) {
  try {
    await importKerasFile(bytes, name);
    codes.push("ok");
  } catch (e) {
    codes.push((e as { code?: string }).code ?? String(e));
  }
}
codes.push((await importKerasFile(good, "good.h5")).weights.length === 5 ? "ok" : "wrong");
process.stdout.write(JSON.stringify(codes));
