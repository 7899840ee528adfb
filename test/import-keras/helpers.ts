/** Shared bits of the Keras importer tests: data locations, direct h5wasm access. */
import h5wasm from "h5wasm";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { optionalData } from "../util/data.ts";

/** The real Keras-written files: not redistributable, so null where no data folder holds them. */
export const REAL_H5_DIR = optionalData("real-models/keras-h5", "the real Keras .h5 tests (test/import-keras)");
export const FIXTURE_DIR = fileURLToPath(new URL("../fixtures/keras/", import.meta.url));

export const haveRealH5 = REAL_H5_DIR !== null;

export function realH5(file: string): Uint8Array {
  return new Uint8Array(readFileSync(`${REAL_H5_DIR}/${file}`));
}

export function fixture(file: string): Uint8Array {
  return new Uint8Array(readFileSync(`${FIXTURE_DIR}/${file}`));
}

type H5File = InstanceType<typeof h5wasm.File>;

let counter = 0;
/** Opens bytes with h5wasm directly (independently of the importer), for reading or writing. */
export async function withRawH5<T>(bytes: Uint8Array | null, use: (file: H5File) => T): Promise<{ result: T; bytes: Uint8Array }> {
  const { FS } = await h5wasm.ready;
  const path = `/test-import-keras-${process.pid}-${++counter}.h5`;
  if (bytes !== null) FS.writeFile(path, bytes);
  const file = new h5wasm.File(path, bytes === null ? "w" : "r", bytes === null ? { libver: ["earliest", "v200"] } : undefined);
  let result: T;
  try {
    result = use(file);
  } finally {
    file.close();
  }
  const out = FS.readFile(path);
  FS.unlink(path);
  return { result, bytes: out };
}

/** Files in h5wasm's in-memory file system root (to check the importer leaks none). */
export async function h5wasmRootEntries(): Promise<string[]> {
  const { FS } = await h5wasm.ready;
  return (FS.readdir("/") as string[]).filter((e) => e !== "." && e !== "..").sort();
}

/** Number of positions where two float arrays differ (0 = identical). */
export function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

/** Every key anywhere in a JSON value. */
export function allKeys(v: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, into));
  else if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      into.add(k);
      allKeys(x, into);
    }
  }
  return into;
}

/** Every value stored under `key` anywhere in a JSON value. */
export function valuesOf(v: unknown, key: string, into: unknown[] = []): unknown[] {
  if (Array.isArray(v)) v.forEach((x) => valuesOf(x, key, into));
  else if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) into.push(x);
      valuesOf(x, key, into);
    }
  }
  return into;
}
