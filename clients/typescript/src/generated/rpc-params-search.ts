// Generated from schemas/rpc-params-search.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `search`: bundles whose name, keywords or description match.
 */
export interface RpcParamsSearch {
  /**
   * The words to search for, separated by spaces; empty lists every bundle.
   */
  query: string;
  /**
   * A project: its registries are searched too. Without it, the built-in catalog alone.
   */
  project?: string;
}
