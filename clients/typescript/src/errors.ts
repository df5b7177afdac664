/**
 * The errors a call can reject with. Every one is a `CapmError`; tell them apart with
 * `instanceof`. A refusal by capm (`CapmRefusedError`) carries capm's code and the exit code
 * the CLI would have used; any other JSON-RPC error is a `CapmRpcError` with its number.
 */

import type { ErrorData, RpcError } from "./generated/rpc-response.js";
import { ErrorCodes } from "./protocol.js";

/** Every error of this package. */
export class CapmError extends Error {
  override name = "CapmError";
}

/** A JSON-RPC error other than a refusal or a cancellation: bad params, unknown method, … */
export class CapmRpcError extends CapmError {
  override name = "CapmRpcError";
  /** The JSON-RPC error code (-32602 bad params, -32601 unknown method, …). */
  readonly code: number;
  readonly data?: ErrorData;
  constructor(error: RpcError) {
    super(error.message);
    this.code = error.code;
    if (error.data !== undefined) this.data = error.data;
  }
}

/** capm refused the request (-32000), as the CLI would have with `capm.error/v1`. */
export class CapmRefusedError extends CapmError {
  override name = "CapmRefusedError";
  /** capm's code: `plan-stale`, `bundle-not-found`, `locked`, …; `explain` tells more. */
  readonly code: string;
  /** The exit code the CLI would have used: 1 refused, 2 failure, 3 locked. */
  readonly exit: number;
  readonly details: string[];
  readonly help?: string;
  constructor(error: RpcError) {
    super(error.message);
    this.code = error.data?.code ?? "refused";
    this.exit = error.data?.exit ?? 1;
    this.details = error.data?.details ?? [];
    if (error.data?.help !== undefined) this.help = error.data.help;
  }
}

/** The request was cancelled (through its `AbortSignal`) before it changed anything. */
export class CapmCancelledError extends CapmError {
  override name = "CapmCancelledError";
}

/** No answer came within the request's timeout; the server was asked to cancel it. */
export class CapmTimeoutError extends CapmError {
  override name = "CapmTimeoutError";
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`capm did not answer \`${method}\` within ${timeoutMs} ms; the request was cancelled`);
  }
}

/** The server exited: twice while this request was pending, or after `close()`. */
export class CapmServerExitedError extends CapmError {
  override name = "CapmServerExitedError";
  constructor(
    message: string,
    readonly exitCode: number | null = null,
    readonly signal: NodeJS.Signals | null = null,
  ) {
    super(message);
  }
}

/** The server speaks a protocol version this client does not know; it was stopped. */
export class CapmIncompatibleError extends CapmError {
  override name = "CapmIncompatibleError";
  constructor(
    message: string,
    readonly protocolVersion?: unknown,
  ) {
    super(message);
  }
}

/** The error a JSON-RPC error answer rejects with. */
export function fromRpcError(error: RpcError): CapmError {
  if (error.code === ErrorCodes.refused) return new CapmRefusedError(error);
  if (error.code === ErrorCodes.cancelled) return new CapmCancelledError(error.message);
  return new CapmRpcError(error);
}
