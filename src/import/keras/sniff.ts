/** Tells a Keras file by its signature (no HDF5 or zip reader needed, so any reader of model files can ask). */

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
