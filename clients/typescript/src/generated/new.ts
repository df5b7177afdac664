// Generated from schemas/new.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm new --format json` prints.
 */
export interface New {
  /**
   * Always `capm.new/v1`.
   */
  schema: "capm.new/v1";
  /**
   * The bundle's name.
   */
  name: string;
  /**
   * The directory created.
   */
  path: string;
  /**
   * The files written, relative to `path`.
   */
  files: string[];
}
