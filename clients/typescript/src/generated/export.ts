// Generated from schemas/export.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm export --format json` prints.
 */
export interface Export {
  /**
   * Always `capm.export/v1`.
   */
  schema: "capm.export/v1";
  name: string;
  version: string;
  /**
   * `skills`, `claude-plugin` or `server.json`.
   */
  to: string;
  /**
   * The directory written.
   */
  dir: string;
  /**
   * The files written, relative to `dir`.
   */
  files: string[];
  /**
   * What the format could not carry, one sentence each.
   */
  notes: string[];
}
