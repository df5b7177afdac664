// Generated from schemas/rpc-progress.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * A stage of an operation, in the order they happen; a stage that does not apply is
 * skipped. (`capm serve` sends them by these names.)
 */
export type Stage = "fetch" | "lock" | "plan" | "stage" | "commit" | "clean-up";

/**
 * A `$/progress` notification, sent before the response of a request that gave a
 * `progress_token`.
 */
export interface RpcProgress {
  /**
   * Always `2.0`.
   */
  jsonrpc: "2.0";
  /**
   * Always `$/progress`.
   */
  method: "$/progress";
  params: ProgressParams;
}
/**
 * What a progress notification says.
 */
export interface ProgressParams {
  /**
   * The request's `progress_token`.
   */
  token: string | number;
  stage: Stage;
  /**
   * Steps of the stage done so far.
   */
  done: number;
  /**
   * Steps of the stage in all, when known.
   */
  total?: number;
  /**
   * What is being worked on: a URL (without credentials, query or fragment) or a path.
   */
  message?: string;
}
