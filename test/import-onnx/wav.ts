/**
 * Reads the test recordings (RIFF WAVE, PCM 16-bit, mono) into samples in [-1, 1), as silero's
 * usage does (int16 / 32768).
 */
import { readFileSync } from "node:fs";

export interface Recording {
  rate: number;
  samples: Float32Array;
}

export function readWav(path: string): Recording {
  const b = readFileSync(path);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const tag = (at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error(`${path}: not a WAVE file`);
  let rate = 0;
  for (let at = 12; at + 8 <= b.length; ) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      const format = v.getUint16(body, true);
      const channels = v.getUint16(body + 2, true);
      const bits = v.getUint16(body + 14, true);
      if (format !== 1 || channels !== 1 || bits !== 16) throw new Error(`${path}: expected PCM16 mono, found format ${format}, ${channels} channels, ${bits} bits`);
      rate = v.getUint32(body + 4, true);
    } else if (id === "data") {
      if (!rate) throw new Error(`${path}: data before fmt`);
      const n = Math.floor(Math.min(size, b.length - body) / 2);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = v.getInt16(body + 2 * i, true) / 32768;
      return { rate, samples };
    }
    at = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}
