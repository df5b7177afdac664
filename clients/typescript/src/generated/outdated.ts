// Generated from schemas/outdated.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm outdated --format json` prints.
 */
export interface Outdated {
  /**
   * Always `capm.outdated/v1`.
   */
  schema: "capm.outdated/v1";
  /**
   * Every bundle capm.lock records, outdated or not, and every one capm.toml asks for
   * that is not installed yet, by name.
   */
  bundles: OutdatedBundle[];
}
/**
 * One locked bundle, with the versions it could move to.
 */
export interface OutdatedBundle {
  name: string;
  /**
   * Where capm.lock says it comes from: `catalog`, `path+DIR` or `registry+NAME`.
   */
  source: string;
  /**
   * The version capm.lock records; absent for a bundle capm.toml asks for that is not
   * installed yet.
   */
  current?: string;
  /**
   * The newest version every requirement on it allows: what `capm update` would
   * install. Absent when an update would no longer need the bundle.
   */
  wanted?: string;
  /**
   * The newest version its source has (prereleases only when the current one is one);
   * absent when the source no longer has the bundle.
   */
  latest?: string;
  /**
   * Asked for in capm.toml (otherwise installed as a dependency).
   */
  direct: boolean;
  /**
   * capm.toml's requirement, for a direct dependency.
   */
  requirement?: string;
  /**
   * Not installed, or `wanted` or `latest` is newer than `current`.
   */
  outdated: boolean;
}
