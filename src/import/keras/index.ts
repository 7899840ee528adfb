/**
 * Keras files without Python: `.h5` (HDF5, Keras 2 / tf.keras / Keras 3 legacy) and
 * `.keras` (Keras 3 zip archive) into ModelArtifacts. See docs/keras-import.md.
 */
import type { ModelArtifacts } from "../artifacts.js";
import { fail } from "../../errors.js";
import { importKerasH5, type KerasH5Options } from "./h5.js";
import { importKeras3 } from "./keras3.js";

export { importKerasH5, type KerasH5Options } from "./h5.js";
export { importKeras3 } from "./keras3.js";

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // \x89HDF\r\n\x1a\n
const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04]; // PK\x03\x04
const ZIP_EMPTY_ARCHIVE = [0x50, 0x4b, 0x05, 0x06]; // PK\x05\x06 (end of central directory)

function startsWith(bytes: Uint8Array, signature: number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((b, i) => bytes[at + i] === b);
}

/**
 * "hdf5", "zip" or undefined. HDF5 allows a user block before the superblock, which then
 * starts at 512, 1024, 2048, ... bytes; Keras never writes one, but h5py users can.
 */
export function sniffKerasFormat(bytes: Uint8Array): "hdf5" | "zip" | undefined {
  if (startsWith(bytes, ZIP_LOCAL_HEADER) || startsWith(bytes, ZIP_EMPTY_ARCHIVE)) return "zip";
  for (let at = 0; at + HDF5_SIGNATURE.length <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (startsWith(bytes, HDF5_SIGNATURE, at)) return "hdf5";
  }
  return undefined;
}

/** Reads a Keras `.h5` or `.keras` file, whichever the bytes are. */
export async function importKerasFile(
  bytes: Uint8Array | ArrayBuffer,
  sourceName = "model",
  options: KerasH5Options = {},
): Promise<ModelArtifacts> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  switch (sniffKerasFormat(view)) {
    case "hdf5":
      return importKerasH5(view, sourceName, options);
    case "zip":
      return importKeras3(view, sourceName);
    default:
      fail(
        "E_HDF5",
        `${sourceName}: not a Keras file (${view.length} bytes): expected an HDF5 .h5 file ` +
          "or a .keras zip archive, found neither signature",
      );
  }
}
