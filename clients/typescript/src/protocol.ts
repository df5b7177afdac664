/**
 * What the schemas leave to the client: the protocol versions it speaks, the envelope of the
 * messages it writes, the error codes it tells apart, and shorter names for the generated
 * types of progress.
 */

import type { ProgressParams as Progress } from "./generated/rpc-progress.js";

export type { ClientInfo } from "./generated/rpc-params-initialize.js";
export type {
  ProgressParams as Progress,
  Stage as ProgressStage,
} from "./generated/rpc-progress.js";

/** The longest line capm reads (without its newline), until `initialize` tells: 16 MiB. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The protocol versions this client speaks; a server announcing another is refused. */
export const PROTOCOL_VERSIONS: readonly number[] = [1];

/**
 * A `$/progress` notification as a call sees it, with the client's `attempt`: 1 for the
 * request as first sent, 2 once it was sent again to a restarted capm (whose notifications
 * then start over from the first stage).
 */
export type CallProgress = Progress & { readonly attempt: number };

/** A request or a notification (no `id`) as the client writes it. */
export interface OutgoingMessage {
  jsonrpc: "2.0";
  id?: number;
  method: string;
  params?: unknown;
}

/** JSON-RPC error codes the client tells apart. */
export const ErrorCodes = {
  invalidRequest: -32600,
  methodNotFound: -32601,
  refused: -32000,
  cancelled: -32800,
} as const;
