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

/** What became of a request that timed out: see `CapmTimeoutError`. */
export type TimeoutOutcome = "cancelled" | "unknown";

/** Why the outcome is what it is, unless told otherwise. */
const WHY: Record<TimeoutOutcome, string> = {
  cancelled: "it was cancelled, and nothing of it was applied",
  unknown: "nor did it answer its cancellation in time",
};

/**
 * No answer came within the request's timeout. The client asked capm to cancel it and waited
 * a grace period for the answer: `outcome` is `"cancelled"` when capm confirmed that it
 * stopped (or the request was never sent), `"unknown"` when no answer came (or capm exited
 * meanwhile): then call `status` to see what the project holds.
 */
export class CapmTimeoutError extends CapmError {
  override name = "CapmTimeoutError";
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
    readonly outcome: TimeoutOutcome = "cancelled",
    why: string = WHY[outcome],
  ) {
    const unknown = ": whether it was done is unknown (call `status` to see the project)";
    super(
      `capm did not answer \`${method}\` within ${timeoutMs} ms; ${why}${outcome === "unknown" ? unknown : ""}`,
    );
  }
}

/** The client refused to send a request capm could not read; nothing was sent. */
export class CapmRequestError extends CapmError {
  override name = "CapmRequestError";
  constructor(
    message: string,
    /** `too-large`: longer than the server's `max_message_bytes`; `lone-surrogate`: not UTF-8. */
    readonly reason: "too-large" | "lone-surrogate",
  ) {
    super(message);
  }
}

/** capm's answer did not follow JSON-RPC (neither `result` nor an `error` object, …). */
export class CapmProtocolError extends CapmError {
  override name = "CapmProtocolError";
}

/**
 * The server exited: twice while this request was pending, after `close()` or `shutdown`, or
 * it did not start (its handshake failed; the next call starts it again).
 */
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

/** Whether `error` is a JSON-RPC error object: an integer `code` and a string `message`. */
export function isRpcError(error: unknown): error is RpcError {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; message?: unknown };
  return Number.isInteger(e.code) && typeof e.message === "string";
}

/** The error a JSON-RPC error answer rejects with. */
export function fromRpcError(error: RpcError): CapmError {
  if (error.code === ErrorCodes.refused) return new CapmRefusedError(error);
  if (error.code === ErrorCodes.cancelled) return new CapmCancelledError(error.message);
  return new CapmRpcError(error);
}
