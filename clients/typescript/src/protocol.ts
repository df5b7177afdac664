/**
 * What the schemas leave to the client: the protocol versions it speaks, the envelope of the
 * messages it writes, the error codes it tells apart, and shorter names for the generated
 * types of progress.
 */

export type { ClientInfo } from "./generated/rpc-params-initialize.js";
export type {
  ProgressParams as Progress,
  Stage as ProgressStage,
} from "./generated/rpc-progress.js";

/** The protocol versions this client speaks; a server announcing another is refused. */
export const PROTOCOL_VERSIONS: readonly number[] = [1];

/** A request or a notification (no `id`) as the client writes it. */
export interface OutgoingMessage {
  jsonrpc: "2.0";
  id?: number;
  method: string;
  params?: unknown;
}

/** JSON-RPC error codes the client tells apart. */
export const ErrorCodes = {
  refused: -32000,
  cancelled: -32800,
} as const;
