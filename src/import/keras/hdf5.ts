/**
 * A thin session over h5wasm (HDF5 compiled to WebAssembly; no native build, runs in Node,
 * browsers and workers). Keras files arrive as bytes; h5wasm reads from its own in-memory
 * file system, so each read writes the bytes to a unique path, opens the file, runs a
 * synchronous reader over it, and always closes and unlinks it again. Every failure leaves
 * as an RnnWasmError (E_HDF5 unless the reader chose a more precise code), never as a raw
 * emscripten or HDF5 error, and the shared h5wasm instance stays usable.
 */
import type { Dataset, File as H5File, Group } from "h5wasm";
import { fail, RnnWasmError } from "../../errors.js";
import { halvesToFloats } from "../../format/half.js";

type H5Lib = (typeof import("h5wasm"))["default"];
type H5Module = Awaited<H5Lib["ready"]>;

export interface H5Session {
  lib: H5Lib;
  module: H5Module;
  file: H5File;
  /** Label for messages: the file name (and the member inside an archive). */
  label: string;
}

let loading: Promise<{ lib: H5Lib; module: H5Module }> | undefined;

/** Loads h5wasm once (lazily: its ~4 MB module is only fetched when a Keras file is read). */
async function loadH5(): Promise<{ lib: H5Lib; module: H5Module }> {
  loading ??= import("h5wasm").then(async (ns) => {
    const lib = ns.default;
    const module = await lib.ready;
    return { lib, module };
  });
  try {
    return await loading;
  } catch (cause) {
    loading = undefined; // let a later call retry
    fail("E_HDF5", `could not start the HDF5 reader (h5wasm): ${errorText(cause)}`, cause);
  }
}

let sessionCounter = 0;

/**
 * Runs `read` over the HDF5 file held in `bytes`. `read` must be synchronous: h5wasm is a
 * single shared instance, and nothing else may run between opening and closing the file.
 */
export async function withH5File<T>(
  bytes: Uint8Array,
  label: string,
  read: (session: H5Session) => T,
): Promise<T> {
  const { lib, module } = await loadH5();
  const path = `/rnn-wasm-keras-${randomToken()}-${++sessionCounter}.h5`;
  // h5wasm's default handler prints the HDF5 error stack to stderr and returns -1; the
  // throwing handler turns it into a JS exception we can word ourselves. Restored below.
  module.activate_throwing_error_handler();
  let file: H5File | undefined;
  let written = false;
  try {
    module.FS.writeFile(path, bytes);
    written = true;
    try {
      file = new lib.File(path, "r");
    } catch (cause) {
      fail("E_HDF5", `${label}: not a readable HDF5 file (${hdf5Reason(cause)})`, cause);
    }
    if (file.file_id < 0n) fail("E_HDF5", `${label}: not a readable HDF5 file`);
    return read({ lib, module, file, label });
  } catch (cause) {
    if (cause instanceof RnnWasmError) throw cause;
    throw new RnnWasmError("E_HDF5", `${label}: HDF5 read failed (${hdf5Reason(cause)})`, { cause });
  } finally {
    if (file !== undefined && file.file_id >= 0n) {
      try {
        file.close();
      } catch {
        // the file id is released either way; nothing useful to report over the first error
      }
    }
    if (written) {
      try {
        module.FS.unlink(path);
      } catch {
        // already gone
      }
    }
    module.deactivate_throwing_error_handler();
  }
}

