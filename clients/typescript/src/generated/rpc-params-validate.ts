// Generated from schemas/rpc-params-validate.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `validate`: lint a bundle, a project or a directory of bundles.
 */
export interface RpcParamsValidate {
  /**
   * A bundle directory, a bundle.toml, a capm.toml, or a directory holding bundles.
   */
  path: string;
}
