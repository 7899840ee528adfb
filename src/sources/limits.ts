/**
 * What every reader of model sources (files.ts for paths, fetch.ts for URLs) enforces: how
 * large each kind of file may be, and the option that lifts the model-folder rule for shards.
 * docs/bundle-format.md ("Limits") lists them with the runtime's other bounds.
 */

/** Bundles, .h5 and .keras files: past 2 GiB a model cannot fit in kernel memory. */
export const MAX_MODEL_FILE_BYTES = 2 ** 31 - 1;
/** model.json, tokenizer and metadata documents (real ones are kilobytes to a few MB). */
export const MAX_JSON_FILE_BYTES = 256 * 2 ** 20;
/** Weights past this could not be placed in kernel memory (2 GiB): refused before any read. */
export const MAX_WEIGHT_BYTES = 2 ** 31;

export interface SourceOptions {
  /**
   * Read a model.json's shards wherever its manifest says (absolute paths, `..`, other
   * origins). By default shards come only from the model's own folder (and origin): set this
   * only for a model.json you wrote or trust.
   */
  trustShardPaths?: boolean;
}
