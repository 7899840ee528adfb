/**
 * The reference reports bad models and bad inputs with the same stable codes as the runtime
 * (src/errors.ts), so the loadModel-shaped adapter in test/util can check the bad-input tests
 * themselves. Kept independent of src/ so the reference never depends on the code it checks.
 */
export type RefErrorCode =
  | "E_SHAPE"
  | "E_DTYPE"
  | "E_TOKEN_RANGE"
  | "E_VALUE"
  | "E_MODEL_JSON"
  | "E_WEIGHTS"
  | "E_UNSUPPORTED_LAYER"
  | "E_UNSUPPORTED_OPTION"
  | "E_DISPOSED"
  | "E_IO";

export class RefError extends Error {
  readonly code: RefErrorCode;
  constructor(code: RefErrorCode, message: string) {
    super(message);
    this.name = "RefError";
    this.code = code;
  }
}

export function refFail(code: RefErrorCode, message: string): never {
  throw new RefError(code, message);
}

export function fmtShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? "null" : String(d))).join(", ")}]`;
}
