// Generated from schemas/rpc-params-cancel.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `$/cancelRequest`: the request to cancel.
 */
export interface RpcParamsCancel {
  /**
   * The id of the request to cancel.
   */
  id: string | number;
}
