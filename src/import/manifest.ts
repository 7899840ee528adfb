/** The one piece of model.json reading the runtime needs eagerly: where the shards are. */

/** Shard paths in manifest order (what the weights argument must hold, in that order). */
export function manifestPaths(modelJson: Record<string, unknown>): string[] {
  const manifest = modelJson.weightsManifest;
  if (!Array.isArray(manifest)) return [];
  return manifest.flatMap((g) => (typeof g === "object" && g !== null && Array.isArray(g.paths) ? (g.paths as string[]) : []));
}

