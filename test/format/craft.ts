/**
 * Tools for crafting damaged bundles: parse a bundle's preamble and header, rewrite the header
 * (padded with spaces to its old length so every section stays where it was), patch preamble
 * fields, and recompute the CRC-32 trailer with node:zlib (independent of src/format/crc32.ts)
 * so that the damage gets past the checksum and reaches the validation behind it.
 */
import * as zlib from "node:zlib";
import { attempt } from "../util/errors.ts";
import { loadModel } from "../../src/index.ts";

const zcrc = (zlib as unknown as { crc32: (data: Uint8Array, value?: number) => number }).crc32;

export const PREAMBLE = 12;


// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function headerOf(bytes: Uint8Array): { header: Json; headerBytes: number } {
  const headerBytes = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const text = new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + headerBytes));
  return { header: JSON.parse(text), headerBytes };
}

/** A copy with the trailer set to the CRC-32 of everything before it. */
export function fixCrc(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, zcrc(out.subarray(0, out.length - 4)) >>> 0, true);
  return out;
}

/** Rewrites the header JSON in place (same headerBytes, space-padded) and fixes the CRC. */
export function withHeader(bytes: Uint8Array, mutate: (h: Json) => void, raw?: (text: string) => string): Uint8Array {
  const { header, headerBytes } = headerOf(bytes);
  mutate(header);
  let text = JSON.stringify(header);
  if (raw) text = raw(text);
  const enc = new TextEncoder().encode(text);
  if (enc.length > headerBytes) throw new Error(`crafted header is ${enc.length} bytes, only ${headerBytes} fit`);
  const out = bytes.slice();
  out.fill(0x20, PREAMBLE, PREAMBLE + headerBytes);
  out.set(enc, PREAMBLE);
  return fixCrc(out);
}

/**
 * Lays the bundle out again around a header of any size (the sections move by the change of
 * the header field, rounded to 16, and the header's offsets with them) and fixes the CRC: a
 * crafted header that would not fit in the old one's space is still a well-formed file.
 */
export function withNewHeader(bytes: Uint8Array, mutate: (h: Json) => void, raw: (text: string) => string = (t) => t): Uint8Array {
  const { header, headerBytes } = headerOf(bytes);
  const oldStart = Math.ceil((PREAMBLE + headerBytes) / 16) * 16;
  mutate(header);
  const sections = Array.isArray(header.sections) ? header.sections : [];
  const offsets = sections.map((s: Json) => s?.offset);
  // the header's length depends on its offsets: lay out with room, then pad to that room
  let room = 0;
  const text = () => new TextEncoder().encode(raw(JSON.stringify(header)));
  for (let guess = text().length + 64; ; guess += 64) {
    const start = Math.ceil((PREAMBLE + guess) / 16) * 16;
    sections.forEach((sec: Json, i: number) => {
      if (sec && typeof offsets[i] === "number") sec.offset = offsets[i] - oldStart + start;
    });
    if (text().length <= guess) {
      room = guess;
      break;
    }
  }
  const start = Math.ceil((PREAMBLE + room) / 16) * 16;
  const data = bytes.subarray(oldStart, bytes.length - 4);
  const out = new Uint8Array(start + data.length + 4);
  out.set(bytes.subarray(0, PREAMBLE));
  new DataView(out.buffer).setUint32(8, room, true);
  out.fill(0x20, PREAMBLE, PREAMBLE + room);
  out.set(text(), PREAMBLE);
  out.set(data, start);
  return fixCrc(out);
}

/** Sets u32 preamble fields (4: version, 8: headerBytes) and fixes the CRC. */
export function withU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(at, value >>> 0, true);
  return fixCrc(out);
}

export type LoadOutcome = { ok: true; model: Awaited<ReturnType<typeof loadModel>> } | { ok: false; code: string; message: string };

/** Loads bytes; a thrown value that is not an RnnWasmError is rethrown (a test failure). */
export async function tryLoad(bytes: Uint8Array): Promise<LoadOutcome> {
  const r = await attempt(() => loadModel(bytes));
  return r.ok ? { ok: true, model: r.value } : { ok: false, code: r.error.code, message: r.error.message };
}
