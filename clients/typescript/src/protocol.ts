/**
 * Types of protocol version 1 that no schema file in this repository describes yet, written
 * by hand: the `initialize` exchange and the `$/progress` and `$/cancelRequest`
 * notifications. Each names the schema file that will replace it; the message envelopes the
 * client writes are here too.
 */

/** The protocol versions this client speaks; a server announcing another is refused. */
export const PROTOCOL_VERSIONS: readonly number[] = [1];

/** Who the client is, told to the server in `initialize` (schemas/rpc-params-initialize). */
export interface ClientInfo {
  name: string;
  version?: string;
}

/** `initialize` params (to be replaced by schemas/rpc-params-initialize.schema.json). */
export interface InitializeParams {
  client?: ClientInfo;
}

/** `initialize` result, `capm.initialize/v1` (to be replaced by schemas/initialize.schema.json). */
export interface InitializeResult {
  schema: "capm.initialize/v1";
  name: string;
  version: string;
  protocol_version: number;
  methods: string[];
  notifications: { client: string[]; server: string[] };
  max_message_bytes: number;
  /** The project found from the server's working directory, when there is one. */
  project?: string;
}

/** The stages of a `plan` or `apply`, in the order they happen. */
export type ProgressStage = "fetch" | "lock" | "plan" | "stage" | "commit" | "clean-up";

/** `$/progress` params (to be replaced by schemas/rpc-progress.schema.json). */
export interface Progress {
  token: string | number;
  stage: ProgressStage;
  done: number;
  total?: number;
  message?: string;
}

/** `$/cancelRequest` params (to be replaced by schemas/rpc-params-cancel.schema.json). */
export interface CancelParams {
  id: string | number;
}

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
