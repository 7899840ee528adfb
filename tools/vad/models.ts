/**
 * The Silero VAD bundles rnn-wasm-tools ships (models/, copied into tools/dist/models): Silero v5 (MIT, snakers4/silero-vad as
 * @ricky0123/vad-web 0.0.31 ships it) bound for 16 kHz and for 8 kHz, float32. `npx tsx
 * tools/vad/models.ts` writes them; test/vad/models.test.ts checks the files are what this makes.
 */
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { exportSileroVad } from "../../src/vad/export.js";
import { requireData, REPO_ROOT } from "../train/data.js";

export const SHIPPED_VAD_MODELS = [
  { file: "silero-vad-v5-16k.rnnb", sampleRate: 16000 },
  { file: "silero-vad-v5-8k.rnnb", sampleRate: 8000 },
] as const;

export function makeShippedModel(sampleRate: number): Promise<Uint8Array> {
  return exportSileroVad(requireData("real-models/onnx-silero-vad/silero_vad_v5.onnx", "Silero VAD v5"), { sampleRate, name: "silero_vad_v5.onnx" });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(REPO_ROOT, "tools/vad/models.ts")) {
  for (const m of SHIPPED_VAD_MODELS) {
    const bytes = await makeShippedModel(m.sampleRate);
    await writeFile(resolve(REPO_ROOT, "models", m.file), bytes);
    console.log(`models/${m.file}: ${bytes.length} bytes`);
  }
}
