/**
 * The suite's one way of checking a typed error: a call must throw an RnnWasmError (or the
 * float64 reference's RefError, for tests that run against it) with a given code, and its
 * message must say what was wrong. Anything else thrown — a TypeError, a wasm trap, an
 * RnnWasmError of another code — fails the test with what was thrown.
 */
import { expect } from "vitest";
import { RnnWasmError } from "../../src/errors.ts";

/** An error class with a stable code (RnnWasmError; the reference's RefError). */
export type CodedErrorClass = abstract new (...args: never[]) => Error & { code: string };
export type CodedError = Error & { code: string };

/** What a call did: its value, or the typed error it threw (anything else is rethrown). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: CodedError };

/** Runs fn (sync or async); a throw that is not a `cls` error is rethrown, as a test failure. */
export async function attempt<T>(fn: () => T | Promise<T>, cls: CodedErrorClass = RnnWasmError): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof cls) return { ok: false, error: e as CodedError };
    throw e;
  }
}

/** The typed error fn (sync or async) throws; fails the test when it returns or throws something else. */
export async function thrown(fn: () => unknown, cls: CodedErrorClass = RnnWasmError): Promise<CodedError> {
  let outcome: Outcome<unknown>;
  try {
    outcome = await attempt(fn, cls);
  } catch (e) {
    throw new Error(`expected a typed error, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
  if (outcome.ok) throw new Error("expected a typed error, the call returned");
  return outcome.error;
}

/** For tables of cases: the code of the typed error fn throws synchronously, or "no error". */
export function codeOf(fn: () => unknown, cls: CodedErrorClass = RnnWasmError): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof cls) return (e as CodedError).code;
    return `foreign ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`;
  }
  return "no error";
}

export interface ErrorCheck {
  /** The message matches. */
  message?: RegExp;
  /** The message starts with `${prefix}:` (the file, layer or call it names). */
  prefix?: string;
  /**
   * The message mentions each token (case, whitespace and brackets aside: "[4, 20]" in a
   * message matches "4,20"); an array token is a set of alternatives, any one of which will do.
   */
  mentions?: (string | number | (string | number)[])[];
  /** The error class (default RnnWasmError). */
  cls?: CodedErrorClass;
}

const norm = (s: string) => s.replace(/[\s[\]()]/g, "").toLowerCase();

/** Expects fn (sync or async) to throw the typed error `code`; checks its message; returns it. */
export async function expectError(fn: () => unknown, code: string, check: ErrorCheck = {}): Promise<CodedError> {
  const err = await thrown(fn, check.cls);
  expect(err.code, `message: ${err.message}`).toBe(code);
  expect(err.message.length, "the message says something").toBeGreaterThan(0);
  if (check.prefix !== undefined) expect(err.message.startsWith(`${check.prefix}:`), err.message).toBe(true);
  if (check.message) expect(err.message).toMatch(check.message);
  for (const m of check.mentions ?? []) {
    const alternatives = (Array.isArray(m) ? m : [m]).map((a) => norm(String(a)));
    expect(
      alternatives.some((a) => norm(err.message).includes(a)),
      `the message should mention ${alternatives.map((a) => JSON.stringify(a)).join(" or ")}: ${err.message}`,
    ).toBe(true);
  }
  return err;
}