/** A random token, so two copies of this module (bundled twice) never pick the same path. */
function randomToken(): string {
  return Math.floor(Math.random() * 0x7fffffff).toString(36);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * HDF5's error stack lists the API call first and the root cause last
 * ("#006: ... in H5F__super_read(): file signature not found"); keep only the root cause.
 */
export function hdf5Reason(e: unknown): string {
  const text = errorText(e);
  const causes = [...text.matchAll(/#\d+: .*? in [\w.]+\(\): (.*)$/gm)].map((m) => m[1]!.trim());
  if (causes.length > 0) return causes[causes.length - 1]!;
  const firstLine = text.split("\n", 1)[0]!.trim();
  return firstLine.length > 0 ? firstLine : "unknown HDF5 error";
}

export function isGroup(session: H5Session, entity: unknown): entity is Group {
  return entity instanceof session.lib.Group;
}

export function isDataset(session: H5Session, entity: unknown): entity is Dataset {
  return entity instanceof session.lib.Dataset;
}

/** `group.get(path)` that answers null for anything missing or unreachable. */
export function getEntity(group: Group, path: string): unknown {
  try {
    return group.get(path);
  } catch {
    return null; // e.g. a path that runs through a dataset
  }
}

export function childGroup(session: H5Session, group: Group, path: string): Group | null {
  const entity = getEntity(group, path);
  return isGroup(session, entity) ? entity : null;
}

export function hasAttr(obj: Group | Dataset, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj.attrs, name);
}

function attrValue(obj: Group | Dataset, name: string): unknown {
  return obj.attrs[name]!.value;
}

/** Strings as h5py writes them come back NUL-padded (fixed length) or space-padded (Fortran). */
function cleanString(s: string): string {
  return s.replace(/[\0 ]+$/, "");
}

/** A scalar string attribute (h5py writes `bytes` as a fixed-length string). */
export function readStringAttr(obj: Group | Dataset, name: string): string | undefined {
  if (!hasAttr(obj, name)) return undefined;
  const value = attrValue(obj, name);
  if (typeof value === "string") return cleanString(value);
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === "string") {
    return cleanString(value[0]);
  }
  if (value instanceof Uint8Array) return cleanString(new TextDecoder().decode(value));
  return undefined;
}

/**
 * A list-of-strings attribute, read the way Keras' `load_attributes_from_hdf5_group`
 * reads it (keras/src/legacy/saving/legacy_h5_format.py): the attribute itself, or, when
 * the list outgrew HDF5's 64 KB attribute limit, the chunks `name0`, `name1`, ...
 * An empty list is stored by Keras as an empty float64 array.
 */
export function readStringListAttr(obj: Group | Dataset, name: string): string[] | undefined {
  if (hasAttr(obj, name)) return toStringList(attrValue(obj, name), name);
  if (!hasAttr(obj, `${name}0`)) return undefined;
  const out: string[] = [];
  for (let chunk = 0; hasAttr(obj, `${name}${chunk}`); chunk++) {
    out.push(...toStringList(attrValue(obj, `${name}${chunk}`), name));
  }
  return out;
}

function toStringList(value: unknown, name: string): string[] {
  if (typeof value === "string") return value.length > 0 ? [cleanString(value)] : [];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return value.map((v: string) => cleanString(v));
  }
  if (ArrayBuffer.isView(value) && value.byteLength === 0) return [];
  throw new Error(`attribute ${name} is not a list of strings`);
}

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Reads a weight dataset as row-major float32. float32 is copied as is, float64 narrowed,
 * float16 widened (h5wasm has no Float16Array, so the raw half-precision bits are read
 * through the module and decoded here). Big-endian data is already swapped by h5wasm.
 * Integer or opaque data (quantized layers, bfloat16) is refused with E_UNSUPPORTED_OPTION.
 */
export function readFloatDataset(session: H5Session, ds: Dataset, what: string): FloatTensor {
  const meta = ds.metadata;
  const shape = meta.shape ?? [];
  const count = shape.reduce((a, b) => a * b, 1);
  const floatClass = session.module.H5T_class_t.H5T_FLOAT.value;
  if (meta.type !== floatClass) {
    const bf16 = readStringAttr(ds, "dtype") === "bfloat16";
    fail(
      "E_UNSUPPORTED_OPTION",
      `${session.label}: weight ${what} is stored as ${bf16 ? "bfloat16" : ds.dtype}; ` +
        "only float16/32/64 weights can be imported (quantized or bfloat16 layers are not supported)",
    );
  }
  let data: Float32Array;
  // a scalar dataset (Attention's `scale`) reads as a number, others as a fresh typed-array copy out of the wasm heap
  const value = meta.size === 4 || meta.size === 8 ? ds.value : undefined;
  if (typeof value === "number") {
    data = Float32Array.of(value);
  } else if (meta.size === 4) {
    data = value as Float32Array;
  } else if (meta.size === 8) {
    data = Float32Array.from(value as Float64Array);
  } else if (meta.size === 2) {
    data = decodeFloat16(readRawBytes(session, ds, 2 * count));
  } else {
    fail("E_UNSUPPORTED_OPTION", `${session.label}: weight ${what} has ${meta.size * 8}-bit floats`);
  }
  if (data.length !== count) {
    fail(
      "E_WEIGHTS",
      `${session.label}: weight ${what} holds ${data.length} values, its shape [${shape}] needs ${count}`,
    );
  }
  return { shape: [...shape], data };
}

function readRawBytes(session: H5Session, ds: Dataset, nbytes: number): Uint8Array {
  const { module, file } = session;
  const ptr = module._malloc(Math.max(nbytes, 1));
  if (!ptr) fail("E_HDF5", `${session.label}: out of memory reading ${ds.path}`);
  try {
    // Reads in the file's own datatype, converted to little-endian
    // (h5wasm src/hdf5_util.cc, read_write_dataset_data).
    module.get_dataset_data(file.file_id, ds.path, null, null, null, BigInt(ptr));
    return module.HEAPU8.slice(ptr, ptr + nbytes);
  } finally {
    module._free(ptr);
  }
}

/** IEEE 754 binary16 (little-endian bytes, as h5wasm reads them) to float32, exactly. */
export function decodeFloat16(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length >>> 1);
  halvesToFloats(new Uint16Array(bytes.buffer, bytes.byteOffset, out.length), out);
  return out;
}

/** Numerically sorted child names ("0", "1", ..., "10"), as Keras' vars groups are keyed. */
export function numericKeys(group: Group): string[] {
  return group
    .keys()
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b));
}
