// Generated from schemas/rpc-params-explain.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `explain`: a diagnostic code or security rule.
 */
export interface RpcParamsExplain {
  code: string;
}
