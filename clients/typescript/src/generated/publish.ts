// Generated from schemas/publish.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm publish --format json` prints.
 */
export interface Publish {
  /**
   * Always `capm.publish/v1`.
   */
  schema: "capm.publish/v1";
  /**
   * `published`, or `unchanged` when the same content was already published under
   * this version (nothing was written).
   */
  outcome: "published" | "unchanged";
  name: string;
  version: string;
  /**
   * The registry directory, or with `--oci` the reference pushed (`host/repo:tag`).
   */
  registry: string;
  /**
   * The sha256 of the published content; present when `published`.
   */
  digest?: string;
  /**
   * With `--oci`, the sha256 of the pushed manifest; present when `published`.
   */
  manifest?: string;
}
