/**
 * Where the training and test data are found; the one place that knows (test/data/README.md
 * lists every file, its source and its licence).
 *
 * 1. The repository's copy, `test/data/<file>`: the files whose licence allows it (UCI
 *    sentences, Aesop, the MIT models and recordings). A file listed in DERIVED is made from a
 *    repository file by a pinned command the first time it is asked for, checked against its
 *    recorded SHA-256, and kept in `test/data/derived/` (not committed).
 * 2. Else the folder named by `RNN_WASM_DATA`.
 * 3. Else `../shared/data` beside the repository (the work machines and CI), where the files
 *    that cannot be redistributed live: the StockTwits messages and the real models published
 *    without a licence.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RnnWasmError } from "../../src/errors.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const REPO_DATA = path.join(REPO_ROOT, "test/data");
const SHARED = path.resolve(REPO_ROOT, "../shared/data");

/**
 * The data folder outside the repository, when there is one: RNN_WASM_DATA, else ../shared/data.
 * `RNN_WASM_DATA=none` means none, even beside ../shared (what a fresh clone sees).
 */
const env = process.env.RNN_WASM_DATA;
export const OUTSIDE_DATA: string | null = env === "none" ? null : env ? path.resolve(env) : existsSync(SHARED) ? SHARED : null;

interface Derivation {
  from: string;
  /** ffmpeg arguments between the input and the output file. */
  ffmpeg: string[];
  sha256: string;
  /** The ffmpeg that produced the recorded bytes (its resampler fixes them). */
  made: string;
}

/**
 * Files the repository derives instead of storing: the 16 kHz recording is 5.4 MB of
 * resampled 8 kHz speech, reproduced bit for bit by Debian 12's ffmpeg.
 */
export const DERIVED: Record<string, Derivation> = {
  "speech/aepyx_16k_resampled.wav": {
    from: "speech/aepyx_8k.wav",
    ffmpeg: ["-ar", "16000"],
    sha256: "12a6fee82fb3fbd3f2eb18ce0ed5e7c037d9beeebd54515341576eb44445ddd9",
    made: "ffmpeg 5.1 (Debian 12)",
  },
};

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/**
 * Makes a derived file in test/data/derived/ (or finds it there); null when ffmpeg is not
 * installed. Bytes that differ from the recorded ones (another ffmpeg's resampler) are refused.
 */
function derive(rel: string): string | null {
  const d = DERIVED[rel];
  const out = path.join(REPO_DATA, "derived", rel);
  if (existsSync(out)) return out;
  const from = path.join(REPO_DATA, d.from);
  try {
    execFileSync("ffmpeg", ["-version"], { stdio: "ignore" });
  } catch {
    return null;
  }
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp${path.extname(out)}`;
  execFileSync("ffmpeg", ["-v", "error", "-y", "-i", from, ...d.ffmpeg, tmp], { stdio: "pipe" });
  const got = sha256(tmp);
  if (got !== d.sha256) {
    throw new RnnWasmError("E_IO", `${rel}: derived from ${d.from} by ffmpeg ${d.ffmpeg.join(" ")}, SHA-256 ${got}; the recorded file (${d.made}) has ${d.sha256}: this ffmpeg resamples differently; put the recorded file in RNN_WASM_DATA instead`);
  }
  renameSync(tmp, out);
  return out;
}

/** The data file `rel` (e.g. "uci-sentiment/yelp_labelled.txt") where it is found first; null if nowhere. */
export function findData(rel: string): string | null {
  const inRepo = path.join(REPO_DATA, rel);
  if (existsSync(inRepo)) return inRepo;
  const made = rel in DERIVED ? derive(rel) : null;
  if (made) return made;
  const outside = OUTSIDE_DATA && path.join(OUTSIDE_DATA, rel);
  return outside && existsSync(outside) ? outside : null;
}

/** Where a data file was looked for, for messages. */
export function whereLooked(rel: string): string {
  const places = [path.join(REPO_DATA, rel), ...(rel in DERIVED ? [`ffmpeg from ${path.join(REPO_DATA, DERIVED[rel].from)}`] : [])];
  places.push(OUTSIDE_DATA ? path.join(OUTSIDE_DATA, rel) : `$RNN_WASM_DATA/${rel} (no outside data folder: RNN_WASM_DATA ${env === "none" ? "is none" : "unset"}, no ${SHARED})`);
  return places.join(", ");
}

/** The data file `rel`, or an E_IO error naming what is missing and where it was looked for. */
export function requireData(rel: string, what: string): string {
  const found = findData(rel);
  if (found) return found;
  throw new RnnWasmError("E_IO", `${what} (${rel}) not found; looked in ${whereLooked(rel)}. test/data/README.md says where it comes from; put it in a folder and set RNN_WASM_DATA to that folder`);
}
