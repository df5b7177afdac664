// Generated from schemas/init.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm init --format json` prints.
 */
export interface Init {
  /**
   * Always `capm.init/v1`.
   */
  schema: "capm.init/v1";
  /**
   * The capm.toml created.
   */
  manifest: string;
  /**
   * The project's product mode, as written.
   */
  product_mode: string;
}
