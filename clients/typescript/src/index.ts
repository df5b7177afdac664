/**
 * capm-client: a typed client for `capm serve --stdio`, capm's JSON-RPC 2.0 planner
 * protocol. `CapmClient` is the client; the document types are generated from capm's JSON
 * Schemas (`src/generated/`), and the few the schemas do not describe yet are in
 * `protocol.ts`.
 */

export * from "./client.js";
export * from "./errors.js";
export { LineDecoder } from "./framing.js";
export * from "./protocol.js";
export type * from "./generated/index.js";
export type { ErrorData, RpcError } from "./generated/rpc-response.js";
export type { Action } from "./generated/plan.js";
