/**
 * A bundle loaded without waiting for anything, for the audio worklet and worker hosts: the
 * compiled kernel module comes from the main thread (a worklet may not fetch, and the processor
 * must be ready in its constructor), the tensor ops are bundled in. These are loadModel's steps
 * for bundle bytes (src/index.ts) with nothing awaited; models that need the lazy tokenizer or
 * generation chunks are refused.
 */
import { fail } from "../errors.js";
import { parseBundleUnchecked, validateBundle } from "../format/reader.js";
import { prepareTensorOps } from "../model/executor.js";
import { looksGenerative, RnnModel } from "../model/model.js";
import * as tensorOps from "../model/tensor-ops.js";
import { KernelInstance, type KernelExports } from "../wasm/kernels.js";
import type { Model } from "../index.js";

export function loadModelSync(bytes: Uint8Array, module: WebAssembly.Module): Model {
  let exports: KernelExports;
  try {
    exports = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
  } catch (e) {
    fail("E_WASM", `could not instantiate the rnn-wasm kernels: ${(e as Error)?.message ?? e}`, e);
  }
  const kernels = new KernelInstance(exports);
  const read = parseBundleUnchecked(bytes, (b) => kernels.crc32(b));
  void prepareTensorOps(read.packed.spec, tensorOps); // installs before it returns
  validateBundle(read);
  if (read.header.tokenizer !== undefined || looksGenerative(read.packed.spec)) fail("E_ARGUMENT", "loadModelSync: this model needs the tokenizer or generation (use loadModel)");
  return new RnnModel(kernels, read.packed.spec, read.packed, { metadata: read.header.metadata ?? {}, checksum: read.checksum });
}
