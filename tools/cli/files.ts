/** Writing what a command produces: never half a file, errors as E_IO naming the file. */
import { rename, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { RnnWasmError } from "../../src/errors.js";

/** Written next to the target and renamed, so a failed write never leaves half a bundle. */
export async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const out = resolve(file);
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new RnnWasmError("E_IO", `cannot write ${file}: ${code === "ENOENT" ? "no such directory" : code === "EACCES" ? "permission denied" : (e as Error).message}`, { cause: e });
  }
}
