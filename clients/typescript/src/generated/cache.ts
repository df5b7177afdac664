// Generated from schemas/cache.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm cache … --format json` prints.
 */
export interface Cache {
  /**
   * Always `capm.cache/v1`.
   */
  schema: "capm.cache/v1";
  /**
   * `dir`, `clean` or `prune`.
   */
  command: string;
  /**
   * The cache directory.
   */
  dir: string;
  removed?: CleanReport;
  kept?: CleanReport1;
  /**
   * The age past which entries were removed, in days (`prune`).
   */
  max_age_days?: number;
}
/**
 * What was removed (`clean`, `prune`).
 */
export interface CleanReport {
  /**
   * Entries removed.
   */
  entries: number;
  /**
   * Bytes freed.
   */
  bytes: number;
}
/**
 * What stayed (`prune`).
 */
export interface CleanReport1 {
  /**
   * Entries removed.
   */
  entries: number;
  /**
   * Bytes freed.
   */
  bytes: number;
}
