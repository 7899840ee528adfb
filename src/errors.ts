/**
 * Every failure the library reports is an RnnWasmError with a stable `code`, so callers can
 * branch on the code and show the message. Messages name the layer (or file), the expected
 * and the received value.
 */
export type RnnWasmErrorCode =
  | "E_SHAPE" // input or weight of the wrong shape / rank
  | "E_DTYPE" // input of the wrong dtype
  | "E_TOKEN_RANGE" // token id < 0 or >= vocabulary size
  | "E_VALUE" // NaN/Infinity or otherwise invalid number in the input
  | "E_MODEL_JSON" // malformed model.json / topology
  | "E_WEIGHTS" // missing, short, mismatched or non-finite weight data
  | "E_UNSUPPORTED_LAYER" // layer class we cannot run
  | "E_UNSUPPORTED_OPTION" // a layer option we cannot honour
  | "E_BUNDLE_CORRUPT"
  | "E_BUNDLE_VERSION"
  | "E_DISPOSED" // use after dispose()
  | "E_NOT_STREAMABLE" // session on a model that cannot run one step at a time
  | "E_STATE_MISMATCH" // snapshot from another model / batch size
  | "E_STATE_CORRUPT" // snapshot bytes damaged
  | "E_ARGUMENT" // bad option value passed to an API call
  | "E_IO" // file could not be read (Node helpers, CLI)
  | "E_WASM" // the engine refused the wasm module, or a kernel trapped
  | "E_HDF5" // unreadable HDF5 / Keras file
  | "E_ONNX"; // unreadable or malformed ONNX model

/** Marks RnnWasmError.prototype, whichever copy of this module defines it (see hasInstance). */
const BRAND = Symbol.for("rnn-wasm.RnnWasmError");

export class RnnWasmError extends Error {
  readonly code: RnnWasmErrorCode;
  constructor(code: RnnWasmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RnnWasmError";
    this.code = code;
  }

  /**
   * `instanceof` by brand, not by prototype identity: the runtime, rnn-wasm-tools (behind
   * `rnn-wasm/export`) and the CLI each bundle a copy of this class, and an error one of them
   * throws is an RnnWasmError to code that imported another.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return (value as Record<symbol, unknown> | null)?.[BRAND] === 1;
  }
}
(RnnWasmError.prototype as unknown as Record<symbol, number>)[BRAND] = 1;

export function fail(code: RnnWasmErrorCode, message: string, cause?: unknown): never {
  throw new RnnWasmError(code, message, cause === undefined ? undefined : { cause });
}
