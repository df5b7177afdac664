// Generated from schemas/rpc-request.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * A request, as received.
 */
export interface RpcRequest {
  /**
   * Always `2.0`.
   */
  jsonrpc: string;
  /**
   * A string, a number or null; absent for a notification, which gets no answer.
   */
  id?: {
    [k: string]: unknown;
  };
  /**
   * `initialize`, `validate`, `plan`, `apply`, `status`, `doctor`, `list`, `outdated`,
   * `info`, `search`, `explain` or `shutdown`; or the notification `$/cancelRequest`.
   */
  method: string;
  /**
   * The method's parameters, by name.
   */
  params?: {
    [k: string]: unknown;
  };
}
