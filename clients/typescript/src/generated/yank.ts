// Generated from schemas/yank.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm yank --format json` prints.
 */
export interface Yank {
  /**
   * Always `capm.yank/v1`.
   */
  schema: "capm.yank/v1";
  /**
   * `yanked` or `unyanked`; `unchanged` when the version already was (nothing was
   * written).
   */
  outcome: "yanked" | "unyanked" | "unchanged";
  name: string;
  version: string;
  /**
   * Whether the version is yanked now.
   */
  yanked: boolean;
  /**
   * The registry directory.
   */
  registry: string;
}
