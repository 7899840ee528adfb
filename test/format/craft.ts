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
