// Generated from schemas/rpc-params-status.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `status`: what capm.lock records against what is on disk, without changing anything.
 */
export interface RpcParamsStatus {
  project: string;
}
