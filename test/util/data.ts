/**
 * Test data, found by tools/train/data.ts (the repository's test/data/, else RNN_WASM_DATA,
 * else ../shared/data), and what a test does when a file is missing.
 *
 * Files in the repository are always there: `dataFile` returns their path. Files that cannot be
 * redistributed (the StockTwits messages, the real models published without a licence) may be
 * missing on a fresh clone: `optionalData` returns null and prints one line naming the file and
 * how to provide it, and the test skips itself (`describe.skipIf(!file)`). Where a data folder
 * outside the repository exists (RNN_WASM_DATA, or ../shared/data as on CI), every file must
 * be found: a missing one fails the test file instead of skipping it.
 */
import { findData, OUTSIDE_DATA, REPO_DATA, REPO_ROOT, whereLooked } from "../../tools/train/data.ts";

export { REPO_DATA, REPO_ROOT };

/** A file the repository holds (test/data/README.md); missing means a broken checkout. */
export function dataFile(rel: string): string {
  const found = findData(rel);
  if (!found) throw new Error(`test data ${rel} is missing from the repository (looked in ${whereLooked(rel)})`);
  return found;
}

const reported = new Set<string>();

/**
 * A file that only the outside data folder holds: its path, or null (the caller skips) after
 * one line on stderr saying what is missing and how to provide it. With an outside folder
 * present a missing file throws: on CI nothing is skipped.
 */
export function optionalData(rel: string, neededFor: string): string | null {
  const found = findData(rel);
  if (found) return found;
  if (OUTSIDE_DATA) {
    throw new Error(`${neededFor} needs ${rel}, which the data folder ${OUTSIDE_DATA} does not hold (looked in ${whereLooked(rel)}); a data folder is set, so this is a failure, not a skip`);
  }
  if (!reported.has(`${rel}\0${neededFor}`)) {
    reported.add(`${rel}\0${neededFor}`);
    process.stderr.write(`[test data] skipped ${neededFor}: ${rel} is not redistributable (test/data/README.md); set RNN_WASM_DATA to a folder holding it to run these tests\n`);
  }
  return null;
}
