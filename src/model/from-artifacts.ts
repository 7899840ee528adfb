/**
 * The optional half of loadModel for tfjs artifacts ({modelJson, weights}): import, build, and
 * the model's snapshot identity. A separate chunk, with the tfjs importer and the model builder,
 * so an app that only loads bundles never downloads or parses any of it.
 */
import { importTfjs } from "../import/tfjs.js";
import { buildModel } from "../import/keras/build.js";
import type { RnnModel } from "./model.js";
import type { PackedModel } from "./spec.js";

/** The packed model and its userDefinedMetadata. */
export function buildFromArtifacts(src: { modelJson: object; weights: unknown; name?: string }): { packed: PackedModel; metadata: Record<string, unknown> } {
  const packed = buildModel(importTfjs(src.modelJson, src.weights, src.name ?? "model.json"));
  const user = (src.modelJson as { userDefinedMetadata?: unknown }).userDefinedMetadata;
  return { packed, metadata: typeof user === "object" && user !== null ? (user as Record<string, unknown>) : {} };
}

/**
 * A model without a bundle CRC is identified for session snapshots by a CRC-32 over its packed
 * spec and placed weights (computed on the first snapshot: most apps never take one).
 */
export function modelIdOf(m: RnnModel): number {
  const k = m.kernels;
  let c = k.crc32(new TextEncoder().encode(JSON.stringify(m.spec)));
  for (const w of m.spec.weights) {
    const p = m.weightPtrs.get(w.name)!;
    c = k.crc32(k.u8.subarray(p, p + w.length * 4), c);
  }
  return c >>> 0;
}
