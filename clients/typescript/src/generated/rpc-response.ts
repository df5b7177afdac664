// Generated from schemas/rpc-response.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * A response: exactly one of `result` and `error`.
 */
export interface RpcResponse {
  /**
   * Always `2.0`.
   */
  jsonrpc: string;
  /**
   * The request's id (`null` when it could not be read).
   */
  id: {
    [k: string]: unknown;
  };
  result?: unknown;
  error?: RpcError;
}
/**
 * An error, with what capm's CLI would have said.
 */
export interface RpcError {
  code: number;
  message: string;
  data?: ErrorData;
}
/**
 * Details of a refusal.
 */
export interface ErrorData {
  /**
   * capm's diagnostic code (`plan-stale`, `bundle-not-found`, …); `capm explain` knows it.
   */
  code?: string;
  /**
   * The exit code the CLI would have ended with.
   */
  exit: number;
  details?: string[];
  help?: string;
}
