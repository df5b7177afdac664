// Generated from schemas/rpc-params-info.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `info`: one bundle's description, versions, modes, resources, permissions and
 * dependencies.
 */
export interface RpcParamsInfo {
  /**
   * The bundle, as `NAME`, `NAME@VERSION` or `NAME@REQ` (`github@^1`).
   */
  bundle: string;
  /**
   * A project: its registries are asked too, and capm.lock says which version is
   * installed. Without it, the built-in catalog alone.
   */
  project?: string;
}
