/**
 * The code of the RnnWasmError a call throws, or "no error"; anything else thrown fails the test.
 * (Until the suite's shared helper test/util/errors.ts reaches main: same name, same contract.)
 */
import { RnnWasmError } from "../../src/errors.ts";

export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof RnnWasmError) return e.code;
    throw e;
  }
  return "no error";
}
