// Generated from schemas/lock.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

export interface Lock {
  /**
   * The lock format version.
   */
  version: number;
  /**
   * Every resolved bundle.
   */
  bundle?: LockedBundle[];
  /**
   * Every installed resource.
   */
  resource?: LockedResource[];
  /**
   * Config files capm created (relative to the scope root): removed again once capm's
   * edits leave them as capm created them, holding nothing of the user's.
   */
  created?: string[];
}
/**
 * A resolved bundle.
 */
export interface LockedBundle {
  name: string;
  /**
   * A semantic version.
   */
  version: string;
  /**
   * Where it came from: `catalog`, `path+RELATIVE/DIR`, `registry+NAME`,
   * `git+URL?tag=T` (`?branch=`, `?rev=`, `&path=SUB`, or nothing for a version range) or
   * `oci+REPOSITORY`.
   */
  source: string;
  /**
   * `sha256:` and the content digest of the bundle directory.
   */
  sha256: string;
  /**
   * For a git source: the commit installed (40 hex digits).
   */
  commit?: string;
  /**
   * For an OCI source: the digest of the manifest installed.
   */
  manifest?: string;
  /**
   * For a registry archive or an OCI layer: the digest of the archive's bytes; for an
   * MCP Registry server: the digest of its server.json document.
   */
  archive?: string;
  /**
   * Names of the bundles it depends on, sorted.
   */
  dependencies?: string[];
}
/**
 * An installed resource and the exact content capm wrote for it.
 */
export interface LockedResource {
  /**
   * `KIND:NAME`.
   */
  id: string;
  /**
   * The bundle that installed it.
   */
  bundle: string;
  /**
   * The file or directory it lands in, relative to the scope root, with `/` separators.
   */
  path: string;
  /**
   * For config keys: the JSON pointer of the entry inside `path`.
   */
  pointer?: string;
  /**
   * For elements of a config array (npm plugins): the package name.
   */
  element?: string;
  /**
   * `sha256:` and the digest of what capm wrote.
   */
  sha256: string;
  /**
   * Set when capm adopted an entry the user had written identically: it is shared and
   * never deleted.
   */
  shared?: boolean;
  /**
   * `sha256:` and the digest of the user's own version, when the user edited what capm
   * wrote and kept the edit as theirs (`capm keep`): capm leaves it alone, and proposes
   * its version beside it only when the bundle's content changes.
   */
  kept?: string;
}
