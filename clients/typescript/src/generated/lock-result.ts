// Generated from schemas/lock-result.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm lock --format json` prints.
 */
export interface LockResult {
  /**
   * Always `capm.lock-result/v1`.
   */
  schema: "capm.lock-result/v1";
  /**
   * The project's capm.lock.
   */
  lockfile: string;
  /**
   * `true` when capm.lock was written; `false` when it already matched.
   */
  written: boolean;
  /**
   * What changed in capm.lock, one line each (`create capm.lock`, a bundle added,
   * removed or moved to another version); empty when nothing did.
   */
  changes: string[];
}
