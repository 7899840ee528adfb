/**
 * How the CLI reports failures: one line on stderr, `rnn-wasm: E_CODE: message`, exit code 2
 * for a bad command line and 1 for everything that went wrong while running. Stack traces
 * only with RNN_WASM_DEBUG=1.
 */
import { basename } from "node:path";
import { RnnWasmError } from "../../src/errors.js";

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** A bad command line (unknown option, missing argument, conflicting flags): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function debugEnabled(): boolean {
  return process.env.RNN_WASM_DEBUG === "1";
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

/** The error line and exit code for anything thrown by a command. */
export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof UsageError) return { line: `rnn-wasm: E_USAGE: ${oneLine(err.message)}`, exitCode: EXIT_USAGE };
  if (err instanceof RnnWasmError) return { line: `rnn-wasm: ${err.code}: ${oneLine(err.message)}`, exitCode: EXIT_RUNTIME };
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === "object" && typeof e.code === "string" && typeof e.syscall === "string") {
    // file-system errors that escaped a typed wrapper (e.g. writing the output file)
    const what = e.code === "ENOENT" ? "no such file or directory" : e.code === "EACCES" ? "permission denied" : e.message;
    return { line: `rnn-wasm: E_IO: ${e.path ? `${e.path}: ` : ""}${oneLine(what)}`, exitCode: EXIT_RUNTIME };
  }
  const msg = err instanceof Error ? `${err.name && err.name !== "Error" ? `${err.name}: ` : ""}${err.message}` : String(err);
  return { line: `rnn-wasm: E_INTERNAL: ${oneLine(msg)}`, exitCode: EXIT_RUNTIME };
}

/** Writes the error line (and, when debugging, the stack and causes) to stderr. */
export function reportError(err: unknown): number {
  const { line, exitCode } = describeError(err);
  process.stderr.write(line + "\n");
  if (debugEnabled()) {
    let e: unknown = err;
    while (e instanceof Error) {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      e = e.cause;
      if (e !== undefined) process.stderr.write("caused by: ");
    }
  }
  return exitCode;
}

/**
 * Library messages about a model often name the layer but not the file it came from; the CLI
 * adds the file so one line says both ("model.h5: layer conv (Conv2D) ...").
 */
export function withSource(err: unknown, file: string): unknown {
  if (err instanceof RnnWasmError && !err.message.includes(basename(file))) {
    return new RnnWasmError(err.code, `${file}: ${err.message}`, { cause: err.cause ?? err });
  }
  return err;
}
