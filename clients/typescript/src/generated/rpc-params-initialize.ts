// Generated from schemas/rpc-params-initialize.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `initialize`: who the client is. Optional, as is the whole method.
 */
export interface RpcParamsInitialize {
  client?: ClientInfo;
}
/**
 * The client's name and version, for the log.
 */
export interface ClientInfo {
  name: string;
  version?: string;
}
