// Generated from schemas/rpc-params-doctor.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `doctor`, `list` and `outdated`: the project to look at.
 */
export interface RpcParamsDoctor {
  /**
   * The project directory (holding capm.toml, here or in a parent directory).
   */
  project: string;
}
