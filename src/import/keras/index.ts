/**
 * Keras files without Python: `.h5` (HDF5, Keras 2 / tf.keras / Keras 3 legacy) and
 * `.keras` (Keras 3 zip archive) into ModelArtifacts. See docs/keras-import.md.
 */
import type { ModelArtifacts } from "../artifacts.js";
import { fail } from "../../errors.js";
import { importKerasH5, type KerasH5Options } from "./h5.js";
import { importKeras3 } from "./keras3.js";
import { sniffKerasFormat } from "./sniff.js";

export { importKerasH5, type KerasH5Options } from "./h5.js";
export { importKeras3 } from "./keras3.js";
export { sniffKerasFormat } from "./sniff.js";

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
