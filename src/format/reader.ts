/**
 * Reads and validates .rnnb bytes. Every length, offset and count is checked against the
 * file's own size before it is used, so a truncated or crafted file costs at most one pass
 * over its bytes and allocations no larger than itself; any defect is E_BUNDLE_CORRUPT (or
 * E_BUNDLE_VERSION for a newer format), never a trap, hang or huge allocation.
 */
import { fail, RnnWasmError } from "../errors.js";
import type { ModelSpec, PackedModel } from "../model/spec.js";
import { validateSpec } from "../model/validate.js";
import { DTYPE_BYTES, FORMAT_VERSION, MAGIC, OLDEST_FORMAT, PREAMBLE_BYTES, SECTION_ALIGN, TRAILER_BYTES, type BundleHeader, type SectionDtype, type SectionEntry } from "./bundle.js";
import { crc32 } from "./crc32.js";

function corrupt(msg: string): never {
  fail("E_BUNDLE_CORRUPT", `not a valid .rnnb bundle: ${msg}`);
}

/** The header nests at most this deep (json.ts's MAX_JSON_DEPTH for any JSON from outside; real headers: 5). */
export const MAX_HEADER_DEPTH = 256;

/** Whether parsed JSON nests deeper than `depth` levels (the recursion stops there). */
const nestsDeeper = (v: unknown, depth: number): boolean =>
  depth < 0 || (typeof v === "object" && v !== null && Object.values(v).some((x) => nestsDeeper(x, depth - 1)));

