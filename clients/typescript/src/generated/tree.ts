// Generated from schemas/tree.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm tree --format json` prints.
 */
export interface Tree {
  /**
   * Always `capm.tree/v1`.
   */
  schema: "capm.tree/v1";
  /**
   * The project's capm.toml.
   */
  root: string;
  /**
   * The project's direct dependencies.
   */
  dependencies: TreeEntry[];
}
/**
 * A bundle in the tree, under the project or the bundle that depends on it.
 */
export interface TreeEntry {
  name: string;
  version: string;
  /**
   * Where it comes from: `catalog`, `registry+NAME` or `path+DIR`.
   */
  source: string;
  /**
   * The requirement as written by the dependent.
   */
  req: string;
  optional: boolean;
  /**
   * With `--resources`: the resources the bundle provides, as `KIND:NAME`.
   */
  resources?: string[];
  /**
   * The bundle's own dependencies; absent when `repeated`.
   */
  dependencies?: TreeEntry[];
  /**
   * Present, and `true`, when the bundle's dependencies are listed earlier in the tree.
   */
  repeated?: true;
}