export function isBundle(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

export interface ReadBundle {
  header: BundleHeader;
  packed: PackedModel;
  /** CRC-32 of the bundle: identifies its weights (session snapshots). */
  checksum: number;
}

/** readBundle with the JS CRC-32 (tools, tests, the exporter). */
export const readBundle = (input: Uint8Array | ArrayBuffer, version?: number): ReadBundle => parseBundle(input, crc32, version);

/**
 * The runtime's reader: `checksum` computes the CRC-32 of the bytes it is given (loadModel
 * passes the kernels' wasm CRC, so the runtime bundle carries no JS CRC).
 */
export function parseBundle(input: Uint8Array | ArrayBuffer, checksum: (bytes: Uint8Array) => number, accept?: number): ReadBundle {
  const read = parseBundleUnchecked(input, checksum, accept);
  validateBundle(read);
  return read;
}

/** A bundle read and its sections checked, its model spec not yet (see validateBundle). */
export interface UncheckedBundle extends ReadBundle {
  lengths: Map<string, number>;
  /** int8 weight -> scale count */
  int8: Map<string, number>;
}

/**
 * Checks the model spec of a bundle read by parseBundleUnchecked: loadModel reads a bundle
 * first, loads the chunk its general tensor ops need (their checks live there), then checks.
 */
export function validateBundle({ packed, lengths, int8 }: UncheckedBundle): void {
  try {
    validateSpec(packed.spec, lengths, int8);
  } catch (e) {
    if (e instanceof RnnWasmError) throw e;
    corrupt(`model spec is malformed (${(e as Error).message})`);
  }
}

/** `accept`: the one older format the caller converts from (upgrade); else every current format. */
export function parseBundleUnchecked(input: Uint8Array | ArrayBuffer, checksum: (bytes: Uint8Array) => number, accept?: number): UncheckedBundle {
  let bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (!(bytes instanceof Uint8Array)) corrupt("expected bytes");
  const n = bytes.length;
  if (n < PREAMBLE_BYTES + TRAILER_BYTES) corrupt(`${n} bytes is shorter than the smallest bundle`);
  if (!isBundle(bytes)) corrupt(`bad magic ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ")} (expected "RNNB")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  const version = view.getUint32(4, true);
  if (accept !== undefined ? version !== accept : !(version >= OLDEST_FORMAT && version <= FORMAT_VERSION)) {
    if (version > 0 && version < 1000) {
      const newer = version > FORMAT_VERSION;
      fail("E_BUNDLE_VERSION", `bundle format ${version} is ${newer ? "newer" : "older"} than this rnn-wasm's (${newer ? FORMAT_VERSION : OLDEST_FORMAT}): ${newer ? "upgrade rnn-wasm" : "run rnn-wasm upgrade <file>"}`);
    }
    corrupt(`unknown format version ${version}`);
  }
  const stored = view.getUint32(n - TRAILER_BYTES, true);
  const actual = checksum(bytes.subarray(0, n - TRAILER_BYTES));
  if (stored !== actual) corrupt("checksum mismatch: the file is truncated or damaged");
  const headerBytes = view.getUint32(8, true);
  if (headerBytes < 2 || PREAMBLE_BYTES + headerBytes > n - TRAILER_BYTES) corrupt(`header length ${headerBytes} does not fit in ${n} bytes`);
  let header: BundleHeader;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes)));
  } catch (e) {
    corrupt(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  // (nesting first: everything after may walk, format or serialise the header)
  if (nestsDeeper(header, MAX_HEADER_DEPTH)) corrupt(`header nests deeper than ${MAX_HEADER_DEPTH} levels`);
  if (typeof header !== "object" || header === null || header.format !== "rnnb" || header.version !== version) corrupt("header does not describe an rnnb bundle of this version");
  if (!Array.isArray(header.sections)) corrupt("header has no section table");
  if (typeof header.model !== "object" || header.model === null || !Array.isArray(header.model.weights)) corrupt("header has no model spec");
  if (header.metadata !== undefined && (typeof header.metadata !== "object" || header.metadata === null || Array.isArray(header.metadata))) corrupt("metadata must be an object");

  // sections: aligned, inside the data area, in order, not overlapping, sized by dtype
  const dataStart = PREAMBLE_BYTES + headerBytes;
  const dataEnd = n - TRAILER_BYTES;
  let prevEnd = dataStart;
  const byName = new Map<string, SectionEntry>();
  for (const s of header.sections) {
    if (typeof s !== "object" || s === null || typeof s.name !== "string") corrupt("section entry is malformed");
    // a string and an own key: "toString" is not a dtype, and neither is ["f32"] (a key once coerced)
    if (typeof s.dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, s.dtype)) {
      fail("E_BUNDLE_VERSION", `section ${s.name}: dtype ${JSON.stringify(s.dtype)} needs a newer rnn-wasm`);
    }
    if (![s.offset, s.bytes, s.length].every((v) => Number.isSafeInteger(v) && v >= 0)) corrupt(`section ${s.name} has a bad offset or length`);
    if (s.offset % SECTION_ALIGN !== 0) corrupt(`section ${s.name} at ${s.offset} is not ${SECTION_ALIGN}-byte aligned`);
    if (s.offset < prevEnd) corrupt(`section ${s.name} at ${s.offset} overlaps what precedes it (ends at ${prevEnd})`);
    if (s.offset + s.bytes > dataEnd) corrupt(`section ${s.name} (${s.offset}..${s.offset + s.bytes}) runs past the data (${dataEnd} bytes)`);
    if (s.bytes !== s.length * DTYPE_BYTES[s.dtype as SectionDtype]) corrupt(`section ${s.name}: ${s.bytes} bytes do not hold ${s.length} ${s.dtype} values`);
    if (byName.has(s.name)) corrupt(`section ${s.name} appears twice`);
    byName.set(s.name, s);
    prevEnd = s.offset + s.bytes;
  }
  const spec = header.model as ModelSpec;
  // f32 sections are viewed in place when the bytes are 4-byte aligned in memory (zero copy
  // until the single copy into kernel memory); otherwise the bundle is copied once.
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  const lengths = new Map<string, number>();
  const int8 = new Map<string, number>(); // int8 weight -> scale count
  const data: PackedModel["data"] = new Map();
  for (const w of spec.weights) {
    if (typeof w !== "object" || w === null || typeof w.name !== "string") corrupt("weight entry is malformed");
    const s = byName.get(w.name);
    if (!s) corrupt(`weight ${w.name} has no section`);
    if (w.length !== s.length) corrupt(`weight ${w.name}: spec says ${w.length} values, section holds ${s.length}`);
    lengths.set(w.name, s.length);
    let n = s.length;
    if (s.dtype === "i8") {
      // its f32 scales follow at the next 16-byte boundary: the two are the kernel-memory image
      const sc = byName.get(s.scales!);
      if (sc?.dtype !== "f32" || sc.offset !== ((s.offset + n + 15) & -16)) corrupt(`int8 weight ${w.name}: no f32 scales after it`);
      int8.set(w.name, sc.length);
      n = sc.offset + sc.bytes - s.offset;
    }
    data.set(w.name, new (s.dtype === "f32" ? Float32Array : s.dtype === "f16" ? Uint16Array : Uint8Array)(bytes.buffer as ArrayBuffer, bytes.byteOffset + s.offset, n));
  }
  return { header, packed: { spec, data }, checksum: actual, lengths, int8 };
}
